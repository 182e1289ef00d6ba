# shellcheck shell=bash
# The grading grid of a task, for the Docker tests that grade (grading.bats,
# verdict_basis.bats): `load grid_helpers` after docker_helpers. grid and
# report_grid read the columns from $COLS (a JSON list of results keys).
#
#   children STEP        the IDs of the steps STEP generated, in ID order
#   grid                 the statuses of the generated rubric_shell steps
#   report_grid          the same grid from `task report --json`
#   assert_grid GRID     grid is GRID
#   cand STEP KEY FIELD  results[KEY][FIELD] of STEP, as JSON

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
