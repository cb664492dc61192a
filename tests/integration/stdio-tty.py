#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs COMMAND... with a pseudo-terminal as its controlling terminal, stdin,
# stdout and stderr, the way an admin's shell runs it, types "typed" and then
# end of file, and prints what came out followed by whether the terminal's
# settings and its file status flags (O_NONBLOCK) are as they were.
import fcntl
import os
import pty
import select
import sys
import termios
import time


def main():
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    flags_before = fcntl.fcntl(slave, fcntl.F_GETFL)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.execvp(sys.argv[1], sys.argv[1:])
    out = b""
    typed = False
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        if not typed and b"ready" in out:
            os.write(master, b"typed\n")
            time.sleep(0.2)
            os.write(master, b"\x04")
            typed = True
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                out += os.read(master, 65536)
            except OSError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("timeout")
    # What is still buffered.
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
    print("exit:", os.waitstatus_to_exitcode(status) if status is not None else "none")
    print("termios:", "unchanged" if termios.tcgetattr(slave) == before else "changed")
    print("flags:", "unchanged" if fcntl.fcntl(slave, fcntl.F_GETFL) == flags_before else "changed")


main()
