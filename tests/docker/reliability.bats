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

# rel_task: a task (TID, timeout_seconds=3: solution2's timeout, 2 s more
# than solution1's wait, room for a loaded machine) over test_image with a pool of
# three containers, original, solution1 and solution2 (POOL, already run), and
# the command of a criterion (CRIT) that waits for the number of seconds in the file d
# (0.2 when there is none) and passes when hello.txt is unchanged.
# solution1.patch changes hello.txt and waits 1 s (FAIL); solution2.patch
# waits 100 s (TIMEOUT); the original passes. EXPECTED is that grid.
rel_task() {
	local img
	img=$(test_image)
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=3 >/dev/null
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
	CRIT="sleep \"\$(cat d 2>/dev/null || echo 0.2)\"; grep -qx 'hello 1' hello.txt && echo '#__PASS__#' || echo '#__FAIL__#'"
	EXPECTED='{"original":"PASS","solution1.patch":"FAIL","solution2.patch":"TIMEOUT"}'
}

# one_box: a task (TID, timeout_seconds=3) over test_image with one container
# for the original (POOL, already run); C is its name
one_box() {
	local img
	img=$(test_image)
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=3 >/dev/null
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"roles\": [\"original\"]}}")
	"$TS_BIN" step run "$POOL" >/dev/null || fail "docker_pool failed"
	C=task_${TID}_volume_original_$DB8
}

# shell_step TITLE COMMAND [JSON]: a rubric_shell step running COMMAND after
# the pool, with the keys of the JSON object added; prints its ID
shell_step() {
	make_step "$TID" "$1" "$(python3 -c '
import json, sys
c = {"command": sys.argv[1], "depends_on": [{"id": int(sys.argv[2])}]}
c.update(json.loads(sys.argv[3]))
print(json.dumps({"rubric_shell": c}))' "$2" "$POOL" "${3:-{\}}")"
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

# settle_clean C...: wait up to 10 s for every container C to hold nothing
# but its keep-alive; fails naming what is left
settle_clean() {
	local c left
	for _ in $(seq 100); do
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
	local ids
	# grading execs by container ID (the one containers_map records)
	ids=$(docker ps -aq --no-trunc --filter "label=task-sync.task=$TID" | paste -sd '|')
	pgrep -af "docker exec -i (task_${TID}_volume_${ids:+|$ids})" || true
}

# settle_no_clients: wait up to 3 s for no such client to be left
settle_no_clients() {
	for _ in $(seq 30); do
		[[ -z $(host_clients) ]] && return 0
		sleep 0.1
	done
	fail "docker exec clients outlived task-sync:"$'\n'"$(host_clients)"
}

# hop_patches C: four patches in $LP (hop1.patch .. hop4.patch, each adding
# a file), assigned to container C; prints the assign_containers JSON
hop_patches() {
	local i
	for i in 1 2 3 4; do
		printf 'diff --git a/f%s b/f%s\nnew file mode 100644\n--- /dev/null\n+++ b/f%s\n@@ -0,0 +1 @@\n+%s\n' \
			"$i" "$i" "$i" "$i" >"$LP/hop$i.patch"
	done
	printf '{"assign_containers": {"hop1.patch": "%s", "hop2.patch": "%s", "hop3.patch": "%s", "hop4.patch": "%s"}}' "$1" "$1" "$1" "$1"
}

@test "a PID hopper never survives its item: 20 items, nothing left after each, no restart needed" {
	one_box
	# three at once: a sweep that misses a hop (one forked just after
	# /proc was listed, its parent already a zombie) leaves one running
	s=$(shell_step hop "$HOPPER & $HOPPER & $HOPPER & echo '#__PASS__#'" "$(hop_patches "$C")")
	all='{"hop1.patch":"PASS","hop2.patch":"PASS","hop3.patch":"PASS","hop4.patch":"PASS"}'
	for i in 1 2 3 4 5; do
		run_ts 0 step run "$s" --force
		out_has "graded 4: 4 PASS, 0 FAIL, 0 TIMEOUT, 0 ERROR"
		out_lacks "container restarted"
		[[ $(statuses "$s") == "$all" ]] || fail "run $i: $(results "$s" "")"
		left=$(left_in "$C")
		[[ -z $left ]] || fail "run $i: left in $C:"$'\n'"$left"
	done
	# and at the limit: the hopper runs while the command hangs
	t=$(shell_step hop-hang "$HOPPER & sleep 100")
	run_ts 0 step original "$t"
	[[ $(statuses "$t") == '{"original":"TIMEOUT"}' ]] || fail "$(results "$t" "")"
	out_lacks "container restarted"
	left=$(left_in "$C")
	[[ -z $left ]] || fail "left in $C:"$'\n'"$left"
}

@test "a command that ignores SIGTERM is killed one grace (2 s) after its limit, and the reason says so" {
	one_box
	s=$(shell_step stubborn "trap '' TERM; sleep 100")
	run_ts 0 step original "$s"
	got=$(results "$s" "['original']")
	[[ $(json_get 'd["status"]' "$got") == '"TIMEOUT"' ]] || fail "$got"
	reason=$(json_get 'd["reason"]' "$got")
	[[ $reason =~ ^\"timed\ out\ after\ ([0-9]+)\ ms\ \(limit\ 3\ s,\ killed\ after\ a\ 2\ s\ grace\)\"$ ]] ||
		fail "reason: $reason"
	((BASH_REMATCH[1] >= 5000)) || fail "killed before the grace ended: $reason"
	[[ -z $(left_in "$C") ]] || fail "left in $C:"$'\n'"$(left_in "$C")"
}

# bats test_tags=storage
@test "kill -9 of task-sync during a long command: no docker exec client outlives it, the item ends at once, its git's lock files go, the next run grades at once" {
	one_box
	docker exec "$C" touch /tmp/slow
	# the command stands for a git caught mid-write: it holds lock files
	s=$(shell_step long "if [ -e /tmp/slow ]; then touch .git/index.lock .git/HEAD.lock; sleep 60; fi; echo '#__PASS__#'" '{"timeout_seconds": 100}')
	log=$BATS_TEST_TMPDIR/run.log
	"$TS_BIN" step original "$s" >"$log" 2>&1 3>&- &
	pid=$!
	for _ in $(seq 100); do
		left_in "$C" | grep -q 'sleep 60' && break
		sleep 0.1
	done
	left_in "$C" | grep -q 'sleep 60' || fail "the command did not start: $(cat "$log")"
	[[ -n $(host_clients) ]] || fail "no docker exec client while grading"
	kill -9 "$pid"
	wait "$pid" || true
	settle_no_clients
	settle_clean "$C"
	locks=$(docker exec "$C" sh -c 'ls /app/.git/*.lock 2>/dev/null' || true)
	[[ -z $locks ]] || fail "left: $locks"
	# the pool's health check refuses a container with .git/index.lock
	run_ts 0 step run "$POOL"
	docker exec "$C" rm /tmp/slow
	run_ts 0 step original "$s"
	out_lacks "another grading item holds the container"
	[[ $(statuses "$s") == '{"original":"PASS"}' ]] || fail "$(results "$s" "")"
}

@test "the lock files a git killed mid-write leaves (HEAD, refs, reflogs, packed-refs, the index) are removed by the next item, which grades" {
	one_box
	s=$(shell_step crit "git status --porcelain | grep -q . && echo '#__FAIL__#' || echo '#__PASS__#'")
	locks='.git/HEAD.lock .git/ORIG_HEAD.lock .git/index.lock .git/packed-refs.lock .git/refs/heads/x.lock .git/refs/tags/v/1.lock .git/logs/HEAD.lock'
	docker exec "$C" sh -c "cd /app && mkdir -p .git/refs/tags/v .git/logs && touch $locks"
	run_ts 0 step original "$s"
	[[ $(statuses "$s") == '{"original":"PASS"}' ]] || fail "$(results "$s" "")"
	left=$(docker exec "$C" sh -c "cd /app && ls -d $locks 2>/dev/null" || true)
	[[ -z $left ]] || fail "left: $left"
}

# bats test_tags=storage
@test "kill -9 at random points of a grading run, 10 times: finished verdicts kept, nothing left running, the next run recovers with the exact grid" {
	rel_task
	boxes=("task_${TID}_volume_original_$DB8" "task_${TID}_volume_solution1_$DB8" "task_${TID}_volume_solution2_$DB8")
	log=$BATS_TEST_TMPDIR/run.log
	for i in $(seq "${KILL_RUNS:-10}"); do
		# a new criterion each time, so what the database holds after
		# the kill is what this run finished
		s=$(shell_step "crit$i" "$CRIT")
		"$TS_BIN" step run "$s" --original >"$log" 2>&1 3>&- &
		pid=$!
		d=$((RANDOM % 25 + 2))
		sleep "$((d / 10)).$((d % 10))"
		kill -9 "$pid"
		wait "$pid" || true
		settle_no_clients
		settle_clean "${boxes[@]}"
		# no lock file of a git the kill ended is left behind (the
		# pool's health check would refuse the container)
		for c in "${boxes[@]}"; do
			locks=$(docker exec "$c" sh -c 'ls /app/.git/*.lock 2>/dev/null' || true)
			[[ -z $locks ]] || fail "kill $i after 0.$d s: left in $c: $locks"
		done
		# every verdict the run printed is stored, and right
		printed=$(awk '$1 ~ /^(original|solution[12]\.patch)$/ { printf "%s %s\n", $1, $2 }' "$log" | sort)
		stored=$(statuses "$s" | python3 -c '
import json, sys
for k, v in sorted(json.load(sys.stdin).items()): print(k, v)')
		[[ $printed == "$stored" ]] || fail "kill $i after 0.$d s: printed"$'\n'"$printed"$'\n'"stored"$'\n'"$stored"
		while read -r k v; do
			[[ -z $k ]] || [[ $(json_get "d['$k']" "$EXPECTED") == "\"$v\"" ]] || fail "kill $i: $k $v"
		done <<<"$stored"
		run_ts 0 task run "$TID" --original
		out_lacks "another grading item holds the container"
		[[ $(statuses "$s") == "$EXPECTED" ]] || fail "after kill $i: $(results "$s" "")"
		settle_clean "${boxes[@]}"
	done
}
