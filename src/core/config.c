#include "core/config.h"
#include "core/dotenv.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const key_names[CFG_NR_KEYS] = {
	[CFG_PASS_MARKER] = "PASS_MARKER",
	[CFG_FAIL_MARKER] = "FAIL_MARKER",
	[CFG_TIMEOUT_MARKER] = "TIMEOUT_MARKER",
	[CFG_TIMEOUT_SECONDS] = "TIMEOUT_SECONDS",
	[CFG_DB_TIMEOUT_SECONDS] = "DB_TIMEOUT_SECONDS",
	[CFG_DATABASE_URL] = "DATABASE_URL",
	[CFG_DB_HOST] = "DB_HOST",
	[CFG_DB_PORT] = "DB_PORT",
	[CFG_DB_USER] = "DB_USER",
	[CFG_DB_PASSWORD] = "DB_PASSWORD",
	[CFG_DB_NAME] = "DB_NAME",
	[CFG_DB_SSL] = "DB_SSL",
};

static const char *const defaults[CFG_NR_KEYS] = {
	[CFG_PASS_MARKER] = "#__PASS__#",
	[CFG_FAIL_MARKER] = "#__FAIL__#",
	[CFG_TIMEOUT_MARKER] = "#__TIMEOUT__#",
	[CFG_TIMEOUT_SECONDS] = "120",
	[CFG_DB_TIMEOUT_SECONDS] = "30",
};

/* one layer of KEY=VALUE pairs with their origin */
struct layer {
	char *values[CFG_NR_KEYS];
	char *sources[CFG_NR_KEYS];
	const char *name;
};

static int key_index(const char *key)
{
	int i;
	for (i = 0; i < CFG_NR_KEYS; i++)
		if (!strcmp(key_names[i], key))
			return i;
	return -1;
}

static int key_chars_only(const char *s)
{
	for (; *s; s++)
		if (!dotenv_is_key_char((unsigned char)*s))
			return 0;
	return 1;
}

int config_parse_buf(const char *text, size_t len,
		     void (*cb)(const char *key, const char *value, int line,
				void *data),
		     void *data, const char **why)
{
	struct strbuf line = STRBUF_INIT, key = STRBUF_INIT, val = STRBUF_INIT;
	int lineno = 0, bad = 0;
	const char *p = text, *end = text + len;

	*why = NULL;
	/* a UTF-8 byte order mark, as some editors write one */
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end && !bad) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *eq, *k;

		lineno++;
		if (memchr(p, '\0', n)) {
			/* the line would be read cut short */
			*why = "a NUL byte";
			bad = lineno;
			break;
		}
		strbuf_reset(&line);
		strbuf_add(&line, p, n);
		strbuf_trim(&line);
		p += n + (eol ? 1 : 0);
		if (!line.len || line.buf[0] == '#')
			continue;
		/* "export KEY=VALUE", as in a shell file, is KEY=VALUE */
		k = dotenv_skip_export(line.buf);
		eq = strchr(k, '=');
		if (!eq) {
			bad = lineno;
			break;
		}
		strbuf_reset(&key);
		strbuf_add(&key, k, (size_t)(eq - k));
		strbuf_trim(&key);
		strbuf_reset(&val);
		strbuf_addstr(&val, eq + 1);
		strbuf_trim(&val);
		if (!key.len || !key_chars_only(key.buf)) {
			bad = lineno;
			break;
		}
		cb(key.buf, val.buf, lineno, data);
	}
	if (bad && !*why)
		*why = "expected KEY=VALUE";
	strbuf_release(&line);
	strbuf_release(&key);
	strbuf_release(&val);
	return bad;
}

int config_parse_text(const char *text,
		      void (*cb)(const char *key, const char *value, int line,
				 void *data),
		      void *data)
{
	const char *why;
	return config_parse_buf(text, strlen(text), cb, data, &why);
}

struct file_cb_data {
	struct layer *layer;
	const char *path;
};

static void layer_set(struct layer *l, int idx, const char *value, char *source)
{
	free(l->values[idx]);
	free(l->sources[idx]);
	l->values[idx] = xstrdup(value);
	l->sources[idx] = source;
}

static void file_cb(const char *key, const char *value, int line, void *data)
{
	struct file_cb_data *d = data;
	int idx = key_index(key);
	if (idx < 0)
		return; /* unknown keys are ignored, as the original does */
	layer_set(d->layer, idx, value, xstrfmt("%s:%d", d->path, line));
}

static void layer_release(struct layer *l)
{
	int i;
	for (i = 0; i < CFG_NR_KEYS; i++) {
		free(l->values[i]);
		free(l->sources[i]);
	}
}

/*
 * Only a regular file is read: opening a FIFO waits for a writer, and a
 * device may never end, hanging every command. 0 when path is one (or
 * is missing: *exists stays 0), -1 after an error naming it.
 */
static int check_regular(const char *path, int *exists)
{
	struct stat st;

	*exists = 0;
	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : error("cannot read config file '%s': %s", path,
				       strerror(errno));
	/* a directory fails to read, with its own message */
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		*exists = 1;
		return 0;
	}
	return error("config file '%s' is not a regular file (it is %s)", path,
		     S_ISFIFO(st.st_mode)   ? "a FIFO"
		     : S_ISSOCK(st.st_mode) ? "a socket"
					    : "a device");
}

static int load_file_layer(struct layer *l, const char *path, int *exists)
{
	struct strbuf sb = STRBUF_INIT;
	struct file_cb_data d = { l, path };
	const char *why;
	int bad, ret;

	ret = check_regular(path, exists);
	if (ret || !*exists)
		goto out;
	*exists = 0;
	if (strbuf_read_file(&sb, path) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			goto out;
		ret = error("cannot read config file '%s': %s", path,
			    strerror(errno));
		goto out;
	}
	*exists = 1;
	bad = config_parse_buf(sb.buf, sb.len, file_cb, &d, &why);
	if (bad)
		ret = error("%s:%d: %s", path, bad, why);
out:
	strbuf_release(&sb);
	return ret;
}

static char *default_config_path(void)
{
	const char *env = getenv("TASK_SYNC_CONFIG");
	const char *home = getenv("HOME");
	if (env && *env)
		return xstrdup(env);
	return xstrfmt("%s/.config/task/task.conf", home ? home : "");
}

char *config_default_sqlite_path(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg)
		return xstrfmt("%s/task-sync/task-sync.db", xdg);
	return xstrfmt("%s/.local/share/task-sync/task-sync.db",
		       home ? home : "");
}

/* the sslmode for each DB_SSL spelling, compared in any case */
static const struct {
	const char *value, *mode;
} ssl_words[] = {
	{ "", "disable" },
	{ "false", "disable" },
	{ "no", "disable" },
	{ "off", "disable" },
	{ "0", "disable" },
	{ "true", "require" },
	{ "yes", "require" },
	{ "on", "require" },
	{ "1", "require" },
	{ "disable", "disable" },
	{ "allow", "allow" },
	{ "prefer", "prefer" },
	{ "require", "require" },
	{ "verify-ca", "verify-ca" },
	{ "verify-full", "verify-full" },
};

const char *config_sslmode(const char *ssl)
{
	size_t i, len;

	if (!ssl)
		return "disable";
	len = strlen(ssl);
	/* one pair of quotes around the value, as a shell would drop */
	if (len >= 2 && (ssl[0] == '"' || ssl[0] == '\'') &&
	    ssl[len - 1] == ssl[0]) {
		ssl++;
		len -= 2;
	}
	for (i = 0; i < sizeof(ssl_words) / sizeof(*ssl_words); i++)
		if (strlen(ssl_words[i].value) == len &&
		    !strncasecmp(ssl_words[i].value, ssl, len))
			return ssl_words[i].mode;
	return NULL;
}

/* a DB_SSL that is set must be one config_sslmode knows */
static int check_ssl(const struct layer *l)
{
	const char *v = l->values[CFG_DB_SSL];

	if (!v || config_sslmode(v))
		return 0;
	return error("%s: invalid DB_SSL '%s': expected true/false or an "
		     "sslmode (disable, allow, prefer, require, verify-ca, "
		     "verify-full)",
		     l->sources[CFG_DB_SSL], v);
}

static void add_pct(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c)) {
			strbuf_addch(sb, c);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[c >> 4]);
			strbuf_addch(sb, hex[c & 15]);
		}
	}
}

char *config_build_pg_url(const char *user, const char *password,
			  const char *host, const char *port, const char *name,
			  const char *ssl, int mask)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "postgres://");
	if (user && *user) {
		add_pct(&sb, user);
		if (password && *password) {
			strbuf_addch(&sb, ':');
			if (mask)
				strbuf_addstr(&sb, "****");
			else
				add_pct(&sb, password);
		}
		strbuf_addch(&sb, '@');
	}
	if (host && strchr(host, ':') && host[0] != '[')
		strbuf_addf(&sb, "[%s]", host); /* IPv6 literal */
	else if (host)
		strbuf_addstr(&sb, host);
	if (port && *port)
		strbuf_addf(&sb, ":%s", port);
	strbuf_addch(&sb, '/');
	add_pct(&sb, name);
	strbuf_addstr(&sb, "?sslmode=");
	/* config_load has refused an unknown one; others pass as given */
	add_pct(&sb, config_sslmode(ssl) ? config_sslmode(ssl) : ssl);
	return strbuf_detach(&sb, NULL);
}

/* hide the password of a user-supplied URL: scheme://user:****@host */
static char *mask_url(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *at, *colon;
	if (!scheme)
		return xstrdup(url);
	scheme += 3;
	/* userinfo sits in the authority; an '@' after the first '/' is data */
	at = memchr(scheme, '@', strcspn(scheme, "/"));
	if (!at)
		return xstrdup(url);
	colon = memchr(scheme, ':', (size_t)(at - scheme));
	if (!colon)
		return xstrdup(url);
	return xstrfmt("%.*s****%s", (int)(colon + 1 - url), url, at);
}

static void dotenv_bad(int line, const char *why, void *data)
{
	(void)data;
	warning(".env:%d: %s (the line is skipped)", line, why);
}

static int load_env_layer(struct layer *env, struct layer *dotenv)
{
	struct strbuf sb = STRBUF_INIT;
	struct file_cb_data d = { dotenv, ".env" };
	int i, exists;

	for (i = 0; i < CFG_NR_KEYS; i++) {
		const char *v = getenv(key_names[i]);
		if (v)
			layer_set(env, i, v,
				  xstrfmt("environment %s", key_names[i]));
	}
	/*
	 * .env never overrides the environment; a line in it that cannot
	 * be read is skipped with a warning, but one that is no file at
	 * all (a FIFO would hang) is refused
	 */
	if (check_regular(".env", &exists))
		return -1;
	if (exists && !strbuf_read_file(&sb, ".env"))
		dotenv_parse(sb.buf, sb.len, file_cb, dotenv_bad, &d);
	strbuf_release(&sb);
	for (i = 0; i < CFG_NR_KEYS; i++)
		if (!env->values[i] && dotenv->values[i]) {
			env->values[i] = dotenv->values[i];
			env->sources[i] = dotenv->sources[i];
			dotenv->values[i] = dotenv->sources[i] = NULL;
		}
	return 0;
}

static int nonempty(const struct layer *l, int k)
{
	return l->values[k] && *l->values[k];
}

static int has_db_parts(const struct layer *l)
{
	return nonempty(l, CFG_DB_HOST) || nonempty(l, CFG_DB_USER) ||
	       nonempty(l, CFG_DB_NAME);
}

static void take_item(struct config *cfg, struct layer *l, int k)
{
	if (cfg->items[k].value || !l->values[k])
		return;
	cfg->items[k].value = l->values[k];
	cfg->items[k].source = l->sources[k];
	l->values[k] = l->sources[k] = NULL;
}

static int set_db_from_url(struct config *cfg, const char *url)
{
	if (!strncmp(url, "sqlite:", 7)) {
		const char *p = url + 7;
		if (!strncmp(p, "//", 2))
			p += 2;
		if (!*p)
			return error("DATABASE_URL '%s' names no file", url);
		cfg->db_kind = CONFIG_DB_SQLITE;
		cfg->sqlite_path = xstrdup(p);
		return 0;
	}
	if (strncmp(url, "postgres://", 11) &&
	    strncmp(url, "postgresql://", 13))
		return error("unsupported DATABASE_URL '%s': expected "
			     "postgres://... or sqlite:PATH",
			     url);
	cfg->db_kind = CONFIG_DB_POSTGRES;
	cfg->db_url = xstrdup(url);
	cfg->db_url_masked = mask_url(url);
	return 0;
}

static void set_db_from_parts(struct config *cfg, const struct layer *l)
{
	const char *const *v = (const char *const *)l->values;
	cfg->db_kind = CONFIG_DB_POSTGRES;
	cfg->db_url = config_build_pg_url(v[CFG_DB_USER], v[CFG_DB_PASSWORD],
					  v[CFG_DB_HOST], v[CFG_DB_PORT],
					  v[CFG_DB_NAME], v[CFG_DB_SSL], 0);
	cfg->db_url_masked = config_build_pg_url(
		v[CFG_DB_USER], v[CFG_DB_PASSWORD], v[CFG_DB_HOST],
		v[CFG_DB_PORT], v[CFG_DB_NAME], v[CFG_DB_SSL], 1);
}

static int pick_database(struct config *cfg, struct layer *file,
			 struct layer *env)
{
	int i;
	static const int db_keys[] = { CFG_DATABASE_URL, CFG_DB_HOST,
				       CFG_DB_PORT,      CFG_DB_USER,
				       CFG_DB_PASSWORD,  CFG_DB_NAME,
				       CFG_DB_SSL };
	struct layer *used = NULL;
	int ret = 0;

	if (nonempty(file, CFG_DATABASE_URL)) {
		cfg->db_source = xstrfmt("DATABASE_URL (%s)",
					 file->sources[CFG_DATABASE_URL]);
		ret = set_db_from_url(cfg, file->values[CFG_DATABASE_URL]);
		used = file;
	} else if (has_db_parts(file)) {
		cfg->db_source = xstrfmt("DB_* keys in %s", cfg->path);
		set_db_from_parts(cfg, file);
		used = file;
	} else if (nonempty(env, CFG_DATABASE_URL)) {
		cfg->db_source = xstrfmt("DATABASE_URL (%s)",
					 env->sources[CFG_DATABASE_URL]);
		ret = set_db_from_url(cfg, env->values[CFG_DATABASE_URL]);
		used = env;
	} else if (has_db_parts(env)) {
		cfg->db_source = xstrdup("DB_* environment variables");
		set_db_from_parts(cfg, env);
		used = env;
	} else {
		cfg->db_kind = CONFIG_DB_SQLITE;
		cfg->sqlite_path = config_default_sqlite_path();
		cfg->sqlite_embedded = 1;
		cfg->db_source = xstrdup("embedded default (no database "
					 "configured)");
	}
	/* report the database keys of the layer actually used */
	if (used)
		for (i = 0; i < (int)(sizeof(db_keys) / sizeof(*db_keys)); i++)
			take_item(cfg, used, db_keys[i]);
	return ret;
}

/*
 * Markers that cannot tell the outcomes apart: an empty one is in every
 * output, and two equal ones say two things at once.
 */
static int check_markers(const struct config *cfg)
{
	static const int m[] = { CFG_PASS_MARKER, CFG_FAIL_MARKER,
				 CFG_TIMEOUT_MARKER };
	const struct config_item *it = cfg->items;
	size_t i, j;

	for (i = 0; i < sizeof(m) / sizeof(*m); i++)
		if (!*it[m[i]].value)
			return error("%s: %s is empty", it[m[i]].source,
				     it[m[i]].key);
	for (i = 0; i < sizeof(m) / sizeof(*m); i++)
		for (j = i + 1; j < sizeof(m) / sizeof(*m); j++) {
			const struct config_item *a = &it[m[i]], *b = &it[m[j]];
			if (strcmp(a->value, b->value))
				continue;
			/* name the one that was set, the later line if both */
			return error("%s: %s equals %s",
				     !strcmp(b->source, "default") ? a->source
								   : b->source,
				     a->key, b->key);
		}
	return 0;
}

/* a whole number of seconds in [1, max] for key k, default dflt */
static int parse_seconds(struct config *cfg, int k, long max, int dflt,
			 int *out)
{
	const char *v = cfg->items[k].value;
	char *end;
	long n;

	if (!v) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n <= 0 || n > max)
		return error("%s: invalid %s '%s': expected a whole number of "
			     "seconds between 1 and %ld",
			     cfg->items[k].source, key_names[k], v, max);
	*out = (int)n;
	return 0;
}

static int parse_timeout(struct config *cfg)
{
	if (parse_seconds(cfg, CFG_TIMEOUT_SECONDS, 86400 * 7, 120,
			  &cfg->timeout_seconds))
		return -1;
	return parse_seconds(cfg, CFG_DB_TIMEOUT_SECONDS, 3600, 30,
			     &cfg->db_timeout_seconds);
}

int config_load(struct config *cfg)
{
	struct layer file = { .name = "file" }, env = { .name = "env" },
		     dotenv = { .name = ".env" };
	static const int plain[] = { CFG_PASS_MARKER, CFG_FAIL_MARKER,
				     CFG_TIMEOUT_MARKER, CFG_TIMEOUT_SECONDS,
				     CFG_DB_TIMEOUT_SECONDS };
	int i, ret;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < CFG_NR_KEYS; i++)
		cfg->items[i].key = key_names[i];
	cfg->path = default_config_path();
	ret = load_file_layer(&file, cfg->path, &cfg->file_exists);
	if (ret)
		goto out;
	ret = load_env_layer(&env, &dotenv);
	if (ret)
		goto out;

	for (i = 0; i < (int)(sizeof(plain) / sizeof(*plain)); i++) {
		take_item(cfg, &file, plain[i]);
		take_item(cfg, &env, plain[i]);
		if (!cfg->items[plain[i]].value) {
			cfg->items[plain[i]].value =
				xstrdup(defaults[plain[i]]);
			cfg->items[plain[i]].source = xstrdup("default");
		}
	}
	ret = check_markers(cfg);
	if (!ret)
		ret = parse_timeout(cfg);
	if (!ret)
		ret = check_ssl(&file);
	if (!ret)
		ret = check_ssl(&env);
	if (!ret)
		ret = pick_database(cfg, &file, &env);
out:
	layer_release(&file);
	layer_release(&env);
	layer_release(&dotenv);
	return ret;
}

const char *config_get(const struct config *cfg, enum config_key key)
{
	return cfg->items[key].value;
}

void config_release(struct config *cfg)
{
	int i;
	for (i = 0; i < CFG_NR_KEYS; i++) {
		free(cfg->items[i].value);
		free(cfg->items[i].source);
	}
	free(cfg->path);
	free(cfg->db_url);
	free(cfg->db_url_masked);
	free(cfg->db_source);
	free(cfg->sqlite_path);
	memset(cfg, 0, sizeof(*cfg));
}
