#!/usr/bin/env bats
# step edit: --set / --remove-key with dot paths, in order, in one transaction

load helpers

SEED="$BATS_TEST_DIRNAME/../fixtures/seed"

setup() {
	ts_setup
	make_task demo >/dev/null
	# the seed's docker_run example, its depends_on naming a step that
	# does not exist (step create would refuse it)
	make_step_unchecked 1 "Run App Container" '{"docker_run": {"container_name": "my-running-app", "parameters": ["-p", "8080:80"], "keep_forever": false, "depends_on": [{"id": 102}]}}' >/dev/null
}

settings_are() {
	run_ts 0 step info 1 --json
	assert_json_eq 'd["settings"]' "$1"
}

@test "the seed's four 'Update an Existing Step' examples work as written" {
	local cmd
	link_wrapper
	mapfile -t cmds < <(grep '^\./task-sync' "$SEED/edit-examples.sh")
	[[ ${#cmds[@]} -eq 4 ]]

	# Update the step title (top-level field)
	cmd=${cmds[0]//<step_id>/1}
	run --separate-stderr bash -c "$cmd"
	check_status 0
	out_is "Step 1 updated successfully."
	run_ts 0 step info 1 --json
	assert_json_eq 'd["title"]' '"Run App Container (prod)"'
	assert_json_eq '"title" in d["settings"]' false

	# Set a nested settings key (e.g., docker_run.parameters)
	cmd=${cmds[1]//<step_id>/1}
	run --separate-stderr bash -c "$cmd"
	check_status 0
	settings_are '{"docker_run": {"container_name": "my-running-app", "parameters": ["-p", "8080:80", "--rm"], "keep_forever": false, "depends_on": [{"id": 102}]}}'

	# Change a single string key
	cmd=${cmds[2]//<step_id>/1}
	run --separate-stderr bash -c "$cmd"
	check_status 0
	settings_are '{"docker_run": {"container_name": "my-app", "parameters": ["-p", "8080:80", "--rm"], "keep_forever": false, "depends_on": [{"id": 102}]}}'

	# Remove a settings key (dot notation supported)
	cmd=${cmds[3]//<step_id>/1}
	run --separate-stderr bash -c "$cmd"
	check_status 0
	out_is "Step 1 updated successfully."
	settings_are '{"docker_run": {"container_name": "my-app", "keep_forever": false, "depends_on": [{"id": 102}]}}'
	run_ts 0 step info 1 --json
	assert_json_eq 'd["title"]' '"Run App Container (prod)"'
}

@test "step edit parses values as JSON when valid, else keeps the string" {
	run_ts 0 step edit 1 --set docker_run.n=42 --set docker_run.f=2.5 --set docker_run.t=true \
		--set docker_run.z=null --set docker_run.q='"quoted"' --set docker_run.o='{"k": [1]}' \
		--set docker_run.s='not json' --set docker_run.half='[1,' --set docker_run.big=9007199254740993 \
		--set docker_run.eq='a=b=c'
	settings_are '{"docker_run": {"container_name": "my-running-app", "parameters": ["-p", "8080:80"],
		"keep_forever": false, "depends_on": [{"id": 102}], "n": 42, "f": 2.5, "t": true, "z": null,
		"q": "quoted", "o": {"k": [1]}, "s": "not json", "half": "[1,", "big": 9007199254740993, "eq": "a=b=c"}}'
}

@test "step edit creates missing intermediate objects" {
	make_step 1 two '{"file_exists": "a"}' >/dev/null
	make_step 1 three '{"file_exists": "a"}' >/dev/null
	run_ts 0 step edit 1 --set docker_run.docker.image_tag=demo:1 --set depends_on='[{"id": 3}]'
	settings_are '{"docker_run": {"container_name": "my-running-app", "parameters": ["-p", "8080:80"],
		"keep_forever": false, "depends_on": [{"id": 102}], "docker": {"image_tag": "demo:1"}},
		"depends_on": [{"id": 3}]}'
}

@test "step edit --set KEY= with an empty value removes the key" {
	run_ts 0 step edit 1 --set docker_run.parameters= --set docker_run.missing=
	out_is "Step 1 updated successfully."
	settings_are '{"docker_run": {"container_name": "my-running-app", "keep_forever": false, "depends_on": [{"id": 102}]}}'
}

@test "step edit --remove-key of a missing path succeeds and changes nothing" {
	before=$(db_snapshot)
	run_ts 0 step edit 1 --remove-key docker_run.nope --remove-key nope.deeper.still \
		--remove-key docker_run.container_name.deeper --set docker_run.gone=
	out_is "Step 1 unchanged: nothing to remove."
	assert_db_unchanged "$before"
	# one removal that finds its key is an update
	run_ts 0 step edit 1 --remove-key docker_run.nope --remove-key docker_run.parameters
	out_is "Step 1 updated successfully."
	settings_are '{"docker_run": {"container_name": "my-running-app", "keep_forever": false, "depends_on": [{"id": 102}]}}'
}

@test "step edit refuses to empty or remove the title" {
	before=$(db_snapshot)
	for op in --set=title= "--set=title=   " $'--set=title=\t\n' "--remove-key=title"; do
		run_ts 2 step edit 1 "${op%%=*}" "${op#*=}"
		err_is "error: title: a step's title cannot be removed or empty"$'\n'"hint: see 'task-sync step edit --help'"
		[[ -z $output ]]
	done
	# even alongside a change that would be fine
	run_ts 2 step edit 1 --set docker_run.container_name=x --remove-key title
	assert_db_unchanged "$before"
	# a settings key called title is an ordinary key
	run_ts 0 step edit 1 --set docker_run.title=inner --set docker_run.title=
	out_is "Step 1 updated successfully."
}

@test "step edit --help says what an empty value and --remove-key do" {
	run_ts 0 step edit --help
	out_has "set the title (not empty) or a settings dot path"
	out_has "for a settings key an empty VALUE removes the key"
	out_has "a missing one changes nothing (the title cannot be removed)"
	out_has "a dependency the edit adds must name another existing step"
}

@test "step edit refuses a dependency it adds on a step that does not exist (exit 4) or on itself (exit 2)" {
	make_step 1 other '{"file_exists": "a"}' >/dev/null
	before=$(db_snapshot)
	# the seed's ID pasted as written
	run_ts 4 step edit 1 --set 'docker_run.depends_on=[{"id": 102}, {"id": 103}]'
	err_is "error: depends_on: step 103 does not exist"
	[[ -z $output ]]
	run_ts 4 step edit 2 --set 'depends_on=[{"id": 1}, {"id": 9}]'
	err_is "error: depends_on: step 9 does not exist"
	run_ts 2 step edit 2 --set 'depends_on=[2]'
	err_is "error: depends_on: step 2 cannot depend on itself"$'\n'"hint: see 'task-sync step edit --help'"
	assert_db_unchanged "$before"
	# only the dependencies the edit adds are checked: 102 was there
	run_ts 0 step edit 1 --set 'docker_run.depends_on=[{"id": 102}, {"id": 2}]'
	settings_are '{"docker_run": {"container_name": "my-running-app", "parameters": ["-p", "8080:80"], "keep_forever": false, "depends_on": [{"id": 102}, {"id": 2}]}}'
}

@test "step edit applies --set and --remove-key in the order given" {
	run_ts 0 step edit 1 --set docker_run.a=1 --remove-key docker_run.a --set docker_run.b=1
	run_ts 0 step info 1 --json
	assert_json_eq '"a" in d["settings"]["docker_run"]' false
	assert_json_eq 'd["settings"]["docker_run"]["b"]' 1
	run_ts 0 step edit 1 --remove-key docker_run.b --set docker_run.b=2
	run_ts 0 step info 1 --json
	assert_json_eq 'd["settings"]["docker_run"]["b"]' 2
	# a later --set of the same key wins
	run_ts 0 step edit 1 --set docker_run.b=3 --set docker_run.b=4 --set docker_run.b=5
	run_ts 0 step info 1 --json
	assert_json_eq 'd["settings"]["docker_run"]["b"]' 5
	# the order decides even across levels
	run_ts 0 step edit 1 --set docker_run.c='{"x": 1}' --set docker_run.c.y=2 --remove-key docker_run.c.x
	run_ts 0 step info 1 --json
	assert_json_eq 'd["settings"]["docker_run"]["c"]' '{"y": 2}'
}

@test "step edit refuses to descend into a value that is not an object" {
	before=$(db_snapshot)
	run_ts 2 step edit 1 --set docker_run.container_name.sub=1
	err_has "error: cannot set value at path 'docker_run.container_name.sub': segment 'container_name' is not an object"
	[[ -z $output ]]
	run_ts 2 step edit 1 --set docker_run.parameters.0=x
	err_has "segment 'parameters' is not an object"
	assert_db_unchanged "$before"
}

@test "step edit is one transaction: a failing change in the middle leaves the step unchanged" {
	before=$(db_snapshot)
	run_ts 2 step edit 1 --set title=Changed --set docker_run.keep_forever=true \
		--set docker_run.container_name.bad=1 --remove-key docker_run.parameters
	err_has "segment 'container_name' is not an object"
	assert_db_unchanged "$before"
	# a failure in the last change, after removals, too
	run_ts 2 step edit 1 --remove-key docker_run.parameters --set title=x --set docker_run.keep_forever.y=1
	assert_db_unchanged "$before"
}

@test "step edit never overwrites a write that came between its read and its write: it reads the step again" {
	# another connection changes the settings and keeps the row locked
	# (its transaction open) for 2 s: the edit reads the old settings,
	# its UPDATE waits, finds them changed, and the edit starts again
	local newer='{"docker_run": {"container_name": "my-running-app", "parameters": ["-p", "8080:80"], "keep_forever": true, "depends_on": [{"id": 102}]}}'
	local held="$BATS_TEST_TMPDIR/held"
	case $TS_BACKEND in
	sqlite)
		printf '%s\n' "BEGIN IMMEDIATE;" "UPDATE steps SET settings = '$newer' WHERE id = 1;" \
			".system touch $held" ".system sleep 2" "COMMIT;" |
			sqlite3 -batch -bail "$TS_SQLITE_DB" >/dev/null &
		;;
	postgres)
		printf '%s\n' "BEGIN;" "UPDATE steps SET settings = '$newer' WHERE id = 1;" \
			"\\! touch $held" "SELECT pg_sleep(2);" "COMMIT;" |
			psql -q -X -v ON_ERROR_STOP=1 "$TASK_SYNC_PG_URL" >/dev/null &
		;;
	esac
	for _ in $(seq 100); do
		[[ -e $held ]] && break
		sleep 0.05
	done
	[[ -e $held ]] || fail "the other writer did not start"
	run_ts 0 step edit 1 --set docker_run.container_name=edited
	wait
	settings_are '{"docker_run": {"container_name": "edited", "parameters": ["-p", "8080:80"], "keep_forever": true, "depends_on": [{"id": 102}]}}'
}

@test "step edit: title is the column, never a settings key" {
	run_ts 0 step edit 1 --set title='{"not": "json-parsed"}'
	run_ts 0 step info 1 --json
	assert_json_eq 'd["title"]' '"{\"not\": \"json-parsed\"}"'
	assert_json_eq '"title" in d["settings"]' false
	run_ts 0 step list
	out_has 'Title: {"not": "json-parsed"}'
	run_ts 0 step edit 1 --set title=42
	run_ts 0 step info 1 --json
	assert_json_eq 'd["title"]' '"42"'
	# a settings key that happens to be called title is reached by its path
	run_ts 0 step edit 1 --set docker_run.title=inner
	run_ts 0 step info 1 --json
	assert_json_eq 'd["title"]' '"42"'
	assert_json_eq 'd["settings"]["docker_run"]["title"]' '"inner"'
}

@test "step edit: a literal dot in a key is written as \\." {
	run_ts 0 step edit 1 --set 'docker_run.files.main\.go=abc'
	run_ts 0 step info 1 --json
	assert_json_eq 'd["settings"]["docker_run"]["files"]' '{"main.go": "abc"}'
	run_ts 0 step edit 1 --remove-key 'docker_run.files.main\.go'
	run_ts 0 step info 1 --json
	assert_json_eq 'd["settings"]["docker_run"]["files"]' '{}'
}

@test "step edit keeps the settings a valid step: one known type" {
	before=$(db_snapshot)
	run_ts 2 step edit 1 --remove-key docker_run
	err_has "step 1: settings name no known step type; known types: file_exists,"
	run_ts 2 step edit 1 --set docker_build='{}'
	err_has "step 1: settings name two step types, 'docker_run' and 'docker_build'"
	run_ts 2 step edit 1 --set docker_run=5
	err_has "settings.docker_run must be a JSON object"
	assert_db_unchanged "$before"
	# replacing the type in one edit is fine
	run_ts 0 step edit 1 --remove-key docker_run --set file_exists='["a", "b"]'
	settings_are '{"file_exists": ["a", "b"]}'
}

@test "step edit changes updated_at but not created_at" {
	run_ts 0 step info 1 --json
	created=$(json_get 'd["created_at"]')
	updated=$(json_get 'd["updated_at"]')
	sleep 0.01
	run_ts 0 step edit 1 --set docker_run.x=1
	run_ts 0 step info 1 --json
	[[ $(json_get 'd["created_at"]') == "$created" ]]
	[[ $(json_get 'd["updated_at"]') != "$updated" ]]
}

@test "step edit usage errors touch nothing" {
	before=$(db_snapshot)
	run_ts 2 step edit 1
	err_has "error: nothing to change: give --set or --remove-key"
	run_ts 2 step edit 1 --set docker_run.x
	err_has "--set needs KEY=VALUE, got 'docker_run.x'"
	run_ts 2 step edit 1 --set 'docker_run..x=1'
	err_has "invalid key path 'docker_run..x'"
	run_ts 2 step edit --set title=x
	err_has "'step edit' needs 1 argument"
	run_ts 2 step edit one --set title=x
	err_has "invalid step ID 'one'"
	run_ts 2 step edit 1 --unset docker_run.x
	err_has "unknown option '--unset' for 'step edit'"
	run_ts 2 step edit 1 --set
	err_has "option '--set' needs a value"
	assert_db_unchanged "$before"
}

@test "step edit of an unknown step exits 4" {
	before=$(db_snapshot)
	run_ts 4 step edit 2 --set title=x
	err_has "error: no step found with ID 2"
	run_ts 4 step edit 99 --remove-key a
	assert_db_unchanged "$before"
}

# ---- stored settings that cannot be read ------------------------------------

# deep_json N: an array nested N levels deep (jansson reads at most 2048)
deep_json() {
	python3 -c 'import sys; n = int(sys.argv[1]); print("[" * n + "]" * n)' "$1"
}

# the settings column of step $1 as stored
stored_settings() {
	db_sql "SELECT settings FROM steps WHERE id = $1"
}

@test "step edit refuses a step whose stored settings are nested too deep, leaving them byte for byte" {
	db_sql "UPDATE steps SET settings = '{\"file_exists\": [\"a\"], \"x\": $(deep_json 2048)}' WHERE id = 1"
	stored=$(stored_settings 1)
	run_ts 3 step edit 1 --set title=changed
	err_has "error: step 1: its stored settings cannot be read (nested deeper than 2048 levels); nothing changed"
	run_ts 3 step edit 1 --remove-key x
	err_has "step 1: its stored settings cannot be read"
	[[ $(stored_settings 1) == "$stored" ]]
	[[ $(db_sql "SELECT title FROM steps WHERE id = 1") == "Run App Container" ]]
	# a copy would be {}: refused too
	run_ts 3 step copy --id 1 --to-task-id 1
	err_has "step 1: its stored settings cannot be read"
	[[ $(db_sql "SELECT count(*) FROM steps") == 1 ]]
	# reading names the row, shows the rest, and exits 3
	run_ts 3 step info 1
	out_has "Step #1: Run App Container"
	err_has "error: step 1: its stored settings cannot be read (nested deeper than 2048 levels)"
}

@test "step edit refuses a step whose stored settings hold \\u0000, leaving them byte for byte" {
	sqlite_only # PostgreSQL's jsonb cannot hold \u0000
	db_sql "UPDATE steps SET settings = '{\"file_exists\": [\"a\\u0000b\"]}' WHERE id = 1"
	stored=$(stored_settings 1)
	[[ $stored == *'\u0000'* ]]
	run_ts 3 step edit 1 --set file_exists='["c"]'
	err_has "error: step 1: its stored settings cannot be read (a string holds \\u0000); nothing changed"
	[[ $(stored_settings 1) == "$stored" ]]
}

@test "a step run never writes over stored settings or results it could not read" {
	run_ts 0 step create --task 1 --title files --settings '{"file_exists": ["nothing-here"]}' --quiet
	db_sql "UPDATE steps SET results = '{\"x\": $(deep_json 2048)}' WHERE id = 2"
	stored=$(db_sql "SELECT results FROM steps WHERE id = 2")
	run_ts 3 step run 2 --force
	err_has "step 2: its stored results cannot be read (nested deeper than 2048 levels); nothing changed"
	[[ $(db_sql "SELECT results FROM steps WHERE id = 2") == "$stored" ]]
}

@test "step edit refuses settings it could not read back" {
	before=$(db_snapshot)
	run_ts 2 step edit 1 --set "docker_run.deep=$(deep_json 2047)"
	err_has "error: step 1: the new settings could not be read back (nested deeper than 2048 levels); nothing changed"
	assert_db_unchanged "$before"
	# one level less is fine, and reads back
	run_ts 0 step edit 1 --set "docker_run.deep=$(deep_json 2046)"
	run_ts 0 step info 1 --json
	[[ -z $stderr ]]
}
