#include "store/db.h"
#include "core/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

struct pg_db {
	struct db base;
	PGconn *conn;
};

static PGconn *conn_of(struct db *db)
{
	return ((struct pg_db *)db)->conn;
}

/* the server's message without libpq's trailing newline */
static void pg_error(struct db *db, const char *what, const char *msg)
{
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	error("postgres %s: %s: %.*s", db->label, what, (int)n, msg);
}

static int pg_query(struct db *db, const char *sql, int nparams,
		    const char *const *params, struct db_res **out)
{
	PGresult *r = PQexecParams(conn_of(db), sql, nparams, NULL, params,
				   NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	int i, j, nrows, ncols;
	size_t size = 0, used = 0;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		pg_error(db, "query failed", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	nrows = PQntuples(r);
	ncols = PQnfields(r);
	*out = db_res_new(nrows, ncols);
	/* the cells' text in one arena: one allocation for the lot */
	for (i = 0; i < nrows; i++)
		for (j = 0; j < ncols; j++)
			if (!PQgetisnull(r, i, j))
				size += (size_t)PQgetlength(r, i, j) + 1;
	if (size)
		(*out)->arena = xmalloc(size);
	for (i = 0; i < nrows; i++)
		for (j = 0; j < ncols; j++) {
			size_t n;
			if (PQgetisnull(r, i, j))
				continue;
			n = (size_t)PQgetlength(r, i, j) + 1;
			memcpy((*out)->arena + used, PQgetvalue(r, i, j), n);
			(*out)->cells[i * ncols + j] = (*out)->arena + used;
			used += n;
		}
	(*out)->changes = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

static int pg_exec_script(struct db *db, const char *sql)
{
	PGresult *r = PQexec(conn_of(db), sql);
	ExecStatusType st = PQresultStatus(r);
	int ret = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_error(db, "query failed", PQresultErrorMessage(r));
		ret = -1;
	}
	PQclear(r);
	return ret;
}

static int pg_begin(struct db *db)
{
	return pg_exec_script(db, "BEGIN");
}

static int pg_lock_call(struct db *db, const char *fn, long long key)
{
	char keybuf[32];
	const char *p[1] = { keybuf };
	struct db_res *r = NULL;
	char *sql = xstrfmt("SELECT %s($1::bigint)", fn);
	int ret;

	snprintf(keybuf, sizeof(keybuf), "%lld", key);
	ret = pg_query(db, sql, 1, p, &r);
	free(sql);
	if (!ret) {
		const char *v = db_res_get(r, 0, 0);
		ret = v && !strcmp(v, "t");
	}
	db_res_free(r);
	return ret;
}

static int pg_try_lock(struct db *db, long long key)
{
	return pg_lock_call(db, "pg_try_advisory_lock", key);
}

static int pg_unlock(struct db *db, long long key)
{
	return pg_lock_call(db, "pg_advisory_unlock", key) < 0 ? -1 : 0;
}

static void pg_close(struct db *db)
{
	PQfinish(conn_of(db));
	free(db->label);
	free(db);
}

static const struct db_ops pg_ops = {
	.query = pg_query,
	.exec_script = pg_exec_script,
	.begin = pg_begin,
	.close = pg_close,
	.try_lock = pg_try_lock,
	.unlock = pg_unlock,
};

static void quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int db_open_postgres(const char *url, const char *label, struct db **out)
{
	/* bounded connect: an unreachable server is an error, not a hang */
	const char *keys[] = { "dbname", "connect_timeout",
			       "application_name", "options", NULL };
	const char *vals[] = { url, "10", "task-sync", "-c TimeZone=UTC",
			       NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	struct pg_db *p;

	*out = NULL;
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *host = PQhost(conn), *port = PQport(conn);
		const char *msg = PQerrorMessage(conn);
		size_t n = strlen(msg);
		const char *nl = strchr(msg, '\n');
		/* libpq's message may span lines; keep the first one */
		if (nl && nl[1])
			n = (size_t)(nl - msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		error("cannot connect to PostgreSQL at %s:%s (%s): %.*s",
		      host && *host ? host : "localhost",
		      port && *port ? port : "5432", label, (int)n, msg);
		PQfinish(conn);
		return -1;
	}
	PQsetNoticeProcessor(conn, quiet_notices, NULL);
	p = xcalloc(1, sizeof(*p));
	p->base.kind = DB_POSTGRES;
	p->base.ops = &pg_ops;
	p->base.label = xstrdup(label);
	p->conn = conn;
	*out = &p->base;
	return 0;
}
