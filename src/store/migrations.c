#include "store/migrations.h"
#include "os/error.h"
#include "os/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* migration 15: the candidate entries of a rubric_shell step's results */
#define MIG15_PG_CAND                           \
	"jsonb_typeof(e.value) = 'object' AND " \
	"jsonb_typeof(e.value->'output') = 'string'"
#define MIG15_PG_RUN                                      \
	"jsonb_typeof(e.value) = 'object' AND "           \
	"jsonb_typeof(e.value->'run_id') = 'number' AND " \
	"NOT e.value ? 'output'"
#define MIG15_LITE_STEP                                                \
	"json_valid(s.settings) AND json_valid(s.results) "            \
	"AND json_type(s.settings, '$.rubric_shell') IS NOT NULL AND " \
	"json_type(s.results) = 'object'"
#define MIG15_LITE_CAND          \
	"e.type = 'object' AND " \
	"json_type(e.value, '$.output') = 'text'"
#define MIG15_LITE_RUN                                    \
	"e.type = 'object' AND "                          \
	"json_type(e.value, '$.run_id') = 'integer' AND " \
	"json_type(e.value, '$.output') IS NULL"

#define LITE_NOW "(strftime('%Y-%m-%d %H:%M:%f000+00','now'))"

const struct migration migrations[] = {
	{ 1, "create_tasks_table",
	  "CREATE TABLE IF NOT EXISTS tasks (id SERIAL PRIMARY KEY, "
	  "name TEXT NOT NULL, status TEXT NOT NULL, "
	  "created_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
	  "updated_at TIMESTAMPTZ NOT NULL DEFAULT now());",
	  "DROP TABLE IF EXISTS tasks;",
	  "CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY "
	  "AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL, "
	  "created_at TEXT NOT NULL DEFAULT " LITE_NOW ", "
	  "updated_at TEXT NOT NULL DEFAULT " LITE_NOW ");",
	  NULL },
	{ 2, "add_local_path_to_tasks",
	  "ALTER TABLE tasks ADD COLUMN local_path TEXT;",
	  "ALTER TABLE tasks DROP COLUMN local_path;", NULL, NULL },
	{ 3, "create_steps_table",
	  "CREATE TABLE IF NOT EXISTS steps (id SERIAL PRIMARY KEY, "
	  "task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, "
	  "title TEXT NOT NULL, status TEXT NOT NULL, "
	  "settings JSONB NOT NULL DEFAULT '{}', "
	  "created_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
	  "updated_at TIMESTAMPTZ NOT NULL DEFAULT now());",
	  "DROP TABLE IF EXISTS steps;",
	  "CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY "
	  "AUTOINCREMENT, task_id INTEGER NOT NULL REFERENCES tasks(id) "
	  "ON DELETE CASCADE, title TEXT NOT NULL, status TEXT NOT NULL, "
	  "settings TEXT NOT NULL DEFAULT '{}', "
	  "created_at TEXT NOT NULL DEFAULT " LITE_NOW ", "
	  "updated_at TEXT NOT NULL DEFAULT " LITE_NOW ");",
	  NULL },
	{ 4, "add_results_to_steps",
	  "ALTER TABLE steps ADD COLUMN results JSONB;",
	  "ALTER TABLE steps DROP COLUMN results;",
	  "ALTER TABLE steps ADD COLUMN results TEXT;", NULL },
	{ 5, "drop_status_from_steps", "ALTER TABLE steps DROP COLUMN status;",
	  "ALTER TABLE steps ADD COLUMN status TEXT;", NULL, NULL },
	{ 6, "add_settings_to_tasks",
	  "ALTER TABLE tasks ADD COLUMN settings JSONB;",
	  "ALTER TABLE tasks DROP COLUMN settings;",
	  "ALTER TABLE tasks ADD COLUMN settings TEXT;", NULL },
	{ 7, "create_websocket_updates",
	  "CREATE TABLE IF NOT EXISTS websocket_updates (id SERIAL PRIMARY "
	  "KEY, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, "
	  "update_type TEXT NOT NULL, task_id INTEGER, step_id INTEGER, "
	  "payload TEXT NOT NULL);"
	  "CREATE INDEX IF NOT EXISTS idx_websocket_updates_created_at "
	  "ON websocket_updates(created_at);",
	  "DROP TABLE IF EXISTS websocket_updates;"
	  "DROP INDEX IF EXISTS idx_websocket_updates_created_at;",
	  "CREATE TABLE IF NOT EXISTS websocket_updates (id INTEGER PRIMARY "
	  "KEY AUTOINCREMENT, created_at TEXT NOT NULL DEFAULT "
	  "CURRENT_TIMESTAMP, update_type TEXT NOT NULL, task_id INTEGER, "
	  "step_id INTEGER, payload TEXT NOT NULL);"
	  "CREATE INDEX IF NOT EXISTS idx_websocket_updates_created_at "
	  "ON websocket_updates(created_at);",
	  NULL },
	{ 8, "create_rubric_shell_output_history",
	  "CREATE TABLE IF NOT EXISTS rubric_shell_output_history (id SERIAL "
	  "PRIMARY KEY, rubric_shell_uuid UUID NOT NULL, timestamp TIMESTAMP "
	  "NOT NULL DEFAULT CURRENT_TIMESTAMP, criterion TEXT NOT NULL, "
	  "required BOOLEAN NOT NULL, score REAL, command TEXT NOT NULL, "
	  "solution1_output TEXT, solution2_output TEXT, solution3_output "
	  "TEXT, solution4_output TEXT, module_explanation TEXT, exception "
	  "TEXT);"
	  "CREATE INDEX IF NOT EXISTS idx_rubric_shell_uuid ON "
	  "rubric_shell_output_history(rubric_shell_uuid);",
	  "DROP TABLE IF EXISTS rubric_shell_output_history;",
	  "CREATE TABLE IF NOT EXISTS rubric_shell_output_history (id "
	  "INTEGER PRIMARY KEY AUTOINCREMENT, rubric_shell_uuid TEXT NOT "
	  "NULL, timestamp TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, criterion "
	  "TEXT NOT NULL, required BOOLEAN NOT NULL, score REAL, command TEXT "
	  "NOT NULL, solution1_output TEXT, solution2_output TEXT, "
	  "solution3_output TEXT, solution4_output TEXT, module_explanation "
	  "TEXT, exception TEXT);"
	  "CREATE INDEX IF NOT EXISTS idx_rubric_shell_uuid ON "
	  "rubric_shell_output_history(rubric_shell_uuid);",
	  NULL },
	{ 9, "add_base_path_to_tasks",
	  "ALTER TABLE tasks ADD COLUMN base_path TEXT;"
	  "UPDATE tasks SET base_path = local_path;",
	  "ALTER TABLE tasks DROP COLUMN base_path;", NULL, NULL },
	{ 10, "add_generated_by_to_steps",
	  "ALTER TABLE steps ADD COLUMN generated_by INTEGER;",
	  "ALTER TABLE steps DROP COLUMN generated_by;", NULL, NULL },
	{ 11, "drop_base_path_from_tasks",
	  "ALTER TABLE tasks DROP COLUMN IF EXISTS base_path;",
	  "ALTER TABLE tasks ADD COLUMN base_path TEXT;",
	  "ALTER TABLE tasks DROP COLUMN base_path;", NULL },
	{ 12, "step_runs_and_64bit_ids",
	  "ALTER TABLE tasks ALTER COLUMN id TYPE BIGINT;"
	  "ALTER SEQUENCE IF EXISTS tasks_id_seq AS BIGINT;"
	  "ALTER TABLE steps ALTER COLUMN id TYPE BIGINT;"
	  "ALTER SEQUENCE IF EXISTS steps_id_seq AS BIGINT;"
	  "ALTER TABLE steps ALTER COLUMN task_id TYPE BIGINT;"
	  "ALTER TABLE steps ALTER COLUMN generated_by TYPE BIGINT;"
	  "CREATE INDEX IF NOT EXISTS idx_steps_task_id ON steps(task_id);"
	  "CREATE TABLE IF NOT EXISTS step_runs (id BIGSERIAL PRIMARY KEY, "
	  "step_id BIGINT NOT NULL REFERENCES steps(id) ON DELETE CASCADE, "
	  "started_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
	  "finished_at TIMESTAMPTZ, status TEXT NOT NULL, exit_code INTEGER, "
	  "duration_ms BIGINT, output TEXT, detail JSONB);"
	  "CREATE INDEX IF NOT EXISTS idx_step_runs_step_id ON "
	  "step_runs(step_id, id);",
	  "DROP TABLE IF EXISTS step_runs;"
	  "DROP INDEX IF EXISTS idx_steps_task_id;",
	  "CREATE INDEX IF NOT EXISTS idx_steps_task_id ON steps(task_id);"
	  "CREATE TABLE IF NOT EXISTS step_runs (id INTEGER PRIMARY KEY "
	  "AUTOINCREMENT, step_id INTEGER NOT NULL REFERENCES steps(id) ON "
	  "DELETE CASCADE, started_at TEXT NOT NULL DEFAULT " LITE_NOW ", "
	  "finished_at TEXT, status TEXT NOT NULL, exit_code INTEGER, "
	  "duration_ms INTEGER, output TEXT, detail TEXT);"
	  "CREATE INDEX IF NOT EXISTS idx_step_runs_step_id ON "
	  "step_runs(step_id, id);",
	  NULL },
	/*
	 * The engine's no-change check (engine/): a compact key of
	 * what the last successful run saw, and the digest of the step's
	 * outputs that its dependents compare. Both are derived data, and
	 * NULL is always safe (the engine then decides from the results).
	 * task-sync writes them with every results write; the trigger
	 * clears them when another program (the original, a script)
	 * changes the results and leaves both as they were.
	 */
	{ 13, "step_fresh_key_and_output_digest",
	  "ALTER TABLE steps ADD COLUMN fresh_key TEXT;"
	  "ALTER TABLE steps ADD COLUMN output_digest TEXT;"
	  "CREATE OR REPLACE FUNCTION steps_clear_fresh_key() RETURNS "
	  "trigger LANGUAGE plpgsql AS $$ BEGIN "
	  "IF NEW.results IS DISTINCT FROM OLD.results "
	  "AND NEW.fresh_key IS NOT DISTINCT FROM OLD.fresh_key "
	  "AND NEW.output_digest IS NOT DISTINCT FROM OLD.output_digest THEN "
	  "NEW.fresh_key := NULL; NEW.output_digest := NULL; END IF; "
	  "RETURN NEW; END $$;"
	  "CREATE TRIGGER steps_clear_fresh_key BEFORE UPDATE ON steps "
	  "FOR EACH ROW EXECUTE PROCEDURE steps_clear_fresh_key();",
	  "DROP TRIGGER IF EXISTS steps_clear_fresh_key ON steps;"
	  "DROP FUNCTION IF EXISTS steps_clear_fresh_key();"
	  "ALTER TABLE steps DROP COLUMN output_digest;"
	  "ALTER TABLE steps DROP COLUMN fresh_key;",
	  "ALTER TABLE steps ADD COLUMN fresh_key TEXT;"
	  "ALTER TABLE steps ADD COLUMN output_digest TEXT;"
	  "CREATE TRIGGER IF NOT EXISTS steps_clear_fresh_key AFTER UPDATE "
	  "OF results ON steps FOR EACH ROW WHEN NEW.results IS NOT "
	  "OLD.results AND NEW.fresh_key IS OLD.fresh_key AND "
	  "NEW.output_digest IS OLD.output_digest BEGIN UPDATE steps SET "
	  "fresh_key = NULL, output_digest = NULL WHERE id = NEW.id; END;",
	  "DROP TRIGGER IF EXISTS steps_clear_fresh_key;"
	  "ALTER TABLE steps DROP COLUMN output_digest;"
	  "ALTER TABLE steps DROP COLUMN fresh_key;" },
	/*
	 * The database's identity (store_identity): one row, made on
	 * first use by a command that creates Docker objects, whose
	 * names and labels carry it, so two databases on one Docker
	 * engine never take each other's containers.
	 */
	{ 14, "database_identity",
	  "CREATE TABLE IF NOT EXISTS database_identity (id INTEGER "
	  "PRIMARY KEY CHECK (id = 1), identity TEXT NOT NULL, "
	  "created_at TIMESTAMPTZ NOT NULL DEFAULT now());",
	  "DROP TABLE IF EXISTS database_identity;",
	  "CREATE TABLE IF NOT EXISTS database_identity (id INTEGER "
	  "PRIMARY KEY CHECK (id = 1), identity TEXT NOT NULL, "
	  "created_at TEXT NOT NULL DEFAULT " LITE_NOW ");",
	  NULL },
	/*
	 * A rubric_shell candidate's output was kept twice: in the step's
	 * results and in the step_runs row record_candidate writes. Keep it
	 * in the run only: each entry of results that holds "output" gets
	 * "run_id", the newest run of that step and candidate with the same
	 * output (one is added when there is none), and loses "output".
	 * Down puts the output back from the run. Steps whose stored JSON
	 * SQLite cannot read are left alone.
	 */
	{ 15, "rubric_output_in_step_runs",
	  "INSERT INTO step_runs (step_id, started_at, finished_at, status, "
	  "exit_code, duration_ms, output, detail) "
	  "SELECT s.id, s.updated_at, s.updated_at, "
	  "COALESCE(e.value->>'status', 'ERROR'), "
	  "CAST(e.value->>'exit_code' AS INTEGER), "
	  "CAST(e.value->>'duration_ms' AS BIGINT), e.value->>'output', "
	  "jsonb_build_object('candidate', e.key, 'container', "
	  "e.value->'container', 'reason', e.value->'reason') "
	  "FROM steps s, jsonb_each(s.results) e "
	  "WHERE s.settings ? 'rubric_shell' AND "
	  "jsonb_typeof(s.results) = 'object' AND " MIG15_PG_CAND " AND "
	  "NOT EXISTS (SELECT 1 FROM step_runs r WHERE r.step_id = s.id AND "
	  "r.detail->>'candidate' = e.key AND r.output = e.value->>'output') "
	  "ORDER BY s.id, e.key;"
	  "UPDATE steps s SET results = s.results || (SELECT "
	  "jsonb_object_agg(e.key, (e.value - 'output') || "
	  "jsonb_build_object('run_id', (SELECT max(r.id) FROM step_runs r "
	  "WHERE r.step_id = s.id AND r.detail->>'candidate' = e.key AND "
	  "r.output = e.value->>'output'))) "
	  "FROM jsonb_each(s.results) e WHERE " MIG15_PG_CAND ") "
	  "WHERE s.settings ? 'rubric_shell' AND "
	  "jsonb_typeof(s.results) = 'object' AND EXISTS (SELECT 1 FROM "
	  "jsonb_each(s.results) e WHERE " MIG15_PG_CAND ");",
	  "UPDATE steps s SET results = s.results || (SELECT "
	  "jsonb_object_agg(e.key, (e.value - 'run_id') || "
	  "jsonb_build_object('output', (SELECT r.output FROM step_runs r "
	  "WHERE r.step_id = s.id AND r.id = CAST(e.value->>'run_id' AS "
	  "BIGINT)))) FROM jsonb_each(s.results) e WHERE " MIG15_PG_RUN ") "
	  "WHERE s.settings ? 'rubric_shell' AND "
	  "jsonb_typeof(s.results) = 'object' AND EXISTS (SELECT 1 FROM "
	  "jsonb_each(s.results) e WHERE " MIG15_PG_RUN ");",
	  "INSERT INTO step_runs (step_id, started_at, finished_at, status, "
	  "exit_code, duration_ms, output, detail) "
	  "SELECT s.id, s.updated_at, s.updated_at, "
	  "COALESCE(json_extract(e.value, '$.status'), 'ERROR'), "
	  "json_extract(e.value, '$.exit_code'), "
	  "json_extract(e.value, '$.duration_ms'), "
	  "json_extract(e.value, '$.output'), "
	  "json_object('candidate', e.key, 'container', "
	  "json_extract(e.value, '$.container'), 'reason', "
	  "json_extract(e.value, '$.reason')) "
	  "FROM steps s, json_each(s.results) e "
	  "WHERE " MIG15_LITE_STEP " AND " MIG15_LITE_CAND " AND "
	  "NOT EXISTS (SELECT 1 FROM step_runs r WHERE r.step_id = s.id AND "
	  "json_valid(r.detail) AND json_extract(r.detail, '$.candidate') = "
	  "e.key AND r.output = json_extract(e.value, '$.output')) "
	  "ORDER BY s.id, e.key;"
	  "UPDATE steps SET results = json_patch(results, (SELECT "
	  "json_group_object(e.key, json_object('output', NULL, 'run_id', "
	  "(SELECT max(r.id) FROM step_runs r WHERE r.step_id = steps.id AND "
	  "json_valid(r.detail) AND json_extract(r.detail, '$.candidate') = "
	  "e.key AND r.output = json_extract(e.value, '$.output')))) "
	  "FROM json_each(steps.results) e WHERE " MIG15_LITE_CAND ")) "
	  "WHERE id IN (SELECT s.id FROM steps s, json_each(s.results) e "
	  "WHERE " MIG15_LITE_STEP " AND " MIG15_LITE_CAND ");",
	  "UPDATE steps SET results = json_patch(results, (SELECT "
	  "json_group_object(e.key, json_object('run_id', NULL, 'output', "
	  "(SELECT r.output FROM step_runs r WHERE r.step_id = steps.id AND "
	  "r.id = json_extract(e.value, '$.run_id')))) "
	  "FROM json_each(steps.results) e WHERE " MIG15_LITE_RUN ")) "
	  "WHERE id IN (SELECT s.id FROM steps s, json_each(s.results) e "
	  "WHERE " MIG15_LITE_STEP " AND " MIG15_LITE_RUN ");" },
	/*
	 * The work queue of `task run --queue` and `task-sync worker`
	 * (store/queue.c, docs/workers.md): one row per item, a whole step
	 * or one candidate of a rubric_shell step. PostgreSQL only does the
	 * queueing; SQLite gets the table so that both schemas stay one.
	 */
	{ 16, "work_items",
	  "CREATE TABLE IF NOT EXISTS work_items (id BIGSERIAL PRIMARY KEY, "
	  "batch BIGINT NOT NULL, "
	  "task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, "
	  "step_id BIGINT NOT NULL REFERENCES steps(id) ON DELETE CASCADE, "
	  "candidate TEXT, flags INTEGER NOT NULL DEFAULT 0, "
	  "deps BIGINT[] NOT NULL DEFAULT '{}', "
	  "state TEXT NOT NULL DEFAULT 'queued', owner TEXT, host TEXT, "
	  "epoch BIGINT NOT NULL DEFAULT 0, lease_ms INTEGER, "
	  "attempts INTEGER NOT NULL DEFAULT 0, message TEXT, "
	  "claimed_at TIMESTAMPTZ, heartbeat_at TIMESTAMPTZ, "
	  "finished_at TIMESTAMPTZ, "
	  "created_at TIMESTAMPTZ NOT NULL DEFAULT now());"
	  "CREATE INDEX IF NOT EXISTS work_items_state ON "
	  "work_items(state, id);"
	  "CREATE INDEX IF NOT EXISTS work_items_task ON "
	  "work_items(task_id, batch);"
	  "CREATE SEQUENCE IF NOT EXISTS work_batches;",
	  "DROP TABLE IF EXISTS work_items; "
	  "DROP SEQUENCE IF EXISTS work_batches;",
	  "CREATE TABLE IF NOT EXISTS work_items (id INTEGER PRIMARY KEY "
	  "AUTOINCREMENT, batch INTEGER NOT NULL, "
	  "task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, "
	  "step_id INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE, "
	  "candidate TEXT, flags INTEGER NOT NULL DEFAULT 0, "
	  "deps TEXT NOT NULL DEFAULT '{}', "
	  "state TEXT NOT NULL DEFAULT 'queued', owner TEXT, host TEXT, "
	  "epoch INTEGER NOT NULL DEFAULT 0, lease_ms INTEGER, "
	  "attempts INTEGER NOT NULL DEFAULT 0, message TEXT, "
	  "claimed_at TEXT, heartbeat_at TEXT, finished_at TEXT, "
	  "created_at TEXT NOT NULL DEFAULT " LITE_NOW ");",
	  "DROP TABLE IF EXISTS work_items;" },
	/*
	 * Migration 13's PostgreSQL trigger fired on every UPDATE of
	 * steps, and its plpgsql function is compiled once per
	 * connection: every `step edit`, a new connection each, paid
	 * for it. Fire it only when the results change, as the SQLite
	 * trigger (AFTER UPDATE OF results ... WHEN) always did, so
	 * SQLite has nothing to do.
	 */
	{ 17, "steps_clear_fresh_key_on_results_only",
	  "DROP TRIGGER IF EXISTS steps_clear_fresh_key ON steps;"
	  "CREATE TRIGGER steps_clear_fresh_key BEFORE UPDATE OF results "
	  "ON steps FOR EACH ROW "
	  "WHEN (NEW.results IS DISTINCT FROM OLD.results) "
	  "EXECUTE PROCEDURE steps_clear_fresh_key();",
	  "DROP TRIGGER IF EXISTS steps_clear_fresh_key ON steps;"
	  "CREATE TRIGGER steps_clear_fresh_key BEFORE UPDATE ON steps "
	  "FOR EACH ROW EXECUTE PROCEDURE steps_clear_fresh_key();",
	  "SELECT 1;", "SELECT 1;" },
};

const int migrations_nr = (int)(sizeof(migrations) / sizeof(*migrations));

/* SQLite: the table exists (PostgreSQL: pg_current) */
static int table_exists(struct db *db, const char *name, int *exists)
{
	const char *p[1] = { name };
	struct db_res *r = NULL;

	if (db_query(db,
		     "SELECT 1 FROM sqlite_master WHERE type = 'table' "
		     "AND name = $1",
		     1, p, &r))
		return -1;
	*exists = r->nrows > 0;
	db_res_free(r);
	return 0;
}

static int ensure_version_table(struct db *db)
{
	return db_exec_script(db, "CREATE TABLE IF NOT EXISTS "
				  "schema_migrations (version BIGINT NOT NULL "
				  "PRIMARY KEY, dirty BOOLEAN NOT NULL)");
}

/*
 * PostgreSQL: the version in one round trip, which every command pays
 * for. to_regclass is a catalog cache lookup (no view to plan, as
 * pg_tables is), and query_to_xml runs the query only when the table
 * exists (a query naming a missing table fails at parse time), giving
 * the row as <row ...><version>N</version><dirty>BOOL</dirty></row>;
 * NULL without the table, an empty string without a row.
 */
static int pg_current(struct db *db, int *version, int *dirty)
{
	struct db_res *r = NULL;
	const char *x, *v, *d;

	if (db_query(db,
		     "SELECT CASE WHEN to_regclass('schema_migrations') IS "
		     "NULL THEN NULL ELSE query_to_xml('SELECT version, dirty "
		     "FROM schema_migrations ORDER BY version DESC LIMIT 1', "
		     "false, true, '') END",
		     0, NULL, &r))
		return -1;
	x = db_res_get(r, 0, 0);
	v = x ? strstr(x, "<version>") : NULL;
	d = x ? strstr(x, "<dirty>") : NULL;
	if (v)
		*version = (int)strtol(v + strlen("<version>"), NULL, 10);
	if (d)
		*dirty = !strncmp(d + strlen("<dirty>"), "true<", 5);
	db_res_free(r);
	return 0;
}

int migrations_current(struct db *db, int *version, int *dirty)
{
	struct db_res *r = NULL;
	int exists;
	const char *v, *d;

	*version = 0;
	*dirty = 0;
	if (db->kind == DB_POSTGRES)
		return pg_current(db, version, dirty);
	if (table_exists(db, "schema_migrations", &exists))
		return -1;
	if (!exists)
		return 0;
	if (db_query(db,
		     "SELECT version, dirty FROM schema_migrations "
		     "ORDER BY version DESC LIMIT 1",
		     0, NULL, &r))
		return -1;
	v = db_res_get(r, 0, 0);
	d = db_res_get(r, 0, 1);
	if (v)
		*version = (int)strtol(v, NULL, 10);
	if (d)
		*dirty = !strcmp(d, "t") || !strcmp(d, "1") ||
			 !strcmp(d, "true");
	db_res_free(r);
	return 0;
}

static int set_version(struct db *db, int version, int dirty)
{
	char vbuf[32];
	const char *p[2] = { vbuf, dirty ? "true" : "false" };
	snprintf(vbuf, sizeof(vbuf), "%d", version);
	if (db_exec(db, "DELETE FROM schema_migrations", 0, NULL, NULL))
		return -1;
	if (version <= 0)
		return 0;
	if (db->kind == DB_SQLITE)
		p[1] = dirty ? "1" : "0";
	return db_exec(db,
		       "INSERT INTO schema_migrations (version, dirty) "
		       "VALUES ($1, $2)",
		       2, p, NULL);
}

static int check_clean(int version, int dirty)
{
	if (dirty)
		return error("database is dirty at migration version %d: fix "
			     "the schema by hand, then run 'task-sync migrate "
			     "force VERSION'",
			     version);
	return 0;
}

/* run one migration and record the new version, in one transaction */
static int apply(struct db *db, const struct migration *m, int up)
{
	const char *sql;
	if (db->kind == DB_SQLITE)
		sql = up ? (m->lite_up ? m->lite_up : m->pg_up)
			 : (m->lite_down ? m->lite_down : m->pg_down);
	else
		sql = up ? m->pg_up : m->pg_down;

	if (db_begin(db))
		return -1;
	if (db_exec_script(db, sql) ||
	    set_version(db, up ? m->version : m->version - 1, 0)) {
		db_rollback(db);
		return error("migration %d (%s) %s failed", m->version, m->name,
			     up ? "up" : "down");
	}
	return db_commit(db);
}

int migrations_up(struct db *db, int *applied)
{
	int version, dirty, i, n = 0;

	if (applied)
		*applied = 0;
	if (ensure_version_table(db) ||
	    migrations_current(db, &version, &dirty) ||
	    check_clean(version, dirty))
		return -1;
	if (version > MIGRATIONS_LATEST)
		return error("database schema version %d is newer than this "
			     "task-sync knows (%d)",
			     version, MIGRATIONS_LATEST);
	for (i = 0; i < migrations_nr; i++) {
		if (migrations[i].version <= version)
			continue;
		if (apply(db, &migrations[i], 1))
			return -1;
		n++;
	}
	if (applied)
		*applied = n;
	return 0;
}

int migrations_down(struct db *db, int steps, int *reverted)
{
	int version, dirty, i, n = 0;

	if (reverted)
		*reverted = 0;
	if (ensure_version_table(db) ||
	    migrations_current(db, &version, &dirty) ||
	    check_clean(version, dirty))
		return -1;
	for (i = migrations_nr - 1; i >= 0; i--) {
		if (migrations[i].version > version)
			continue;
		if (steps > 0 && n >= steps)
			break;
		if (apply(db, &migrations[i], 0))
			return -1;
		n++;
	}
	if (reverted)
		*reverted = n;
	return 0;
}

int migrations_force(struct db *db, int version)
{
	if (version < 0 || version > MIGRATIONS_LATEST)
		return error("invalid migration version %d: expected 0..%d",
			     version, MIGRATIONS_LATEST);
	if (ensure_version_table(db) || db_begin(db))
		return -1;
	if (set_version(db, version, 0)) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db);
}

int migrations_reset(struct db *db)
{
	static const char *const pg_drop =
		"DROP TABLE IF EXISTS work_items, step_runs, steps, tasks, "
		"websocket_updates, rubric_shell_output_history, "
		"database_identity, schema_migrations CASCADE;"
		"DROP FUNCTION IF EXISTS steps_clear_fresh_key();"
		"DROP SEQUENCE IF EXISTS work_batches;";
	static const char *const lite_drop =
		"DROP TABLE IF EXISTS work_items;"
		"DROP TABLE IF EXISTS step_runs; DROP TABLE IF EXISTS steps;"
		"DROP TABLE IF EXISTS tasks;"
		"DROP TABLE IF EXISTS websocket_updates;"
		"DROP TABLE IF EXISTS rubric_shell_output_history;"
		"DROP TABLE IF EXISTS database_identity;"
		"DROP TABLE IF EXISTS schema_migrations;";

	if (db_begin(db))
		return -1;
	if (db_exec_script(db, db->kind == DB_POSTGRES ? pg_drop : lite_drop)) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db))
		return -1;
	return migrations_up(db, NULL);
}
