#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The caller's stdio never reaches a container unless it is a pipe or a
# connected AF_UNIX stream socket (issue 9, item 4). Written as the attacks:
# a container that reopens a redirected file read-write through
# /proc/self/fd, reads the host file behind it, walks a directory fd, types
# into or reconfigures the admin's terminal; a direct D-Bus caller handing
# berthd a file, a directory, a terminal, an O_PATH fd or a socket that acts
# in the host's network namespace. And what must keep working: exact copies
# of binary data, exit codes, the order of stdout and stderr, pipes passed
# straight through.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
HERE=$SOURCE_DIR/tests/integration
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import "$T/rootfs.tar" bb >/dev/null || { fail "import the busybox image"; exit 1; }

ctl() { sbx /usr/bin/berthctl "$@"; }
# dbus ARGS...: stdio-dbus.py, a D-Bus caller of berthd handing it an fd.
dbus() { sbx /usr/bin/python3 "$HERE/stdio-dbus.py" "$@"; }
# same FILE EXPECTED: FILE's bytes are exactly EXPECTED's, pipe:[inode] as pipe:[N].
same() { diff <(sed 's/pipe:\[[0-9]*\]/pipe:[N]/g' "$1") <(printf '%s' "$2"); }
# unharmed FILE: after ATTACK, the host file held SECRET before and still
# starts with it, was not read (SECRET once), its path not seen, and it has
# what the container wrote through the stream: a pipe, XX, end.
unharmed() {
        [ "$(head -1 "$1")" = SECRET ] && [ "$(grep -c SECRET "$1")" = 1 ] && ! grep -q /var/tmp "$1" &&
                grep -qx 'pipe:\[[0-9]*\]' "$1" && grep -qx fifo "$1" && [ "$(tail -c 5 "$1")" = XXend ] ||
                { cat "$1"; return 1; }
}
state_of() {
        local path
        path=$(sbx busctl call org.berth.Berth1 /org/berth/Berth1 org.berth.Berth1.Manager GetContainer s "$1" | cut -d'"' -f2)
        sbx busctl get-property org.berth.Berth1 "$path" org.berth.Berth1.Container State
}
# (A ps or systemctl that fails prints nothing either: that is no answer.)
no_containers() {
        local ps units
        ps=$(ctl ps -a -q) && units=$(sbx systemctl list-units --plain --no-legend 'berth-*') &&
                [ -z "$ps" ] && [ -z "$units" ]
}

# --- A redirected regular file ----------------------------------------------
# The container reads where its stdout points, what the host file held
# before, and writes over the start of it through a read-write reopen. It
# reads before it prints anything: a reopened pipe is the same pipe, and
# head would take the container's own lines from it ahead of berthctl.
ATTACK='exec 3</proc/self/fd/$0 4<>/proc/self/fd/$0
(busybox timeout 1 head -c 6 <&3 >&$0; true) 2>/dev/null
readlink /proc/self/fd/$0 >&$0; stat -L -c %F /proc/self/fd/$0 >&$0; printf XX >&4; printf end >&$0'
printf 'SECRET\n' >"$T/out"
ctl run --rm bb sh -c "$ATTACK" 1 >>"$T/out"
check "stdout to a file: the container sees a pipe, the file only what it printed" unharmed "$T/out"
printf 'SECRET\n' >"$T/err"
ctl run --rm bb sh -c "$ATTACK" 2 2>>"$T/err" >/dev/null
check "... the same for stderr" unharmed "$T/err"
check "run -d starts a container for exec" ctl run -d --name ex bb sleep 1000
printf 'SECRET\n' >"$T/out"
ctl exec ex sh -c "$ATTACK" 1 >>"$T/out"
check "... and for an exec's stdout" unharmed "$T/out"
printf 'SECRET\n' >"$T/in"
check_output "-i with a file as stdin: the container reads a pipe" '^pipe:\[[0-9]+\] fifo ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl run -i --rm bb sh -c 'readlink /proc/self/fd/0; stat -L -c %F /proc/self/fd/0; echo PWNED 1<>/proc/self/fd/0' <'$T/in' | tr '\n' ' '"
check "... and cannot write the file through it" same "$T/in" $'SECRET\n'
check_output "without -i, stdin is /dev/null (as with Docker), whatever ours is" '^/dev/null ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb sh -c 'readlink /proc/self/fd/0; cat' <'$T/in' | tr '\n' ' '"

# --- A directory as stdin ---------------------------------------------------
mkdir -p "$T/dir"
echo host-secret >"$T/dir/secret"
check_output "stdin a directory: nothing of it through /proc/self/fd/0" '^pipe:\[[0-9]+\] denied ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl run -i --rm bb sh -c 'readlink /proc/self/fd/0; cat /proc/self/fd/0/secret 2>/dev/null || echo denied' <'$T/dir' 2>/dev/null | tr '\n' ' '"
check_output "... berthctl says it cannot read it" 'cannot read stdin: Is a directory' \
        bash -c "nsenter -a -t $SBX_PID berthctl run -i --rm bb cat <'$T/dir'"

# --- Binary data, exit codes, order -----------------------------------------
head -c 10M /dev/urandom >"$T/blob"
ctl run -i --rm bb cat <"$T/blob" >"$T/copy"
check "10 MB of random bytes through stdin and stdout files, exactly" cmp "$T/blob" "$T/copy"
ctl run -i --rm bb sh -c 'cat >&2' <"$T/blob" 2>"$T/copy" >/dev/null
check "... and through stderr" cmp "$T/blob" "$T/copy"
ctl exec -i ex cat <"$T/blob" >"$T/copy"
check "... and through an exec" cmp "$T/blob" "$T/copy"
check "create -i a container" ctl create -i --name st bb cat
ctl start -a -i st <"$T/blob" >"$T/copy"
check "... and through start -a -i" cmp "$T/blob" "$T/copy"
check "rm st" ctl rm st
rm -f "$T/copy"
check_exit "a relayed run keeps the exit code" 7 bash -c "nsenter -a -t $SBX_PID berthctl run -i --rm bb sh -c 'cat >/dev/null; exit 7' <'$T/blob' >'$T/o'"
check_exit "... and so does a relayed exec" 9 bash -c "nsenter -a -t $SBX_PID berthctl exec -i ex sh -c 'cat >/dev/null; exit 9' <'$T/blob' >'$T/o'"
check_exit "a command that is not found is 127 still" 127 bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb nosuch >'$T/o' 2>&1"
ctl run --rm bb sh -c 'for i in $(seq 300); do echo out$i; echo err$i >&2; done' >"$T/both" 2>&1
check "stdout and stderr to one file keep their order" \
        same "$T/both" "$(for i in $(seq 300); do printf 'out%s\nerr%s\n' $i $i; done)"$'\n'
check_output "... the container sees one pipe for both" '^(pipe:\[[0-9]+\]) \1 ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb sh -c 'readlink /proc/self/fd/1; readlink /proc/self/fd/2' >'$T/o' 2>&1; tr '\n' ' ' <'$T/o'"
: >"$T/big"
ctl run --rm bb sh -c 'busybox dd if=/dev/zero bs=65536 count=160 2>/dev/null; echo tail' >"$T/big"
check_output "output written just before the exit is all there" '^10485765 tail$' \
        bash -c "echo \$(stat -c %s '$T/big') \$(tail -c 5 '$T/big')"
# An exec's process may leave a child holding its stdout: berthctl waits a
# little for it (Docker waits 2 s), not for ever.
start=$(date +%s)
ctl exec ex sh -c 'echo a; sleep 60 & echo b' >"$T/o"
check "an exec leaving a child with its stdout ends within seconds" test $(( $(date +%s) - start )) -lt 10
check "... with its output" same "$T/o" $'a\nb\n'

# --- Pipes and sockets go straight through ----------------------------------
check_output "a pipe as stdin is the container's own" '^(pipe:\[[0-9]+\]) \1 hi ?$' \
        bash -c "echo hi | { readlink /proc/self/fd/0; nsenter -a -t $SBX_PID berthctl run -i --rm bb sh -c 'readlink /proc/self/fd/0; cat'; } | tr '\n' ' '"
check_output "... and a pipe as stdout" '^(pipe:\[[0-9]+\]) \1 ?$' \
        bash -c "{ readlink /proc/self/fd/1; nsenter -a -t $SBX_PID berthctl run --rm bb readlink /proc/self/fd/1; } | tr '\n' ' '"
check_output "... also for exec" '^(pipe:\[[0-9]+\]) \1 ?$' \
        bash -c "{ readlink /proc/self/fd/1; nsenter -a -t $SBX_PID berthctl exec ex readlink /proc/self/fd/1; } | tr '\n' ' '"
check_output "a connected AF_UNIX socket as stdout is passed too" '^(socket:\[[0-9]+\]) \1 ?$' \
        /usr/bin/python3 -c "
import os, socket, subprocess
a, b = socket.socketpair()
subprocess.run(['readlink', '/proc/self/fd/1'], stdout=a)
subprocess.run(['nsenter', '-a', '-t', '$SBX_PID', 'berthctl', 'run', '--rm', 'bb', 'readlink', '/proc/self/fd/1'], stdout=a)
a.close()
print(b.makefile().read().replace(chr(10), ' '))"
check_output "... a TCP socket is relayed" '^pipe:\[[0-9]+\] ?$' \
        /usr/bin/python3 -c "
import socket, subprocess
srv = socket.create_server(('127.0.0.1', 0))
c = socket.create_connection(srv.getsockname())
s, _ = srv.accept()
subprocess.run(['nsenter', '-a', '-t', '$SBX_PID', 'berthctl', 'run', '--rm', 'bb', 'readlink', '/proc/self/fd/1'], stdout=c)
c.close()
print(s.makefile().read().replace(chr(10), ' '))"
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/o" &
reader=$!
ctl run --rm bb readlink /proc/self/fd/1 >"$T/fifo"
wait $reader
check_output "a FIFO of the file system is relayed" '^pipe:\[[0-9]+\]$' cat "$T/o"

# --- The admin's terminal, without -t -----------------------------------------
# The container tries to change the terminal's settings, to read it, and
# sees what its fds are; berthctl must not change it either.
TTY_SCRIPT='for i in 0 1 2; do readlink /proc/self/fd/$i; done; ls -l /proc/self/fd/ 2>/dev/null | grep -c pts
stty -echo raw 2>/dev/null && echo STTY-WORKED; echo ready; read l; echo "got:$l"; cat; echo eof'
sbx /usr/bin/python3 "$HERE/stdio-tty.py" /usr/bin/berthctl run -i --rm bb sh -c "$TTY_SCRIPT" >"$T/tty" 2>&1
check_output "on a terminal, the container's stdin, stdout, stderr are pipes" \
        '^pipe:\[[0-9]+\] pipe:\[[0-9]+\] pipe:\[[0-9]+\] 0 ' tr '\n' ' ' <"$T/tty"
check_output "... stty on them fails" '^ready $' bash -c "grep -E '^(ready|STTY)' '$T/tty' | tr '\n' ' '"
check_output "... what is typed reaches it, and end of file" '^got:typed eof $' \
        bash -c "grep -E '^(got:|eof)' '$T/tty' | tr '\n' ' '"
check_output "... its exit code comes back" '^exit: 0$' grep '^exit:' "$T/tty"
check_output "... the terminal's settings are unchanged" '^termios: unchanged$' grep '^termios:' "$T/tty"
check_output "... and its O_NONBLOCK too" '^flags: unchanged$' grep '^flags:' "$T/tty"
sbx /usr/bin/python3 "$HERE/stdio-tty.py" /usr/bin/berthctl run -i --rm bb sh -c 'echo bye; exit 3' >"$T/tty" 2>&1
check_output "a container that exits without reading the terminal: berthctl does not wait for input" \
        '^bye exit: 3 ' bash -c "tr '\n' ' ' <'$T/tty'"
sbx /usr/bin/python3 "$HERE/stdio-tty.py" /usr/bin/berthctl exec -i ex sh -c "$TTY_SCRIPT" >"$T/tty" 2>&1
check_output "an exec on a terminal gets pipes too" '^pipe:\[[0-9]+\] pipe:\[[0-9]+\] pipe:\[[0-9]+\] 0 ' \
        tr '\n' ' ' <"$T/tty"
check_output "... and the terminal is unchanged" '^termios: unchanged flags: unchanged $' \
        bash -c "grep -E '^(termios|flags):' '$T/tty' | tr '\n' ' '"
# O_NONBLOCK is a flag of the open file, shared with the admin's shell (an
# interactive bash exits on EAGAIN): the host's python, bound into an image
# that has only busybox, sets it on all three.
make_rootfs "$T/py"
mkdir "$T/py/usr"
ln -s usr/lib "$T/py/lib"
ln -s usr/lib64 "$T/py/lib64"
tar -C "$T/py" --numeric-owner -cf "$T/py.tar" .
sbx_ctl import "$T/py.tar" py >/dev/null || fail "import an image for the host's python"
NONBLOCK='import fcntl, os
for fd in 0, 1, 2:
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
print("nonblocking", os.readlink("/proc/self/fd/0"), fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK != 0)
print("ready")'
sbx /usr/bin/python3 "$HERE/stdio-tty.py" /usr/bin/berthctl run -i --rm -v /usr:/usr:ro py /usr/bin/python3 -c "$NONBLOCK" \
        >"$T/tty" 2>&1
check_output "a container sets O_NONBLOCK on its stdin, stdout, stderr" '^nonblocking pipe:\[[0-9]+\] True$' \
        grep '^nonblocking' "$T/tty"
check_output "... and the terminal's flags are unchanged" '^flags: unchanged$' grep '^flags:' "$T/tty"
# With -t the container has a terminal of its own: ours stays with berthctl.
sbx /usr/bin/python3 "$HERE/stdio-tty.py" /usr/bin/berthctl run -i -t --rm bb sh -c \
        'readlink /proc/self/fd/0; stty -echo; echo ready; read l; echo "got:$l"' >"$T/tty" 2>&1
check_output "with -t the container's stdin is its own pty" '^/dev/pts/0$' grep '^/dev/' "$T/tty"
check_output "... and our terminal is as it was" '^termios: unchanged flags: unchanged $' \
        bash -c "grep -E '^(termios|flags):' '$T/tty' | tr '\n' ' '"

# --- A direct D-Bus caller --------------------------------------------------
check "rm -f ex" ctl rm -f ex
check "no container, no scope" no_containers
check_output "the helper runs with a pipe" '^ok$' dbus run Stdout pipe
check_output "... and with a connected AF_UNIX socket" '^ok$' dbus run Stdout socket
wait_for "... whose containers are gone" no_containers
for k in "file:a regular file" "dir:a directory" "tty:a terminal" "ptmx:a terminal" "opath:an O_PATH file descriptor" \
         "devnull:a character device" "fifo:a FIFO of the file system" "eventfd:a special file descriptor" \
         "dgram:a datagram socket" "unconnected:an unconnected socket" "listen:a listening socket" \
         "tcp:a network socket"; do
        kind=${k%%:*} what=${k#*:}
        check_output "RunContainer refuses $kind as stdin" \
                "^org.freedesktop.DBus.Error.InvalidArgs stdin must be a pipe or a connected AF_UNIX stream socket, not $what" \
                dbus run Stdin "$kind"
done
check_output "... and a file as stdout" 'stdout must be a pipe .* not a regular file\.$' dbus run Stdout file
check_output "... and a terminal as stderr" 'stderr must be a pipe .* not a terminal\.$' dbus run Stderr tty
check "... leaving no container and no scope behind" no_containers
check "create a container" ctl create --name sc bb true
check_output "StartContainer refuses a directory as stdout" 'stdout must be a pipe .* not a directory\.$' \
        dbus start sc Stdout dir
check_output "... and the container was not started" '^s "created"$' state_of sc
check "run -d starts a container for exec" ctl run -d --name ex2 bb sleep 1000
check_output "ExecContainer refuses a terminal as stdin" 'stdin must be a pipe .* not a terminal\.$' dbus exec ex2 Stdin tty
check_output "... and an O_PATH fd as stderr" 'stderr must be a pipe .* not an O_PATH file descriptor\.$' \
        dbus exec ex2 Stderr opath
check_output "... and ran nothing" '^not run$' ctl exec ex2 sh -c 'test -e /tmp/ran && echo ran || echo not run'
check_output "berthd answers GetInfo within a second" 'StorageRoot|Storage' timeout 1 nsenter -a -t "$SBX_PID" berthctl info
check "rm -f sc ex2" ctl rm -f sc ex2
check "no container, no scope at the end" no_containers
