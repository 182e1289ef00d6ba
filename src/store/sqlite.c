#include "store/db.h"
#include "os/error.h"
#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sqlite_db {
	struct db base;
	sqlite3 *h;
	int lock_fd;
	int writable;         /* opened read-write: sync the WAL on close */
	long long busy_since; /* when the current wait for a lock began */
	int busy_interrupted; /* that wait ended by Ctrl-C */
	int wal_frames; /* in the WAL after this connection's last commit */
	int no_wait;    /* a lock held elsewhere: give up at once */
	int mapped;     /* read through a memory map (sqlite_read_many) */
};

static struct sqlite_db *lite(struct db *db)
{
	return (struct sqlite_db *)db;
}

/*
 * An SQLite failure, naming the file where the cause is about it: a
 * lock another process keeps, a full disk, a file it cannot write.
 */
static void lite_error(struct db *db, int rc, const char *msg)
{
	struct sqlite_db *s = lite(db);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		if (s->busy_interrupted)
			error("sqlite: interrupted while waiting for database "
			      "'%s', which another process keeps locked",
			      db->label);
		else
			error("sqlite: database '%s' is locked by another "
			      "process: gave up after %d s (DB_TIMEOUT_SECONDS)",
			      db->label, db_timeout());
		break;
	case SQLITE_FULL:
		error("sqlite: cannot write database '%s': disk is full",
		      db->label);
		break;
	case SQLITE_IOERR:
		error("sqlite: cannot write database '%s': %s", db->label, msg);
		break;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
		error("sqlite: database '%s' is not writable: %s", db->label,
		      msg);
		break;
	default:
		error("sqlite: %s", msg);
	}
}

/*
 * Waiting for another process's lock: at most db_timeout() seconds, and
 * not past a Ctrl-C. Returns non-zero to try again.
 */
static int on_busy(void *arg, int count)
{
	struct sqlite_db *s = arg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (s->no_wait)
		return 0;
	if (!count) {
		s->busy_since = proc_now_ms();
		s->busy_interrupted = 0;
	}
	if (proc_was_interrupted()) {
		s->busy_interrupted = 1;
		return 0;
	}
	if (proc_now_ms() - s->busy_since >= (long long)db_timeout() * 1000)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

/* now(): UTC, microseconds, the format PostgreSQL prints */
static void fn_now(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	(void)argc;
	(void)argv;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* $N -> ?N, strip " FOR UPDATE"; string literals are left alone */
static char *translate(const char *sql)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	int in_str = 0;

	for (p = sql; *p; p++) {
		if (*p == '\'')
			in_str = !in_str;
		if (!in_str && *p == '$' && p[1] >= '0' && p[1] <= '9') {
			strbuf_addch(&sb, '?');
			continue;
		}
		if (!in_str && !strncmp(p, " FOR UPDATE", 11))
			break; /* always the end of the statement */
		strbuf_addch(&sb, *p);
	}
	return strbuf_detach(&sb, NULL);
}

static int sqlite_query(struct db *db, const char *sql, int nparams,
			const char *const *params, struct db_res **out)
{
	sqlite3 *h = lite(db)->h;
	sqlite3_stmt *st = NULL;
	char *tsql = translate(sql);
	/*
	 * The cells' text goes into one arena, one allocation for the
	 * lot (20,000 rows x 7 columns cost 140,000 mallocs and frees);
	 * while it grows, a cell holds its offset + 1 (0 for NULL).
	 */
	size_t *offs = NULL, noffs = 0, alloc = 0;
	char *arena = NULL;
	size_t used = 0, arena_alloc = 0, k;
	int rc, i, ncols, nrows = 0, ret = -1;

	rc = sqlite3_prepare_v2(h, tsql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		lite_error(db, rc, sqlite3_errmsg(h));
		goto out;
	}
	for (i = 0; i < nparams; i++) {
		if (params[i])
			rc = sqlite3_bind_text(st, i + 1, params[i], -1,
					       SQLITE_STATIC);
		else
			rc = sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK) {
			error("sqlite: binding parameter %d: %s", i + 1,
			      sqlite3_errmsg(h));
			goto out;
		}
	}
	ncols = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(offs, noffs + (size_t)ncols + 1, alloc);
		for (i = 0; i < ncols; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			size_t n;
			if (!t) {
				offs[noffs++] = 0;
				continue;
			}
			n = (size_t)sqlite3_column_bytes(st, i) + 1;
			ALLOC_GROW(arena, used + n, arena_alloc);
			memcpy(arena + used, t, n);
			offs[noffs++] = used + 1;
			used += n;
		}
		nrows++;
	}
	if (rc != SQLITE_DONE) {
		lite_error(db, rc, sqlite3_errmsg(h));
		goto out;
	}
	*out = db_res_new(nrows, ncols);
	for (k = 0; k < noffs; k++)
		(*out)->cells[k] = offs[k] ? arena + offs[k] - 1 : NULL;
	(*out)->arena = arena; /* NULL: every cell is NULL */
	arena = NULL;
	(*out)->changes = sqlite3_changes(h);
	ret = 0;
out:
	free(arena);
	free(offs);
	sqlite3_finalize(st);
	free(tsql);
	return ret;
}

static int sqlite_exec_script(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(lite(db)->h, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		lite_error(db, rc, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int sqlite_begin(struct db *db)
{
	return sqlite_exec_script(db, "BEGIN IMMEDIATE");
}

/*
 * Session locks for SQLite: an fcntl lock on one byte (the key) of a
 * side file next to the database. The kernel drops it when the process
 * dies, so a killed run never leaves a stale lock.
 */
static int lock_file(struct sqlite_db *s)
{
	char *path;
	if (s->lock_fd >= 0)
		return 0;
	path = xstrfmt("%s.lock", s->base.label);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0) {
		error("cannot open lock file '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static int sqlite_lock_op(struct db *db, long long key, int type)
{
	struct sqlite_db *s = lite(db);
	struct flock fl = { 0 };
	if (lock_file(s))
		return -1;
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)(key & 0x7fffffffffffLL);
	fl.l_len = 1;
	if (fcntl(s->lock_fd, F_SETLK, &fl) < 0) {
		if (errno == EACCES || errno == EAGAIN)
			return 0;
		return error("cannot lock '%s.lock': %s", db->label,
			     strerror(errno));
	}
	return 1;
}

static int sqlite_try_lock(struct db *db, long long key)
{
	return sqlite_lock_op(db, key, F_WRLCK);
}

static int sqlite_unlock(struct db *db, long long key)
{
	return sqlite_lock_op(db, key, F_UNLCK) < 0 ? -1 : 0;
}

/*
 * Closing does not checkpoint (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, set at
 * open): the WAL and -shm stay for the next command, and the
 * autocheckpoint keeps the WAL bounded. With synchronous = NORMAL a
 * commit is not synced, so a connection that changed anything syncs
 * the WAL once here: the command's transactions survive a power loss
 * once it ends, as they did when closing checkpointed (one fdatasync
 * instead of the checkpoint's four).
 */
static void sync_wal(struct sqlite_db *s)
{
	sqlite3_file *wal = NULL;

	if (!s->writable || sqlite3_total_changes(s->h) <= 0)
		return;
	if (sqlite3_file_control(s->h, "main", SQLITE_FCNTL_JOURNAL_POINTER,
				 &wal) == SQLITE_OK &&
	    wal && wal->pMethods)
		wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
}

/*
 * The WAL's frames after each commit (sqlite3_wal_hook). The hook
 * replaces SQLite's autocheckpoint, so it does that job too: a passive
 * checkpoint once the WAL holds SQLite's default 1000 pages.
 */
static int on_wal_commit(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct sqlite_db *s = arg;

	s->wal_frames = frames;
	if (frames >= 1000)
		sqlite3_wal_checkpoint(h, name);
	return SQLITE_OK;
}

/*
 * The first connection to open the database rebuilds the WAL's index by
 * reading every frame of the WAL (4 KiB each): 1000 frames cost every
 * command, reads too, about a millisecond. So a connection that leaves
 * more than WAL_KEEP_FRAMES empties the WAL when it closes (a truncating
 * checkpoint, which syncs the WAL and the database), unless another
 * process is reading or writing: that would mean waiting, and the WAL
 * stays for a later close. 1 when the WAL was emptied.
 */
#define WAL_KEEP_FRAMES 100
static int empty_wal(struct sqlite_db *s)
{
	if (!s->writable || s->wal_frames <= WAL_KEEP_FRAMES)
		return 0;
	s->no_wait = 1;
	return sqlite3_wal_checkpoint_v2(s->h, "main",
					 SQLITE_CHECKPOINT_TRUNCATE, NULL,
					 NULL) == SQLITE_OK;
}

static void sqlite_close(struct db *db)
{
	struct sqlite_db *s = lite(db);
	if (!empty_wal(s))
		sync_wal(s);
	sqlite3_close(s->h);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(db->label);
	free(s);
}

/*
 * Before a query that reads much of the database (db_read_many), SQLite
 * maps the file (PRAGMA mmap_size) and reads its pages in place: no page
 * fault and copy per page read into its cache (a no-change run-steps
 * over 1,000 steps: 802 -> 329 faults, 25 -> 16 ms). Not for every
 * command: mapping and unmapping the file costs a small one more than
 * it saves. A page the disk cannot read, or a file another program cut
 * short, is then SIGBUS rather than an error code: it ends the process
 * with one line naming the database and the status a failed read has
 * (3), as running out of memory ends it (os/xalloc.c). The writes do
 * not go through the map.
 */
#define SQLITE_MMAP_BYTES "1073741824"
static char sigbus_line[1024];
static size_t sigbus_len;

static void on_sigbus(int sig)
{
	ssize_t w = write(STDERR_FILENO, sigbus_line, sigbus_len);
	(void)w;
	(void)sig;
	_exit(3);
}

static void catch_sigbus(const char *path)
{
	struct sigaction sa;
	int n = snprintf(sigbus_line, sizeof(sigbus_line),
			 "fatal: cannot read database '%s': an I/O error, or "
			 "the file was cut short by another program "
			 "(SIGBUS)\n",
			 path);

	sigbus_len = n < 0 ? 0 : (size_t)n;
	if (sigbus_len >= sizeof(sigbus_line))
		sigbus_len = sizeof(sigbus_line) - 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

static void sqlite_read_many(struct db *db)
{
	struct sqlite_db *s = lite(db);

	if (s->mapped)
		return;
	catch_sigbus(db->label);
	/* a hint: without the map SQLite reads as before */
	if (sqlite3_exec(s->h, "PRAGMA mmap_size = " SQLITE_MMAP_BYTES, NULL,
			 NULL, NULL) == SQLITE_OK)
		s->mapped = 1;
}

static const struct db_ops sqlite_ops = {
	.query = sqlite_query,
	.exec_script = sqlite_exec_script,
	.begin = sqlite_begin,
	.close = sqlite_close,
	.try_lock = sqlite_try_lock,
	.unlock = sqlite_unlock,
	.read_many = sqlite_read_many,
};

/* file:PATH?QUERY with the characters a URI path cannot hold escaped */
static char *file_uri(const char *path, const char *query)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	strbuf_addstr(&sb, "file:");
	for (p = path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#')
			strbuf_addf(&sb, "%%%02X", (unsigned char)*p);
		else
			strbuf_addch(&sb, *p);
	strbuf_addf(&sb, "?%s", query);
	return strbuf_detach(&sb, NULL);
}

/*
 * Open an existing database that this user cannot write, for reading
 * only. In WAL mode a reader needs the -shm file: where it cannot be
 * made (a read-only directory) and no -wal file holds changes the
 * database file lacks, the file is read as immutable.
 */
static sqlite3 *open_read_only(const char *path)
{
	static const char *const query[] = { "mode=ro", "immutable=1" };
	char *wal = xstrfmt("%s-wal", path);
	struct stat st;
	int i, nq = stat(wal, &st) < 0 || !st.st_size ? 2 : 1;

	free(wal);
	for (i = 0; i < nq; i++) {
		char *uri = file_uri(path, query[i]);
		sqlite3 *h = NULL;
		int rc =
			sqlite3_open_v2(uri, &h,
					SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
						SQLITE_OPEN_NOMUTEX,
					NULL);
		free(uri);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(h,
					  "SELECT count(*) FROM "
					  "sqlite_master",
					  NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return h;
		sqlite3_close(h);
	}
	return NULL;
}

int db_open_sqlite(const char *path, unsigned open_flags, struct db **out)
{
	struct sqlite_db *s;
	sqlite3 *h = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *why = NULL, *ro_why = NULL;
	struct stat st;

	*out = NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) < 0)
			why = errno == ENOENT    ? "does not exist"
			      : errno == ENOTDIR ? "is not a directory"
						 : strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = "is not a directory";
		if (why) {
			error("cannot open database '%s': directory '%s' %s",
			      path, dir, why);
			free(dir);
			return -1;
		}
		if (access(dir, W_OK) < 0 && access(path, F_OK) < 0) {
			error("cannot create database '%s': directory '%s' is "
			      "not writable",
			      path, dir);
			free(dir);
			return -1;
		}
	}
	/*
	 * Writing needs the file and, for the -wal and -shm files beside
	 * it, its directory: without them, a command that only reads opens
	 * the file read-only; any other is refused here, naming why.
	 */
	if (access(path, F_OK) == 0) {
		if (access(path, W_OK) < 0)
			ro_why = "the file is read-only";
		else if (access(!slash         ? "."
				: slash == dir ? "/"
					       : dir,
				W_OK) < 0)
			ro_why = "its directory is not writable (SQLite keeps "
				 "its -wal and -shm files there)";
	}
	if (ro_why && !(open_flags & DB_SQLITE_READ_OK)) {
		error("cannot write database '%s': %s", path, ro_why);
		free(dir);
		return -1;
	}
	free(dir);
	if (open_flags & DB_SQLITE_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	if (ro_why) {
		h = open_read_only(path);
		if (!h)
			return error("cannot open database '%s' for reading: "
				     "%s",
				     path, ro_why);
	} else if (sqlite3_open_v2(path, &h, flags, NULL) != SQLITE_OK) {
		error("cannot open database '%s': %s", path,
		      h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return -1;
	}
	sqlite3_create_function(h, "now", 0, SQLITE_UTF8, NULL, fn_now, NULL,
				NULL);
	s = xcalloc(1, sizeof(*s));
	s->base.kind = DB_SQLITE;
	s->base.ops = &sqlite_ops;
	s->base.label = xstrdup(path);
	s->h = h;
	s->lock_fd = -1;
	sqlite3_busy_handler(h, on_busy, s);
	if (sqlite_exec_script(
		    &s->base,
		    ro_why ? "PRAGMA foreign_keys = ON;"
			   : "PRAGMA foreign_keys = ON;"
			     "PRAGMA journal_mode = WAL;"
			     "PRAGMA synchronous = NORMAL;"
			     "PRAGMA journal_size_limit = 4194304;")) {
		sqlite_close(&s->base);
		return -1;
	}
	if (!ro_why) {
		/*
		 * Keep the WAL and -shm between commands: no checkpoint on
		 * close (sync_wal makes the writes durable instead), and no
		 * unlink of the WAL when the last connection closes.
		 */
		int persist = 1;
		s->writable = 1;
		sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		sqlite3_file_control(h, "main", SQLITE_FCNTL_PERSIST_WAL,
				     &persist);
		sqlite3_wal_hook(h, on_wal_commit, s);
	}
	*out = &s->base;
	return 0;
}
