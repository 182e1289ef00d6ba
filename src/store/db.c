#include "store/db.h"
#include "os/xalloc.h"

#include <stdlib.h>

static int timeout_seconds = DB_TIMEOUT_DEFAULT;

void db_set_timeout(int seconds)
{
	timeout_seconds = seconds > 0 ? seconds : DB_TIMEOUT_DEFAULT;
}

int db_timeout(void)
{
	return timeout_seconds;
}

struct db_res *db_res_new(int nrows, int ncols)
{
	struct db_res *r = xcalloc(1, sizeof(*r));
	r->nrows = nrows;
	r->ncols = ncols;
	r->cells = xcalloc((size_t)nrows * (size_t)ncols + 1, sizeof(char *));
	return r;
}

const char *db_res_get(const struct db_res *r, int row, int col)
{
	if (!r || row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

void db_res_free(struct db_res *r)
{
	int i;
	if (!r)
		return;
	for (i = 0; !r->arena && i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->arena);
	free(r->cells);
	free(r);
}

int db_query(struct db *db, const char *sql, int nparams,
	     const char *const *params, struct db_res **out)
{
	*out = NULL;
	return db->ops->query(db, sql, nparams, params, out);
}

int db_query_named(struct db *db, const char *name, const char *sql,
		   int nparams, const char *const *params, struct db_res **out)
{
	*out = NULL;
	if (!db->ops->query_named)
		return db->ops->query(db, sql, nparams, params, out);
	return db->ops->query_named(db, name, sql, nparams, params, out);
}

void db_read_many(struct db *db)
{
	if (db->ops->read_many)
		db->ops->read_many(db);
}

int db_exec(struct db *db, const char *sql, int nparams,
	    const char *const *params, long long *changes)
{
	struct db_res *r = NULL;
	int ret = db->ops->query(db, sql, nparams, params, &r);
	if (!ret && changes)
		*changes = r->changes;
	db_res_free(r);
	return ret;
}

int db_exec_script(struct db *db, const char *sql)
{
	return db->ops->exec_script(db, sql);
}

int db_begin(struct db *db)
{
	int ret = db->ops->begin(db);
	if (!ret)
		db->in_tx = 1;
	return ret;
}

int db_commit(struct db *db)
{
	int ret = db->ops->exec_script(db, "COMMIT");
	db->in_tx = 0;
	return ret;
}

void db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	db->in_tx = 0;
	db->ops->exec_script(db, "ROLLBACK");
}

void db_close(struct db *db)
{
	if (!db)
		return;
	db_rollback(db);
	db->ops->close(db);
}
