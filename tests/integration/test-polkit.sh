#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# polkit for callers other than root, with the real polkitd of the sandbox
# and rules this test writes into the sandbox's /etc/polkit-1/rules.d (an
# overlay: nothing reaches the host's /etc). nobody is allowed what the rules
# allow, by the details berthd passes; daemon has no rule at all, so polkit
# falls back to the policy's auth_admin, which without an agent is a denial
# and on a terminal berthctl's pkttyagent asking for a password. A Python
# GDBus client (test-gdbus-client.py) goes through a container's whole life
# as a desktop application would. Then polkitd stopped (denied; root still
# allowed) and polkitd frozen with callers leaving while their checks are
# pending (nothing done, nothing kept).
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
M=/org/berth/Berth1
I=org.berth.Berth1.Manager
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
DAEMON="setpriv --reuid=daemon --regid=daemon --clear-groups"
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import "$T/rootfs.tar" bb >/dev/null || { fail "import the busybox image"; exit 1; }
check "a second name for the image, which the rules refuse" sbx_ctl tag bb other
sbx install -m 0755 "$BUILD_DIR/tests/bus-flood" /tmp/bus-flood
sbx mkdir -p /run/shared

# exists NAME: the container is there (asked as root).
exists() { sbx_ctl inspect --type container "$1" >/dev/null 2>&1; }
absent() { ! exists "$1"; }
state() {
        local path
        path=$(sbx busctl call org.berth.Berth1 $M $I GetContainer s "$1" | cut -d'"' -f2)
        sbx busctl get-property org.berth.Berth1 "$path" org.berth.Berth1.Container State
}
answers_quickly() { sbx busctl --timeout=1 call org.berth.Berth1 $M $I GetInfo >/dev/null; }
# in_time SECONDS CMD...: CMD ends (whatever its status) within SECONDS; its
# output and status go to $T/in_time.out and $T/in_time.rc.
in_time() {
        local limit=$1 t0 t1 rc; shift
        t0=$(date +%s%N)
        "$@" >"$T/in_time.out" 2>&1; rc=$?
        t1=$(date +%s%N)
        echo "$rc" >"$T/in_time.rc"
        [ $(((t1 - t0) / 1000000)) -lt $((limit * 1000)) ] ||
                { echo "took $(((t1 - t0) / 1000000)) ms: $(cat "$T/in_time.out")"; return 1; }
}

check "every action of service/polkit.h is in the installed policy" sh -c "
        for a in \$(sed -n 's/^#define BERTH_ACTION_[A-Z_]* \"\\(.*\\)\"\$/\\1/p' '$SOURCE_DIR/service/polkit.h'); do
                nsenter -a -t $SBX_PID pkaction --action-id \"\$a\" >/dev/null || { echo \"missing \$a\"; exit 1; }
        done"
check_output "... with a message a person understands" 'Authentication is required to create, start, stop or remove containers' \
        sbx pkaction --verbose --action-id org.berth.Berth1.manage-containers
check_output "privileged containers are always auth_admin, never kept" 'implicit active: +auth_admin$' \
        sbx pkaction --verbose --action-id org.berth.Berth1.manage-privileged-containers

sbx sh -c 'cat >/etc/polkit-1/rules.d/50-berth-test.rules' <<'EOF'
// The sandbox has nobody in group sudo: root is who auth_admin asks for.
polkit.addAdminRule(function(action, subject) {
        return ["unix-user:root"];
});
// nobody: containers named ok-*, not of the image "other"; privileged ones
// only with /run/shared bound and nothing else.
polkit.addRule(function(action, subject) {
        if (subject.user != "nobody" || action.id.indexOf("org.berth.Berth1.") != 0)
                return polkit.Result.NOT_HANDLED;
        var name = action.lookup("container") || "", image = action.lookup("image") || "";
        if (action.id == "org.berth.Berth1.manage-containers")
                return name.indexOf("ok-") == 0 && image.indexOf("other") != 0 ?
                        polkit.Result.YES : polkit.Result.NO;
        if (action.id == "org.berth.Berth1.manage-privileged-containers")
                return action.lookup("privileged") == "yes" && action.lookup("bind-sources") == "/run/shared" ?
                        polkit.Result.YES : polkit.Result.NO;
        return polkit.Result.NOT_HANDLED;
});
EOF
# polkitd reads the rules when it starts (and on changes): start it afresh.
sbx systemctl restart polkit.service
check "polkitd runs in the sandbox" sbx systemctl is-active polkit.service

# --- Allowed by a rule -------------------------------------------------------
check "nobody creates a container a rule allows" sbx $NOBODY berthctl create --name ok-1 bb sleep 1000
check "... it exists" exists ok-1
check "... and starts it" sbx $NOBODY berthctl start ok-1
check_output "... which runs" '"running"' state ok-1
check "... stops it" sbx $NOBODY berthctl stop -t 1 ok-1
check "... and removes it" sbx $NOBODY berthctl rm ok-1
check "... and it is gone" absent ok-1
# berthctl sends WaitContainer right behind StartContainer: the wait must not
# overtake the start while polkit is asked about it.
check "nobody creates a container that prints late and exits 3" \
        sbx $NOBODY berthctl create --name ok-order bb sh -c 'sleep 0.3; echo late; exit 3'
check_exit "... start -a waits for its end: the wait did not overtake the start" 3 sbx $NOBODY berthctl start -a ok-order
check_output "... and relays its output" '^late$' sbx $NOBODY berthctl start -a ok-order
check "..." sbx $NOBODY berthctl rm ok-order
check_output "nobody runs a container attached, through RunContainer" '^hello$' \
        sbx $NOBODY berthctl run --rm --name ok-run bb echo hello
check_output "a bare D-Bus client is served too (CreateContainer through busctl)" '^so "[0-9a-f]{64}"' \
        sbx $NOBODY busctl call org.berth.Berth1 $M $I CreateContainer 'a{sv}' 3 \
                Image s bb Name s ok-busctl Cmd as 1 true
check "... and removes it (RemoveContainer)" sbx $NOBODY busctl call org.berth.Berth1 $M $I RemoveContainer sb ok-busctl false
check "... gone" absent ok-busctl

# --- Denied --------------------------------------------------------------------
check_exit "a name the rule refuses: exit code 125" 125 sbx $NOBODY berthctl create --name bad-1 bb true
check_output "... with one sentence naming the action" '^Not authorized to manage containers \(org\.berth\.Berth1\.manage-containers\)\.$' \
        sbx $NOBODY berthctl create --name bad-1 bb true
check "... and nothing was created" absent bad-1
check_exit "an image the rule refuses (detail \"image\")" 125 sbx $NOBODY berthctl create --name ok-other other true
check "... nothing created" absent ok-other
GDBUS_CREATE="gdbus call --system --dest org.berth.Berth1 --object-path $M --method $I.CreateContainer"
check_output "without a rule (daemon), auth_admin: InteractiveAuthorizationRequired" \
        'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired: Authentication is required to manage containers' \
        sbx $DAEMON $GDBUS_CREATE "{'Image': <'bb'>, 'Name': <'ok-daemon'>}"
check_output "... and with interaction allowed but no agent: AccessDenied" \
        'org\.freedesktop\.DBus\.Error\.AccessDenied: Not authorized to manage containers' \
        sbx $DAEMON $GDBUS_CREATE --interactive "{'Image': <'bb'>, 'Name': <'ok-daemon'>}"
check_output "... berthctl off a terminal: one sentence" '^Authentication is required to manage containers \(org\.berth\.Berth1\.manage-containers\), and the call did not allow interactive authorization\.$' \
        sbx $DAEMON berthctl create --name ok-daemon bb true
check_exit "... exit code 125" 125 sbx $DAEMON berthctl create --name ok-daemon bb true
check "... nothing was created" absent ok-daemon
check "root creates one" sbx_ctl run -d --name ok-roots bb sleep 1000
check_exit "daemon may not remove it" 125 sbx $DAEMON berthctl rm -f ok-roots
check_exit "... nor kill it" 125 sbx $DAEMON berthctl kill ok-roots
check_output "... which still runs" '"running"' state ok-roots
check "root removes it" sbx_ctl rm -f ok-roots

# --- Privileged containers -----------------------------------------------------
check_exit "--privileged is refused though manage-containers is allowed" 125 \
        sbx $NOBODY berthctl create --name ok-priv --privileged bb true
check_output "... naming the privileged action" 'manage-privileged-containers' \
        sbx $NOBODY berthctl create --name ok-priv --privileged bb true
check "... nothing created" absent ok-priv
check_exit "so is a bind mount the rule does not allow (detail \"bind-sources\")" 125 \
        sbx $NOBODY berthctl create --name ok-etc -v /etc:/host-etc bb true
check "... nothing created" absent ok-etc
check_exit "... and the host's network (privileged=yes, no binds)" 125 \
        sbx $NOBODY berthctl create --name ok-net --network host bb true
check_exit "... and a container without seccomp" 125 \
        sbx $NOBODY berthctl create --name ok-unconfined --security-opt seccomp=unconfined bb true
check "... nothing created" absent ok-unconfined
# The options are read before polkit is asked: a profile path of the
# caller's must not make berthd wait.
sbx $NOBODY mkfifo /tmp/nobody-fifo
check_output "a FIFO as seccomp profile is refused at once" 'not a valid profile|Invalid argument' \
        sbx $NOBODY busctl --timeout=3 call org.berth.Berth1 $M $I CreateContainer 'a{sv}' 3 \
                Image s bb Name s ok-fifo SecurityOpt as 1 seccomp=/tmp/nobody-fifo
check "... and berthd answers GetInfo within a second after it" answers_quickly
check "a bind mount of /run/shared is allowed" sbx $NOBODY berthctl create --name ok-shared -v /run/shared:/data bb true
check "... and started (start checks the privileged action again)" sbx $NOBODY berthctl start ok-shared
check "... and removed" sbx $NOBODY berthctl rm -f ok-shared
check "root creates a privileged container" sbx_ctl create --name ok-rootpriv --privileged bb true
check_exit "nobody may not start it, though its name is allowed" 125 sbx $NOBODY berthctl start ok-rootpriv
check_output "... it never ran" '"created"' state ok-rootpriv
check "... nobody may remove it (remove needs manage-containers only)" sbx $NOBODY berthctl rm ok-rootpriv

# --- The terminal agent --------------------------------------------------------
# On a terminal berthctl allows interaction and runs pkttyagent: polkitd asks
# through it, and a wrong password is a refusal.
HERE=$(cd "$(dirname "$0")" && pwd)
TTY="/usr/bin/python3 $HERE/polkit-tty.py"
sbx $TTY $DAEMON berthctl create --name ok-agent bb true >"$T/agent.out" 2>&1
check_output "on a terminal pkttyagent asks for the administrator's password" \
        'AUTHENTICATING FOR org\.berth\.Berth1\.manage-containers' cat "$T/agent.out"
check_output "... with the policy's message" 'Authentication is required to create, start, stop or remove containers\.$' \
        cat "$T/agent.out"
check_output "... a wrong password is refused in one sentence" \
        '(^|m)Not authorized to manage containers \(org\.berth\.Berth1\.manage-containers\)\.$' cat "$T/agent.out"
check_output "... exit code 125" '^exit=125$' cat "$T/agent.out"
check "... nothing created" absent ok-agent
sbx $TTY $DAEMON berthctl --no-ask-password create --name ok-agent bb true >"$T/agent2.out" 2>&1
check "--no-ask-password runs no agent" sh -c "! grep -q AUTHENTICATING '$T/agent2.out'"
check_output "... and its calls do not allow interaction" 'did not allow interactive authorization' cat "$T/agent2.out"
sbx $TTY berthctl create --name ok-agent-root bb true >"$T/agent3.out" 2>&1
check "root runs no agent and is not asked" sh -c "grep -q '^exit=0' '$T/agent3.out' && ! grep -q AUTHENTICATING '$T/agent3.out'"
check "... root's container" sbx_ctl rm ok-agent-root
check "no agent is left behind" sh -c "! nsenter -a -t $SBX_PID pgrep -x pkttyagent"

# --- A desktop application: Python GDBus, not berthctl ---------------------------
sbx install -m 0755 "$HERE/test-gdbus-client.py" /tmp/test-gdbus-client.py
check_output "a GDBus client allowed by a rule: list, create, start with pipes, follow, read, remove" \
        '^ok \.\.\. and GetContainer does not find it$' sbx $NOBODY /tmp/test-gdbus-client.py lifecycle ok-gdbus
check_output "... and refused where no rule allows it (nobody, a name the rule refuses)" '^ok \.\.\. and nothing was created$' \
        sbx $NOBODY /tmp/test-gdbus-client.py refused bad-gdbus
check_output "... or for a user with no rule at all (daemon)" '^ok \.\.\. and nothing was created$' \
        sbx $DAEMON /tmp/test-gdbus-client.py refused ok-gdbus-daemon

# --- Registries: PullImage, PushImage, Login, Logout (action pull-images) ------------
# A plain registry on 127.0.0.1:5000 (registry-lib.sh); nobody may pull
# what is under 127.0.0.1:5000/pk/, push the image "bb" there only (detail
# "destination"), and check a login to 127.0.0.1:5000 (detail "registry"),
# but not change berthd's stored credentials (manage-registry-credentials);
# daemon has no rule.
# (--authfile: without XDG_RUNTIME_DIR nobody's default auth file would be
# below root's /run/containers, which berthctl cannot read.)
. "$HERE/registry-lib.sh"
reg_init
reg_start_plain || fail "the registry starts"
sbx sh -c 'cat >/etc/polkit-1/rules.d/60-berth-registry.rules' <<'EOF'
polkit.addRule(function(action, subject) {
        if (subject.user != "nobody" || action.id != "org.berth.Berth1.pull-images")
                return polkit.Result.NOT_HANDLED;
        var image = action.lookup("image") || "", registry = action.lookup("registry") || "";
        var destination = action.lookup("destination");
        if (destination)
                return image == "bb" && destination.indexOf("127.0.0.1:5000/pk/") == 0 ?
                        polkit.Result.YES : polkit.Result.NO;
        return image.indexOf("127.0.0.1:5000/pk/") == 0 || registry == "127.0.0.1:5000" ?
                polkit.Result.YES : polkit.Result.NO;
});
EOF
sbx systemctl restart polkit.service
check "root pushes bb to the registry" sbx_ctl push -q bb 127.0.0.1:5000/pk/bb:1
check "... and to a repository the rule does not allow" sbx_ctl push -q bb 127.0.0.1:5000/other/bb:1
GDBUS="gdbus call --system --dest org.berth.Berth1 --object-path $M --method $I"
no_image() { ! sbx_ctl image inspect "$1" >/dev/null 2>&1; }
in_registry() { sbx skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:5000/$1" >/dev/null 2>&1; }
not_in_registry() { ! in_registry "$1"; }
check_output "nobody pulls what the rule allows (PullImage)" '^127\.0\.0\.1:5000/pk/bb:1$' \
        sbx $NOBODY berthctl pull -q --authfile /tmp/nobody-none.json 127.0.0.1:5000/pk/bb:1
check "... and the image is there" sbx_ctl image inspect 127.0.0.1:5000/pk/bb:1
check_output "... through busctl too: a job" '^o "/org/berth/Berth1/job/[0-9]+"$' \
        sbx $NOBODY busctl call org.berth.Berth1 $M $I PullImage 'sa{sv}' 127.0.0.1:5000/pk/bb:1 0
check_output "a pull the rule refuses: AccessDenied, naming the action" \
        'org\.freedesktop\.DBus\.Error\.AccessDenied: Not authorized to pull or push images \(org\.berth\.Berth1\.pull-images\)\.' \
        sbx $NOBODY $GDBUS.PullImage 127.0.0.1:5000/other/bb:1 '{}'
check_output "... berthctl says it in one sentence" 'Not authorized to pull or push images \(org\.berth\.Berth1\.pull-images\)\.$' \
        sbx $NOBODY berthctl pull --authfile /tmp/nobody-none.json 127.0.0.1:5000/other/bb:1
check_exit "... exit code 125" 125 sbx $NOBODY berthctl pull --authfile /tmp/nobody-none.json 127.0.0.1:5000/other/bb:1
check "... nothing was pulled" no_image 127.0.0.1:5000/other/bb:1
check_output "without a rule (daemon): InteractiveAuthorizationRequired" \
        'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired: Authentication is required to pull or push images' \
        sbx $DAEMON $GDBUS.PullImage 127.0.0.1:5000/pk/bb:1 '{}'
check_output "nobody pushes the image the rule allows (PushImage)" '^digest: sha256:[0-9a-f]{64}$' \
        sbx $NOBODY berthctl push --authfile /tmp/nobody-none.json bb 127.0.0.1:5000/pk/pushed:1
check "... and the registry has it" in_registry pk/pushed:1
check_output "a push of an image the rule refuses: AccessDenied" \
        'org\.freedesktop\.DBus\.Error\.AccessDenied: Not authorized to pull or push images' \
        sbx $NOBODY $GDBUS.PushImage other 127.0.0.1:5000/pk/refused:1 '{}'
check_output "... daemon's, without a rule: InteractiveAuthorizationRequired" \
        'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired' \
        sbx $DAEMON $GDBUS.PushImage bb 127.0.0.1:5000/pk/refused:1 '{}'
check "... nothing was pushed" not_in_registry pk/refused:1
check_output "a push of the allowed image to a destination the rule refuses: AccessDenied" \
        'org\.freedesktop\.DBus\.Error\.AccessDenied: Not authorized to pull or push images' \
        sbx $NOBODY $GDBUS.PushImage bb 127.0.0.1:5000/other/bb:2 '{}'
check "... nothing was pushed there" not_in_registry other/bb:2
check_output "nobody logs in where the rule allows (Login)" '^\(\)$' \
        sbx $NOBODY $GDBUS.Login 127.0.0.1:5000 someone secret '{}'
check_output "... berthctl login too, into nobody's own file" 'Login Succeeded' \
        bash -c "echo secret | nsenter -a -t $SBX_PID $NOBODY berthctl login -u someone --password-stdin --authfile /tmp/nobody-auth.json 127.0.0.1:5000"
check_output "a login to a registry the rule refuses: AccessDenied" \
        'org\.freedesktop\.DBus\.Error\.AccessDenied: Not authorized to pull or push images' \
        sbx $NOBODY $GDBUS.Login 127.0.0.1:5999 someone secret '{}'
check_output "... daemon's without a rule: InteractiveAuthorizationRequired" \
        'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired' \
        sbx $DAEMON $GDBUS.Login 127.0.0.1:5000 someone secret '{}'
# berthd's own credentials: the administrator's, whatever pull-images allows.
auth_file_has() { sbx grep -q "$1" /etc/berth/auth.json 2>/dev/null; }
auth_file_lacks() { ! auth_file_has "$1"; }
# (The rule leaves that action alone: polkit's default, the administrator's password.)
check_output "a login that would store berthd's credentials is refused, naming the action" \
        'InteractiveAuthorizationRequired: Authentication is required to change the engine.s own registry credentials \(org\.berth\.Berth1\.manage-registry-credentials\)' \
        sbx $NOBODY $GDBUS.Login 127.0.0.1:5000 someone secret "{'Store': <true>}"
check "... and /etc/berth/auth.json did not get them" auth_file_lacks 127.0.0.1:5000
check "root stores credentials for the registry" sbx $GDBUS.Login 127.0.0.1:5000 someone secret "{'Store': <true>}"
check_output "nobody's logout is refused even where pull-images is allowed" \
        'InteractiveAuthorizationRequired: Authentication is required to change the engine.s own registry credentials' \
        sbx $NOBODY $GDBUS.Logout 127.0.0.1:5000
check "... and the credentials are still there" auth_file_has 127.0.0.1:5000
check "root logs out" sbx $GDBUS.Logout 127.0.0.1:5000
check "... and they are gone" auth_file_lacks 127.0.0.1:5000
check_output "... daemon's without a rule: InteractiveAuthorizationRequired" \
        'org\.freedesktop\.DBus\.Error\.InteractiveAuthorizationRequired' \
        sbx $DAEMON $GDBUS.Logout 127.0.0.1:5000
check "root removes the pulled image" sbx_ctl rmi 127.0.0.1:5000/pk/bb:1
sbx systemctl stop reg-plain.service

# --- polkitd stopped -------------------------------------------------------------
# Masked, or dbus-daemon would start it again for the next question.
sbx systemctl mask --runtime --now polkit.service >/dev/null 2>&1
check "polkitd is stopped" sh -c "! nsenter -a -t $SBX_PID systemctl is-active -q polkit.service"
check "with polkitd gone nobody is answered within a second" in_time 1 sbx $NOBODY berthctl create --name ok-down bb true
check_output "... denied, saying polkit could not be asked" '^Not authorized to manage containers .*polkit could not be asked' \
        cat "$T/in_time.out"
check_output "... exit code 125" '^125$' cat "$T/in_time.rc"
check "... nothing created" absent ok-down
check "root is still allowed" sbx_ctl create --name ok-root-down bb true
check "... and removes it" sbx_ctl rm ok-root-down
sbx systemctl unmask --runtime polkit.service >/dev/null 2>&1
sbx systemctl start polkit.service
check "nobody is served again once polkitd is back" sbx $NOBODY berthctl create --name ok-back bb true
check "..." sbx $NOBODY berthctl rm ok-back

# --- Callers that leave while their check is pending ---------------------------
check "root creates a container for the callers to try to remove" sbx_ctl create --name ok-keep bb true
PK=$(sbx systemctl show -P MainPID polkit.service)
check "polkitd is frozen (SIGSTOP)" sbx kill -STOP "$PK"
# One connection: its first call is with polkitd, the next 64 wait behind it
# (in their order), the rest are refused; then it leaves.
sbx $NOBODY /tmp/bus-flood remove ok-keep 70 >"$T/flood.out" 2>&1
check_output "one caller's calls wait behind its check, at most 64" '^pending=65$' cat "$T/flood.out"
check_output "... the others are refused as Busy" '^org.berth.Berth1.Error.Busy=5$' cat "$T/flood.out"
sbx $NOBODY /tmp/bus-flood remove ok-keep 70 >"$T/flood.out" 2>&1
check_output "... the same again once it left: nothing of it was kept" '^pending=65$' cat "$T/flood.out"
# 70 callers at once, each gone after its second: more than the 64 checks
# berthd keeps with polkitd for everybody together.
LEAVERS=()
for i in $(seq 70); do
        sbx timeout 1 $NOBODY berthctl rm "ok-keep" >/dev/null 2>&1 &
        LEAVERS+=($!)
done
sleep 0.5
check "GetInfo answers within a second while polkitd is frozen" answers_quickly
check "root is served without polkit meanwhile" in_time 2 sbx_ctl create --name ok-root-frozen bb true
wait "${LEAVERS[@]}"
check "GetInfo answers within a second after the callers left" answers_quickly
check "polkitd runs again (SIGCONT)" sbx kill -CONT "$PK"
sleep 1
check "nothing was done for the callers that left" exists ok-keep
check "nobody's next call is served: no check of the callers that left is kept" \
        sbx $NOBODY berthctl rm ok-keep
check "... and it is gone" absent ok-keep
check "root removes its container" sbx_ctl rm ok-root-frozen
check_output "berthd never restarted" '^0$' sbx systemctl show -P NRestarts berthd.service
