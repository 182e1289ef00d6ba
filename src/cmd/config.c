/* task-sync config: the effective configuration and where it came from */
#include "cmd/cmd.h"
#include "os/error.h"
#include "core/jsonutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *shown(const struct config_item *it, char *buf, size_t n)
{
	if (!it->value)
		return "(unset)";
	if (!strcmp(it->key, "DB_PASSWORD") ||
	    (!strcmp(it->key, "DATABASE_URL") && strstr(it->value, "@"))) {
		snprintf(buf, n, "%s", "****");
		return buf;
	}
	return it->value;
}

/*
 * The database's identity, read only: nothing is created (a missing
 * SQLite file stays missing, a database without one gets none).
 * *id is borrowed from the store, NULL when there is none yet; -1
 * when the database cannot be read (the error is printed).
 */
static int read_identity(struct cmd_ctx *ctx, const struct config *cfg,
			 const char **id)
{
	struct store *st;

	*id = NULL;
	if (cfg->db_kind == CONFIG_DB_SQLITE &&
	    access(cfg->sqlite_path, F_OK) < 0)
		return 0;
	st = cmd_store(ctx, STORE_NO_MIGRATE | STORE_READ_ONLY);
	if (!st || store_identity(st, 0, id))
		return -1;
	return 0;
}

int cmd_config(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	int as_json = 0, ret, i;
	struct config *cfg;
	const char *id = NULL;
	char buf[16];
	int id_ret;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &as_json, "print JSON"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"config [--json]",
		"Print the effective configuration, where each value came "
		"from, and which database is used. Passwords are masked.",
		0, 0, "  task-sync config\n"
	};

	ret = parse_options(argc, argv, &u, opts, "config", &args);
	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	cfg = cmd_load_config(ctx);
	if (!cfg)
		return EXIT_CONFIG;
	id_ret = read_identity(ctx, cfg, &id);
	if (as_json) {
		json_t *o = json_object(), *items = json_object();
		char *s;
		json_object_set_new(o, "config_file", json_string(cfg->path));
		json_object_set_new(o, "config_file_exists",
				    json_boolean(cfg->file_exists));
		for (i = 0; i < CFG_NR_KEYS; i++) {
			const struct config_item *it = &cfg->items[i];
			json_t *e = json_object();
			json_object_set_new(
				e, "value",
				it->value ? json_string(
						    shown(it, buf, sizeof(buf)))
					  : json_null());
			json_object_set_new(e, "source",
					    it->source ? json_string(it->source)
						       : json_null());
			json_object_set_new(items, it->key, e);
		}
		json_object_set_new(o, "settings", items);
		json_object_set_new(
			o, "database",
			json_string(cfg->db_kind == CONFIG_DB_POSTGRES
					    ? "postgres"
					    : "sqlite"));
		json_object_set_new(
			o, "database_location",
			json_string(cfg->db_kind == CONFIG_DB_POSTGRES
					    ? cfg->db_url_masked
					    : cfg->sqlite_path));
		json_object_set_new(o, "database_source",
				    json_string(cfg->db_source));
		json_object_set_new(o, "database_identity",
				    id ? json_string(id) : json_null());
		s = json_pretty(o);
		fprintf(ctx->out, "%s\n", s);
		free(s);
		json_decref(o);
		return EXIT_OK;
	}
	fprintf(ctx->out, "config file: %s%s\n", cfg->path,
		cfg->file_exists ? "" : " (not found)");
	for (i = 0; i < CFG_NR_KEYS; i++) {
		const struct config_item *it = &cfg->items[i];
		if (!it->value)
			continue;
		fprintf(ctx->out, "%-18s %-40s # %s\n", it->key,
			shown(it, buf, sizeof(buf)), it->source);
	}
	if (cfg->db_kind == CONFIG_DB_POSTGRES)
		fprintf(ctx->out, "database: postgres %s\n",
			cfg->db_url_masked);
	else
		fprintf(ctx->out, "database: sqlite %s\n", cfg->sqlite_path);
	fprintf(ctx->out, "database chosen by: %s\n", cfg->db_source);
	fprintf(ctx->out, "database identity: %s\n",
		id       ? id
		: id_ret ? "unknown (the database cannot be read)"
			 : "none yet (made when a step first uses Docker)");
	return EXIT_OK;
}
