#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# berthd on the real system bus under the real systemd: units, activation,
# introspection, properties, policy, configuration, clean stop, berthctl.
. "$(dirname "$0")/lib.sh"

sandbox_start

M=/org/berth/Berth1
I=org.berth.Berth1.Manager
VERSION=$(sed -n "s/^ *version *: *'\(.*\)',/\1/p" "$SOURCE_DIR/meson.build" | head -1)

check "berthd.service starts" sbx systemctl start berthd.service
check_output "it is a notify service and active" '^ActiveState=active' \
        sbx systemctl show -p ActiveState -p Type berthd.service
check_output "it reports its status to systemd" 'StatusText=Serving org.berth.Berth1' \
        sbx systemctl show -p StatusText berthd.service
check_output "berth.slice is installed" 'LoadState=loaded' sbx systemctl show -p LoadState berth.slice

check_output "busctl introspect shows the Manager interface" "^$I +interface" \
        sbx busctl introspect org.berth.Berth1 $M
check_output "introspection lists GetInfo with its result" '^\.GetInfo +method +- +a\{sv\}' \
        sbx busctl introspect org.berth.Berth1 $M $I
check_output "busctl tree shows the manager object" "$M" sbx busctl tree org.berth.Berth1
check_output "gdbus introspect sees the properties" 'readonly as Features' \
        sbx gdbus introspect --system --dest org.berth.Berth1 --object-path $M
check_output "ObjectManager answers" '^a\{oa\{sa\{sv\}\}\}' \
        sbx busctl call org.berth.Berth1 $M org.freedesktop.DBus.ObjectManager GetManagedObjects
check_output "Version property is the build's version" "^s \"$VERSION\"\$" \
        sbx busctl get-property org.berth.Berth1 $M $I Version
check_output "StorageRoot defaults to /var/lib/berth" '^s "/var/lib/berth"$' \
        sbx busctl get-property org.berth.Berth1 $M $I StorageRoot
check_output "CgroupVersion names the hierarchy" '^s "(v1|hybrid|v2)"$' \
        sbx busctl get-property org.berth.Berth1 $M $I CgroupVersion
check_output "Features lists overlayfs and seccomp" '"overlayfs".*"seccomp"' \
        sbx busctl get-property org.berth.Berth1 $M $I Features
check_output "GetInfo returns a dictionary with the kernel version" "\"KernelVersion\" s \"$(uname -r)\"" \
        sbx busctl call org.berth.Berth1 $M $I GetInfo

check_output "berthctl version shows client and server" "Client:.*Version: $VERSION.*Server:.*Version: $VERSION" \
        bash -c "nsenter -a -t $SBX_PID berthctl version | tr '\n' ' '"
check "berthctl --json info prints valid JSON with StorageRoot" \
        bash -c "nsenter -a -t $SBX_PID berthctl --json info | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"StorageRoot\"]==\"/var/lib/berth\", d; assert \"seccomp\" in d[\"Features\"]'"
check_output "berthctl info --help prints the verb's usage" '^Usage: berthctl info' sbx_ctl info --help
check_exit "an unknown verb exits 125" 125 sbx_ctl frobnicate
check_exit "an unreachable bus exits 125" 125 sbx_ctl --host unix:path=/nonexistent version
check_output "... with one clear sentence" '^Cannot connect to the bus at unix:path=/nonexistent' \
        sbx_ctl --host unix:path=/nonexistent info

check_output "berthd logs to the journal with structured fields" '"CODE_FUNC" *: *"manager_run"' \
        sbx journalctl -u berthd.service -o json --no-pager SYSLOG_IDENTIFIER=berthd

# Unprivileged callers may look; what changes anything is polkit's to allow.
check_output "nobody may read properties" '^s "/var/lib/berth"$' \
        sbx setpriv --reuid=nobody --regid=nogroup --clear-groups busctl get-property org.berth.Berth1 $M $I StorageRoot
check_output "nobody may call GetInfo" '"Version"' \
        sbx setpriv --reuid=nobody --regid=nogroup --clear-groups busctl call org.berth.Berth1 $M $I GetInfo
check_output "nobody is refused other methods by polkit" 'org.freedesktop.DBus.Error.(AccessDenied|InteractiveAuthorizationRequired)' \
        sbx setpriv --reuid=nobody --regid=nogroup --clear-groups gdbus call --system --dest org.berth.Berth1 \
                --object-path $M --method $I.RemoveImage x false

# The watchdog: berthd's loop sends WATCHDOG=1; one that stopped turning
# would be killed and restarted.
check_output "berthd.service has a watchdog" '^[1-9]' sbx systemctl show -P WatchdogUSec berthd.service
sbx mkdir -p /etc/systemd/system/berthd.service.d
sbx sh -c 'printf "[Service]\nWatchdogSec=2s\n" >/etc/systemd/system/berthd.service.d/watchdog.conf'
sbx systemctl daemon-reload
check "berthd restarts with a 2 s watchdog" sbx systemctl restart berthd.service
check_output "... which is in force" '^2s$' sbx systemctl show -P WatchdogUSec berthd.service
PID=$(sbx systemctl show -P MainPID berthd.service)
check_output "... and has a main pid" '^[1-9][0-9]*$' echo "$PID"
sleep 5
check_output "berthd is the same process 5 s later" "^$PID\$" sbx systemctl show -P MainPID berthd.service
check_output "... and systemd never restarted it" '^0$' sbx systemctl show -P NRestarts berthd.service
check_output "... nor saw its watchdog expire" '^Result=success' sbx systemctl show -p Result berthd.service
sbx rm -r /etc/systemd/system/berthd.service.d
sbx systemctl daemon-reload

check "berthd stops cleanly on SIGTERM" sbx systemctl stop berthd.service
check_output "... with a clean result" '^Result=success' sbx systemctl show -p Result berthd.service
check_output "... and exit status 0" '^ExecMainStatus=0' sbx systemctl show -p ExecMainStatus berthd.service

check_output "a D-Bus call activates berthd" '"Version"' \
        sbx busctl call org.berth.Berth1 $M $I GetInfo
check_output "... through berthd.service" '^ActiveState=active' sbx systemctl show -p ActiveState berthd.service

# The configuration file, and the command line over it.
sbx systemctl stop berthd.service
sbx mkdir -p /etc/berth
sbx sh -c 'printf "[Daemon]\nRoot=/var/lib/berth/alt\nLogLevel=debug\n" >/etc/berth/berthd.conf'
check "berthd starts with a config file" sbx systemctl start berthd.service
check_output "StorageRoot comes from the config file" '^s "/var/lib/berth/alt"$' \
        sbx busctl get-property org.berth.Berth1 $M $I StorageRoot
sbx systemctl stop berthd.service
sbx systemd-run --unit berthd-manual --service-type=notify /usr/libexec/berthd --root /var/lib/berth/cli >/dev/null 2>&1
check_output "--root beats the config file" '^s "/var/lib/berth/cli"$' \
        sbx busctl get-property org.berth.Berth1 $M $I StorageRoot
sbx systemctl stop berthd-manual.service
sbx sh -c 'printf "[Daemon]\nRooot=/x\n" >/etc/berth/berthd.conf'
check_exit "a bad config line makes berthd fail" 1 sbx /usr/libexec/berthd
check_output "... naming the file and line" 'berthd.conf:2: invalid setting' sbx /usr/libexec/berthd
