#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Looking at containers: ps, inspect, top, stats and logs (the journal).
# Containers are made with busctl, so this test does not need berthctl run.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
M=/org/berth/Berth1
I=org.berth.Berth1.Manager
C=org.berth.Berth1.Container
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import "$T/rootfs.tar" bb >/dev/null || { fail "import the test image"; exit 1; }

# create NAME SHELL-COMMAND: prints the new container's id.
create() {
        sbx busctl call org.berth.Berth1 $M $I CreateContainer 'a{sv}' 3 \
                Image s bb Name s "$1" Cmd as 3 /bin/sh -- -c "$2" | awk '{ gsub(/"/, "", $2); print $2 }'
}
start() { sbx busctl call org.berth.Berth1 $M $I StartContainer 'sa{sv}' "$1" 0; }
state_is() { sbx busctl get-property org.berth.Berth1 "$M/container/$1" $C State | grep -qx "s \"$2\""; }
# output_is WANT CMD...: CMD succeeds and prints exactly WANT.
output_is() {
        local want=$1 got; shift
        got=$("$@") || { echo "failed: $got"; return 1; }
        [ "$got" = "$want" ] || { printf 'expected:\n%s\ngot:\n%s\n' "$want" "$got"; return 1; }
}
# json_ok PYTHON-EXPR CMD...: CMD's stdout is JSON d for which the expression holds.
json_ok() {
        local expr=$1; shift
        sbx "$@" 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); assert ($expr), d"
}

ID1=$(create c1 'echo out; echo err >&2; sleep 300')
ID2=$(create c2 'exit 3')
check_output "CreateContainer gave ids" '^[0-9a-f]{64}$' echo "$ID1"
check "c1 starts" start c1
check "c2 starts" start c2
wait_for "c2 exits" state_is "$ID2" exited
ID3=$(create c3 'true')

# ps
check_output "ps prints docker's header" '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$' sbx_ctl ps
check_output "ps shows c1 running with its truncated command" \
        "^${ID1:0:12} +bb +\"/bin/sh -c echo out…\" +(Less than a second|[0-9]+ seconds?) ago +Up [^ ].* +c1\$" sbx_ctl ps
check "ps lists running containers only" \
        sbx sh -c 'out=$(berthctl ps) && echo "$out" | grep -q " c1$" && ! echo "$out" | grep -Eq " c2$| c3$"'
check_output "ps -a shows c2's exit code" 'Exited \(3\) (Less than a second|[0-9]+ seconds?) ago +c2$' sbx_ctl ps -a
check_output "ps -a shows c3 as Created" ' Created +c3$' sbx_ctl ps -a
check "ps -a -q prints short ids, newest first" \
        output_is "${ID3:0:12} ${ID2:0:12} ${ID1:0:12} " sbx sh -c 'berthctl ps -a -q | tr "\n" " "'
check "ps -q --no-trunc prints the full id" output_is "$ID1" sbx_ctl ps -q --no-trunc
check_output "ps --no-trunc shows the whole command" '"/bin/sh -c echo out; echo err >&2; sleep 300"' sbx_ctl ps --no-trunc
check "ps --json is an array of the running container" \
        json_ok 'len(d) == 1 and d[0]["Names"] == "c1" and d[0]["State"] == "running" and d[0]["Id"] == "'"$ID1"'" and isinstance(d[0]["Created"], int)' \
        berthctl --json ps
check "ps -a --json carries c2's exit code" \
        json_ok '[c["ExitCode"] for c in d if c["Names"] == "c2"] == [3] and len(d) == 3' berthctl --json ps -a
check "ps --format substitutes placeholders" \
        output_is "c3 created bb
c2 exited bb
c1 running bb" sbx_ctl ps -a --format '{{.Names}} {{ .State }} {{.Image}}'
check_output "ps --format table prints headers" '^NAMES +STATUS$' sbx_ctl ps --format 'table {{.Names}}\t{{.Status}}'
check_output "... and aligned rows" '^c1 +Up ' sbx_ctl ps --format 'table {{.Names}}\t{{.Status}}'
check_output "ps --format {{.ID}} is the short id" "^${ID1:0:12}\$" sbx_ctl ps --format '{{.ID}}'
check_exit "ps --format with an unknown placeholder exits 125" 125 sbx_ctl ps --format '{{.Nope}}'
check_output "... and names it" "unknown placeholder '\{\{\.Nope\}\}'" sbx_ctl ps --format '{{.Nope}}'

# inspect
check "inspect c1 has State, Name and Unit" \
        json_ok 'len(d) == 1 and d[0]["State"] == "running" and d[0]["Name"] == "c1" and d[0]["Unit"] == "berth-c1.scope"' \
        berthctl inspect c1
check "inspect by short id finds it too" json_ok 'd[0]["Id"] == "'"$ID1"'"' berthctl inspect "${ID1:0:12}"
check_exit "inspect of a missing container exits 125" 125 sbx_ctl inspect c1 nosuch
check_output "... says so" '^Error: No such container: nosuch$' sbx_ctl inspect c1 nosuch
check "... and still prints the one it found" json_ok 'len(d) == 1 and d[0]["Name"] == "c1"' berthctl inspect c1 nosuch
# (Not "bb": a container's id may begin with it.)
check "inspect falls back to images" json_ok 'd[0]["Id"].startswith("sha256:") and "RepoTags" in d[0]' berthctl inspect bb:latest
check_exit "inspect --type container does not" 125 sbx_ctl inspect --type container bb:latest

# top
check_output "top prints its header" '^UID +PID +PPID +CMD$' sbx_ctl top c1
check_output "top shows the sleep" '^root +[0-9]+ +[0-9]+ +sleep 300$' sbx_ctl top c1
check_exit "top of a stopped container exits 125" 125 sbx_ctl top c2

# stats
check_output "stats --no-stream prints docker's header" \
        '^CONTAINER ID +NAME +CPU % +MEM USAGE +NET I/O +BLOCK I/O +PIDS$' sbx_ctl stats --no-stream
check_output "stats --no-stream shows c1 with its memory" \
        "^${ID1:0:12} +c1 +(--|[0-9.]+%) +[0-9.]+(B|KiB|MiB|GiB) +-- +" sbx_ctl stats --no-stream
check "stats --no-stream lists only running containers" \
        sbx sh -c 'out=$(berthctl stats --no-stream) && [ $(echo "$out" | wc -l) = 2 ]'
check "stats --json --no-stream is an array with c1's numbers" \
        json_ok 'len(d) == 1 and d[0]["Name"] == "c1" and d[0]["MemoryCurrent"] > 0' berthctl --json stats --no-stream c1
check_exit "stats of a missing container exits 125" 125 sbx_ctl stats --no-stream nosuch
check_output "stats without --no-stream keeps refreshing" '^[2-9]$' \
        sbx sh -c 'timeout 3 berthctl stats c1 | grep -c "^CONTAINER ID"'

# logs
wait_for "c1's output reached the journal" sbx sh -c 'berthctl logs c1 2>&1 | grep -q err'
check "logs prints stdout to stdout" output_is out sbx sh -c 'berthctl logs c1 2>/dev/null'
check "logs prints stderr to stderr" output_is err sbx sh -c 'berthctl logs c1 2>&1 >/dev/null'
# Containers linger a second after their last line: on this hybrid-cgroup host
# journald may see an exited writer in the root cgroup and log its last lines
# without _SYSTEMD_UNIT (the leader does not pass the unit in the stream header).
ID4=$(create c4 'echo line1; echo line2; echo line3; sleep 1')
check "c4 starts" start c4
wait_for "c4 exits" state_is "$ID4" exited
wait_for "c4's output reached the journal" sbx sh -c 'berthctl logs c4 | grep -q line3'
check "logs prints all lines in order" output_is $'line1\nline2\nline3' sbx_ctl logs c4
check "logs --tail 1 prints the last line" output_is line3 sbx_ctl logs --tail 1 c4
check "logs -n 2 prints the last two" output_is $'line2\nline3' sbx_ctl logs -n 2 c4
check "logs --tail 0 prints nothing" output_is "" sbx_ctl logs --tail 0 c4
check_output "logs -t prefixes RFC 3339 nano timestamps" \
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z line1$' sbx_ctl logs -t c4
check "logs --since 1h prints all" output_is $'line1\nline2\nline3' sbx_ctl logs --since 1h c4
check "logs --until 1h prints nothing" output_is "" sbx_ctl logs --until 1h c4
check "logs --since in the future (unix seconds) prints nothing" \
        output_is "" sbx_ctl logs --since $(( $(date +%s) + 3600 )) c4
check "logs --since RFC 3339 in the past prints all" \
        output_is $'line1\nline2\nline3' sbx_ctl logs --since "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" c4
check_exit "logs --since garbage exits 125" 125 sbx_ctl logs --since yesterday-ish c4
check_exit "logs of a missing container exits 125" 125 sbx_ctl logs nosuch
check_output "... and says so" '^Error: No such container: nosuch$' sbx_ctl logs nosuch

# A reused name shows only the new container's lines.
check "c4 is removed" sbx busctl call org.berth.Berth1 $M $I RemoveContainer 'sb' c4 false
ID4B=$(create c4 'echo fresh; sleep 1')
check "the new c4 starts" start c4
wait_for "the new c4 exits" state_is "$ID4B" exited
wait_for "its output reached the journal" sbx sh -c 'berthctl logs c4 | grep -q fresh'
check "logs of the new c4 has only its own line" output_is fresh sbx_ctl logs c4

# -f follows until the container exits.
ID5=$(create c5 'echo a; sleep 1; echo b; sleep 1')
check "c5 starts" start c5
SECONDS=0
check "logs -f prints a and b and exits 0" output_is $'a\nb\nrc=0' sbx sh -c 'timeout 15 berthctl logs -f c5; echo rc=$?'
check "... within a few seconds" test "$SECONDS" -lt 8
check "logs -f of an exited container returns at once" output_is $'a\nb' sbx timeout 5 berthctl logs -f c5
SECONDS=0
check "logs -f --until (2 s ahead) stops following then" \
        output_is "" sbx timeout 15 berthctl logs -f -n 0 --until $(( $(date +%s) + 2 )) c1
check "... after about that long" test "$SECONDS" -ge 1 -a "$SECONDS" -lt 8

NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
check_exit "nobody may not read the logs (125)" 125 sbx $NOBODY berthctl logs c1
check_output "... and is told why" 'Cannot read the journal: .*systemd-journal group' sbx $NOBODY berthctl logs c1

# With berthctl run from the container verbs.
check "run -d starts r1" sbx_ctl run -d --name r1 bb sh -c 'echo hello from r1; sleep 1; echo bye >&2; sleep 1'
check "logs -f of a run -d container follows it to its end" output_is $'hello from r1\nbye' sbx sh -c 'timeout 15 berthctl logs -f r1 2>&1'

check "pause c1" sbx_ctl pause c1
check_output "ps shows a paused container as Up (Paused)" '^.* Up [^ ].* \(Paused\) +c1$' sbx_ctl ps
check "unpause c1" sbx_ctl unpause c1
check_output "... and Up again" ' Up [^(]+ +c1$' sbx_ctl ps
