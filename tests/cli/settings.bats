#!/usr/bin/env bats
# step create / step edit check each type's settings keys against the table
# the type declares (src/steps/settings_check.h): wrong kinds are refused when
# written, naming the key's path, not found when the step runs

load helpers

SEED="$BATS_TEST_DIRNAME/../fixtures/seed"

# refused SETTINGS MESSAGE: step create exits 2 with exactly MESSAGE and the hint
refused() {
	run_ts 2 step create --task 1 --title t --settings "$1"
	err_is "error: --settings: $2"$'\n'"hint: see 'task-sync step create --help'"
	[[ -z $output ]]
}

@test "the issue's case: {\"file_exists\": 5} fails at create, not at run" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	refused '{"file_exists": 5}' 'file_exists: expected a path, a list of paths or {"files": {...}}'
	assert_db_unchanged "$before"
	# nothing was stored, so a run has nothing to fail on
	run_ts 0 step list
	out_is "Steps:"
}

@test "file_exists takes the seed's two forms and the original's object; anything else names its path" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	refused '{"file_exists": true}' 'file_exists: expected a path, a list of paths or {"files": {...}}'
	refused '{"file_exists": ""}' 'file_exists: expected a path, a list of paths or {"files": {...}}'
	refused '{"file_exists": []}' 'file_exists: lists no paths; expected a path, a list of paths or {"files": {...}}'
	refused '{"file_exists": ["a", 3]}' 'file_exists[1]: expected a path'
	refused '{"file_exists": ["a", ""]}' 'file_exists[1]: expected a path'
	refused '{"file_exists": {"files": 5}}' 'file_exists.files: expected a path, a list of paths or {"files": {...}}'
	refused '{"file_exists": {"files": [null]}}' 'file_exists.files[0]: expected a path'
	refused '{"file_exists": {"paths": ["a"]}}' 'file_exists: expected a path, a list of paths or {"files": {...}} (the object has no "files" key)'
	assert_db_unchanged "$before"
	# the seed's "Single File" and "Multiple Files" blocks, and the original's map
	run_ts 0 step create --task 1 --title one --settings "$(cat "$SEED/settings-01-file_exists.json")"
	run_ts 0 step create --task 1 --title two --settings "$(cat "$SEED/settings-02-file_exists.json")"
	run_ts 0 step create --task 1 --title map --settings '{"file_exists": {"files": {"a.txt": true}}}'
	run_ts 0 step create --task 1 --title list --settings '{"file_exists": {"files": ["a.txt"]}}'
}

@test "the docker types' keys: a wrong kind is refused with the key's path" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	refused '{"docker_pull": {"image_tag": 5}}' 'docker_pull.image_tag: expected a string'
	refused '{"docker_pull": {"timeout_seconds": "60"}}' 'docker_pull.timeout_seconds: expected an integer'
	refused '{"docker_build": {"files": "Dockerfile"}}' 'docker_build.files: expected a list or an object'
	refused '{"docker_build": {"tags": ["a", 1]}}' 'docker_build.tags[1]: expected a string'
	refused '{"docker_build": {"params": {"no-cache": true}}}' 'docker_build.params: expected a string or a list of strings'
	refused '{"docker_run": {"keep_forever": "yes"}}' 'docker_run.keep_forever: expected true or false'
	refused '{"docker_run": {"command": 5}}' 'docker_run.command: expected a string or a list of strings'
	refused '{"docker_run": {"command": ["./app", 1]}}' 'docker_run.command[1]: expected a string'
	refused '{"docker_run": {"parameters": [["-p"]]}}' 'docker_run.parameters[0]: expected a string'
	refused '{"docker_pool": {"pool_size": "3"}}' 'docker_pool.pool_size: expected an integer'
	refused '{"docker_pool": {"pool_size": 2.5}}' 'docker_pool.pool_size: expected an integer'
	refused '{"docker_shell": {"command": [1]}}' 'docker_shell.command[0]: expected a string or an object'
	refused '{"docker_shell": {"docker": "my-app"}}' 'docker_shell.docker: expected an object'
	refused '{"docker_volume_pool": {"roles": "golden"}}' 'docker_volume_pool.roles: expected a list of strings'
	refused '{"docker_extract_volume": {"app_folder": ["/app"]}}' 'docker_extract_volume.app_folder: expected a string'
	assert_db_unchanged "$before"
}

@test "the rubric types' keys: a wrong kind is refused with the key's path" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	refused '{"rubric_shell": {"command": ["true"]}}' 'rubric_shell.command: expected a string'
	refused '{"rubric_shell": {"command": "true", "score": "10"}}' 'rubric_shell.score: expected a number'
	refused '{"rubric_shell": {"command": "true", "required": "yes"}}' 'rubric_shell.required: expected true or false'
	refused '{"rubric_shell": {"assign_containers": ["c1"]}}' 'rubric_shell.assign_containers: expected an object'
	refused '{"rubric_set": {"file": ["TASK_DATA.md"]}}' 'rubric_set.file: expected a string'
	refused '{"rubric_set": {"rubrics": [1]}}' 'rubric_set.rubrics[0]: expected a string'
	refused '{"rubrics_import": {"json_file": true}}' 'rubrics_import.json_file: expected a string'
	refused '{"dynamic_rubric": {"assign_containers": "c1"}}' 'dynamic_rubric.assign_containers: expected an object'
	refused '{"dynamic_rubric": {"files": ["solution1.patch"]}}' 'dynamic_rubric.files: expected an object'
	assert_db_unchanged "$before"
}

@test "the forms the seed shows are accepted: counter as a string, score as a number, null as unset" {
	make_task demo >/dev/null
	# (every settings block of the seed is accepted: step.bats)
	run_ts 0 step create --task 1 --title s --settings '{"rubric_shell": {"command": "true", "counter": 1, "score": 2.5, "required": false, "generated_by": 1}}'
	run_ts 0 step create --task 1 --title s --settings '{"docker_run": {"image_tag": null, "keep_forever": null, "command": "./app --verbose"}}'
	run_ts 0 step create --task 1 --title s --settings '{"docker_shell": {"command": ["ls", {"tests": "./run.sh"}]}}'
	run_ts 0 step create --task 1 --title s --settings '{"rubric_set": {"rubrics": "TASK_DATA.md"}}'
}

@test "keys a type does not read are kept as they are" {
	make_task demo >/dev/null
	run_ts 0 step create --task 1 --title t --settings '{"docker_run": {"note": 5, "results": {"x": 1}}, "comment": ["free"]}' -q
	run_ts 0 step info 1 --json
	assert_json_eq 'd["settings"]' '{"docker_run": {"note": 5, "results": {"x": 1}}, "comment": ["free"]}'
}

@test "step edit checks the kinds too, naming the step and the key; nothing is written" {
	make_task demo >/dev/null
	make_step 1 run '{"docker_run": {"keep_forever": true}}' >/dev/null
	make_step 1 files '{"file_exists": ["a"]}' >/dev/null
	before=$(db_snapshot)
	run_ts 2 step edit 1 --set docker_run.keep_forever=yes
	err_is "error: step 1: docker_run.keep_forever: expected true or false"$'\n'"hint: see 'task-sync step edit --help'"
	run_ts 2 step edit 2 --set file_exists=5
	err_is "error: step 2: file_exists: expected a path, a list of paths or {\"files\": {...}}"$'\n'"hint: see 'task-sync step edit --help'"
	run_ts 2 step edit 2 --set 'file_exists=[]'
	err_has "file_exists: lists no paths"
	assert_db_unchanged "$before"
	run_ts 0 step edit 1 --set docker_run.keep_forever=false --set 'docker_run.command=["./app"]'
	out_is "Step 1 updated successfully."
}

@test "step create refuses an empty or whitespace-only --title" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	for title in "" " " $'\t\n  '; do
		run_ts 2 step create --task 1 --title "$title" --settings '{"file_exists": "a"}'
		err_is "error: --title: a step's title cannot be empty"$'\n'"hint: see 'task-sync step create --help'"
		[[ -z $output ]]
	done
	assert_db_unchanged "$before"
	run_ts 0 step create --task 1 --title " x " --settings '{"file_exists": "a"}' -q
	out_is 1
}

@test "step create refuses a dependency on a step that does not exist (exit 4), the seed's IDs pasted as written" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	# the seed's docker_run block depends on step 102
	run_ts 4 step create --task 1 --title "Run" --settings "$(cat "$SEED/settings-05-docker_run.json")"
	err_is "error: depends_on: step 102 does not exist"
	[[ -z $output ]]
	run_ts 4 step create --task 1 --title t --settings '{"file_exists": "a", "depends_on": [1]}'
	err_is "error: depends_on: step 1 does not exist"
	assert_db_unchanged "$before"
	# create the dependency first, then name it
	run_ts 0 step create --task 1 --title first --settings '{"file_exists": "a"}' -q
	run_ts 0 step create --task 1 --title second --settings '{"file_exists": "a", "depends_on": [{"id": 1}]}' -q
	out_is 2
	run_ts 4 step create --task 1 --title t --settings '{"docker_run": {"depends_on": [{"id": 1}, {"id": 2}, {"id": 3}]}}'
	err_is "error: depends_on: step 3 does not exist"
}
