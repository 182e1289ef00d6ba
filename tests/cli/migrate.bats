#!/usr/bin/env bats
# migrate up | down | status | force | reset, and databases made by the original

load helpers

LATEST=17

setup() {
	ts_setup
	# the embedded database is created and migrated by its first use; the
	# tests below start from a migrated one, except the "fresh" one
	if [[ $BATS_TEST_DESCRIPTION != *fresh* ]]; then
		ts task list >/dev/null 2>&1
	fi
}

# task list and step list of a database with some rows in it
seed_rows() {
	make_task demo --local_path /srv/demo >/dev/null
	make_step 1 check '{"file_exists": "a"}' >/dev/null
}

status_is() {
	run_ts 0 migrate status
	[[ ${lines[0]} == "Current migration version: $1" ]] || { show_run; false; }
	[[ ${lines[1]} == "Dirty state: ${2:-false}" ]] || { show_run; false; }
}

@test "migrate status on a fresh database" {
	if [[ $TS_BACKEND == sqlite ]]; then
		# nothing has touched the embedded database yet
		run_ts 0 migrate status
		out_is "Current migration version: 0
Dirty state: false
Pending migrations: $LATEST (latest is $LATEST)"
		# any other command migrates it on first use
		run_ts 0 task list
	fi
	run_ts 0 migrate status
	out_is "Current migration version: $LATEST
Dirty state: false"
}

@test "migrate up applies everything and is idempotent" {
	run_ts 0 migrate down --yes
	status_is 0
	run_ts 0 migrate up
	out_is "Migration up completed."
	status_is $LATEST
	run_ts 0 migrate up
	out_is "Migration up completed."
	status_is $LATEST
	run_ts 0 task list --json
	out_is "[]"
}

@test "migrate down --step 1 reverts only the last migration" {
	seed_rows
	run_ts 0 migrate down --yes --step 1
	out_is "Migration down completed."
	run_ts 0 migrate status
	out_is "Current migration version: $((LATEST - 1))
Dirty state: false
Pending migrations: 1 (latest is $LATEST)"
	if [[ $TS_BACKEND == postgres ]]; then
		# PostgreSQL is never migrated behind the user's back
		run_ts 3 task list
		err_has "error: database schema is at version $((LATEST - 1)) but this task-sync needs version $LATEST: run 'task-sync migrate up'"
		[[ -z $output ]]
		run_ts 3 step create --task 1 --title t --settings '{"file_exists": "a"}'
		err_has "run 'task-sync migrate up'"
		run_ts 0 migrate up
	else
		# the embedded SQLite database migrates itself on first use
		run_ts 0 task list
	fi
	status_is $LATEST
	run_ts 0 task list --json
	assert_json_eq '[(t["id"], t["name"], t["local_path"]) for t in d]' '[[1, "demo", "/srv/demo"]]'
	run_ts 0 step list --json
	assert_json_eq '[(s["id"], s["settings"]) for s in d]' '[[1, {"file_exists": "a"}]]'
}

@test "migrate down --step N reverts N migrations; more than there are stops at 0" {
	run_ts 0 migrate down --yes --step 3
	status_is $((LATEST - 3))
	run_ts 0 migrate down --yes --step 50
	status_is 0
	run_ts 0 migrate down --yes
	out_is "Migration down completed."
	status_is 0
}

@test "migrate down without --step reverts everything and drops the tables" {
	seed_rows
	run_ts 0 migrate down -y
	out_is "Migration down completed."
	status_is 0
	case $TS_BACKEND in
	sqlite) tables=$(db_sql "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('tasks', 'steps', 'step_runs') ORDER BY name") ;;
	postgres) tables=$(db_sql "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('tasks', 'steps', 'step_runs')") ;;
	esac
	[[ -z $tables ]] || fail "tables left: $tables"
	run_ts 0 migrate up
	run_ts 0 task list --json
	out_is "[]"
}

@test "migrate down asks first: no stdin or any answer but yes aborts with exit 1" {
	seed_rows
	before=$(db_snapshot)
	run --separate-stderr "$TS_BIN" migrate down </dev/null
	check_status 1
	out_is "Aborted."
	err_has 'Are you sure you want to downgrade the database? Type "yes" to continue:'
	run --separate-stderr "$TS_BIN" migrate down --step 1 <<<"no"
	check_status 1
	out_is "Aborted."
	run --separate-stderr "$TS_BIN" migrate down --step 1 <<<"y"
	check_status 1
	status_is $LATEST
	assert_db_unchanged "$before"
	run --separate-stderr "$TS_BIN" migrate down --step 1 <<<"yes"
	check_status 0
	out_is "Migration down completed."
	status_is $((LATEST - 1))
}

@test "migrate down rejects a bad --step before asking anything" {
	local bad
	for bad in 0 -1 x 1.5 ''; do
		run --separate-stderr "$TS_BIN" migrate down --step "$bad" </dev/null
		check_status 2
		err_has "invalid --step '$bad': expected a positive number"
		err_lacks "Are you sure"
	done
	status_is $LATEST
}

@test "migrate reset --yes drops task-sync's tables only and migrates up" {
	seed_rows
	db_sql "DROP TABLE IF EXISTS unrelated_keep_me"
	db_sql "CREATE TABLE unrelated_keep_me (x INTEGER)"
	db_sql "INSERT INTO unrelated_keep_me VALUES (42)"
	run_ts 0 migrate reset --yes
	out_is "All tables dropped. Re-applying migrations...
Database reset and all migrations reapplied."
	status_is $LATEST
	run_ts 0 task list --json
	out_is "[]"
	run_ts 0 step list --json
	out_is "[]"
	[[ $(db_sql "SELECT x FROM unrelated_keep_me") == 42 ]]
	# IDs start again at 1
	run_ts 0 task create --name again
	out_is "Task created with ID: 1"
	db_sql "DROP TABLE unrelated_keep_me"
}

@test "migrate reset asks first and aborts without a yes" {
	seed_rows
	before=$(db_snapshot)
	run --separate-stderr "$TS_BIN" migrate reset </dev/null
	check_status 1
	out_is "Aborted."
	err_has 'This deletes every task and step. Are you sure? Type "yes" to continue:'
	run --separate-stderr "$TS_BIN" migrate reset <<<"YES"
	check_status 1
	assert_db_unchanged "$before"
	run --separate-stderr "$TS_BIN" migrate reset <<<"yes"
	check_status 0
	run_ts 0 task list --json
	out_is "[]"
}

@test "migrate force sets the version and clears the dirty flag without migrating" {
	seed_rows
	db_sql "UPDATE schema_migrations SET dirty = true"
	status_is $LATEST true
	# a dirty schema stops every other command
	run_ts 3 task list
	err_has "dirty"
	err_has "migrate force"
	run_ts 3 migrate up
	err_has "dirty"
	run_ts 0 migrate force $LATEST
	out_is "Forced migration version to $LATEST and cleared dirty flag."
	status_is $LATEST
	run_ts 0 task list --json
	assert_json_eq '[t["name"] for t in d]' '["demo"]'
}

@test "migrate force to an old version: up then fails, force back repairs it" {
	seed_rows
	run_ts 0 migrate force 5
	out_is "Forced migration version to 5 and cleared dirty flag."
	status_is 5
	# migration 6 finds its column already there; nothing is changed
	run_ts 3 migrate up
	err_has "migration 6 (add_settings_to_tasks) up failed"
	status_is 5
	run_ts 3 task list
	run_ts 0 migrate force $LATEST
	run_ts 0 task list --json
	assert_json_eq '[t["name"] for t in d]' '["demo"]'
}

@test "migrate force checks its argument" {
	run_ts 2 migrate force
	err_has "'migrate force' needs 1 argument"
	run_ts 2 migrate force $((LATEST + 1))
	err_has "invalid version '$((LATEST + 1))': expected 0..$LATEST"
	run_ts 2 migrate force abc
	run_ts 2 migrate force -- -1
	run_ts 2 migrate force 1 2
	status_is $LATEST
}

@test "a schema newer than this task-sync is refused" {
	run_ts 0 task list
	db_sql "UPDATE schema_migrations SET version = 99"
	run_ts 3 task list
	err_has "database schema version 99 is newer than this task-sync knows ($LATEST)"
	run_ts 3 migrate up
	err_has "newer"
	run_ts 0 migrate status
	out_has "Current migration version: 99"
}

@test "migrate and every migrate sub-command have -h and --help" {
	local c h
	for h in -h --help help; do
		run_ts 0 migrate "$h"
		out_has "usage: task-sync migrate <command>"
	done
	for c in up down status force reset; do
		for h in -h --help; do
			run_ts 0 migrate "$c" "$h"
			out_has "usage: task-sync migrate $c"
		done
	done
	run_ts 2 migrate
	err_has "usage: task-sync migrate <command>"
}

@test "migrate: unknown sub-commands and options exit 2 with a hint" {
	run_ts 2 migrate sideways
	err_has "error: unknown command 'migrate sideways'"
	err_has "hint: see 'task-sync migrate --help'"
	run_ts 2 migrate up --yes
	err_has "unknown option '--yes' for 'migrate up'"
	err_has "hint: see 'task-sync migrate up --help'"
	run_ts 2 migrate status now
	err_has "unexpected argument 'now'"
}

# ---- a database made by the original (golang-migrate, version 11) -----------

make_original_db() {
	db_sql "DROP TABLE IF EXISTS step_runs, steps, tasks, websocket_updates,
		rubric_shell_output_history, schema_migrations CASCADE"
	db_sql "
CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO schema_migrations (version, dirty) VALUES (11, false);
CREATE TABLE tasks (id SERIAL PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  local_path TEXT, settings JSONB);
CREATE TABLE steps (id SERIAL PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, title TEXT NOT NULL,
  settings JSONB NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), results JSONB, generated_by INTEGER);
CREATE TABLE websocket_updates (id SERIAL PRIMARY KEY,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, update_type TEXT NOT NULL,
  task_id INTEGER, step_id INTEGER, payload TEXT NOT NULL);
CREATE INDEX idx_websocket_updates_created_at ON websocket_updates(created_at);
CREATE TABLE rubric_shell_output_history (id SERIAL PRIMARY KEY, rubric_shell_uuid UUID NOT NULL,
  timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, criterion TEXT NOT NULL,
  required BOOLEAN NOT NULL, score REAL, command TEXT NOT NULL, solution1_output TEXT,
  solution2_output TEXT, solution3_output TEXT, solution4_output TEXT,
  module_explanation TEXT, exception TEXT);
CREATE INDEX idx_rubric_shell_uuid ON rubric_shell_output_history(rubric_shell_uuid);
INSERT INTO tasks (name, status, local_path, settings, created_at, updated_at) VALUES
  ('legacy', 'active', '/srv/legacy',
   '{\"docker\": {\"image_tag\": \"legacy:1\"}, \"containers_map\": {\"golden\": {\"container_id\": \"abc\", \"container_name\": \"g\"}}}',
   '2025-08-01 10:00:00+00', '2025-08-02 11:30:00.5+00'),
  ('paused', 'inactive', NULL, NULL, '2025-08-03 00:00:00+00', '2025-08-03 00:00:00+00');
INSERT INTO steps (task_id, title, settings, results, generated_by) VALUES
  (1, 'Build', '{\"docker_build\": {\"parameters\": [\"--pull\"], \"triggers\": {\"files\": {\"Dockerfile\": \"\"}}}}',
   '{\"result\": \"success\"}', NULL),
  (1, 'Rubric 1', '{\"rubric_shell\": {\"command\": \"true\", \"generated_by\": \"1\", \"depends_on\": [{\"id\": 1}]}}',
   '{\"solution1.patch\": \"PASS\"}', 1),
  (2, 'Files', '{\"file_exists\": {\"files\": {\"a.txt\": true}}}', NULL, NULL);
INSERT INTO websocket_updates (update_type, task_id, payload) VALUES ('step_update', 1, '{}');
"
}

@test "a PostgreSQL database made by the original is migrated forward with its data" {
	pg_only
	make_original_db
	run_ts 0 migrate status
	out_is "Current migration version: 11
Dirty state: false
Pending migrations: $((LATEST - 11)) (latest is $LATEST)"
	run_ts 3 task list
	err_has "run 'task-sync migrate up'"
	run_ts 0 migrate up
	out_is "Migration up completed."
	status_is $LATEST

	run_ts 0 task list
	out_has "legacy"
	[[ ${lines[1]} =~ ^1\ +legacy\ +active\ +/srv/legacy\ +2025-08-01T10:00:00\.000Z\ +2025-08-02T11:30:00\.500Z ]] || { show_run; false; }
	run_ts 0 task info 1 --json
	assert_json_eq 'd' '{"id": 1, "name": "legacy", "status": "active", "local_path": "/srv/legacy",
		"settings": {"docker": {"image_tag": "legacy:1"}, "containers_map": {"golden": {"container_id": "abc", "container_name": "g"}}},
		"created_at": "2025-08-01T10:00:00.000Z", "updated_at": "2025-08-02T11:30:00.500Z"}'
	run_ts 0 step list --json
	assert_json_eq '[(s["id"], s["task_id"], s["title"], s["results"], s["generated_by"]) for s in d]' \
		'[[1, 1, "Build", {"result": "success"}, null], [2, 1, "Rubric 1", {"solution1.patch": "PASS"}, 1], [3, 2, "Files", null, null]]'
	assert_json_eq 'd[2]["settings"]' '{"file_exists": {"files": {"a.txt": true}}}'
	run_ts 0 step tree 1
	out_is "1-legacy
╰── 1-Build
    ╰── 2-Rubric 1"

	# new rows continue the original's sequences
	run_ts 0 task create --name new
	out_is "Task created with ID: 3"
	run_ts 0 step create --task legacy --title more --settings '{"file_exists": "b"}'
	out_is "Step created with ID: 4"
	run_ts 0 step edit 1 --set docker_build.parameters='["--no-cache"]'
	run_ts 0 task delete 2
	run_ts 4 step info 3
	# the original's other tables are left alone
	[[ $(db_sql "SELECT count(*) FROM websocket_updates") == 1 ]]
	[[ $(db_sql "SELECT count(*) FROM rubric_shell_output_history") == 0 ]]
	[[ $(db_sql "SELECT data_type FROM information_schema.columns WHERE table_name = 'steps' AND column_name = 'id'") == bigint ]]
}

@test "migrate down to version 11 on a migrated original database returns it to the original's schema" {
	pg_only
	make_original_db
	run_ts 0 migrate up
	run_ts 0 migrate down --yes --step $((LATEST - 11))
	status_is 11
	[[ -z $(db_sql "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'step_runs'") ]]
	run_ts 0 migrate up
	run_ts 0 task list --json
	assert_json_eq '[t["name"] for t in d]' '["legacy", "paused"]'
}

@test "PostgreSQL: the fresh-key trigger runs only for an UPDATE that changes a step's results (migration 17)" {
	pg_only
	make_task t >/dev/null
	make_step 1 s '{"file_exists": "a"}' >/dev/null
	# how many times an UPDATE called the trigger's function (in a
	# transaction that is rolled back)
	calls() {
		db_sql "BEGIN; SET LOCAL track_functions = 'pl'; $1;
			SELECT COALESCE(pg_stat_get_xact_function_calls('steps_clear_fresh_key'::regproc), 0);
			ROLLBACK;"
	}
	[[ $(calls "UPDATE steps SET title = 'x' WHERE id = 1") == 0 ]]
	[[ $(calls "UPDATE steps SET results = results WHERE id = 1") == 0 ]]
	[[ $(calls "UPDATE steps SET results = '{\"result\": \"success\"}' WHERE id = 1") == 1 ]]
	# migration 16's trigger ran for every UPDATE
	run_ts 0 migrate down --yes --step 1
	[[ $(calls "UPDATE steps SET title = 'x' WHERE id = 1") == 1 ]]
	run_ts 0 migrate up
	[[ $(calls "UPDATE steps SET title = 'x' WHERE id = 1") == 0 ]]
}
