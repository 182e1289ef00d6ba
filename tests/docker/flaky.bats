#!/usr/bin/env bats
# Repeated grading for real (issue 14): --repeat N grades a cell N times,
# each attempt fresh (reset, apply, run) and recorded; attempts that
# disagree make it FLAKY (never a pass), with k/N; --repeat auto runs 2 and
# up to 5 when they disagree; a cell graded fewer times than asked is
# graded again, one graded enough is kept. The command flips between PASS
# and FAIL through a counter in the container's /tmp, which the reset of
# the repository does not touch.

load docker_helpers
load grid_helpers

setup_file() {
	build_demo_image
}

# a command that passes on its 1st, 3rd, 5th... run in its container
FLIP='n=$(cat /tmp/ts-flip 2>/dev/null || echo 0); echo $((n + 1)) >/tmp/ts-flip; if [ $((n % 2)) -eq 0 ]; then echo "#__PASS__#"; else echo "#__FAIL__#"; fi'

# attempts STEP KEY: the statuses of the cell's attempts, space-separated
attempts() {
	"$TS_BIN" step info "$1" --json | python3 -c '
import json, sys
e = json.load(sys.stdin)["results"][sys.argv[1]]
print(" ".join(a["status"] for a in e.get("attempts", [])))' "$2"
}

@test "--repeat 3: every attempt graded and kept; disagreeing attempts are FLAKY k/N, agreeing ones their status" {
	one_container golden
	s=$(shell_step flip "$FLIP")
	t=$(shell_step steady "echo '#__PASS__#'")
	run_ts 0 step golden "$s" --repeat 3
	out_has "grading 1 candidate (timeout 3 s), 3 attempts each"
	out_has "success: graded 1: 0 PASS, 0 FAIL, 0 TIMEOUT, 0 ERROR, 1 FLAKY"
	[[ $(cand "$s" golden status) == '"FLAKY"' ]]
	[[ $(cand "$s" golden passes) == 2 ]]
	[[ $(cand "$s" golden reason) == '"attempts disagree: 2 of 3 passed"' ]]
	[[ $(attempts "$s" golden) == "PASS FAIL PASS" ]]
	# each attempt has its own run, with its output
	runs=$("$TS_BIN" step runs "$s" --json | python3 -c '
import json, sys
print(" ".join(str((r.get("detail") or {}).get("attempt")) for r in json.load(sys.stdin) if (r.get("detail") or {}).get("candidate") == "golden"))')
	[[ $runs == "3 2 1" ]] || fail "the runs of golden's attempts, newest first: $runs"
	# the newest attempt's output (the third, a PASS); the second's by its run
	run_ts 0 step log "$s" --candidate golden
	out_has "#__PASS__#"
	second=$("$TS_BIN" step info "$s" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"]["golden"]["attempts"][1]["run_id"])')
	run_ts 0 step log "$s" --run "$second"
	out_has "#__FAIL__#"
	run_ts 0 step golden "$t" --repeat 3
	[[ $(cand "$t" golden status) == '"PASS"' && $(attempts "$t" golden) == "PASS PASS PASS" ]]
	# the report: the flaky icon, k/N, the health flag; never a pass
	run_ts 0 task report "$TID"
	out_has "🎲"
	out_has "  step $s golden: 2 of 3 passed"
	out_has "flaky: the attempts disagree in 1 of 1 repeated cell"
	run_ts 0 task report "$TID" --json
	assert_json_eq 'd["candidates"]["golden"]["passed"]' '1'
	run_ts 1 task check "$TID"
	only_keepalive "$C"
}

@test "a cell graded fewer times than the repeat asks is graded again; one graded enough is kept" {
	one_container golden
	s=$(shell_step steady "echo '#__PASS__#'")
	run_ts 0 step golden "$s"
	[[ $(attempts "$s" golden) == "" && $(cand "$s" golden status) == '"PASS"' ]]
	run_ts 0 step golden "$s" --repeat 2
	out_has "2 attempts each"
	[[ $(attempts "$s" golden) == "PASS PASS" ]]
	run_ts 0 step golden "$s" --repeat 2
	out_has "fresh"
	run_ts 0 step golden "$s"
	out_has "fresh"
	run_ts 0 step golden "$s" --repeat 2 --dry-run
	run_ts 0 step golden "$s" --repeat 3
	[[ $(attempts "$s" golden) == "PASS PASS PASS" ]]
}

@test "--repeat auto: two that agree stop there; disagreeing ones go on to 5; the task setting repeat does the same" {
	one_container golden
	s=$(shell_step flip "$FLIP")
	t=$(shell_step steady "echo '#__FAIL__#'")
	run_ts 0 step golden "$t" --repeat auto
	out_has "2 to 5 attempts each"
	[[ $(attempts "$t" golden) == "FAIL FAIL" && $(cand "$t" golden status) == '"FAIL"' ]]
	run_ts 0 task edit "$TID" --set repeat=auto
	run_ts 0 step golden "$s"
	[[ $(attempts "$s" golden) == "PASS FAIL PASS FAIL PASS" ]]
	[[ $(cand "$s" golden status) == '"FLAKY"' && $(cand "$s" golden passes) == 3 ]]
	only_keepalive "$C"
}

@test "an infrastructure failure ends the attempts and stays an ERROR that is graded again, never FLAKY" {
	one_container golden
	s=$(shell_step steady "echo '#__PASS__#'")
	docker stop -t 0 "$C" >/dev/null
	run_ts 1 step golden "$s" --repeat 3
	[[ $(cand "$s" golden status) == '"ERROR"' && $(cand "$s" golden infrastructure) == true ]]
	[[ $(attempts "$s" golden) == "ERROR" ]]
	docker start "$C" >/dev/null
	run_ts 0 step golden "$s" --repeat 3
	[[ $(attempts "$s" golden) == "PASS PASS PASS" && $(cand "$s" golden status) == '"PASS"' ]]
}
