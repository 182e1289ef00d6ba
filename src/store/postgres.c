#include "store/db.h"
#include "store/pq.h"
#include "os/error.h"
#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the statements db_query_named prepared on this connection */
#define PG_PREPARED_MAX 8

struct pg_db {
	struct db base;
	PGconn *conn; /* NULL once dropped after a timeout */
	char *server; /* host:port, for messages */
	const char *prepared[PG_PREPARED_MAX];
	int nprepared;
};

static struct pg_db *pg(struct db *db)
{
	return (struct pg_db *)db;
}

/* the length of msg's first line, without trailing blanks */
static int trimmed_len(const char *msg)
{
	size_t n = strcspn(msg, "\n");
	while (n && (msg[n - 1] == ' ' || msg[n - 1] == '\t'))
		n--;
	return (int)n;
}

/*
 * The server's message; when libpq gives none (a lost connection, an
 * empty result), the connection's message, else the status itself:
 * never an empty reason.
 */
static void pg_error(struct db *db, const char *what, const PGresult *r)
{
	PGconn *conn = pg(db)->conn;
	const char *msg = r ? PQresultErrorMessage(r) : "";

	if (!trimmed_len(msg) && conn)
		msg = PQerrorMessage(conn);
	if (!trimmed_len(msg))
		msg = r ? PQresStatus(PQresultStatus(r))
			: "no result from the server";
	error("postgres %s: %s: %.*s", db->label, what, trimmed_len(msg), msg);
}

/*
 * Drop the connection: its session (and the run locks it holds) ends
 * as soon as the server sees the socket close. Later calls fail at
 * once; the error that caused this was printed.
 */
static void pg_drop(struct pg_db *p)
{
	if (!p->conn)
		return;
	/* never block on a full socket buffer saying goodbye */
	PQsetnonblocking(p->conn, 1);
	PQfinish(p->conn);
	p->conn = NULL;
	p->nprepared = 0;
	p->base.in_tx = 0;
}

/* how long a call may still wait once Ctrl-C or SIGTERM came */
#define INTERRUPT_GRACE_MS 2000

/*
 * Wait for the result of the query just sent, at most db_timeout()
 * seconds, waking every 200 ms to see an interrupt (SIGINT/SIGTERM,
 * proc_was_interrupted), after which it waits INTERRUPT_GRACE_MS more
 * at most. Several statements give several results: the
 * first error, else the last one. NULL after a timeout, an interrupt or
 * a lost connection (error printed; the connection dropped).
 */
static PGresult *pg_wait(struct pg_db *p)
{
	PGconn *conn = p->conn;
	long long deadline = proc_now_ms() + (long long)db_timeout() * 1000;
	PGresult *keep = NULL;
	int flushing = 1, interrupted = 0;

	for (;;) {
		struct pollfd pfd = { PQsocket(conn), POLLIN, 0 };
		long long now;
		int n;

		if (flushing) {
			n = PQflush(conn);
			if (n < 0)
				goto lost;
			flushing = n > 0;
		}
		if (!flushing && !PQisBusy(conn)) {
			PGresult *r = PQgetResult(conn);
			if (!r)
				return keep;
			/* keep the first error, else the newest result */
			if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
				PQclear(r);
				continue;
			}
			PQclear(keep);
			keep = r;
			continue;
		}
		now = proc_now_ms();
		/*
		 * After Ctrl-C a server that answers still gets the last
		 * writes (the verdicts that finished); one that does not
		 * gets INTERRUPT_GRACE_MS, not the whole deadline.
		 */
		if (proc_was_interrupted() && !interrupted) {
			interrupted = 1;
			if (deadline > now + INTERRUPT_GRACE_MS)
				deadline = now + INTERRUPT_GRACE_MS;
		}
		if (now >= deadline) {
			if (interrupted)
				error("interrupted while waiting for database "
				      "server %s",
				      p->server);
			else
				error("database server %s did not answer "
				      "within %d s (DB_TIMEOUT_SECONDS)",
				      p->server, db_timeout());
			break;
		}
		if (flushing)
			pfd.events |= POLLOUT;
		n = poll(&pfd, 1,
			 (int)(deadline - now < 200 ? deadline - now : 200));
		if (n < 0 && errno != EINTR)
			goto lost;
		if (n > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    !PQconsumeInput(conn))
			goto lost;
	}
	PQclear(keep);
	pg_drop(p);
	return NULL;
lost:
	pg_error(&p->base, "connection lost", NULL);
	PQclear(keep);
	pg_drop(p);
	return NULL;
}

/* send sql (with params when nparams >= 0) and wait for its result */
static PGresult *pg_run(struct db *db, const char *sql, int nparams,
			const char *const *params)
{
	struct pg_db *p = pg(db);
	int sent;

	/* dropped after a timeout or Ctrl-C, which was reported */
	if (!p->conn)
		return NULL;
	sent = nparams >= 0 ? PQsendQueryParams(p->conn, sql, nparams, NULL,
						params, NULL, NULL, 0)
			    : PQsendQuery(p->conn, sql);
	if (!sent) {
		pg_error(db, "query failed", NULL);
		return NULL;
	}
	return pg_wait(p);
}

/* r's rows into *out (r cleared): 0, or -1 when r is an error (reported) */
static int pg_rows(struct db *db, PGresult *r, struct db_res **out)
{
	ExecStatusType st = PQresultStatus(r);
	int i, j, nrows, ncols;
	size_t size = 0, used = 0;

	if (!r)
		return -1;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		pg_error(db, "query failed", r);
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

static int pg_query(struct db *db, const char *sql, int nparams,
		    const char *const *params, struct db_res **out)
{
	return pg_rows(db, pg_run(db, sql, nparams, params), out);
}

static int pg_is_prepared(const struct pg_db *p, const char *name)
{
	int i;
	for (i = 0; i < p->nprepared; i++)
		if (!strcmp(p->prepared[i], name))
			return 1;
	return 0;
}

/* prepare sql as name on this connection: 0, or -1 (reported) */
static int pg_prepare(struct db *db, const char *name, const char *sql,
		      int nparams)
{
	struct pg_db *p = pg(db);
	PGresult *r;
	int ret = 0;

	if (!PQsendPrepare(p->conn, name, sql, nparams, NULL)) {
		pg_error(db, "prepare failed", NULL);
		return -1;
	}
	r = pg_wait(p);
	if (!r)
		return -1;
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		pg_error(db, "prepare failed", r);
		ret = -1;
	} else {
		p->prepared[p->nprepared++] = name;
	}
	PQclear(r);
	return ret;
}

static int pg_query_named(struct db *db, const char *name, const char *sql,
			  int nparams, const char *const *params,
			  struct db_res **out)
{
	struct pg_db *p = pg(db);

	if (!p->conn)
		return -1;
	if (!pg_is_prepared(p, name)) {
		/* no room: as an unnamed statement */
		if (p->nprepared == PG_PREPARED_MAX)
			return pg_query(db, sql, nparams, params, out);
		if (pg_prepare(db, name, sql, nparams))
			return -1;
	}
	if (!PQsendQueryPrepared(p->conn, name, nparams, params, NULL, NULL,
				 0)) {
		pg_error(db, "query failed", NULL);
		return -1;
	}
	return pg_rows(db, pg_wait(p), out);
}

static int pg_exec_script(struct db *db, const char *sql)
{
	PGresult *r = pg_run(db, sql, -1, NULL);
	ExecStatusType st = PQresultStatus(r);
	int ret = 0;

	if (!r)
		return -1;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_error(db, "query failed", r);
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

/*
 * Each session names its process: "task-sync:PID@HOST", cut to the 63
 * bytes PostgreSQL keeps of an application_name.
 */
static char *app_name(long pid)
{
	char host[256] = "";
	char *s;

	gethostname(host, sizeof(host) - 1);
	s = xstrfmt("task-sync:%ld@%s", pid, host);
	if (strlen(s) > 63)
		s[63] = '\0';
	return s;
}

/*
 * The lock is held by a session whose task-sync process, on this host,
 * is gone: a run that was killed, or that dropped its connection, while
 * the server could not see the socket close (a frozen network path).
 * End that session so the lock is free. 1 when one was ended.
 */
static int pg_end_orphan(struct db *db, long long key)
{
	char keybuf[32];
	const char *p[1] = { keybuf };
	struct db_res *r = NULL;
	int i, ended = 0;

	snprintf(keybuf, sizeof(keybuf), "%lld", key);
	if (pg_query(db,
		     "SELECT a.pid, a.application_name FROM pg_locks l "
		     "JOIN pg_stat_activity a ON a.pid = l.pid "
		     "WHERE l.locktype = 'advisory' AND l.granted "
		     "AND l.classid = ($1::bigint >> 32)::oid "
		     "AND l.objid = ($1::bigint & 4294967295)::oid "
		     "AND l.objsubid = 1 AND l.database = (SELECT oid "
		     "FROM pg_database WHERE datname = "
		     "current_database())",
		     1, p, &r))
		return -1;
	for (i = 0; i < r->nrows; i++) {
		const char *backend = db_res_get(r, i, 0);
		const char *app = db_res_get(r, i, 1);
		const char *colon = app ? strchr(app, ':') : NULL;
		long pid = colon ? strtol(colon + 1, NULL, 10) : 0;
		char *mine = pid > 0 ? app_name(pid) : NULL;
		const char *q[1] = { backend };
		struct db_res *t = NULL;

		if (mine && !strcmp(mine, app) && kill((pid_t)pid, 0) < 0 &&
		    errno == ESRCH &&
		    !pg_query(db,
			      "SELECT pg_terminate_backend($1::int, "
			      "5000)",
			      1, q, &t)) {
			warning("task-sync process %ld, which held the run "
				"lock, is gone: ended its database session "
				"%s",
				pid, backend);
			ended = 1;
		}
		db_res_free(t);
		free(mine);
	}
	db_res_free(r);
	return ended;
}

static int pg_try_lock(struct db *db, long long key)
{
	int ret = pg_lock_call(db, "pg_try_advisory_lock", key);
	if (ret == 0 && pg_end_orphan(db, key) > 0)
		ret = pg_lock_call(db, "pg_try_advisory_lock", key);
	return ret;
}

static int pg_unlock(struct db *db, long long key)
{
	if (!pg(db)->conn)
		return 0; /* dropped: the session and its locks are gone */
	return pg_lock_call(db, "pg_advisory_unlock", key) < 0 ? -1 : 0;
}

/* consume the notifications libpq has read: did any come? */
static int pg_notified(PGconn *conn)
{
	PGnotify *n;
	int got = 0;

	while ((n = PQnotifies(conn))) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

static int pg_wait_notify(struct db *db, int ms)
{
	struct pg_db *p = pg(db);
	struct pollfd pfd;
	int n;

	if (!p->conn)
		return -1; /* dropped, which was reported */
	/* those that came with the results of earlier statements */
	if (!PQconsumeInput(p->conn))
		goto lost;
	if (pg_notified(p->conn))
		return 1;
	pfd.fd = PQsocket(p->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, ms < 0 ? 0 : ms);
	if (n < 0 && errno != EINTR)
		goto lost;
	if (n <= 0)
		return 0;
	if (!PQconsumeInput(p->conn))
		goto lost;
	return pg_notified(p->conn);
lost:
	pg_error(db, "connection lost", NULL);
	pg_drop(p);
	return -1;
}

static void pg_close(struct db *db)
{
	pg_drop(pg(db));
	free(pg(db)->server);
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
	.wait_notify = pg_wait_notify,
	.query_named = pg_query_named,
};

static void quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int db_open_postgres(const char *url, const char *label, struct db **out)
{
	/*
	 * Every wait is bounded: the connect (connect_timeout), a dead
	 * peer (TCP keepalives, tcp_user_timeout), a slow statement
	 * (statement_timeout on the server) and a server that stops
	 * answering (pg_wait's deadline on the client).
	 */
	int t = db_timeout();
	char conn_t[16], idle[16], interval[16], user_t[24];
	char *opts = xstrfmt("-c TimeZone=UTC -c statement_timeout=%ds", t);
	char *app = app_name((long)getpid());
	const char *keys[] = { "dbname",
			       "connect_timeout",
			       "application_name",
			       "options",
			       "keepalives",
			       "keepalives_idle",
			       "keepalives_interval",
			       "keepalives_count",
			       "tcp_user_timeout",
			       NULL };
	const char *vals[] = { url,  conn_t,   app, opts,   "1",
			       idle, interval, "3", user_t, NULL };
	PGconn *conn;
	struct pg_db *p;
	const char *host, *port;

	*out = NULL;
	if (pq_load() < 0) {
		free(opts);
		free(app);
		return -1;
	}
	snprintf(conn_t, sizeof(conn_t), "%d", t < 2 ? 2 : t);
	snprintf(idle, sizeof(idle), "%d", t / 3 < 1 ? 1 : t / 3);
	snprintf(interval, sizeof(interval), "%d", t / 6 < 1 ? 1 : t / 6);
	snprintf(user_t, sizeof(user_t), "%lld", (long long)t * 1000);
	conn = PQconnectdbParams(keys, vals, 1);
	free(opts);
	free(app);
	*out = NULL;
	host = PQhost(conn);
	port = PQport(conn);
	host = host && *host ? host : "localhost";
	port = port && *port ? port : "5432";
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *msg = PQerrorMessage(conn);
		size_t n = strlen(msg);
		const char *nl = strchr(msg, '\n');
		/* libpq's message may span lines; keep the first one */
		if (nl && nl[1])
			n = (size_t)(nl - msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		error("cannot connect to PostgreSQL at %s:%s (%s): %.*s", host,
		      port, label, (int)n, msg);
		PQfinish(conn);
		return -1;
	}
	PQsetNoticeProcessor(conn, quiet_notices, NULL);
	/* sends never block either: pg_wait flushes */
	PQsetnonblocking(conn, 1);
	p = xcalloc(1, sizeof(*p));
	p->base.kind = DB_POSTGRES;
	p->base.ops = &pg_ops;
	p->base.label = xstrdup(label);
	p->server = xstrfmt("%s:%s", host, port);
	p->conn = conn;
	*out = &p->base;
	return 0;
}
