#ifndef STORE_DB_H
#define STORE_DB_H

/*
 * The SQL driver under store.c: one tiny interface, two backends
 * (sqlite.c, postgres.c). Nothing outside src/store includes this.
 *
 * SQL is written once, in PostgreSQL syntax, with $1..$n parameters.
 * The SQLite driver rewrites $N to ?N and drops a trailing " FOR UPDATE"
 * (its write transactions are BEGIN IMMEDIATE, which already locks), and
 * registers now() returning the same text format PostgreSQL prints for
 * timestamptz in a UTC session ("2006-01-02 15:04:05.000000+00").
 *
 * Parameters and results are text; NULL means SQL NULL. Errors are
 * printed with error() and returned as -1.
 */

enum db_kind { DB_SQLITE, DB_POSTGRES };

struct db;
struct db_res;

struct db_ops {
	int (*query)(struct db *db, const char *sql, int nparams,
		     const char *const *params, struct db_res **out);
	int (*exec_script)(struct db *db, const char *sql);
	int (*begin)(struct db *db);
	void (*close)(struct db *db);
	/*
	 * Try to take the named session-level lock: was it taken? A
	 * question (os/error.h): 1 taken, 0 busy, -1 error (reported).
	 * Released by unlock or when the session ends.
	 */
	int (*try_lock)(struct db *db, long long key);
	int (*unlock)(struct db *db, long long key);
	/*
	 * Wait up to ms for a notification on a channel the session
	 * LISTENs on (PostgreSQL; NULL on SQLite): 1 one came (all that
	 * came are consumed), 0 none, -1 the connection was lost
	 * (reported; dropped).
	 */
	int (*wait_notify)(struct db *db, int ms);
	/*
	 * query, as the statement prepared under name (a static string)
	 * once per connection (PostgreSQL; NULL: query it each time)
	 */
	int (*query_named)(struct db *db, const char *name, const char *sql,
			   int nparams, const char *const *params,
			   struct db_res **out);
	/* the next queries read much of the database (NULL: no matter) */
	void (*read_many)(struct db *db);
};

struct db {
	enum db_kind kind;
	const struct db_ops *ops;
	int in_tx;
	char *label; /* for messages: the file or host:port/db */
};

/* result set: rows x cols of owned, possibly NULL, strings */
struct db_res {
	int nrows, ncols;
	char **cells;
	long long changes; /* rows affected by INSERT/UPDATE/DELETE */
	char *arena;       /* when set, every cell points into it */
};

enum db_sqlite_flags {
	DB_SQLITE_CREATE = 1 << 0, /* a missing file may be created */
	/*
	 * the caller only reads: a file this user cannot write (or in a
	 * directory it cannot write) is opened read-only; without this
	 * flag, such a file is an error naming it
	 */
	DB_SQLITE_READ_OK = 1 << 1,
};
/*
 * How long one database call may wait, in seconds (DB_TIMEOUT_SECONDS,
 * default 30): a PostgreSQL server that does not answer, an SQLite file
 * another process keeps locked. Set before db_open_*.
 */
#define DB_TIMEOUT_DEFAULT 30
void db_set_timeout(int seconds);
int db_timeout(void);

int db_open_sqlite(const char *path, unsigned flags, struct db **out);
int db_open_postgres(const char *url, const char *label, struct db **out);
void db_close(struct db *db);

int db_query(struct db *db, const char *sql, int nparams,
	     const char *const *params, struct db_res **out);
/*
 * db_query of a statement run often (the work queue's claim): on
 * PostgreSQL prepared under name (a static string) on the first call of
 * each connection and executed by name after, so the server parses it
 * once per connection; elsewhere db_query.
 */
int db_query_named(struct db *db, const char *name, const char *sql,
		   int nparams, const char *const *params, struct db_res **out);
/*
 * A hint: the next queries read much of the database (every active
 * step, say). SQLite then reads it through a memory map; PostgreSQL
 * ignores it.
 */
void db_read_many(struct db *db);
/* db_query without rows; *changes (may be NULL) gets the affected count */
int db_exec(struct db *db, const char *sql, int nparams,
	    const char *const *params, long long *changes);
/* run a script of several statements, no parameters */
int db_exec_script(struct db *db, const char *sql);

int db_begin(struct db *db);
int db_commit(struct db *db);
/* safe to call when no transaction is open */
void db_rollback(struct db *db);

const char *db_res_get(const struct db_res *r, int row, int col);
void db_res_free(struct db_res *r);
struct db_res *db_res_new(int nrows, int ncols);

/* the database under a store (store/ only: other layers use store.h) */
struct store;
struct db *store_db(struct store *st);

#endif
