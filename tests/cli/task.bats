#!/usr/bin/env bats
# task create | list | info | edit | delete | reset-containers

load helpers


# ---- create ------------------------------------------------------------------

@test "task create prints the new ID and defaults to status active" {
	run_ts 0 task create --name demo
	out_is "Task created with ID: 1"
	run_ts 0 task create --name second
	out_is "Task created with ID: 2"
	run_ts 0 task info 1 --json
	assert_json_eq 'd["status"]' '"active"'
	assert_json_eq 'd["name"]' '"demo"'
	assert_json_eq 'd["local_path"]' null
	assert_json_eq 'd["settings"]' null
}

@test "task create --quiet prints only the ID" {
	run_ts 0 task create --name demo --quiet
	out_is 1
	run_ts 0 task create --name demo2 -q
	out_is 2
}

@test "task create accepts --flag=value and every valid status" {
	local s id
	for s in active inactive disabled running; do
		run_ts 0 task create --name="t-$s" --status="$s" -q
		id=$output
		run_ts 0 task info "$id" --json
		assert_json_eq 'd["status"]' "\"$s\""
		assert_json_eq 'd["name"]' "\"t-$s\""
	done
}

@test "task create makes --local_path absolute against the working directory" {
	mkdir -p sub
	run_ts 0 task create --name demo --local_path ./sub/../examples/./demo -q
	run_ts 0 task info 1 --json
	assert_json_eq 'd["local_path"]' "\"$PWD/examples/demo\""
	# --local-path is an alias
	run_ts 0 task create --name two --local-path /abs/path -q
	run_ts 0 task info 2 --json
	assert_json_eq 'd["local_path"]' '"/abs/path"'
}

@test "task create with an empty --local_path stores no path" {
	run_ts 0 task create --name demo --local_path '' -q
	run_ts 0 task info 1 --json
	assert_json_eq 'd["local_path"]' null
}

@test "task create without --name is a usage error and creates nothing" {
	ts task list >/dev/null
	before=$(db_snapshot)
	run_ts 2 task create
	err_has "error: --name is required"
	err_has "hint: see 'task-sync task create --help'"
	[[ -z $output ]]
	run_ts 2 task create --name ''
	err_has "--name is required"
	assert_db_unchanged "$before"
}

@test "task create with an invalid status is a usage error and creates nothing" {
	ts task list >/dev/null
	before=$(db_snapshot)
	run_ts 2 task create --name demo --status pending
	err_has "invalid status 'pending': must be one of active|inactive|disabled|running"
	run_ts 2 task create --name demo --status new
	assert_db_unchanged "$before"
}

@test "task create rejects a stray argument and an unknown option" {
	run_ts 2 task create --name demo extra
	err_has "unexpected argument 'extra'"
	run_ts 2 task create --name demo --nme x
	err_has "unknown option '--nme'"
	err_has "hint: see 'task-sync task create --help'"
	run_ts 2 task create --name
	err_has "option '--name' needs a value"
	run_ts 0 task list --json
	assert_json_eq 'len(d)' 0
}

# ---- list --------------------------------------------------------------------

# table_cells: stdout as a table, each row's cells cut at the columns the
# header's labels start at, joined by '|' with timestamps as <ts>; fails when a
# value does not start right under its label or runs into the next column
table_cells() {
	python3 -c '
import re, sys
lines = sys.argv[1].split("\n")
starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
for ln in lines:
    cells = []
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(ln)
        cell = ln[s:e]
        if s and ln[s - 1:s] not in ("", " "):
            sys.exit("a value runs into column %d: %r" % (i + 1, ln))
        if i + 1 < len(starts) and len(ln) > e and cell.strip() and not cell.endswith("   "):
            sys.exit("no gap before column %d: %r" % (i + 2, ln))
        cells.append(cell.strip())
    print(re.sub(r"'"$TS_RE"'", "<ts>", "|".join(cells)))
' "$output" || { show_run; fail "stdout is not a table whose columns fit"; }
}

@test "task list on an empty database prints only the header" {
	run_ts 0 task list
	out_is "ID   Name   Status   Local Path   Created At   Updated At"
	run_ts 0 task list --json
	out_is "[]"
}

@test "task list prints one aligned row per task, by ID" {
	make_task alpha >/dev/null
	make_task beta --status inactive --local_path /srv/beta >/dev/null
	run_ts 0 task list
	[[ ${#lines[@]} -eq 3 ]] || { show_run; false; }
	[[ $(table_cells) == "ID|Name|Status|Local Path|Created At|Updated At
1|alpha|active||<ts>|<ts>
2|beta|inactive|/srv/beta|<ts>|<ts>" ]] || { table_cells; show_run; false; }
	[[ ${lines[0]} == "ID   Name    Status     Local Path   Created At"* ]] || { show_run; false; }
	[[ ${lines[2]} != *" " ]] || { show_run; fail "trailing blanks"; }
}

@test "task list columns fit their values: long names, paths and timestamps push the columns, never run into them" {
	local long=/srv/a/path/longer/than/the/thirty/characters/it/once/had
	make_task "a name longer than twenty characters, with é" --local_path "$long" >/dev/null
	make_task b >/dev/null
	run_ts 0 task list
	[[ $(table_cells) == "ID|Name|Status|Local Path|Created At|Updated At
1|a name longer than twenty characters, with é|active|$long|<ts>|<ts>
2|b|active||<ts>|<ts>" ]] || { table_cells; show_run; false; }
	# timestamps with microseconds are wider than the 25 columns they once had
	[[ ${lines[1]} =~ $long\ {3}$TS_RE\ {3,}$TS_RE$ ]] || { show_run; false; }
}

@test "task list --json is an array of task objects" {
	make_task alpha >/dev/null
	make_task beta --local_path /srv/beta >/dev/null
	run_ts 0 task list --json
	assert_json
	assert_json_eq '[t["id"] for t in d]' '[1, 2]'
	assert_json_eq '[t["name"] for t in d]' '["alpha", "beta"]'
	assert_json_eq 'sorted(d[0].keys())' '["created_at", "id", "local_path", "name", "settings", "status", "updated_at"]'
	assert_json_eq 'd[1]["local_path"]' '"/srv/beta"'
	[[ $(json_get 'd[0]["created_at"]') =~ ^\"$TS_RE\"$ ]]
}

@test "task list takes no arguments" {
	run_ts 2 task list 1
	err_has "unexpected argument '1'"
}

# ---- info --------------------------------------------------------------------

@test "task info prints the fields, Local Path and Settings only when set" {
	make_task demo >/dev/null
	run_ts 0 task info 1
	[[ ${#lines[@]} -eq 5 ]] || { show_run; false; }
	[[ ${lines[0]} == "ID: 1" ]]
	[[ ${lines[1]} == "Name: demo" ]]
	[[ ${lines[2]} == "Status: active" ]]
	[[ ${lines[3]} =~ ^Created\ At:\ $TS_RE$ ]]
	[[ ${lines[4]} =~ ^Updated\ At:\ $TS_RE$ ]]
	ts task edit 1 --set local_path=/srv/demo --set docker.image_tag=demo:1 >/dev/null
	run_ts 0 task info 1
	[[ ${#lines[@]} -eq 7 ]] || { show_run; false; }
	[[ ${lines[3]} == "Local Path: /srv/demo" ]]
	[[ ${lines[6]} == 'Settings: {"docker":{"image_tag":"demo:1"}}' ]]
}

@test "task info --json parses and matches the list entry" {
	make_task demo --local_path /srv/demo >/dev/null
	run_ts 0 task list --json
	listed=$(json_get 'd[0]')
	run_ts 0 task info 1 --json
	assert_json
	[[ $(json_get d) == "$listed" ]]
}

@test "task info of an unknown ID exits 4" {
	run_ts 4 task info 42
	err_has "error: no task found with ID 42"
	[[ -z $output ]]
	run_ts 4 task info 42 --json
	[[ -z $output ]]
}

@test "task info rejects IDs that are not positive integers" {
	local bad
	for bad in abc 0 -3 1x 1.5 '' 99999999999999999999; do
		run_ts 2 task info "$bad"
		err_has "invalid task ID"
	done
	run_ts 2 task info
	err_has "'task info' needs 1 argument"
	run_ts 2 task info 1 2
	err_has "unexpected argument '2'"
}

# ---- edit --------------------------------------------------------------------

@test "task edit sets the columns and prints a confirmation" {
	make_task demo >/dev/null
	run_ts 0 task edit 1 --set name=renamed --set status=disabled --set local_path=./rel/path
	out_is "Task 1 updated successfully."
	run_ts 0 task info 1 --json
	assert_json_eq 'd["name"]' '"renamed"'
	assert_json_eq 'd["status"]' '"disabled"'
	# task edit stores local_path verbatim (only create makes it absolute)
	assert_json_eq 'd["local_path"]' '"./rel/path"'
	run_ts 0 task edit 1 --set localpath=/other
	run_ts 0 task info 1 --json
	assert_json_eq 'd["local_path"]' '"/other"'
}

@test "task edit sets settings dot paths, JSON values parsed" {
	make_task demo >/dev/null
	run_ts 0 task edit 1 --set docker.image_tag=demo:latest --set platform=linux/amd64 \
		--set docker_run_parameters='["--cpus","2"]' --set n=5 --set flag=true \
		--set quoted='"7"' --set nothing=null --set app_folder=/app
	run_ts 0 task info 1 --json
	assert_json_eq 'd["settings"]' '{"docker": {"image_tag": "demo:latest"}, "platform": "linux/amd64",
		"docker_run_parameters": ["--cpus", "2"], "n": 5, "flag": true, "quoted": "7",
		"nothing": null, "app_folder": "/app"}'
}

@test "task edit overwrites a non-object segment (unlike step edit)" {
	make_task demo >/dev/null
	ts task edit 1 --set docker=plain >/dev/null
	run_ts 0 task edit 1 --set docker.image_tag=x
	run_ts 0 task info 1 --json
	assert_json_eq 'd["settings"]' '{"docker": {"image_tag": "x"}}'
}

@test "task edit --unset removes settings paths and clears local_path" {
	make_task demo --local_path /srv/demo >/dev/null
	ts task edit 1 --set docker.image_tag=x --set docker.image_id=y --set keep=1 >/dev/null
	run_ts 0 task edit 1 --unset docker.image_id --unset local_path --unset missing.path
	out_is "Task 1 updated successfully."
	run_ts 0 task info 1 --json
	assert_json_eq 'd["settings"]' '{"docker": {"image_tag": "x"}, "keep": 1}'
	assert_json_eq 'd["local_path"]' null
}

@test "task edit applies its changes in order: --unset after --set wins" {
	make_task demo >/dev/null
	run_ts 0 task edit 1 --set a.b=1 --unset a.b --set c=2
	run_ts 0 task info 1 --json
	assert_json_eq 'd["settings"]' '{"a": {}, "c": 2}'
	run_ts 0 task edit 1 --unset c --set c=3
	run_ts 0 task info 1 --json
	assert_json_eq 'd["settings"]["c"]' 3
}

@test "task edit is all or nothing: a bad change leaves the task untouched" {
	make_task demo >/dev/null
	ts task edit 1 --set docker.image_tag=x >/dev/null
	before=$(db_snapshot)
	run_ts 2 task edit 1 --set name=changed --set docker.image_tag=y --set status=bogus
	err_has "invalid status 'bogus'"
	assert_db_unchanged "$before"
	run_ts 2 task edit 1 --set name=changed --unset name
	err_has "the task name cannot be empty or unset"
	run_ts 2 task edit 1 --set name=
	run_ts 2 task edit 1 --set docker.x=1 --unset status
	err_has "status cannot be unset"
	assert_db_unchanged "$before"
}

@test "task edit usage errors touch nothing" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	run_ts 2 task edit 1
	err_has "nothing to change: give --set or --unset"
	run_ts 2 task edit 1 --set novalue
	err_has "--set needs KEY=VALUE, got 'novalue'"
	run_ts 2 task edit --set a=1
	err_has "'task edit' needs 1 argument"
	run_ts 2 task edit x --set a=1
	err_has "invalid task ID 'x'"
	run_ts 2 task edit 1 --set 'a..b=1'
	err_has "invalid key path 'a..b'"
	assert_db_unchanged "$before"
}

@test "task edit of an unknown ID exits 4" {
	run_ts 4 task edit 7 --set name=x
	err_has "no task found with ID 7"
}

# ---- delete ------------------------------------------------------------------

@test "task delete ID removes the task and its steps" {
	make_task one >/dev/null
	make_task two >/dev/null
	make_step 1 a '{"file_exists": "a"}' >/dev/null
	make_step 2 b '{"file_exists": "b"}' >/dev/null
	run_ts 0 task delete 1
	out_is "Task 1 deleted successfully."
	run_ts 0 task list --json
	assert_json_eq '[t["id"] for t in d]' '[2]'
	run_ts 0 step list --json
	assert_json_eq '[s["id"] for s in d]' '[2]'
	run_ts 4 task info 1
}

@test "task delete --id ID is accepted too" {
	make_task one >/dev/null
	run_ts 0 task delete --id 1
	out_is "Task 1 deleted successfully."
	run_ts 0 task list --json
	out_is "[]"
}

@test "task delete of an unknown ID exits 4" {
	make_task one >/dev/null
	before=$(db_snapshot)
	run_ts 4 task delete 9
	err_has "no task found with ID 9"
	run_ts 4 task delete --id 9
	assert_db_unchanged "$before"
}

@test "task delete needs exactly one valid ID" {
	make_task one >/dev/null
	before=$(db_snapshot)
	run_ts 2 task delete
	err_has "'task delete' needs a task ID"
	run_ts 2 task delete 1 --id 1
	err_has "give the task ID once"
	run_ts 2 task delete --id abc
	err_has "invalid --id 'abc': expected a positive integer"
	run_ts 2 task delete one
	err_has "invalid task ID 'one'"
	run_ts 2 task delete 1 2
	assert_db_unchanged "$before"
}

# ---- reset-containers --------------------------------------------------------

@test "task reset-containers empties containers_map and keeps the rest" {
	make_task demo >/dev/null
	ts task edit 1 --set containers_map='{"golden":{"container_id":"abc","container_name":"g"}}' \
		--set containers='["x"]' --set assigned_containers='{"a":"b"}' \
		--set docker_run_parameters='["--cpus","2"]' --set docker.image_tag=demo >/dev/null
	run_ts 0 task reset-containers 1
	out_is "Task 1 containers and assignments reset successfully."
	run_ts 0 task info 1 --json
	assert_json_eq 'd["settings"]' '{"containers_map": {}, "docker_run_parameters": ["--cpus", "2"], "docker": {"image_tag": "demo"}}'
}

@test "task reset-containers works on a task without settings" {
	make_task demo >/dev/null
	run_ts 0 task reset-containers 1
	run_ts 0 task info 1 --json
	assert_json_eq 'd["settings"]' '{"containers_map": {}}'
}

@test "task reset-containers of an unknown ID exits 4, a bad one 2" {
	run_ts 4 task reset-containers 3
	err_has "no task found with ID 3"
	run_ts 2 task reset-containers
	run_ts 2 task reset-containers x
}

# ---- the group ---------------------------------------------------------------

@test "task alone lists its sub-commands on stderr and exits 2" {
	run_ts 2 task
	err_has "usage: task-sync task <command>"
	err_has "reset-containers"
}

@test "task --help, -h and help list the sub-commands and exit 0" {
	local h
	for h in --help -h help; do
		run_ts 0 task "$h"
		out_has "usage: task-sync task <command>"
		out_has "create"
		out_has "reset-containers"
	done
}

@test "every task sub-command has -h and --help" {
	local c h
	for c in create list info edit delete reset-containers; do
		for h in -h --help; do
			run_ts 0 task "$c" "$h"
			out_has "usage: task-sync task $c"
			out_has "-h, --help"
			[[ -z $stderr ]] || { show_run; false; }
		done
	done
}

@test "an unknown task sub-command exits 2 with a hint" {
	run_ts 2 task remove 1
	err_has "error: unknown command 'task remove'"
	err_has "hint: see 'task-sync task --help'"
	run_ts 2 task lis
	err_has "hint: did you mean 'task list'?"
}

# ---- stored settings that cannot be read ------------------------------------

@test "task edit refuses a task whose stored settings cannot be read, leaving them byte for byte" {
	make_task demo >/dev/null
	deep=$(python3 -c 'print("[" * 2049 + "]" * 2049)')
	db_sql "UPDATE tasks SET settings = '{\"containers_map\": {}, \"x\": $deep}' WHERE id = 1"
	stored=$(db_sql "SELECT settings FROM tasks WHERE id = 1")
	run_ts 3 task edit 1 --set name=changed
	err_has "error: task 1: its stored settings cannot be read (nested deeper than 2048 levels); nothing changed"
	run_ts 3 task reset-containers 1
	err_has "task 1: its stored settings cannot be read"
	[[ $(db_sql "SELECT settings FROM tasks WHERE id = 1") == "$stored" ]]
	[[ $(db_sql "SELECT name FROM tasks WHERE id = 1") == demo ]]
}

@test "task edit refuses settings it could not read back" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	deep=$(python3 -c 'print("[" * 2047 + "]" * 2047)')
	run_ts 2 task edit 1 --set "a.b=$deep"
	err_has "error: task 1: the new settings could not be read back (nested deeper than 2048 levels); nothing changed"
	assert_db_unchanged "$before"
}
