#include "store/store.h"
#include "os/error.h"
#include "core/grade.h"
#include "core/jsonutil.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "store/db.h"
#include "store/migrations.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct store {
	struct db *db;
	char *identity; /* store_identity's cache */
};

#define TASK_COLS                                              \
	"id, name, status, local_path, settings, created_at, " \
	"updated_at"
/* a step with its task's local_path and status (see step_from_row) */
#define STEP_SELECT                                               \
	"SELECT s.id, s.task_id, s.title, s.settings, "           \
	"s.results, s.generated_by, s.created_at, s.updated_at, " \
	"t.local_path, t.status, s.fresh_key, s.output_digest "   \
	"FROM steps s JOIN tasks t ON t.id = s.task_id "

static void fmt_id(char buf[32], long long id)
{
	snprintf(buf, 32, "%lld", id);
}

static char *dupnull(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

char *store_format_ts(const char *db_ts)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n, k;
	const char *rest;
	if (!db_ts)
		return xstrdup("");
	n = strlen(db_ts);
	/* not "YYYY-MM-DD HH:MM:SS...": as it is */
	if (n < 19 || (db_ts[10] != ' ' && db_ts[10] != 'T'))
		return xstrdup(db_ts);
	strbuf_add(&sb, db_ts, 10);
	strbuf_addch(&sb, 'T');
	strbuf_add(&sb, db_ts + 11, 8);
	/*
	 * milliseconds, always three digits: PostgreSQL drops trailing
	 * zeros (".04") and keeps microseconds, SQLite writes milliseconds
	 */
	rest = db_ts + 19;
	k = *rest == '.' ? strspn(rest + 1, "0123456789") : 0;
	strbuf_addch(&sb, '.');
	strbuf_add(&sb, rest + 1, k < 3 ? k : 3);
	for (; k < 3; k++)
		strbuf_addch(&sb, '0');
	if (*rest == '.')
		rest += 1 + strspn(rest + 1, "0123456789");
	strbuf_addstr(&sb, !strcmp(rest, "+00") ? "Z" : rest);
	return strbuf_detach(&sb, NULL);
}

/* mkdir -p for the embedded database's directory */
static int make_parent_dirs(const char *path)
{
	char *dir = xstrdup(path), *p;
	int ret = 0;
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			ret = error("cannot create directory '%s': %s", dir,
				    strerror(errno));
			break;
		}
		*p = '/';
	}
	free(dir);
	return ret;
}

static int open_sqlite(const struct config *cfg, unsigned flags, struct db **db)
{
	const char *path = cfg->sqlite_path;
	int created = 0, ret;

	if (cfg->sqlite_embedded) {
		if (access(path, F_OK) < 0) {
			if (make_parent_dirs(path))
				return -1;
			created = 1;
		}
	}
	ret = db_open_sqlite(path,
			     DB_SQLITE_CREATE | (flags & STORE_READ_ONLY
							 ? DB_SQLITE_READ_OK
							 : 0),
			     db);
	if (ret)
		return ret;
	if (created)
		note("no database configured: using the embedded SQLite "
		     "database '%s'",
		     path);
	if (flags & STORE_NO_MIGRATE)
		return 0;
	/* SQLite migrates itself on first use */
	return migrations_up(*db, NULL);
}

static int check_schema(struct db *db)
{
	int version, dirty;
	if (migrations_current(db, &version, &dirty))
		return -1;
	if (dirty)
		return error("database schema is dirty at version %d: fix it, "
			     "then run 'task-sync migrate force %d'",
			     version, version);
	if (version < MIGRATIONS_LATEST)
		return error("database schema is at version %d but this "
			     "task-sync needs version %d: run 'task-sync "
			     "migrate up'",
			     version, MIGRATIONS_LATEST);
	if (version > MIGRATIONS_LATEST)
		return error("database schema version %d is newer than this "
			     "task-sync knows (%d): upgrade task-sync",
			     version, MIGRATIONS_LATEST);
	return 0;
}

int store_open(const struct config *cfg, unsigned flags, struct store **out)
{
	struct db *db = NULL;
	int ret;

	*out = NULL;
	db_set_timeout(cfg->db_timeout_seconds);
	if (cfg->db_kind == CONFIG_DB_SQLITE) {
		ret = open_sqlite(cfg, flags, &db);
	} else {
		ret = db_open_postgres(cfg->db_url, cfg->db_url_masked, &db);
		if (!ret && !(flags & STORE_NO_MIGRATE))
			ret = check_schema(db);
	}
	if (ret) {
		db_close(db);
		return TS_EFAIL;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->db = db;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	db_close(st->db);
	free(st->identity);
	free(st);
}

struct db *store_db(struct store *st)
{
	return st->db;
}

const char *store_backend_name(const struct store *st)
{
	return st->db->kind == DB_POSTGRES ? "postgres" : "sqlite";
}

#define IDENTITY_LEN 32

/* the stored identity (owned), or NULL when there is none yet */
static int identity_read(struct store *st, char **out)
{
	struct db_res *r = NULL;
	const char *v;

	*out = NULL;
	if (db_query(st->db,
		     "SELECT identity FROM database_identity "
		     "WHERE id = 1",
		     0, NULL, &r))
		return TS_EFAIL;
	v = db_res_get(r, 0, 0);
	if (v && (strlen(v) != IDENTITY_LEN ||
		  strspn(v, "0123456789abcdef") != IDENTITY_LEN)) {
		error("the database identity '%s' in %s (table "
		      "database_identity) is not %d lowercase hex digits",
		      v, st->db->label, IDENTITY_LEN);
		db_res_free(r);
		return TS_EFAIL;
	}
	if (v)
		*out = xstrdup(v);
	db_res_free(r);
	return 0;
}

int store_identity(struct store *st, int create, const char **out)
{
	char fresh[IDENTITY_LEN + 1];
	const char *p[1] = { fresh };
	int version, dirty;

	*out = NULL;
	if (st->identity) {
		*out = st->identity;
		return 0;
	}
	if (!create) {
		/* a database not migrated this far has none */
		if (migrations_current(st->db, &version, &dirty))
			return TS_EFAIL;
		if (version < 14)
			return 0;
	}
	if (identity_read(st, &st->identity))
		return TS_EFAIL;
	if (!st->identity && create) {
		/* the first of two racing processes wins; both read it */
		grade_nonce(fresh);
		if (db_exec(st->db,
			    "INSERT INTO database_identity (id, "
			    "identity) VALUES (1, $1) ON CONFLICT DO NOTHING",
			    1, p, NULL) ||
		    identity_read(st, &st->identity))
			return TS_EFAIL;
		if (!st->identity) {
			error("the database identity of %s could not be "
			      "stored",
			      st->db->label);
			return TS_EFAIL;
		}
	}
	*out = st->identity;
	return 0;
}

int store_begin(struct store *st)
{
	return db_begin(st->db) ? TS_EFAIL : 0;
}

int store_commit(struct store *st)
{
	return db_commit(st->db) ? TS_EFAIL : 0;
}

void store_rollback(struct store *st)
{
	db_rollback(st->db);
}

void task_release(struct task *t)
{
	free(t->name);
	free(t->status);
	free(t->local_path);
	json_decref(t->settings);
	free(t->created_at);
	free(t->updated_at);
	free(t->unreadable);
	memset(t, 0, sizeof(*t));
}

void step_release(struct step *s)
{
	free(s->title);
	json_decref(s->settings);
	json_decref(s->results);
	free(s->created_at);
	free(s->updated_at);
	free(s->task_local_path);
	free(s->task_status);
	free(s->fresh_key);
	free(s->output_digest);
	free(s->unreadable);
	free(s->settings_text);
	memset(s, 0, sizeof(*s));
}

const char *store_step_settings_sha(struct step *s)
{
	if (!s->settings_sha[0] && s->settings_text)
		hash_string(s->settings_text, strlen(s->settings_text),
			    s->settings_sha);
	return s->settings_sha;
}

void task_list_free(struct task *v, size_t nr)
{
	size_t i;
	for (i = 0; i < nr; i++)
		task_release(&v[i]);
	free(v);
}

void step_list_free(struct step *v, size_t nr)
{
	size_t i;
	for (i = 0; i < nr; i++)
		step_release(&v[i]);
	free(v);
}

static int unreadable_rows, quiet_unreadable_steps;

int store_unreadable_rows(void)
{
	return unreadable_rows;
}

void store_quiet_unreadable_steps(int on)
{
	quiet_unreadable_steps = on;
}

/*
 * Stored JSON that cannot be read is read as NULL, counted (the command
 * then exits 3, store_unreadable_rows), and why is added to *unreadable
 * ("its stored settings cannot be read (...)").
 */
static json_t *load_json(const char *text, const char *what, char **unreadable)
{
	json_t *j;
	struct strbuf why = STRBUF_INIT;
	if (!text)
		return NULL;
	j = json_load_stored(text, &why);
	if (!j)
		unreadable_rows++;
	if (!j && !*unreadable)
		*unreadable = xstrfmt("its stored %s cannot be read (%s)", what,
				      why.buf);
	strbuf_release(&why);
	return j;
}

static void task_from_row(struct task *t, const struct db_res *r, int i)
{
	t->id = strtoll(db_res_get(r, i, 0), NULL, 10);
	t->name = xstrdup(db_res_get(r, i, 1));
	t->status = xstrdup(db_res_get(r, i, 2));
	t->local_path = dupnull(db_res_get(r, i, 3));
	t->settings =
		load_json(db_res_get(r, i, 4), "settings", &t->unreadable);
	t->created_at = store_format_ts(db_res_get(r, i, 5));
	t->updated_at = store_format_ts(db_res_get(r, i, 6));
}

/* a row of STEP_SELECT */
static void step_from_row(struct step *s, const struct db_res *r, int i)
{
	const char *gb = db_res_get(r, i, 5);
	const char *settings = db_res_get(r, i, 3);
	s->id = strtoll(db_res_get(r, i, 0), NULL, 10);
	s->task_id = strtoll(db_res_get(r, i, 1), NULL, 10);
	s->title = xstrdup(db_res_get(r, i, 2));
	s->settings = load_json(settings, "settings", &s->unreadable);
	if (!s->settings)
		s->settings = json_object(); /* settings_text stays NULL */
	else
		s->settings_text = xstrdup(settings);
	s->results = load_json(db_res_get(r, i, 4), "results", &s->unreadable);
	s->generated_by = gb ? strtoll(gb, NULL, 10) : 0;
	s->created_at = store_format_ts(db_res_get(r, i, 6));
	s->updated_at = store_format_ts(db_res_get(r, i, 7));
	s->task_local_path = dupnull(db_res_get(r, i, 8));
	s->task_status = dupnull(db_res_get(r, i, 9));
	s->fresh_key = dupnull(db_res_get(r, i, 10));
	s->output_digest = dupnull(db_res_get(r, i, 11));
}

static int not_found(const char *what, long long id)
{
	return error_code(TS_ENOTFOUND, "no %s found with ID %lld", what, id);
}

int store_task_create(struct store *st, const char *name, const char *status,
		      const char *local_path, long long *id)
{
	const char *p[3] = { name, status, local_path };
	struct db_res *r = NULL;
	if (db_query(st->db,
		     "INSERT INTO tasks (name, status, local_path, "
		     "created_at, updated_at) VALUES ($1, $2, $3, "
		     "now(), now()) RETURNING id",
		     3, p, &r))
		return TS_EFAIL;
	*id = strtoll(db_res_get(r, 0, 0), NULL, 10);
	db_res_free(r);
	return 0;
}

static int task_select(struct store *st, long long id, struct task *out,
		       int for_update)
{
	char idbuf[32];
	const char *p[1] = { idbuf };
	struct db_res *r = NULL;
	int ret;

	fmt_id(idbuf, id);
	if (db_query(st->db,
		     for_update
			     ? "SELECT " TASK_COLS " FROM tasks WHERE id = $1"
			       " FOR UPDATE"
			     : "SELECT " TASK_COLS " FROM tasks WHERE id = $1",
		     1, p, &r))
		return TS_EFAIL;
	if (!r->nrows) {
		ret = not_found("task", id);
	} else {
		task_from_row(out, r, 0);
		if (out->unreadable && !for_update)
			error("task %lld: %s", id, out->unreadable);
		ret = 0;
	}
	db_res_free(r);
	return ret;
}

int store_task_get(struct store *st, long long id, struct task *out)
{
	return task_select(st, id, out, 0);
}

int store_task_list(struct store *st, struct task **out, size_t *nr)
{
	struct db_res *r = NULL;
	int i;

	*out = NULL;
	*nr = 0;
	if (db_query(st->db, "SELECT " TASK_COLS " FROM tasks ORDER BY id", 0,
		     NULL, &r))
		return TS_EFAIL;
	*out = xcalloc((size_t)r->nrows + 1, sizeof(**out));
	for (i = 0; i < r->nrows; i++) {
		task_from_row(&(*out)[i], r, i);
		if ((*out)[i].unreadable)
			error("task %lld: %s", (*out)[i].id,
			      (*out)[i].unreadable);
	}
	*nr = (size_t)r->nrows;
	db_res_free(r);
	return 0;
}

static int parse_id(const char *s, long long *id)
{
	char *end;
	long long v;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return -1;
	*id = v;
	return 0;
}

int store_task_resolve(struct store *st, const char *ref, long long *id)
{
	const char *p[1] = { ref };
	struct db_res *r = NULL;
	int ret = 0;

	if (!parse_id(ref, id)) {
		struct task t = { 0 };
		ret = store_task_get(st, *id, &t);
		task_release(&t);
		return ret;
	}
	if (db_query(st->db,
		     "SELECT id FROM tasks WHERE name = $1 ORDER BY "
		     "id",
		     1, p, &r))
		return TS_EFAIL;
	if (!r->nrows) {
		ret = error_code(TS_ENOTFOUND, "no task found with name '%s'",
				 ref);
	} else if (r->nrows > 1) {
		ret = error_code(TS_EUSAGE,
				 "task name '%s' is ambiguous: it "
				 "matches tasks %s and %s; use the ID",
				 ref, db_res_get(r, 0, 0), db_res_get(r, 1, 0));
	} else {
		*id = strtoll(db_res_get(r, 0, 0), NULL, 10);
	}
	db_res_free(r);
	return ret;
}

static int delete_by_id(struct store *st, const char *sql, const char *what,
			long long id)
{
	char idbuf[32];
	const char *p[1] = { idbuf };
	long long changes = 0;

	fmt_id(idbuf, id);
	if (db_exec(st->db, sql, 1, p, &changes))
		return TS_EFAIL;
	return changes ? 0 : not_found(what, id);
}

int store_task_delete(struct store *st, long long id)
{
	return delete_by_id(st, "DELETE FROM tasks WHERE id = $1", "task", id);
}

static int write_task(struct store *st, const struct task *t)
{
	char idbuf[32];
	struct strbuf why = STRBUF_INIT;
	char *settings = t->settings ? json_compact_stored(t->settings, &why)
				     : NULL;
	const char *p[5] = { idbuf, t->name, t->status, t->local_path,
			     settings };
	int ret;

	if (why.len) {
		ret = error_code(TS_EFAIL,
				 "task %lld: its new settings could "
				 "not be read back (%s); nothing changed",
				 t->id, why.buf);
		strbuf_release(&why);
		return ret;
	}
	fmt_id(idbuf, t->id);
	ret = db_exec(st->db,
		      "UPDATE tasks SET name = $2, status = $3, "
		      "local_path = $4, settings = $5, updated_at = "
		      "now() WHERE id = $1",
		      5, p, NULL);
	free(settings);
	return ret ? TS_EFAIL : 0;
}

/* commit the transaction an edit began when ret is 0, else roll back */
static int end_own_tx(struct store *st, int ret)
{
	if (ret) {
		store_rollback(st);
		return ret;
	}
	return store_commit(st);
}

int store_task_edit(struct store *st, long long id, task_edit_fn fn, void *data)
{
	struct task t = { 0 };
	int ret, own_tx = !st->db->in_tx;

	if (own_tx && store_begin(st))
		return TS_EFAIL;
	ret = task_select(st, id, &t, 1);
	if (!ret && t.unreadable)
		ret = error_code(TS_EFAIL, "task %lld: %s; nothing changed", id,
				 t.unreadable);
	if (!ret)
		ret = fn(&t, data);
	if (!ret)
		ret = write_task(st, &t);
	if (own_tx)
		ret = end_own_tx(st, ret);
	task_release(&t);
	return ret;
}

int store_step_create(struct store *st, long long task_id, const char *title,
		      json_t *settings, long long generated_by, long long *id)
{
	char tid[32], gb[32];
	struct strbuf why = STRBUF_INIT;
	char *text = json_compact_stored(settings, &why);
	const char *p[4] = { tid, title, text, generated_by ? gb : NULL };
	struct db_res *r = NULL;
	int ret;

	if (!text) {
		ret = error_code(TS_EFAIL,
				 "step '%s' of task %lld: its "
				 "settings could not be read back (%s); "
				 "nothing created",
				 title, task_id, why.buf);
		strbuf_release(&why);
		return ret;
	}
	fmt_id(tid, task_id);
	fmt_id(gb, generated_by);
	ret = db_query(st->db,
		       "INSERT INTO steps (task_id, title, settings, "
		       "generated_by, created_at, updated_at) VALUES "
		       "($1, $2, $3, $4, now(), now()) RETURNING id",
		       4, p, &r);
	free(text);
	if (ret)
		return TS_EFAIL;
	*id = strtoll(db_res_get(r, 0, 0), NULL, 10);
	db_res_free(r);
	return 0;
}

/* step_select's for_update for an edit that takes no lock */
#define SELECT_FOR_EDIT 2

/*
 * for_update: 1 locks the row, SELECT_FOR_EDIT does not; either way an
 * unreadable row is not reported here (the edit says it). quiet: a
 * missing step is not reported either (TS_ENOTFOUND).
 */
static int step_select(struct store *st, long long id, struct step *out,
		       int for_update, int quiet)
{
	char idbuf[32];
	const char *p[1] = { idbuf };
	struct db_res *r = NULL;
	int ret;

	fmt_id(idbuf, id);
	if (db_query(st->db,
		     for_update == 1 ? STEP_SELECT
			     "WHERE s.id = $1 FOR UPDATE OF s"
				     : STEP_SELECT "WHERE s.id = $1",
		     1, p, &r))
		return TS_EFAIL;
	if (!r->nrows) {
		ret = quiet ? TS_ENOTFOUND : not_found("step", id);
	} else {
		step_from_row(out, r, 0);
		/* an edit says it in its own words */
		if (out->unreadable && !for_update && !quiet_unreadable_steps)
			error("step %lld: %s", id, out->unreadable);
		ret = 0;
	}
	db_res_free(r);
	return ret;
}

int store_step_get(struct store *st, long long id, struct step *out)
{
	return step_select(st, id, out, 0, 0);
}

int store_step_find(struct store *st, long long id, struct step *out)
{
	return step_select(st, id, out, 0, 1);
}

/* the steps a query of STEP_SELECT returns, each noted when unreadable */
static int steps_from_query(struct store *st, const char *sql, int nparams,
			    const char *const *params, struct step **out,
			    size_t *nr)
{
	struct db_res *r = NULL;
	int i;

	*out = NULL;
	*nr = 0;
	if (db_query(st->db, sql, nparams, params, &r))
		return TS_EFAIL;
	*out = xcalloc((size_t)r->nrows + 1, sizeof(**out));
	for (i = 0; i < r->nrows; i++) {
		step_from_row(&(*out)[i], r, i);
		if ((*out)[i].unreadable && !quiet_unreadable_steps)
			error("step %lld: %s", (*out)[i].id,
			      (*out)[i].unreadable);
	}
	*nr = (size_t)r->nrows;
	db_res_free(r);
	return 0;
}

int store_step_list(struct store *st, long long task_id, struct step **out,
		    size_t *nr)
{
	char idbuf[32];
	const char *p[1] = { idbuf };

	if (!task_id)
		return steps_from_query(st, STEP_SELECT "ORDER BY s.id", 0,
					NULL, out, nr);
	fmt_id(idbuf, task_id);
	return steps_from_query(st,
				STEP_SELECT "WHERE s.task_id = $1 "
					    "ORDER BY s.id",
				1, p, out, nr);
}

int store_step_delete(struct store *st, long long id)
{
	return delete_by_id(st, "DELETE FROM steps WHERE id = $1", "step", id);
}

int store_step_copy(struct store *st, long long id, long long to_task,
		    long long *new_id)
{
	struct step s = { 0 };
	struct task t = { 0 };
	int ret;

	if (store_begin(st))
		return TS_EFAIL;
	ret = task_select(st, to_task, &t, 0);
	if (!ret)
		ret = step_select(st, id, &s, 1, 0);
	/* a copy of settings that could not be read would be {} */
	if (!ret && s.unreadable && !s.settings_text)
		ret = error_code(TS_EFAIL, "step %lld: %s; nothing copied", id,
				 s.unreadable);
	if (!ret)
		ret = store_step_create(st, to_task, s.title, s.settings, 0,
					new_id);
	if (!ret)
		ret = store_commit(st);
	else
		store_rollback(st);
	step_release(&s);
	task_release(&t);
	return ret;
}

/*
 * Every write of a step's settings or results goes through here: the
 * output digest follows the results, and fresh_key is what the edit
 * left in s->fresh_key (NULL unless the engine recorded a fresh run).
 * Settings the edit left as they were (before: their text when read)
 * are not written again, so their stored text, which the engine's
 * fresh_key hashes, stays as it is.
 */
static int write_step(struct store *st, const struct step *s,
		      const char *before)
{
	char idbuf[32], digest[SHA256_HEX_LEN + 1];
	struct strbuf why = STRBUF_INIT;
	char *settings = json_compact_stored(s->settings, &why);
	char *results = s->results && settings
				? json_compact_stored(s->results, &why)
				: NULL;
	const char *p[6] = { idbuf,
			     s->title,
			     results,
			     s->fresh_key,
			     s->results ? digest : NULL,
			     settings };
	int ret, same;

	if (why.len) {
		ret = error_code(TS_EFAIL,
				 "step %lld: its new %s could not be "
				 "read back (%s); nothing changed",
				 s->id, settings ? "results" : "settings",
				 why.buf);
		strbuf_release(&why);
		free(settings);
		return ret;
	}
	same = before && !strcmp(before, settings);
	fmt_id(idbuf, s->id);
	if (s->results)
		hash_outputs(s->results, digest);
	ret = db_exec(
		st->db,
		same ? "UPDATE steps SET title = $2, results = $3, fresh_key = $4, "
		       "output_digest = $5, updated_at = now() WHERE id = $1"
		     : "UPDATE steps SET title = $2, results = $3, fresh_key = $4, "
		       "output_digest = $5, settings = $6, updated_at = now() "
		       "WHERE id = $1",
		same ? 5 : 6, p, NULL);
	free(settings);
	free(results);
	return ret ? TS_EFAIL : 0;
}

int store_step_edit(struct store *st, long long id, step_edit_fn fn, void *data)
{
	struct step s = { 0 };
	char *before = NULL;
	int ret, own_tx = !st->db->in_tx;

	if (own_tx && store_begin(st))
		return TS_EFAIL;
	ret = step_select(st, id, &s, 1, 0);
	if (!ret && s.unreadable)
		ret = error_code(TS_EFAIL, "step %lld: %s; nothing changed", id,
				 s.unreadable);
	if (!ret) {
		/* settings that did not parse are replaced: no "before" */
		before = s.settings_text ? json_compact(s.settings) : NULL;
		/* any edit clears the no-change key unless fn sets it */
		free(s.fresh_key);
		s.fresh_key = NULL;
		ret = fn(&s, data);
	}
	if (!ret)
		ret = write_step(st, &s, before);
	if (own_tx)
		ret = end_own_tx(st, ret);
	free(before);
	step_release(&s);
	return ret;
}

/*
 * One UPDATE of s's title and settings (only when they differ from
 * before, their text when read), guarded on the title and settings text
 * that were read; *done is 1 when the row was written, 0 when it no
 * longer held them (or is gone).
 */
static int write_step_settings(struct store *st, const struct step *s,
			       const char *old_title, const char *old_text,
			       const char *before, int *done)
{
	char idbuf[32];
	struct strbuf why = STRBUF_INIT;
	char *settings = json_compact_stored(s->settings, &why);
	const char *p[5] = { idbuf, old_title, old_text, s->title, settings };
	long long changes = 0;
	int ret;

	if (why.len) {
		ret = error_code(TS_EFAIL,
				 "step %lld: its new settings could not be "
				 "read back (%s); nothing changed",
				 s->id, why.buf);
		strbuf_release(&why);
		return ret;
	}
	fmt_id(idbuf, s->id);
	ret = db_exec(
		st->db,
		!strcmp(before, settings)
			? "UPDATE steps SET title = $4, fresh_key = NULL, "
			  "updated_at = now() WHERE id = $1 AND "
			  "title = $2 AND settings = $3"
			: "UPDATE steps SET title = $4, settings = $5, "
			  "fresh_key = NULL, updated_at = now() WHERE "
			  "id = $1 AND title = $2 AND settings = $3",
		!strcmp(before, settings) ? 4 : 5, p, &changes);
	free(settings);
	*done = changes > 0;
	return ret ? TS_EFAIL : 0;
}

int store_step_edit_settings(struct store *st, long long id, step_edit_fn fn,
			     void *data)
{
	struct step s = { 0 };
	char *old_title, *before;
	int done = 0, ret;

	if (st->db->in_tx)
		return store_step_edit(st, id, fn, data);
	ret = step_select(st, id, &s, SELECT_FOR_EDIT, 1);
	if (ret == TS_ENOTFOUND)
		return not_found("step", id);
	if (ret)
		return ret;
	if (s.unreadable) {
		ret = error_code(TS_EFAIL, "step %lld: %s; nothing changed", id,
				 s.unreadable);
		step_release(&s);
		return ret;
	}
	old_title = xstrdup(s.title);
	before = json_compact(s.settings);
	ret = fn(&s, data);
	if (!ret)
		ret = write_step_settings(st, &s, old_title, s.settings_text,
					  before, &done);
	free(old_title);
	free(before);
	step_release(&s);
	/* another write came between: again, the row locked this time */
	if (!ret && !done)
		ret = store_step_edit(st, id, fn, data);
	return ret;
}

/* ---- step runs ---- */

static char *epoch_ms_to_ts(long long ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	return xstrfmt("%04d-%02d-%02d %02d:%02d:%02d.%03lld+00",
		       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		       tm.tm_min, tm.tm_sec, ms % 1000);
}

int store_run_add(struct store *st, long long step_id, long long started_ms,
		  long long duration_ms, const char *status, int exit_code,
		  const char *output, json_t *detail, long long *run_id)
{
	char sid[32], ec[32], dur[32];
	char *started = epoch_ms_to_ts(started_ms);
	char *finished = epoch_ms_to_ts(started_ms + duration_ms);
	struct strbuf why = STRBUF_INIT;
	char *det = detail ? json_compact_stored(detail, &why) : NULL;
	const char *p[8] = {
		sid, started, finished, status, exit_code >= 0 ? ec : NULL,
		dur, output,  det
	};
	struct db_res *r = NULL;
	int ret;

	if (why.len) {
		ret = error_code(TS_EFAIL,
				 "step %lld: the detail of its run "
				 "could not be read back (%s)",
				 step_id, why.buf);
		strbuf_release(&why);
		free(started);
		free(finished);
		return ret;
	}
	fmt_id(sid, step_id);
	snprintf(ec, sizeof(ec), "%d", exit_code);
	snprintf(dur, sizeof(dur), "%lld", duration_ms);
	ret = db_query(st->db,
		       "INSERT INTO step_runs (step_id, started_at, "
		       "finished_at, status, exit_code, duration_ms, "
		       "output, detail) VALUES ($1, $2, $3, $4, $5, $6, "
		       "$7, $8) RETURNING id",
		       8, p, &r);
	if (!ret && run_id)
		*run_id = strtoll(db_res_get(r, 0, 0), NULL, 10);
	db_res_free(r);
	free(started);
	free(finished);
	free(det);
	return ret ? TS_EFAIL : 0;
}

void step_run_list_free(struct step_run *v, size_t nr)
{
	size_t i;
	for (i = 0; v && i < nr; i++) {
		free(v[i].started_at);
		free(v[i].finished_at);
		free(v[i].status);
		free(v[i].output);
		json_decref(v[i].detail);
	}
	free(v);
}

static void run_from_row(struct step_run *r, const struct db_res *res, int i)
{
	char *why = NULL;
	const char *ec = db_res_get(res, i, 5), *d = db_res_get(res, i, 6);
	r->id = strtoll(db_res_get(res, i, 0), NULL, 10);
	r->step_id = strtoll(db_res_get(res, i, 1), NULL, 10);
	r->started_at = store_format_ts(db_res_get(res, i, 2));
	r->finished_at = store_format_ts(db_res_get(res, i, 3));
	r->status = xstrdup(db_res_get(res, i, 4));
	r->exit_code = ec ? (int)strtol(ec, NULL, 10) : -1;
	r->duration_ms = d ? strtoll(d, NULL, 10) : 0;
	r->detail = load_json(db_res_get(res, i, 7), "detail", &why);
	if (why)
		error("run %lld of step %lld: %s", r->id, r->step_id, why);
	free(why);
	r->output = dupnull(db_res_get(res, i, 8));
}

#define RUN_COLS                                                    \
	"id, step_id, started_at, finished_at, status, exit_code, " \
	"duration_ms, detail"

int store_run_list(struct store *st, long long step_id, int with_output,
		   struct step_run **out, size_t *nr)
{
	char sid[32];
	const char *p[1] = { sid };
	struct db_res *r = NULL;
	int i;

	*out = NULL;
	*nr = 0;
	fmt_id(sid, step_id);
	if (db_query(st->db,
		     with_output ? "SELECT " RUN_COLS ", output FROM step_runs "
				   "WHERE step_id = $1 ORDER BY id DESC"
				 : "SELECT " RUN_COLS " FROM step_runs WHERE "
				   "step_id = $1 ORDER BY id DESC",
		     1, p, &r))
		return TS_EFAIL;
	*out = xcalloc((size_t)r->nrows + 1, sizeof(**out));
	for (i = 0; i < r->nrows; i++)
		run_from_row(&(*out)[i], r, i);
	*nr = (size_t)r->nrows;
	db_res_free(r);
	return 0;
}

int store_run_get(struct store *st, long long step_id, long long run_id,
		  struct step_run *out)
{
	char sid[32], rid[32];
	const char *p[2] = { sid, rid };
	struct db_res *r = NULL;
	int ret = 0;

	fmt_id(sid, step_id);
	fmt_id(rid, run_id);
	if (db_query(st->db,
		     run_id ? "SELECT " RUN_COLS ", output FROM step_runs "
			      "WHERE step_id = $1 AND id = $2"
			    : "SELECT " RUN_COLS ", output FROM step_runs "
			      "WHERE step_id = $1 ORDER BY id DESC LIMIT 1",
		     run_id ? 2 : 1, p, &r))
		return TS_EFAIL;
	if (!r->nrows)
		ret = run_id ? error_code(TS_ENOTFOUND,
					  "step %lld has no run "
					  "%lld",
					  step_id, run_id)
			     : error_code(TS_ENOTFOUND,
					  "step %lld has not run "
					  "yet",
					  step_id);
	else
		run_from_row(out, r, 0);
	db_res_free(r);
	return ret;
}

int store_run_output(struct store *st, long long step_id, long long run_id,
		     char **output, int *found)
{
	char sid[32], rid[32];
	const char *p[2] = { sid, rid };
	struct db_res *r = NULL;

	*output = NULL;
	*found = 0;
	fmt_id(sid, step_id);
	fmt_id(rid, run_id);
	if (db_query(st->db,
		     "SELECT output FROM step_runs WHERE step_id = $1 "
		     "AND id = $2",
		     2, p, &r))
		return TS_EFAIL;
	if (r->nrows) {
		*found = 1;
		*output = dupnull(db_res_get(r, 0, 0));
	}
	db_res_free(r);
	return 0;
}

int store_results_add_output(struct store *st, long long step_id,
			     json_t *results)
{
	const char *key;
	json_t *e;

	json_object_foreach(results, key, e)
	{
		const json_t *rid = json_object_get(e, "run_id");
		char *out = NULL;
		int found;

		if (!json_is_object(e) || !json_is_integer(rid) ||
		    json_object_get(e, "output"))
			continue;
		if (store_run_output(st, step_id, json_integer_value(rid), &out,
				     &found))
			return TS_EFAIL;
		if (out)
			json_object_set_new(e, "output", json_string(out));
		free(out);
	}
	return 0;
}

/* "a, b, c": the run IDs results refer to, at the top and one level down */
static void results_run_ids(const json_t *results, struct strbuf *ids)
{
	const char *key;
	json_t *e;

	if (json_is_integer(json_object_get(results, "run_id")))
		strbuf_addf(ids, "%s%lld", ids->len ? ", " : "",
			    (long long)json_integer_value(
				    json_object_get(results, "run_id")));
	json_object_foreach((json_t *)results, key, e)
	{
		const json_t *rid = json_object_get(e, "run_id");
		if (json_is_object(e) && json_is_integer(rid))
			strbuf_addf(ids, "%s%lld", ids->len ? ", " : "",
				    (long long)json_integer_value(rid));
	}
}

/* one step of store_runs_prune, in its own transaction; *removed counted */
static int prune_step(struct store *st, long long id, long long keep,
		      int dry_run, long long *removed)
{
	struct step s = { 0 };
	struct strbuf ids = STRBUF_INIT, sql = STRBUF_INIT;
	char sid[32], off[32];
	const char *p[2] = { sid, off };
	struct db_res *r = NULL;
	int ret;

	*removed = 0;
	if (store_begin(st))
		return TS_EFAIL;
	ret = step_select(st, id, &s, 1, 1);
	if (!ret && s.unreadable) {
		/* which runs it refers to is unknown: keep them all */
		error("step %lld: %s; its runs are kept", id, s.unreadable);
		goto out;
	}
	if (ret == TS_ENOTFOUND) {
		ret = 0; /* gone meanwhile */
		goto out;
	}
	if (ret)
		goto out;
	results_run_ids(s.results, &ids);
	fmt_id(sid, id);
	snprintf(off, sizeof(off), "%lld", keep - 1);
	/* the runs older than the newest keep that nothing refers to */
	strbuf_addf(&sql,
		    "%s FROM step_runs WHERE step_id = $1 AND id < "
		    "COALESCE((SELECT id FROM step_runs WHERE step_id = $1 "
		    "ORDER BY id DESC LIMIT 1 OFFSET CAST($2 AS INTEGER)), "
		    "0)%s%s%s",
		    dry_run ? "SELECT count(*)" : "DELETE",
		    ids.len ? " AND id NOT IN (" : "", ids.buf,
		    ids.len ? ")" : "");
	if (dry_run) {
		ret = db_query(st->db, sql.buf, 2, p, &r) ? TS_EFAIL : 0;
		if (!ret)
			*removed = strtoll(db_res_get(r, 0, 0), NULL, 10);
	} else {
		ret = db_exec(st->db, sql.buf, 2, p, removed) ? TS_EFAIL : 0;
	}
out:
	if (!ret)
		ret = store_commit(st);
	else
		store_rollback(st);
	db_res_free(r);
	step_release(&s);
	strbuf_release(&ids);
	strbuf_release(&sql);
	return ret;
}

int store_runs_prune(struct store *st, long long task_id, long long keep,
		     int dry_run, struct run_prune **out, size_t *nr)
{
	char tid[32], kbuf[32];
	const char *p[2] = { kbuf, tid };
	struct db_res *r = NULL;
	size_t alloc = 0;
	int i, ret = 0;

	*out = NULL;
	*nr = 0;
	fmt_id(tid, task_id);
	fmt_id(kbuf, keep);
	/* only the steps that have more runs than they keep */
	if (db_query(
		    st->db,
		    task_id ? "SELECT s.id, s.task_id FROM steps s WHERE (SELECT "
			      "count(*) FROM step_runs WHERE step_id = s.id) > "
			      "CAST($1 AS INTEGER) "
			      "AND s.task_id = $2 ORDER BY s.id"
			    : "SELECT s.id, s.task_id FROM steps s WHERE (SELECT "
			      "count(*) FROM step_runs WHERE step_id = s.id) > "
			      "CAST($1 AS INTEGER) "
			      "ORDER BY s.id",
		    task_id ? 2 : 1, p, &r))
		return TS_EFAIL;
	for (i = 0; i < r->nrows && !ret; i++) {
		long long id = strtoll(db_res_get(r, i, 0), NULL, 10), n = 0;
		ret = prune_step(st, id, keep, dry_run, &n);
		if (ret || !n)
			continue;
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[*nr].step_id = id;
		(*out)[*nr].task_id = strtoll(db_res_get(r, i, 1), NULL, 10);
		(*out)[*nr].removed = n;
		(*nr)++;
	}
	db_res_free(r);
	return ret;
}

int store_step_list_active(struct store *st, struct step **out, size_t *nr)
{
	return steps_from_query(st,
				STEP_SELECT "WHERE t.status = 'active' "
					    "ORDER BY s.task_id, s.id",
				0, NULL, out, nr);
}

static int cmp_fresh_row(const void *a, const void *b)
{
	const struct fresh_row *x = a, *y = b;
	if (x->task_id != y->task_id)
		return x->task_id < y->task_id ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int store_fresh_rows(struct store *st, long long task_id, int with_titles,
		     struct fresh_rows *out)
{
	char idbuf[32];
	const char *p[1] = { idbuf };
	struct db_res *r = NULL;
	int i, ret;

	memset(out, 0, sizeof(*out));
	fmt_id(idbuf, task_id);
	db_read_many(st->db);
#define FRESH_SELECT(title)                                       \
	"SELECT s.id, s.task_id, " title ", "                     \
	"s.settings, s.fresh_key, s.output_digest, t.local_path " \
	"FROM steps s JOIN tasks t ON t.id = s.task_id "
	/* sorted below: PostgreSQL sorted 20,000 rows on disk (40 ms) */
#define FRESH_ONE "WHERE s.task_id = $1"
#define FRESH_ALL "WHERE t.status = 'active'"
	if (task_id)
		ret = db_query(st->db,
			       with_titles ? FRESH_SELECT("s.title") FRESH_ONE
					   : FRESH_SELECT("NULL") FRESH_ONE,
			       1, p, &r);
	else
		ret = db_query(st->db,
			       with_titles ? FRESH_SELECT("s.title") FRESH_ALL
					   : FRESH_SELECT("NULL") FRESH_ALL,
			       0, NULL, &r);
#undef FRESH_SELECT
#undef FRESH_ONE
#undef FRESH_ALL
	if (ret)
		return TS_EFAIL;
	out->v = xcalloc((size_t)r->nrows + 1, sizeof(*out->v));
	for (i = 0; i < r->nrows; i++) {
		struct fresh_row *f = &out->v[i];
		f->id = strtoll(db_res_get(r, i, 0), NULL, 10);
		f->task_id = strtoll(db_res_get(r, i, 1), NULL, 10);
		f->title = db_res_get(r, i, 2);
		f->settings = db_res_get(r, i, 3);
		f->fresh_key = db_res_get(r, i, 4);
		f->output_digest = db_res_get(r, i, 5);
		f->local_path = db_res_get(r, i, 6);
	}
	out->nr = (size_t)r->nrows;
	out->res = r;
	qsort(out->v, out->nr, sizeof(*out->v), cmp_fresh_row);
	return 0;
}

void store_fresh_rows_free(struct fresh_rows *r)
{
	free(r->v);
	db_res_free(r->res);
	memset(r, 0, sizeof(*r));
}

int store_step_output_digest(struct store *st, long long id, char **digest,
			     int *found)
{
	char idbuf[32];
	const char *p[1] = { idbuf };
	struct db_res *r = NULL;

	*digest = NULL;
	*found = 0;
	fmt_id(idbuf, id);
	if (db_query(st->db, "SELECT output_digest FROM steps WHERE id = $1", 1,
		     p, &r))
		return TS_EFAIL;
	if (r->nrows) {
		*found = 1;
		*digest = dupnull(db_res_get(r, 0, 0));
	}
	db_res_free(r);
	return 0;
}

int store_step_set_fresh(struct store *st, long long id, const char *key,
			 const char *digest, const char *old_key,
			 const char *old_digest, int *changed)
{
	char idbuf[32];
	const char *p[5] = { idbuf, key, digest, old_key, old_digest };
	long long n = 0;

	fmt_id(idbuf, id);
	/* '' is never a key nor a digest: it stands for NULL */
	if (db_exec(st->db,
		    "UPDATE steps SET fresh_key = $2, output_digest = "
		    "$3 WHERE id = $1 AND COALESCE(fresh_key, '') = "
		    "COALESCE($4, '') AND COALESCE(output_digest, '') "
		    "= COALESCE($5, '')",
		    5, p, &n))
		return TS_EFAIL;
	if (changed)
		*changed = n > 0;
	return 0;
}

/* advisory-lock keys live in task-sync's own namespace */
#define LOCK_NS (0x7453LL << 40)

int store_lock_task(struct store *st, long long task_id)
{
	return st->db->ops->try_lock(st->db, LOCK_NS | task_id);
}

void store_unlock_task(struct store *st, long long task_id)
{
	st->db->ops->unlock(st->db, LOCK_NS | task_id);
}
