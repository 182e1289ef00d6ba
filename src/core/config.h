#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stddef.h>

/*
 * Configuration: ~/.config/task/task.conf (or $TASK_SYNC_CONFIG), then
 * the process environment, then ./.env. See docs/config.md.
 *
 * Database selection, first match wins:
 *   1. DATABASE_URL in task.conf
 *   2. DB_HOST / DB_USER / DB_NAME (any non-empty) in task.conf
 *   3. DATABASE_URL in the environment (or .env)
 *   4. DB_HOST / DB_USER / DB_NAME in the environment (or .env)
 *   5. the embedded SQLite database under $XDG_DATA_HOME/task-sync
 * A DATABASE_URL of the form sqlite:PATH selects an SQLite file.
 */

enum config_db_kind { CONFIG_DB_SQLITE, CONFIG_DB_POSTGRES };

/* where a value came from, for `task-sync config` */
struct config_item {
	const char *key;
	char *value;  /* owned; NULL when unset */
	char *source; /* owned, e.g. "/root/.config/task/task.conf:3" */
};

enum config_key {
	CFG_PASS_MARKER,
	CFG_FAIL_MARKER,
	CFG_TIMEOUT_MARKER,
	CFG_TIMEOUT_SECONDS,
	CFG_DB_TIMEOUT_SECONDS,
	CFG_DATABASE_URL,
	CFG_DB_HOST,
	CFG_DB_PORT,
	CFG_DB_USER,
	CFG_DB_PASSWORD,
	CFG_DB_NAME,
	CFG_DB_SSL,
	CFG_NR_KEYS
};

struct config {
	char *path; /* the task.conf looked at */
	int file_exists;
	struct config_item items[CFG_NR_KEYS];

	/* derived */
	int timeout_seconds;
	int db_timeout_seconds; /* one database call's deadline */
	enum config_db_kind db_kind;
	char *db_url;        /* postgres: libpq URI; sqlite: NULL */
	char *db_url_masked; /* the same with the password hidden */
	char *db_source;     /* which rule picked the database */
	char *sqlite_path;   /* sqlite only */
	int sqlite_embedded; /* the default path, created on demand */
};

/*
 * Load the configuration. Returns 0, or -1 after printing an error
 * naming the file and line (garbage line, a NUL byte, bad
 * TIMEOUT_SECONDS, an empty marker, two markers that are equal, a DB_SSL
 * config_sslmode does not know, wherever it is set). A .env line that
 * cannot be read is only warned about.
 * The struct must be released with config_release() either way.
 */
int config_load(struct config *cfg);
void config_release(struct config *cfg);
const char *config_get(const struct config *cfg, enum config_key key);

/*
 * Parse task.conf-style text (KEY=VALUE lines, "export " allowed in front,
 * '#' comment lines, values literal: no quote stripping, no inline
 * comments; later keys win). .env is read by core/dotenv.h instead. Calls cb for each pair; returns 0, or the
 * 1-based number of the first line that is not KEY=VALUE.
 */
int config_parse_text(const char *text,
		      void (*cb)(const char *key, const char *value, int line,
				 void *data),
		      void *data);
/*
 * The same over len bytes of text: a UTF-8 byte order mark at the start
 * is skipped, and a line holding a NUL byte is refused. On a bad line,
 * *why (static) says what is wrong with it ("expected KEY=VALUE", "a NUL
 * byte").
 */
int config_parse_buf(const char *text, size_t len,
		     void (*cb)(const char *key, const char *value, int line,
				void *data),
		     void *data, const char **why);

/*
 * Build a PostgreSQL URI from parts, percent-encoding user, password
 * and database name. ssl is mapped by config_sslmode() (one it does not
 * know, which config_load refuses, is put in as given). Returns a string
 * owned by the caller. With mask set the password is shown as "****".
 */
char *config_build_pg_url(const char *user, const char *password,
			  const char *host, const char *port, const char *name,
			  const char *ssl, int mask);
/*
 * The libpq sslmode for a DB_SSL value, in any case and with one pair of
 * quotes around it dropped: NULL, "", false/no/off/0 -> "disable";
 * true/yes/on/1 -> "require"; disable, allow, prefer, require, verify-ca,
 * verify-full -> themselves. NULL for anything else.
 */
const char *config_sslmode(const char *ssl);
/* the embedded database path, owned by the caller */
char *config_default_sqlite_path(void);

#endif
