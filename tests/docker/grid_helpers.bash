# shellcheck shell=bash
# The demo task and the grading grid of a task, for the Docker tests that
# grade (grading.bats, verdict_basis.bats, faults.bats): `load grid_helpers`
# after docker_helpers. grid and report_grid read the columns from $COLS (a
# JSON list of results keys).
#
#   build_demo_image     (setup_file) build examples/demo as $DEMO_TAG
#   demo_task [RUBRIC]   the demo folder in $LP, a task (TID), its pool (POOL)
#                        and rubric_set (RS); nothing has run
#   children STEP        the IDs of the steps STEP generated, in ID order
#   grid                 the statuses of the generated rubric_shell steps
#   report_grid          the same grid from `task report --json`
#   assert_grid GRID     grid is GRID
#   cand STEP KEY FIELD  results[KEY][FIELD] of STEP, as JSON
#   one_container [ROLE] a task (TID) and a pool of one container (C) for ROLE
#   shell_step TITLE CMD [JSON]  a rubric_shell step after the pool
#   only_keepalive C     nothing but the keep-alive runs in container C

# built once per file; a tag of our own, so a demo run (which tags and may
# remove task-sync-demo:latest) cannot pull it away from under the tests
DEMO_TAG=task-sync-test/demo:grading

# the demo tasks' timeout_seconds: what keeps the hanging candidate short,
# with room for the others. A grid runs six candidates at once beside the
# other test job on two cores; a right solution's unittest has taken over 3 s
# there (CI, 2026-12-08: solution1 TIMEOUT on criterion 1).
DEMO_TIMEOUT=5

build_demo_image() {
	docker info >/dev/null 2>&1 || {
		echo "Docker is not running (scripts/docker-env)" >&2
		return 1
	}
	docker build -q --network none -t task-sync-demo:latest -t "$DEMO_TAG" \
		"$REPO_ROOT/examples/demo" >/dev/null
}

# demo_task [RUBRIC]: the demo folder in $LP, a task on it (TID) with
# timeout_seconds=$DEMO_TIMEOUT, a docker_pool of the demo image (POOL) and a rubric_set
# on RUBRIC (default rubrics.json) after it (RS). Nothing has run.
demo_task() {
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=$DEMO_TIMEOUT >/dev/null
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$DEMO_TAG\", \"pool_size\": 6}}")
	RS=$(make_step "$TID" rubrics "{\"rubric_set\": {\"file\": \"${1:-rubrics.json}\", \"depends_on\": [{\"id\": $POOL}]}}")
}

# children STEP: the IDs of the steps STEP generated, in ID order
children() {
	"$TS_BIN" step list --task "$TID" --json | python3 -c '
import json, sys
print(" ".join(str(s["id"]) for s in json.load(sys.stdin) if s["generated_by"] == int(sys.argv[1])))' "$1"
}

# grid: the statuses of the task's generated rubric_shell steps, one row per
# step in ID order, columns as COLS (null: not graded), compact JSON
grid() {
	"$TS_BIN" step list --task "$TID" --json | python3 -c '
import json, sys
cols = json.loads(sys.argv[1])
rows = [s for s in json.load(sys.stdin) if s["generated_by"] and "rubric_shell" in s["settings"]]
print(json.dumps([[((s["results"] or {}).get(c) or {}).get("status") for c in cols] for s in rows], separators=(",", ":")))' "$COLS"
}

# report_grid: the same grid from `task report --json`
report_grid() {
	"$TS_BIN" task report "$TID" --json | python3 -c '
import json, sys
cols = json.loads(sys.argv[1])
print(json.dumps([[c["results"][k] for k in cols] for c in json.load(sys.stdin)["criteria"]], separators=(",", ":")))' "$COLS"
}

assert_grid() {
	local got
	got=$(grid)
	[[ $got == "$1" ]] || fail "grid: expected"$'\n'"$1"$'\n'"got"$'\n'"$got"
}

# cand STEP KEY FIELD: results[KEY][FIELD] of STEP, as JSON (null when
# the field is absent)
cand() {
	results "$1" "['$2'].get('$3')"
}

# one_container [ROLE]: the demo folder in $LP, a task (TID,
# timeout_seconds=3) and a pool of one container for ROLE (default original;
# POOL, already run); C is its name
one_container() {
	local role=${1:-original}
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=3 >/dev/null
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$DEMO_TAG\", \"roles\": [\"$role\"]}}")
	"$TS_BIN" step run "$POOL" >/dev/null || fail "docker_pool failed"
	C=task_${TID}_volume_${role}_$DB8
}

# shell_step TITLE COMMAND [JSON]: a rubric_shell step running COMMAND after
# the pool, with the keys of the JSON object added; prints its ID
shell_step() {
	local conf extra=${3:-}
	[[ -n $extra ]] || extra='{}'
	conf=$(python3 -c '
import json, sys
c = {"command": sys.argv[1], "depends_on": [{"id": int(sys.argv[2])}]}
c.update(json.loads(sys.argv[3]))
print(json.dumps({"rubric_shell": c}))' "$2" "$POOL" "$extra")
	make_step "$TID" "$1" "$conf"
}

# only_keepalive C: nothing runs in container C but its init and the
# keep-alive `sleep infinity` (both in session 1); `ps` itself aside
only_keepalive() {
	local ps rest
	ps=$(container_ps "$1") || fail "cannot list the processes of $1"
	rest=$(awk '$3 != "ps" { print $2, $3 }' <<<"$ps" | sort)
	[[ $rest == $'1 docker-init\n1 sleep' ]] || fail "left behind in $1:"$'\n'"$ps"
}
