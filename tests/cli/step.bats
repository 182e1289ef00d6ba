#!/usr/bin/env bats
# step create | list | info | copy | delete | cleanup-rubric-shells, and
# cleanup legacy-results; step edit is in step-edit.bats, step tree in tree.bats

load helpers

SEED="$BATS_TEST_DIRNAME/../fixtures/seed"

# ---- create ------------------------------------------------------------------

@test "step create prints the new ID and stores title and settings" {
	make_task demo >/dev/null
	run_ts 0 step create --task 1 --title "Check files" --settings '{"file_exists": ["README.md", "go.mod"]}'
	out_is "Step created with ID: 1"
	run_ts 0 step info 1 --json
	assert_json_eq 'd["title"]' '"Check files"'
	assert_json_eq 'd["task_id"]' 1
	assert_json_eq 'd["settings"]' '{"file_exists": ["README.md", "go.mod"]}'
	assert_json_eq 'd["results"]' null
	assert_json_eq 'd["generated_by"]' null
}

@test "step create accepts --task-id, --task=ID, a task name and --quiet" {
	make_task first >/dev/null
	make_task second >/dev/null
	run_ts 0 step create --task-id 2 --title a --settings '{"file_exists": "a"}' -q
	out_is 1
	run_ts 0 step create --task=2 --title=b --settings='{"file_exists": "b"}' --quiet
	out_is 2
	run_ts 0 step create --task second --title c --settings '{"file_exists": "c"}'
	out_is "Step created with ID: 3"
	run_ts 0 step list --json
	assert_json_eq '[(s["id"], s["task_id"], s["title"]) for s in d]' '[[1, 2, "a"], [2, 2, "b"], [3, 2, "c"]]'
}

@test "step create keeps numbers exactly" {
	make_task demo >/dev/null
	run_ts 0 step create --task 1 --title n --settings '{"docker_run": {"big": 9007199254740993, "real": 1.5, "list": [3, 2, 1]}}' -q
	run_ts 0 step list --full
	out_has '"big":9007199254740993'
	out_has '"real":1.5'
	out_has '"list":[3,2,1]'
}

@test "a number beyond int64 or a double is refused alike by step create, step edit and task edit" {
	make_task demo >/dev/null
	make_step 1 n '{"docker_run": {}}' >/dev/null
	before=$(db_snapshot)
	note='integers must be within -9223372036854775808..9223372036854775807 and other numbers within a double'"'"'s range; write it as a string ("...") to keep every digit'
	run_ts 2 step create --task 1 --title big --settings '{"docker_run": {"n": 12345678901234567890}}'
	err_has "error: --settings: number out of range at line 1, column 41: $note"
	run_ts 2 step edit 1 --set docker_run.k='{"a": 12345678901234567890}'
	err_has "error: number out of range in '{\"a\": 12345678901234567890}': $note"
	run_ts 2 step edit 1 --set docker_run.k=-9223372036854775809
	err_has "number out of range"
	run_ts 2 step edit 1 --set docker_run.k=1e400
	err_has "number out of range"
	run_ts 2 task edit 1 --set k=12345678901234567890
	err_has "error: number out of range in '12345678901234567890': $note"
	assert_db_unchanged "$before"
	# the limits themselves are kept exactly; a quoted number is a string
	run_ts 0 step edit 1 --set docker_run.max=9223372036854775807 --set docker_run.min=-9223372036854775808 \
		--set docker_run.s='"12345678901234567890"' --set docker_run.t=12345678901234567890x
	run_ts 0 step list --full
	out_has '"max":9223372036854775807'
	out_has '"min":-9223372036854775808'
	out_has '"s":"12345678901234567890"'
	out_has '"t":"12345678901234567890x"'
}

@test "step create needs --task, --title and --settings" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --title t --settings '{"file_exists": "a"}'
	err_has "error: --task, --title and --settings are required"
	err_has "hint: see 'task-sync step create --help'"
	run_ts 2 step create --task 1 --settings '{"file_exists": "a"}'
	run_ts 2 step create --task 1 --title t
	run_ts 2 step create --task 1 --title t --settings '{"file_exists": "a"}' extra
	run_ts 2 step create --task 1 --title t --setings '{}'
	err_has "unknown option '--setings'"
	assert_db_unchanged "$before"
}

@test "step create reports invalid JSON with its line and column" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --task 1 --title t --settings '{"file_exists": "a",}'
	err_has "error: --settings: invalid JSON at line 1, column 21"
	run_ts 2 step create --task 1 --title t --settings '{
  "docker_run": {
    "parameters": ["-p" "8080:80"]
  }
}'
	err_has "invalid JSON at line 3, column 33: ']' expected near '\"8080:80\"'"
	run_ts 2 step create --task 1 --title t --settings ''
	err_has "invalid JSON at line 1"
	run_ts 2 step create --task 1 --title t --settings '{"file_exists": "a"} trailing'
	err_has "invalid JSON at line 1, column"
	run_ts 2 step create --task 1 --title t --settings '{"docker_run": {}, "docker_run": {}}'
	err_has "duplicate object key"
	[[ -z $output ]]
	assert_db_unchanged "$before"
}

@test "step create rejects the seed's docker_pull example: // comments are not JSON" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --task 1 --title "Pull" --settings "$(cat "$SEED/settings-16-docker_pull-invalid.json")"
	err_has "error: --settings: invalid JSON at line 4, column 43"
	assert_db_unchanged "$before"
}

@test "step create lists the known types when the settings name none" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --task 1 --title t --settings '{"docker_bulid": {}}'
	err_has "settings name no known step type; known types: file_exists, docker_pull, docker_build, docker_run, docker_pool, docker_shell, docker_volume_pool, docker_extract_volume, model_task_check, rubrics_import, rubric_set, rubric_shell, dynamic_rubric"
	run_ts 2 step create --task 1 --title t --settings '{}'
	err_has "known types: file_exists,"
	assert_db_unchanged "$before"
}

@test "step create rejects settings with two step types" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --task 1 --title t --settings '{"docker_build": {}, "docker_run": {}}'
	err_has "settings name two step types, 'docker_build' and 'docker_run': a step has exactly one"
	assert_db_unchanged "$before"
}

@test "step create rejects settings that are not an object, or a type that is not an object" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --task 1 --title t --settings '["file_exists"]'
	err_has "settings must be a JSON object whose one key is the step type"
	run_ts 2 step create --task 1 --title t --settings '"docker_run"'
	err_has "settings must be a JSON object"
	run_ts 2 step create --task 1 --title t --settings '{"docker_run": ["-p"]}'
	err_has "settings.docker_run must be a JSON object"
	assert_db_unchanged "$before"
}

@test "step create accepts extra non-type keys such as a top-level depends_on" {
	make_task demo >/dev/null
	make_step 1 first '{"file_exists": "a"}' >/dev/null
	run_ts 0 step create --task 1 --title t --settings '{"docker_run": {}, "depends_on": [{"id": 1}]}' -q
	run_ts 0 step info 2 --json
	assert_json_eq 'd["settings"]' '{"docker_run": {}, "depends_on": [{"id": 1}]}'
}

@test "step create and step edit refuse a depends_on the engine cannot read" {
	make_task demo >/dev/null
	make_step 1 first '{"file_exists": "a"}' >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --task 1 --title t --settings '{"file_exists": "etc", "depends_on": "1"}'
	err_is 'error: --settings: depends_on must be an array like [{"id": 12}]'$'\n'"hint: see 'task-sync step create --help'"
	[[ -z $output ]]
	run_ts 2 step create --task 1 --title t --settings '{"file_exists": {"files": {"etc": 1}, "depends_on": [{"id": 1.0}]}}'
	err_is 'error: --settings: depends_on entry 1 is not a step reference like {"id": 12}'$'\n'"hint: see 'task-sync step create --help'"
	run_ts 2 step create --task 1 --title t --settings '{"file_exists": "etc", "depends_on": [{"id": 1}, {"id": -2}]}'
	err_is 'error: --settings: depends_on entry 2 is not a step reference like {"id": 12}'$'\n'"hint: see 'task-sync step create --help'"
	run_ts 2 step create --task 1 --title t --settings '{"file_exists": "etc", "depends_on": [{"step": 1}]}'
	err_has "depends_on entry 1"
	assert_db_unchanged "$before"
	run_ts 2 step edit 1 --set depends_on=1
	err_is 'error: step 1: depends_on must be an array like [{"id": 12}]'$'\n'"hint: see 'task-sync step edit --help'"
	run_ts 2 step edit 1 --set 'depends_on=[{"id": "x"}]'
	err_is 'error: step 1: depends_on entry 1 is not a step reference like {"id": 12}'$'\n'"hint: see 'task-sync step edit --help'"
	assert_db_unchanged "$before"
	# the forms the engine reads: {"id": N}, a bare N, a numeric string, null
	run_ts 0 step create --task 1 --title t --settings '{"file_exists": {"files": {"etc": 1}, "depends_on": [{"id": 1}, 1, "1"]}}' -q
	run_ts 0 step edit 1 --set depends_on=null
}

@test "step create for an unknown task ID or name exits 4 and creates nothing" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 4 step create --task 9 --title t --settings '{"file_exists": "a"}'
	err_has "error: no task found with ID 9"
	run_ts 4 step create --task-id 9 --title t --settings '{"file_exists": "a"}'
	run_ts 4 step create --task nosuch --title t --settings '{"file_exists": "a"}'
	err_has "error: no task found with name 'nosuch'"
	# names are exact and case-sensitive
	run_ts 4 step create --task DEMO --title t --settings '{"file_exists": "a"}'
	assert_db_unchanged "$before"
}

@test "step create with a task name that matches two tasks exits 2 and creates nothing" {
	make_task twin >/dev/null
	make_task twin >/dev/null
	before=$(db_snapshot)
	run_ts 2 step create --task twin --title t --settings '{"file_exists": "a"}'
	err_has "error: task name 'twin' is ambiguous: it matches tasks 1 and 2; use the ID"
	[[ -z $output ]]
	assert_db_unchanged "$before"
	run_ts 0 step create --task 2 --title t --settings '{"file_exists": "a"}'
}

@test "step create checks the JSON before it opens the database" {
	run_ts 2 step create --task 1 --title t --settings '{'
	err_has "invalid JSON at line 1"
	err_lacks "no task found"
	[[ ! -e $TS_SQLITE_DB ]]
}

# ---- the seed's examples -----------------------------------------------------

@test "every step create example in the seed works as written, but one depending on a step that does not exist" {
	local f n=0 want dep refused=0
	make_task demo >/dev/null
	link_wrapper
	for f in "$SEED"/create-*.sh; do
		run --separate-stderr bash "$f"
		dep=$(sed -n 's/.*"depends_on": \[{ "id": \([0-9]*\) }\].*/\1/p' "$f")
		if [[ -n $dep && $dep -gt $n ]]; then
			# pasted as written, the seed's IDs name steps not created
			check_status 4
			err_is "error: depends_on: step $dep does not exist"
			[[ -z $output ]]
			refused=$((refused + 1))
			continue
		fi
		n=$((n + 1))
		check_status 0
		out_is "Step created with ID: $n"
		want=$(python3 -c '
import re, sys, json
text = open(sys.argv[1]).read()
print(json.dumps(json.loads(re.search(r"--settings \x27(.*)\x27", text, re.S).group(1))))' "$f")
		run_ts 0 step info "$n" --json
		assert_json_eq 'd["settings"]' "$want"
		assert_json_eq 'd["task_id"]' 1
		want=$(sed -n 's/.*--title "\([^"]*\)".*/\1/p' "$f")
		assert_json_eq 'd["title"]' "\"$want\""
	done
	[[ $n -eq 5 && $refused -eq 3 ]]
}

# 144 steps in one statement, so the seed's depends_on IDs (101 ... 144) exist
pad_steps() {
	db_sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) INSERT INTO steps (task_id, title, settings) SELECT 1, 'pad', '{\"file_exists\": \"x\"}' FROM n;"
}

@test "every JSON settings block of the seed is accepted once the steps it depends on exist, except the one with comments" {
	local f n=144 bad=0
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 4 step create --task 1 --title t --settings "$(cat "$SEED/settings-04-docker_build.json")"
	err_is "error: depends_on: step 101 does not exist"
	assert_db_unchanged "$before"
	pad_steps 144
	for f in "$SEED"/settings-*.json; do
		if [[ $f == *-invalid.json ]]; then
			run_ts 2 step create --task 1 --title "$(basename "$f")" --settings "$(cat "$f")"
			err_has "invalid JSON at line"
			bad=$((bad + 1))
			continue
		fi
		n=$((n + 1))
		run_ts 0 step create --task 1 --title "$(basename "$f")" --settings "$(cat "$f")" -q
		out_is "$n"
		run_ts 0 step info "$n" --json
		assert_json_eq 'd["settings"]' "$(cat "$f")"
	done
	[[ $n -eq $((144 + 18)) && $bad -eq 1 ]]
}

# ---- list --------------------------------------------------------------------

@test "step list prints Steps: and one line per step, --full adds the settings" {
	make_task one >/dev/null
	make_task two >/dev/null
	make_step 2 "Second task's" '{"docker_run": {"parameters": ["-p", "80:80"]}}' >/dev/null
	make_step 1 "Check" '{"file_exists": "a"}' >/dev/null
	run_ts 0 step list
	out_is "Steps:
  ID: 1, TaskID: 2, Title: Second task's
  ID: 2, TaskID: 1, Title: Check"
	run_ts 0 step list --full
	out_is 'Steps:
  ID: 1, TaskID: 2, Title: Second task'"'"'s, Settings: {"docker_run":{"parameters":["-p","80:80"]}}
  ID: 2, TaskID: 1, Title: Check, Settings: {"file_exists":"a"}'
}

@test "step list --task filters, --json parses" {
	make_task one >/dev/null
	make_task two >/dev/null
	make_step 1 a '{"file_exists": "a"}' >/dev/null
	make_step 2 b '{"file_exists": "b"}' >/dev/null
	make_step 1 c '{"file_exists": "c"}' >/dev/null
	run_ts 0 step list --task 1
	out_is "Steps:
  ID: 1, TaskID: 1, Title: a
  ID: 3, TaskID: 1, Title: c"
	run_ts 0 step list --task-id 2 --json
	assert_json
	assert_json_eq '[s["id"] for s in d]' '[2]'
	assert_json_eq 'sorted(d[0].keys())' '["created_at", "generated_by", "id", "results", "settings", "task_id", "title", "updated_at"]'
	run_ts 0 step list --json
	assert_json_eq '[s["id"] for s in d]' '[1, 2, 3]'
}

@test "step list on an empty database" {
	run_ts 0 step list
	out_is "Steps:"
	run_ts 0 step list --json
	out_is "[]"
}

@test "step list --task of an unknown task exits 4, of a bad one 2" {
	run_ts 4 step list --task 5
	err_has "no task found with ID 5"
	run_ts 2 step list --task x
	err_has "invalid --task 'x'"
	run_ts 2 step list 1
}

# ---- info --------------------------------------------------------------------

@test "step info prints title, task, times and indented settings" {
	make_task demo >/dev/null
	make_step 1 "Run App" '{"docker_run": {"parameters": ["-p", "8080:80"], "keep_forever": false}}' >/dev/null
	run_ts 0 step info 1
	[[ "$(masked_output)" == 'Step #1: Run App
Task ID: 1
Created: <ts>
Updated: <ts>

Settings:
  {
    "docker_run": {
      "keep_forever": false,
      "parameters": [
        "-p",
        "8080:80"
      ]
    }
  }' ]] || { show_run; false; }
}

@test "step info shows Results only when there are some" {
	make_task demo >/dev/null
	make_step 1 t '{"file_exists": "a"}' >/dev/null
	db_sql "UPDATE steps SET results = '{}' WHERE id = 1"
	run_ts 0 step info 1
	out_lacks "Results:"
	db_sql "UPDATE steps SET results = '{\"result\": \"success\", \"message\": \"all 1 file(s) found\"}' WHERE id = 1"
	run_ts 0 step info 1
	[[ "$(masked_output)" == *'Settings:
  {
    "file_exists": "a"
  }

Results:
  {
    "message": "all 1 file(s) found",
    "result": "success"
  }' ]] || { show_run; false; }
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]' '{"result": "success", "message": "all 1 file(s) found"}'
}

@test "step info --json matches step list --json" {
	make_task demo >/dev/null
	make_step 1 t '{"rubric_shell": {"command": "true", "score": 10}}' >/dev/null
	run_ts 0 step list --json
	listed=$(json_get 'd[0]')
	run_ts 0 step info 1 --json
	assert_json
	[[ $(json_get d) == "$listed" ]]
}

@test "step info of an unknown ID exits 4, of a bad ID 2" {
	run_ts 4 step info 12
	err_has "error: no step found with ID 12"
	[[ -z $output ]]
	run_ts 2 step info abc
	err_has "invalid step ID 'abc'"
	run_ts 2 step info
}

# ---- copy --------------------------------------------------------------------

@test "step copy copies title and settings, not results" {
	make_task one >/dev/null
	make_task two >/dev/null
	make_step_unchecked 1 "Build" '{"docker_build": {"parameters": ["--pull"], "depends_on": [{"id": 7}]}}' >/dev/null
	db_sql "UPDATE steps SET results = '{\"result\": \"success\"}' WHERE id = 1"
	run_ts 0 step copy --id 1 --to-task-id 2
	out_is "Step 1 copied to task 2 as new step 2."
	run_ts 0 step info 2 --json
	assert_json_eq 'd["task_id"]' 2
	assert_json_eq 'd["title"]' '"Build"'
	assert_json_eq 'd["settings"]' '{"docker_build": {"parameters": ["--pull"], "depends_on": [{"id": 7}]}}'
	assert_json_eq 'd["results"]' null
	run_ts 0 step copy --id=1 --to-task 1
	out_is "Step 1 copied to task 1 as new step 3."
}

@test "step copy of an unknown step or to an unknown task exits 4 and copies nothing" {
	make_task one >/dev/null
	make_step 1 s '{"file_exists": "a"}' >/dev/null
	before=$(db_snapshot)
	run_ts 4 step copy --id 1 --to-task-id 3
	err_has "no task found with ID 3"
	run_ts 4 step copy --id 8 --to-task-id 1
	err_has "no step found with ID 8"
	assert_db_unchanged "$before"
}

@test "step copy needs both --id and --to-task-id, as positive integers" {
	run_ts 2 step copy --id 1
	err_has "--id and --to-task-id are required"
	run_ts 2 step copy --to-task-id 1
	run_ts 2 step copy --id 0 --to-task-id 1
	err_has "invalid --id '0'"
	run_ts 2 step copy --id 1 --to-task-id two
	err_has "invalid --to-task-id 'two'"
	run_ts 2 step copy 1 2
}

# ---- delete ------------------------------------------------------------------

@test "step delete removes only that step" {
	make_task one >/dev/null
	make_step 1 parent '{"rubric_set": {}}' >/dev/null
	make_step 1 child '{"rubric_shell": {"depends_on": [{"id": 1}]}}' >/dev/null
	run_ts 0 step delete 1
	out_is "Step 1 deleted successfully."
	run_ts 0 step list --json
	assert_json_eq '[s["id"] for s in d]' '[2]'
	run_ts 4 step info 1
}

@test "step delete of an unknown ID exits 4, of a bad one 2" {
	make_task one >/dev/null
	make_step 1 s '{"file_exists": "a"}' >/dev/null
	before=$(db_snapshot)
	run_ts 4 step delete 2
	err_has "error: no step found with ID 2"
	run_ts 2 step delete
	run_ts 2 step delete s
	run_ts 2 step delete --id 1
	err_has "unknown option '--id'"
	assert_db_unchanged "$before"
}

# ---- cleanup-rubric-shells ---------------------------------------------------

@test "step cleanup-rubric-shells deletes non-rubric children named by a top-level depends_on" {
	make_task one >/dev/null
	make_step 1 parent '{"rubric_set": {"file": "TASK_DATA.md"}}' >/dev/null                  # 1
	make_step 1 old-a '{"docker_shell": {}, "depends_on": [{"id": 1}]}' >/dev/null            # 2 goes
	make_step_unchecked 1 old-b '{"file_exists": "x", "depends_on": [{"id": 3}, {"id": 1}]}' >/dev/null # 3 goes
	make_step 1 rubric '{"rubric_shell": {}, "depends_on": [{"id": 1}]}' >/dev/null           # 4 stays
	make_step 1 nested '{"docker_shell": {"depends_on": [{"id": 1}]}}' >/dev/null             # 5 stays
	make_step 1 other '{"docker_shell": {}, "depends_on": [{"id": 4}]}' >/dev/null            # 6 stays
	run_ts 0 step cleanup-rubric-shells 1
	out_is "Cleaning up old rubric shells generated by step ID 1...
Found 2 old rubric shell steps to delete.
Deleting step 2...
Deleting step 3...
Cleanup finished successfully."
	run_ts 0 step list --json
	assert_json_eq '[s["id"] for s in d]' '[1, 4, 5, 6]'
}

@test "step cleanup-rubric-shells with nothing to delete" {
	make_task one >/dev/null
	make_step 1 parent '{"rubric_set": {}}' >/dev/null
	before=$(db_snapshot)
	run_ts 0 step cleanup-rubric-shells 1
	out_is "Cleaning up old rubric shells generated by step ID 1...
No old rubric shell steps found to delete.
Cleanup finished successfully."
	assert_db_unchanged "$before"
	run_ts 2 step cleanup-rubric-shells
	run_ts 2 step cleanup-rubric-shells x
	err_has "invalid step ID 'x'"
}

# ---- cleanup legacy-results --------------------------------------------------

@test "cleanup legacy-results drops rubric_shell.results from settings" {
	make_task one >/dev/null
	make_step 1 a '{"rubric_shell": {"command": "true", "results": {"solution1.patch": "PASS"}}}' >/dev/null
	make_step 1 b '{"rubric_shell": {"command": "false"}}' >/dev/null
	make_step 1 c '{"docker_run": {"results": "not a rubric_shell: kept"}}' >/dev/null
	run_ts 0 cleanup legacy-results
	out_is "Starting cleanup...
Cleaned step 1: removed legacy 'results' field
Cleanup completed. Cleaned 1 step."
	run_ts 0 step list --json
	assert_json_eq '[s["settings"] for s in d]' '[{"rubric_shell": {"command": "true"}}, {"rubric_shell": {"command": "false"}}, {"docker_run": {"results": "not a rubric_shell: kept"}}]'
	run_ts 0 cleanup legacy-results
	out_is "Starting cleanup...
Cleanup completed. Cleaned 0 steps."
}

@test "cleanup needs a known operation" {
	run_ts 2 cleanup
	err_has "'cleanup' needs 1 argument"
	run_ts 2 cleanup everything
	err_has "unknown cleanup operation 'everything'"
	run_ts 0 cleanup --help
	out_has "usage: task-sync cleanup legacy-results"
}

# ---- the group ---------------------------------------------------------------

@test "step alone lists its sub-commands on stderr and exits 2" {
	run_ts 2 step
	err_has "usage: task-sync step <command>"
	err_has "cleanup-rubric-shells"
}

@test "every step sub-command has -h and --help" {
	local c h
	for c in create list info edit copy delete tree cleanup-rubric-shells; do
		for h in -h --help; do
			run_ts 0 step "$c" "$h"
			out_has "usage: task-sync step $c"
			[[ -z $stderr ]] || { show_run; false; }
		done
	done
	run_ts 0 step --help
	out_has "usage: task-sync step <command>"
}

@test "an unknown step sub-command or option exits 2 with a hint" {
	run_ts 2 step show 1
	err_has "error: unknown command 'step show'"
	err_has "hint: see 'task-sync step --help'"
	run_ts 2 step info 1 --verbose
	err_has "error: unknown option '--verbose' for 'step info'"
	err_has "hint: see 'task-sync step info --help'"
}
