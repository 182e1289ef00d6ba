/*
 * Unit tests for core/config: the task.conf parser, the sslmode mapping,
 * the PostgreSQL URI builder and the full load with its database
 * precedence (spec §2.2). config_load reads the process environment and
 * ./.env, so the test clears every key it knows, points TASK_SYNC_CONFIG
 * at a scratch file and runs inside a scratch directory.
 */
#include "tap.h"
#include "core/config.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const env_keys[] = { "PASS_MARKER",
					"FAIL_MARKER",
					"TIMEOUT_MARKER",
					"TIMEOUT_SECONDS",
					"DATABASE_URL",
					"DB_HOST",
					"DB_PORT",
					"DB_USER",
					"DB_PASSWORD",
					"DB_NAME",
					"DB_SSL",
					"TASK_SYNC_CONFIG",
					NULL };

static char tmpdir[] = "/tmp/test-config-XXXXXX";
static char *conf_path;
static char *dotenv_path;

/* ---- config_parse_text ---- */

static void collect_cb(const char *key, const char *value, int line, void *data)
{
	strbuf_addf(data, "[%s=%s@%d]", key, value, line);
}

/* record every callback as "[KEY=VALUE@LINE]", in order */
static int parse(const char *text, struct strbuf *out)
{
	strbuf_reset(out);
	return config_parse_text(text, collect_cb, out);
}

/* keep only the last value per key, as config_load does */
struct last_cb_data {
	const char *want;
	char *value;
};

static void last_cb(const char *key, const char *value, int line, void *data)
{
	struct last_cb_data *d = data;
	(void)line;
	if (!strcmp(key, d->want)) {
		free(d->value);
		d->value = xstrdup(value);
	}
}

static void test_parse_text(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct last_cb_data last = { "A", NULL };

	ok(parse("", &sb) == 0 && !sb.len, "empty text parses to nothing");
	ok(parse("# comment\n\n   \n\t# indented comment\nA=1\n", &sb) == 0,
	   "comments and blank lines are skipped");
	is_str(sb.buf, "[A=1@5]", "line numbers count skipped lines");

	ok(parse("URL=postgres://u:p@h/db?x=y\n", &sb) == 0,
	   "value containing '=' parses");
	is_str(sb.buf, "[URL=postgres://u:p@h/db?x=y@1]",
	       "split at the first '='");

	ok(parse("  KEY  =   some value  \n", &sb) == 0, "padded line parses");
	is_str(sb.buf, "[KEY=some value@1]", "key and value are trimmed");

	ok(parse("DB_PASSWORD=\"x\"\nB='y'\n", &sb) == 0,
	   "quoted values parse");
	is_str(sb.buf, "[DB_PASSWORD=\"x\"@1][B='y'@2]",
	       "quotes are not stripped");

	ok(parse("A=1 # c\n", &sb) == 0, "trailing '#' parses");
	is_str(sb.buf, "[A=1 # c@1]", "no inline comments");

	ok(parse("A=\nB=x", &sb) == 0, "empty value and no final newline");
	is_str(sb.buf, "[A=@1][B=x@2]", "empty value kept, last line read");

	ok(config_parse_text("A=1\nB=2\nA=3\n", last_cb, &last) == 0,
	   "duplicates parse");
	is_str(last.value, "3", "a later duplicate wins");
	free(last.value);

	ok(parse("A=1\n\ngarbage line\nB=2\n", &sb) == 3,
	   "a garbage line returns its 1-based line number");
	is_str(sb.buf, "[A=1@1]", "parsing stops at the garbage line");
	ok(parse("garbage", &sb) == 1, "garbage on line 1 returns 1");
	ok(parse("# c\n=value\n", &sb) == 2, "an empty key is garbage");
	ok(parse("  = value\n", &sb) == 1, "a blank key is garbage");
	ok(parse("MY KEY=1\n", &sb) == 1, "a key with a space is garbage");

	ok(parse("export DB_HOST=h\n\texport  B = 2\nexport=3\n", &sb) == 0,
	   "export lines parse");
	is_str(sb.buf, "[DB_HOST=h@1][B=2@2][export=3@3]",
	       "'export ' in front is dropped; a key named export stays");
	ok(parse("export\n", &sb) == 1, "a bare export is garbage");

	strbuf_release(&sb);
}

/* a BOM is skipped; a NUL byte is refused with its line (not cut short) */
static void test_parse_buf(void)
{
	static const char bom[] = "\xef\xbb\xbfPASS_MARKER=ok\n";
	static const char nul[] = "A=1\n# c\nB=x\0y\nC=3\n";
	struct strbuf sb = STRBUF_INIT;
	const char *why = NULL;

	ok(config_parse_buf(bom, sizeof(bom) - 1, collect_cb, &sb, &why) == 0,
	   "a UTF-8 BOM at the start parses");
	is_str(sb.buf, "[PASS_MARKER=ok@1]", "the BOM is not part of the key");
	strbuf_reset(&sb);
	ok(config_parse_buf(nul, sizeof(nul) - 1, collect_cb, &sb, &why) == 3,
	   "a NUL byte returns its line");
	is_str(why, "a NUL byte", "why: a NUL byte");
	is_str(sb.buf, "[A=1@1]", "parsing stops at the NUL byte's line");
	strbuf_reset(&sb);
	ok(config_parse_buf("x\n", 2, collect_cb, &sb, &why) == 1 &&
		   !strcmp(why, "expected KEY=VALUE"),
	   "why: expected KEY=VALUE");
	strbuf_release(&sb);
}

/* ---- sslmode and URL building ---- */

static void test_sslmode(void)
{
	is_str(config_sslmode(""), "disable", "sslmode '' -> disable");
	is_str(config_sslmode(NULL), "disable", "sslmode NULL -> disable");
	is_str(config_sslmode("false"), "disable", "sslmode false -> disable");
	is_str(config_sslmode("0"), "disable", "sslmode 0 -> disable");
	is_str(config_sslmode("true"), "require", "sslmode true -> require");
	is_str(config_sslmode("verify-full"), "verify-full",
	       "sslmode verify-full passes through");
	is_str(config_sslmode("prefer"), "prefer",
	       "sslmode prefer passes through");
	is_str(config_sslmode("True"), "require", "sslmode True -> require");
	is_str(config_sslmode("FALSE"), "disable", "sslmode FALSE -> disable");
	is_str(config_sslmode("\"false\""), "disable",
	       "sslmode \"false\" -> disable (quotes stripped)");
	is_str(config_sslmode("'YES'"), "require", "sslmode 'YES' -> require");
	is_str(config_sslmode("no"), "disable", "sslmode no -> disable");
	is_str(config_sslmode("Off"), "disable", "sslmode Off -> disable");
	is_str(config_sslmode("on"), "require", "sslmode on -> require");
	is_str(config_sslmode("1"), "require", "sslmode 1 -> require");
	is_str(config_sslmode("Verify-CA"), "verify-ca",
	       "sslmode Verify-CA -> verify-ca");
	is_str(config_sslmode("allow"), "allow", "sslmode allow");
	ok(!config_sslmode("maybe"), "sslmode maybe is unknown");
	ok(!config_sslmode("\"false"), "an unmatched quote is unknown");
	ok(!config_sslmode("verify"), "sslmode verify is unknown");
	ok(!config_sslmode("truee"), "sslmode truee is unknown");
}

static void check_url(char *got, const char *want, const char *name)
{
	is_str(got, want, name);
	free(got);
}

static void test_build_pg_url(void)
{
	check_url(config_build_pg_url("user", "pw", "localhost", "5432", "db",
				      "", 0),
		  "postgres://user:pw@localhost:5432/db?sslmode=disable",
		  "plain URL");
	check_url(config_build_pg_url("user", "p@ss/w:o?r#d x", "h", "5432",
				      "db", "true", 0),
		  "postgres://user:p%40ss%2Fw%3Ao%3Fr%23d%20x@h:5432/db"
		  "?sslmode=require",
		  "password with @ / : ? # and space is percent-encoded");
	check_url(config_build_pg_url("me@corp", "pw", "h", "5432", "my db",
				      "false", 0),
		  "postgres://me%40corp:pw@h:5432/my%20db?sslmode=disable",
		  "user with @ and database name are percent-encoded");
	check_url(config_build_pg_url("user", "p@ss", "h", "5432", "db", "", 1),
		  "postgres://user:****@h:5432/db?sslmode=disable",
		  "masked form hides the password");
	check_url(config_build_pg_url("user", "", "h", "5432", "db", "", 1),
		  "postgres://user@h:5432/db?sslmode=disable",
		  "masked form without password has no ****");
	check_url(config_build_pg_url("user", "pw", "h", NULL, "db", "", 0),
		  "postgres://user:pw@h/db?sslmode=disable",
		  "missing port (NULL) is left out");
	check_url(config_build_pg_url("user", "pw", "h", "", "db", "", 0),
		  "postgres://user:pw@h/db?sslmode=disable",
		  "missing port (empty) is left out");
	check_url(config_build_pg_url("user", "pw", "::1", "5432", "db", "", 0),
		  "postgres://user:pw@[::1]:5432/db?sslmode=disable",
		  "IPv6 host gets brackets");
	check_url(config_build_pg_url("user", "pw", "[::1]", "5432", "db", "",
				      0),
		  "postgres://user:pw@[::1]:5432/db?sslmode=disable",
		  "bracketed IPv6 host is not bracketed twice");
	check_url(config_build_pg_url(NULL, "pw", "h", NULL, "db", NULL, 0),
		  "postgres://h/db?sslmode=disable",
		  "no user: no userinfo at all");
	check_url(config_build_pg_url("u", "pw", "h", NULL, "db", "verify-full",
				      0),
		  "postgres://u:pw@h/db?sslmode=verify-full",
		  "sslmode passes through into the URL");
}

/* ---- config_load ---- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cannot write '%s': %s\n", path,
			strerror(errno));
		exit(99);
	}
	fputs(text, f);
	fclose(f);
}

static void clear_env(void)
{
	int i;
	for (i = 0; env_keys[i]; i++)
		unsetenv(env_keys[i]);
	setenv("TASK_SYNC_CONFIG", conf_path, 1);
}

/*
 * Start a case from a clean slate: the given task.conf (NULL: none) and
 * .env (NULL: none), an environment with none of the config keys.
 */
static int load(struct config *cfg, const char *conf, const char *dotenv)
{
	clear_env();
	unlink(conf_path);
	unlink(dotenv_path);
	if (conf)
		write_file(conf_path, conf);
	if (dotenv)
		write_file(dotenv_path, dotenv);
	return config_load(cfg);
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static void test_load_defaults(void)
{
	struct config cfg;
	char *want = xstrfmt("%s/data/task-sync/task-sync.db", tmpdir);

	ok(load(&cfg, NULL, NULL) == 0, "load with nothing configured");
	ok(!cfg.file_exists, "missing task.conf is not an error");
	is_str(cfg.path, conf_path, "TASK_SYNC_CONFIG names the file");
	ok(cfg.db_kind == CONFIG_DB_SQLITE, "default database is SQLite");
	ok(cfg.sqlite_embedded, "default database is the embedded one");
	is_str(cfg.sqlite_path, want, "embedded path is under XDG_DATA_HOME");
	ok(!cfg.db_url && !cfg.db_url_masked, "no postgres URL for SQLite");
	ok(contains(cfg.db_source, "embedded"), "source says embedded");
	is_str(config_get(&cfg, CFG_PASS_MARKER), "#__PASS__#",
	       "default PASS_MARKER");
	is_str(config_get(&cfg, CFG_FAIL_MARKER), "#__FAIL__#",
	       "default FAIL_MARKER");
	is_str(config_get(&cfg, CFG_TIMEOUT_MARKER), "#__TIMEOUT__#",
	       "default TIMEOUT_MARKER");
	is_str(config_get(&cfg, CFG_TIMEOUT_SECONDS), "120",
	       "default TIMEOUT_SECONDS item");
	ok(cfg.timeout_seconds == 120, "default timeout is 120 seconds");
	is_str(cfg.items[CFG_PASS_MARKER].source, "default",
	       "default source is 'default'");
	ok(!config_get(&cfg, CFG_DATABASE_URL), "DATABASE_URL unset");
	config_release(&cfg);

	/* an empty file behaves like no file but is reported as existing */
	ok(load(&cfg, "", NULL) == 0, "load with an empty task.conf");
	ok(cfg.file_exists, "empty task.conf exists");
	ok(cfg.sqlite_embedded, "empty task.conf: embedded SQLite");
	config_release(&cfg);
	free(want);
}

static void test_load_precedence(void)
{
	struct config cfg;
	char *src;

	/* 1. DATABASE_URL in the file beats everything */
	clear_env();
	unlink(dotenv_path);
	write_file(conf_path, "DB_HOST=fh\nDB_USER=fu\nDB_NAME=fdb\n"
			      "DATABASE_URL=postgres://f:secret@fhost/fdb\n");
	write_file(dotenv_path, "DATABASE_URL=postgres://d@dhost/ddb\n");
	setenv("DATABASE_URL", "postgres://e@ehost/edb", 1);
	setenv("DB_HOST", "eh", 1);
	setenv("DB_USER", "eu", 1);
	setenv("DB_NAME", "edb", 1);
	ok(config_load(&cfg) == 0, "load: everything configured");
	ok(cfg.db_kind == CONFIG_DB_POSTGRES, "file DATABASE_URL: postgres");
	is_str(cfg.db_url, "postgres://f:secret@fhost/fdb",
	       "file DATABASE_URL beats file DB_*, env and .env");
	is_str(cfg.db_url_masked, "postgres://f:****@fhost/fdb",
	       "user-supplied URL is masked");
	src = xstrfmt("%s:4", conf_path);
	ok(contains(cfg.db_source, src), "db_source names file and line");
	is_str(cfg.items[CFG_DATABASE_URL].source, src,
	       "DATABASE_URL source is file:line");
	is_str(config_get(&cfg, CFG_DB_HOST), "fh",
	       "reported DB_HOST comes from the file layer");
	free(src);
	config_release(&cfg);

	/* 2. DB_* in the file beats the environment, and is not merged */
	clear_env();
	unlink(dotenv_path);
	write_file(conf_path, "DB_HOST=fh\nDB_USER=fu\nDB_NAME=fdb\n"
			      "DB_PORT=5433\n");
	setenv("DATABASE_URL", "postgres://e@ehost/edb", 1);
	setenv("DB_PASSWORD", "envpw", 1);
	setenv("DB_SSL", "true", 1);
	ok(config_load(&cfg) == 0, "load: DB_* in the file");
	is_str(cfg.db_url, "postgres://fu@fh:5433/fdb?sslmode=disable",
	       "file DB_* beat env DATABASE_URL; env password/ssl not merged");
	ok(contains(cfg.db_source, "DB_* keys in") &&
		   contains(cfg.db_source, conf_path),
	   "db_source names the DB_* keys in the file");
	ok(!config_get(&cfg, CFG_DB_PASSWORD),
	   "env DB_PASSWORD is not reported for a file database");
	config_release(&cfg);

	/* only DB_NAME in the file is enough to pick the file */
	ok(load(&cfg, "DB_NAME=only\n", NULL) == 0, "load: only DB_NAME");
	is_str(cfg.db_url, "postgres:///only?sslmode=disable",
	       "DB_NAME alone builds a URL from the file");
	config_release(&cfg);

	/* 3. env DATABASE_URL beats env DB_* */
	clear_env();
	unlink(conf_path);
	unlink(dotenv_path);
	setenv("DATABASE_URL", "postgresql://e:pw@ehost/edb", 1);
	setenv("DB_HOST", "eh", 1);
	setenv("DB_USER", "eu", 1);
	setenv("DB_NAME", "edb", 1);
	ok(config_load(&cfg) == 0, "load: env DATABASE_URL and DB_*");
	is_str(cfg.db_url, "postgresql://e:pw@ehost/edb",
	       "env DATABASE_URL beats env DB_*");
	is_str(cfg.db_url_masked, "postgresql://e:****@ehost/edb",
	       "env URL masked");
	ok(contains(cfg.db_source, "environment DATABASE_URL"),
	   "db_source names the environment");
	config_release(&cfg);

	/* the mask only looks at the authority, not at '@' further on */
	clear_env();
	setenv("DATABASE_URL", "postgres://h:5432/db?application_name=a@b", 1);
	ok(config_load(&cfg) == 0, "load: URL without userinfo");
	is_str(cfg.db_url_masked, "postgres://h:5432/db?application_name=a@b",
	       "'@' after the host is not taken for userinfo");
	config_release(&cfg);
	setenv("DATABASE_URL", "postgres://u:pw@h:5432/db?application_name=a@b",
	       1);
	ok(config_load(&cfg) == 0, "load: URL with userinfo and '@' later");
	is_str(cfg.db_url_masked,
	       "postgres://u:****@h:5432/db?application_name=a@b",
	       "only the password is masked");
	config_release(&cfg);
	setenv("DATABASE_URL", "postgres://u@h:5432/db", 1);
	ok(config_load(&cfg) == 0, "load: URL without password");
	is_str(cfg.db_url_masked, "postgres://u@h:5432/db",
	       "URL without password is unchanged");
	config_release(&cfg);

	/* 4. env DB_* */
	clear_env();
	setenv("DB_HOST", "eh", 1);
	setenv("DB_USER", "eu", 1);
	setenv("DB_NAME", "edb", 1);
	setenv("DB_PASSWORD", "p@ss", 1);
	setenv("DB_SSL", "true", 1);
	ok(config_load(&cfg) == 0, "load: env DB_*");
	is_str(cfg.db_url, "postgres://eu:p%40ss@eh/edb?sslmode=require",
	       "env DB_* build the URL");
	is_str(cfg.db_url_masked, "postgres://eu:****@eh/edb?sslmode=require",
	       "env DB_* masked URL");
	is_str(cfg.db_source, "DB_* environment variables",
	       "db_source names the DB_* variables");
	config_release(&cfg);

	/* 5. .env fills in, but never overrides the environment */
	clear_env();
	write_file(dotenv_path, "DB_HOST=dothost\nDB_PASSWORD=dotpw\n"
				"PASS_MARKER=dotpass\n");
	setenv("DB_HOST", "eh", 1);
	setenv("DB_USER", "eu", 1);
	setenv("DB_NAME", "edb", 1);
	ok(config_load(&cfg) == 0, "load: env DB_* and .env");
	is_str(cfg.db_url, "postgres://eu:dotpw@eh/edb?sslmode=disable",
	       "env DB_HOST beats .env; .env supplies the missing password");
	is_str(config_get(&cfg, CFG_PASS_MARKER), "dotpass",
	       ".env supplies PASS_MARKER");
	is_str(cfg.items[CFG_PASS_MARKER].source, ".env:3",
	       ".env source is .env:line");
	config_release(&cfg);

	clear_env();
	write_file(dotenv_path, "DATABASE_URL=postgres://d@dhost/ddb\n");
	setenv("DATABASE_URL", "postgres://e@ehost/edb", 1);
	ok(config_load(&cfg) == 0, "load: env and .env DATABASE_URL");
	is_str(cfg.db_url, "postgres://e@ehost/edb",
	       "env DATABASE_URL beats .env DATABASE_URL");
	config_release(&cfg);

	ok(load(&cfg, NULL,
		"# dotenv\nDATABASE_URL=postgres://d@dhost/ddb\n") == 0,
	   "load: only .env");
	is_str(cfg.db_url, "postgres://d@dhost/ddb", ".env DATABASE_URL used");
	is_str(cfg.items[CFG_DATABASE_URL].source, ".env:2",
	       ".env DATABASE_URL source");
	ok(!cfg.sqlite_embedded, ".env database is not the embedded one");
	config_release(&cfg);

	/*
	 * .env is loaded into the environment before DATABASE_URL is
	 * looked at (spec §2.2 step 3), so a DATABASE_URL from .env still
	 * beats DB_* variables from the real environment.
	 */
	clear_env();
	write_file(dotenv_path, "DATABASE_URL=postgres://d@dhost/ddb\n");
	setenv("DB_HOST", "eh", 1);
	ok(config_load(&cfg) == 0, "load: .env DATABASE_URL, env DB_HOST");
	is_str(cfg.db_url, "postgres://d@dhost/ddb",
	       ".env DATABASE_URL beats env DB_*");
	config_release(&cfg);

	/* a bad line in .env is skipped (with a warning), the rest is read */
	ok(load(&cfg, NULL, "DB_HOST=dh\nnot a pair\nDB_NAME=dn\n") == 0,
	   "load: garbage in .env is not an error");
	is_str(cfg.db_url, "postgres://dh/dn?sslmode=disable",
	       ".env lines before and after the garbage are used");
	config_release(&cfg);

	/* 6. nothing but a password in the file: ignored, not merged */
	clear_env();
	unlink(dotenv_path);
	write_file(conf_path, "DB_PASSWORD=filepw\n");
	setenv("DB_HOST", "eh", 1);
	setenv("DB_USER", "eu", 1);
	setenv("DB_NAME", "edb", 1);
	ok(config_load(&cfg) == 0, "load: DB_PASSWORD only in the file");
	is_str(cfg.db_url, "postgres://eu@eh/edb?sslmode=disable",
	       "file DB_PASSWORD is not merged into env DB_*");
	config_release(&cfg);

	ok(load(&cfg, "DB_PASSWORD=filepw\nDB_PORT=5433\n", NULL) == 0,
	   "load: DB_PASSWORD and DB_PORT only in the file");
	ok(cfg.db_kind == CONFIG_DB_SQLITE && cfg.sqlite_embedded,
	   "DB_PASSWORD/DB_PORT alone do not select PostgreSQL");
	config_release(&cfg);

	/* an empty DATABASE_URL in the file does not count */
	clear_env();
	unlink(dotenv_path);
	write_file(conf_path, "DATABASE_URL=\n");
	setenv("DATABASE_URL", "postgres://e@ehost/edb", 1);
	ok(config_load(&cfg) == 0, "load: empty DATABASE_URL in the file");
	is_str(cfg.db_url, "postgres://e@ehost/edb",
	       "empty file DATABASE_URL falls through to the environment");
	config_release(&cfg);
}

static void test_load_sqlite_url(void)
{
	struct config cfg;

	ok(load(&cfg, "DATABASE_URL=sqlite:/path/x.db\n", NULL) == 0,
	   "load: sqlite: DATABASE_URL");
	ok(cfg.db_kind == CONFIG_DB_SQLITE, "sqlite: URL selects SQLite");
	is_str(cfg.sqlite_path, "/path/x.db", "sqlite: URL path");
	ok(!cfg.sqlite_embedded, "sqlite: URL is not the embedded database");
	ok(!cfg.db_url, "no postgres URL for sqlite:");
	config_release(&cfg);

	clear_env();
	unlink(conf_path);
	setenv("DATABASE_URL", "sqlite:///var/db/y.db", 1);
	ok(config_load(&cfg) == 0, "load: sqlite:// DATABASE_URL in env");
	is_str(cfg.sqlite_path, "/var/db/y.db", "sqlite:// URL path");
	config_release(&cfg);

	ok(load(&cfg, "DATABASE_URL=sqlite:\n", NULL) == -1,
	   "sqlite: with no path is an error");
	config_release(&cfg);
	ok(load(&cfg, "DATABASE_URL=mysql://h/db\n", NULL) == -1,
	   "an unsupported scheme is an error");
	config_release(&cfg);
}

static void test_load_values(void)
{
	struct config cfg;
	char *src;

	ok(load(&cfg, "PASS_MARKER=OK!\nTIMEOUT_SECONDS=30\n", NULL) == 0,
	   "load: markers and timeout in the file");
	is_str(config_get(&cfg, CFG_PASS_MARKER), "OK!", "file PASS_MARKER");
	is_str(config_get(&cfg, CFG_FAIL_MARKER), "#__FAIL__#",
	       "FAIL_MARKER still defaults");
	ok(cfg.timeout_seconds == 30, "file TIMEOUT_SECONDS=30");
	config_release(&cfg);

	clear_env();
	write_file(conf_path, "PASS_MARKER=from-file\n");
	setenv("PASS_MARKER", "from-env", 1);
	setenv("FAIL_MARKER", "env-fail", 1);
	setenv("TIMEOUT_SECONDS", "45", 1);
	ok(config_load(&cfg) == 0, "load: markers in the file and env");
	is_str(config_get(&cfg, CFG_PASS_MARKER), "from-file",
	       "file PASS_MARKER beats env");
	is_str(config_get(&cfg, CFG_FAIL_MARKER), "env-fail",
	       "env FAIL_MARKER used when the file has none");
	ok(cfg.timeout_seconds == 45, "env TIMEOUT_SECONDS=45");
	is_str(cfg.items[CFG_FAIL_MARKER].source, "environment FAIL_MARKER",
	       "env source");
	config_release(&cfg);

	ok(load(&cfg, "PASS_MARKER=a\nPASS_MARKER=b\n", NULL) == 0,
	   "load: duplicate key in the file");
	is_str(config_get(&cfg, CFG_PASS_MARKER), "b",
	       "the later duplicate wins");
	src = xstrfmt("%s:2", conf_path);
	is_str(cfg.items[CFG_PASS_MARKER].source, src,
	       "the source is the later line");
	free(src);
	config_release(&cfg);

	ok(load(&cfg, "TIMEOUT_SECONDS=abc\n", NULL) == -1,
	   "TIMEOUT_SECONDS=abc is an error");
	config_release(&cfg);
	ok(load(&cfg, "TIMEOUT_SECONDS=0\n", NULL) == -1,
	   "TIMEOUT_SECONDS=0 is an error");
	config_release(&cfg);
	ok(load(&cfg, "TIMEOUT_SECONDS=10s\n", NULL) == -1,
	   "TIMEOUT_SECONDS=10s is an error");
	config_release(&cfg);
	clear_env();
	unlink(conf_path);
	setenv("TIMEOUT_SECONDS", "abc", 1);
	ok(config_load(&cfg) == -1, "env TIMEOUT_SECONDS=abc is an error");
	config_release(&cfg);

	ok(load(&cfg, "PASS_MARKER=\n", NULL) == -1,
	   "an empty PASS_MARKER is an error");
	config_release(&cfg);
	ok(load(&cfg, "FAIL_MARKER=#__PASS__#\n", NULL) == -1,
	   "FAIL_MARKER equal to the default PASS_MARKER is an error");
	config_release(&cfg);
	ok(load(&cfg, "PASS_MARKER=x\nTIMEOUT_MARKER=x\n", NULL) == -1,
	   "PASS_MARKER equal to TIMEOUT_MARKER is an error");
	config_release(&cfg);

	ok(load(&cfg, "A=1\nthis is garbage\n", NULL) == -1,
	   "a garbage line in task.conf is an error");
	config_release(&cfg);
	ok(load(&cfg, "=x\n", NULL) == -1, "an empty key in task.conf is an "
					   "error");
	config_release(&cfg);

	ok(load(&cfg, "DB_HOST=h\nDB_SSL=True\n", NULL) == 0,
	   "DB_SSL=True loads");
	is_str(cfg.db_url, "postgres://h/?sslmode=require", "True -> require");
	config_release(&cfg);
	ok(load(&cfg, "DB_HOST=h\nDB_SSL=\"false\"\n", NULL) == 0,
	   "DB_SSL=\"false\" loads");
	is_str(cfg.db_url, "postgres://h/?sslmode=disable",
	       "\"false\" -> disable, no %22 in the URL");
	config_release(&cfg);
	ok(load(&cfg, "DB_HOST=h\nDB_SSL=maybe\n", NULL) == -1,
	   "DB_SSL=maybe in task.conf is an error");
	config_release(&cfg);
	ok(load(&cfg, "DATABASE_URL=sqlite:x.db\n", "DB_SSL=maybe\n") == -1,
	   "DB_SSL=maybe in .env is an error, even when unused");
	config_release(&cfg);
	ok(load(&cfg, NULL,
		"export DB_HOST=dh # the host\nbad line\n"
		"DB_SSL='FALSE'\n") == 0,
	   ".env with export, a comment, a bad line and a quoted value loads");
	is_str(cfg.db_url, "postgres://dh/?sslmode=disable",
	       ".env is read past its bad line");
	is_str(cfg.items[CFG_DB_SSL].source, ".env:3", ".env source line");
	config_release(&cfg);

	ok(load(&cfg, "UNKNOWN_KEY=1\nLOG_FILE=/x\n", NULL) == 0,
	   "unknown keys are ignored");
	config_release(&cfg);

	/* a directory where task.conf should be is an error, not "missing" */
	clear_env();
	unlink(conf_path);
	setenv("TASK_SYNC_CONFIG", tmpdir, 1);
	ok(config_load(&cfg) == -1, "an unreadable task.conf is an error");
	config_release(&cfg);
}

int main(void)
{
	char cwd[PATH_MAX];
	int ret;

	if (!mkdtemp(tmpdir) || !getcwd(cwd, sizeof(cwd)) || chdir(tmpdir)) {
		perror("test-config setup");
		return 99;
	}
	conf_path = xstrfmt("%s/task.conf", tmpdir);
	dotenv_path = xstrfmt("%s/.env", tmpdir);
	setenv("XDG_DATA_HOME", "/nonexistent", 1);

	test_parse_text();
	test_parse_buf();
	test_sslmode();
	test_build_pg_url();

	{
		char *xdg = xstrfmt("%s/data", tmpdir);
		setenv("XDG_DATA_HOME", xdg, 1);
		free(xdg);
	}
	test_load_defaults();
	test_load_precedence();
	test_load_sqlite_url();
	test_load_values();

	clear_env();
	unlink(conf_path);
	unlink(dotenv_path);
	if (chdir(cwd) || rmdir(tmpdir))
		perror("test-config cleanup");
	free(conf_path);
	free(dotenv_path);
	ret = tap_done();
	return ret;
}
