#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The D-Bus API v1 as a client sees it: the live introspection of every
# interface matches the XML kept in service/ (so every API change is a
# visible diff there and in docs/dbus-api.md); the object verbs and the
# Manager's by-name forms; error names; times in µs; typed limits; Exec objects.
# BERTH_API_XML_WRITE=1 rewrites the files from the live service instead.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
M=/org/berth/Berth1
B=org.berth.Berth1
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import --change 'CMD ["/bin/sh"]' "$T/rootfs.tar" bb >/dev/null

CID=$(sbx_ctl run -d --name api bb sleep 300)
CP=$M/container/$CID
IMAGE=$(sbx busctl call $B $M $B.Manager GetImage s bb | sed 's/^o "\(.*\)"$/\1/')
XP=$(sbx busctl call $B $CP $B.Container Exec asa{sv} 2 sleep 300 0 | cut -d'"' -f2)
sbx sh -c "rm -f $T/fifo; mkfifo $T/fifo; (sleep 60) >$T/fifo &"
sbx sh -c "berthctl load -i $T/fifo >/dev/null 2>&1" &
wait_for "a stalled load is a job on the bus" sbx sh -c "busctl tree $B | grep -q job/"
JP=$(sbx busctl tree --list $B | grep '/job/' | head -1)

cpath() { sbx busctl call $B $M $B.Manager GetContainer s "$1" | cut -d'"' -f2; }

compare() {   # compare INTERFACE PATH
        local file="$SOURCE_DIR/service/$1.xml"
        if [ -n "${BERTH_API_XML_WRITE:-}" ]; then
                sbx busctl introspect --xml-interface $B "$2" | python3 "$SOURCE_DIR/tests/integration/introspect-compare.py" "$1" "$file" --write
        fi
        check "live introspection of $1 matches service/$1.xml" \
                sh -c "nsenter -a -t $SBX_PID busctl introspect --xml-interface $B '$2' |
                       python3 '$SOURCE_DIR/tests/integration/introspect-compare.py' '$1' '$file'"
}
compare $B.Manager $M
compare $B.Container "$CP"
compare $B.Image "$IMAGE"
compare $B.Exec "$XP"
compare $B.Job "$JP"
sbx pkill -f "sleep 60"

# A file that differs is caught (the comparison can fail).
sed 's/name="Stop"/name="Halt"/' "$SOURCE_DIR/service/$B.Container.xml" >"$T/changed.xml"
check_exit "a changed interface file is a difference" 1 \
        sh -c "nsenter -a -t $SBX_PID busctl introspect --xml-interface $B '$CP' |
               python3 '$SOURCE_DIR/tests/integration/introspect-compare.py' $B.Container '$T/changed.xml' >/dev/null"

# Objects carry their verbs; the Manager's by-name methods are the same.
check_output "the Exec object names its container" "^o \"$CP\"\$" sbx busctl get-property $B "$XP" $B.Exec Container
check_output "... and is running" '^s "running"$' sbx busctl get-property $B "$XP" $B.Exec State
check_output "Created is µs since the epoch" '^t 1[0-9]{15}$' sbx busctl get-property $B "$CP" $B.Container Created
check "Kill(i) on the object" sbx busctl call $B "$CP" $B.Container Kill i 9
check_output "Wait() on the object gives the exit code" '^i 137$' sbx busctl call $B "$CP" $B.Container Wait
wait_for "... and the exec's session ended with it" \
        sh -c "nsenter -a -t $SBX_PID busctl get-property $B '$XP' $B.Exec State | grep -qx 's \"exited\"'"
check_output "its Wait() gives the exit code after the end" '^i [0-9]+$' sbx busctl call $B "$XP" $B.Exec Wait
check_output "ListContainers rows end with the object path" "\"$CP\"" sbx busctl call $B $M $B.Manager ListContainers b true
check_output "Start of an unknown container is NoSuchContainer" "$B.Error.NoSuchContainer" \
        sbx gdbus call --system --dest $B --object-path $M --method $B.Manager.StartContainer nosuch '{}'
check_output "RemoveImage of an unknown image is NoSuchImage" "$B.Error.NoSuchImage" \
        sbx gdbus call --system --dest $B --object-path $M --method $B.Manager.RemoveImage nosuch false
check_output "Remove of a running container is ContainerRunning" "$B.Error.ContainerRunning" \
        sh -c "nsenter -a -t $SBX_PID berthctl run -d --name busy bb sleep 300 >/dev/null;
               nsenter -a -t $SBX_PID gdbus call --system --dest $B --object-path $M --method $B.Manager.RemoveContainer busy false"
check_output "RemoveImage of an image in use is ImageInUse" "$B.Error.ImageInUse" \
        sbx gdbus call --system --dest $B --object-path $M --method $B.Manager.RemoveImage bb false
check "Stop(t µs) by name" sbx busctl call $B $M $B.Manager StopContainer st busy 1000000

# Limits: set and read in one typed form.
check "CreateContainer takes typed limits" \
        sbx busctl call $B $M $B.Manager CreateContainer 'a{sv}' 3 Image s bb Name s lim \
                Limits 'a{sv}' 3 MemoryMax t 67108864 TasksMax t 40 AllowedCPUs ay 1 1
check_output "the Limits property shows them alike" '"MemoryMax" t 67108864.*"TasksMax" t 40.*"AllowedCPUs" ay 1 1' \
        sbx busctl get-property $B "$(cpath lim)" $B.Container Limits
check_output "a limit of the wrong type is refused" 'takes "t"' \
        sbx busctl call $B $M $B.Manager CreateContainer 'a{sv}' 2 Image s bb Limits 'a{sv}' 1 MemoryMax s 64m
sbx_ctl create --name lim2 -m 64m bb true >/dev/null
check_output "berthctl turns Docker's flags into them (-m: as much swap as memory)" \
        '"MemoryMax" t 67108864.*"MemorySwapMax" t 67108864' sbx busctl get-property $B "$(cpath lim2)" $B.Container Limits
check_exit "a bad flag is refused before anything is sent" 125 sbx_ctl update --memory lots lim2
check_output "... in one sentence" 'Invalid --memory value "lots"' sbx_ctl update --memory lots lim2

