#!/usr/bin/env bats
# What grading guarantees under faults (docs/grading.md, "What is
# guaranteed"): nothing an item starts survives it, however it forks (a PID
# hopper); nothing survives a `kill -9` of task-sync (no `docker exec` client
# on the host, no item process in the containers), the verdicts finished
# before the kill are kept and the next run recovers at once with the exact
# grid; a command that ignores SIGTERM is killed one grace after its limit.
#
# Short limits and 1-2 s commands keep the file quick; bench/reliability runs
# the same at larger counts and records the figures.

load docker_helpers

# a hopper: a new session, then fork and exit in a loop, so its PID keeps
# changing and it is never where a sweep saw it
HOPPER="setsid sh -c 'h() { h & exit; }; h' >/dev/null 2>&1 </dev/null"

# rel_task: a task (TID, timeout_seconds=2) over test_image with a pool of
# three containers, original, solution1 and solution2 (POOL, already run), and
# one criterion (STEP) that waits for the number of seconds in the file d
# (0.2 when there is none) and passes when hello.txt is unchanged.
# solution1.patch changes hello.txt and waits 1 s (FAIL); solution2.patch
# waits 100 s (TIMEOUT); the original passes. EXPECTED is that grid.
rel_task() {
	local img
	img=$(test_image)
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=2 >/dev/null
	cat >"$LP/solution1.patch" <<-'PATCH'
		diff --git a/d b/d
		new file mode 100644
		--- /dev/null
		+++ b/d
		@@ -0,0 +1 @@
		+1
		diff --git a/hello.txt b/hello.txt
		--- a/hello.txt
		+++ b/hello.txt
		@@ -1 +1 @@
		-hello 1
		+bye 1
	PATCH
	cat >"$LP/solution2.patch" <<-'PATCH'
		diff --git a/d b/d
		new file mode 100644
		--- /dev/null
		+++ b/d
		@@ -0,0 +1 @@
		+100
	PATCH
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"roles\": [\"original\", \"solution1\", \"solution2\"]}}")
	"$TS_BIN" step run "$POOL" >/dev/null || fail "docker_pool failed"
	STEP=$(shell_step crit "sleep \"\$(cat d 2>/dev/null || echo 0.2)\"; grep -qx 'hello 1' hello.txt && echo '#__PASS__#' || echo '#__FAIL__#'")
	EXPECTED='{"original":"PASS","solution1.patch":"FAIL","solution2.patch":"TIMEOUT"}'
}

# one_box: a task (TID, timeout_seconds=2) over test_image with one container
# for the original (POOL, already run); C is its name
one_box() {
	local img
	img=$(test_image)
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=2 >/dev/null
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"roles\": [\"original\"]}}")
	"$TS_BIN" step run "$POOL" >/dev/null || fail "docker_pool failed"
	C=task_${TID}_volume_original
}

# shell_step TITLE COMMAND: a rubric_shell step running COMMAND after the
# pool; prints its ID
shell_step() {
	make_step "$TID" "$1" "$(python3 -c '
import json, sys
print(json.dumps({"rubric_shell": {"command": sys.argv[1], "depends_on": [{"id": int(sys.argv[2])}]}}))' "$2" "$POOL")"
}

# statuses STEP: {candidate: status} of STEP's results, compact JSON
statuses() {
	"$TS_BIN" step info "$1" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)["results"] or {}
print(json.dumps({k: v["status"] for k, v in sorted(r.items()) if isinstance(v, dict) and "status" in v}, separators=(",", ":")))'
}

# left_in C: what runs in container C besides its init, its keep-alive
# `sleep infinity` (both in session 1) and the ps that lists them; empty when
# nothing is left
left_in() {
	docker exec "$1" ps -eo pid=,sid=,stat=,args= |
		awk '!($2 == 1 && ($4 == "/sbin/docker-init" || $4 == "sleep")) && $4 != "ps"'
}

# settle_clean C...: wait up to 5 s for every container C to hold nothing
# but its keep-alive; fails naming what is left
settle_clean() {
	local c left
	for _ in $(seq 50); do
		left=
		for c in "$@"; do
			left+=$(left_in "$c")
		done
		[[ -z $left ]] && return 0
		sleep 0.1
	done
	for c in "$@"; do
		left=$(left_in "$c")
		[[ -z $left ]] || fail "left in $c:"$'\n'"$left"
	done
}

# host_clients: the `docker exec` clients on the host grading this test's
# containers
host_clients() {
	pgrep -af "docker exec -i task_${TID}_volume_" || true
}

# settle_no_clients: wait up to 3 s for no such client to be left
settle_no_clients() {
	for _ in $(seq 30); do
		[[ -z $(host_clients) ]] && return 0
		sleep 0.1
	done
	fail "docker exec clients outlived task-sync:"$'\n'"$(host_clients)"
}

@test "a PID hopper never survives its item: 20 runs, nothing left, no restart needed" {
	one_box
	s=$(shell_step hop "$HOPPER & echo '#__PASS__#'")
	for i in $(seq ${HOP_RUNS:-20}); do
		t0=$(date +%s%N)
		run_ts 0 step original "$s" --force
		got=$(results "$s" "['original']")
		[[ $(json_get 'd["status"]' "$got") == '"PASS"' ]] || fail "run $i: $got"
		[[ $(json_get 'd.get("cleanup")' "$got") == null ]] || fail "run $i: $got"
		echo "run $i: $(( ($(date +%s%N) - t0) / 1000000 )) ms $got" >&3
		left=$(left_in "$C")
		[[ -z $left ]] || fail "run $i: left in $C:"$'\n'"$left"
	done
	# and at the limit: the hopper runs while the command hangs
	t=$(shell_step hop-hang "$HOPPER & sleep 100")
	run_ts 0 step original "$t"
	[[ $(cand_status "$t") == '"TIMEOUT"' ]] || fail "$(results "$t" "['original']")"
	[[ -z $(left_in "$C") ]] || fail "left in $C:"$'\n'"$(left_in "$C")"
}

cand_status() {
	results "$1" "['original']['status']"
}
