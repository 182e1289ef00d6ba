/*
 * The store's read-modify-write (store_step_edit, store_task_edit) on a
 * real SQLite file, and on PostgreSQL when TASK_SYNC_PG_URL is set
 * (scripts/test sets it; a database of the test's own is made there):
 * an edit is applied whole, a refused one changes nothing, and edits
 * from several processes at once lose none of each other's writes
 * (store_step_edit, and store_step_edit_settings's compare-and-set).
 * SQLite: when closing empties the WAL.
 */
#include "core/config.h"
#include "os/xalloc.h"
#include "store/store.h"
#include "scratch.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITERS 4
#define EDITS 25

/* migrate: the PostgreSQL database is a new, empty one */
static struct store *open_store(int migrate)
{
	struct config cfg;
	struct store *st = NULL;
	if (config_load(&cfg) ||
	    store_open(&cfg, migrate ? STORE_NO_MIGRATE : 0, &st))
		st = NULL;
	else if (migrate && store_migrate_up(st, NULL)) {
		store_close(st);
		st = NULL;
	}
	config_release(&cfg);
	return st;
}

/* psql -c SQL on the server's URL; 0 on success */
static int psql(const char *url, const char *sql)
{
	char *cmd = xstrfmt("psql -q -X -v ON_ERROR_STOP=1 '%s' -c '%s' "
			    ">/dev/null 2>&1",
			    url, sql);
	int ret = system(cmd);
	free(cmd);
	return ret;
}

/* results.n += 1 */
static int bump(struct step *s, void *data)
{
	json_t *n;
	(void)data;
	if (!json_is_object(s->results)) {
		json_decref(s->results);
		s->results = json_object();
	}
	n = json_object_get(s->results, "n");
	json_object_set_new(s->results, "n",
			    json_integer(n ? json_integer_value(n) + 1 : 1));
	return 0;
}

/* settings.n += 1 (store_step_edit_settings writes settings only) */
static int bump_setting(struct step *s, void *data)
{
	json_t *n = json_object_get(s->settings, "n");
	(void)data;
	json_object_set_new(s->settings, "n",
			    json_integer(n ? json_integer_value(n) + 1 : 1));
	return 0;
}

static long long setting_counter(struct store *st, long long id)
{
	struct step s = { 0 };
	long long n = -1;
	if (!store_step_get(st, id, &s)) {
		json_t *v = json_object_get(s.settings, "n");
		n = v ? json_integer_value(v) : 0;
		step_release(&s);
	}
	return n;
}

/* change the title, then refuse: nothing may be written */
static int refuse(struct step *s, void *data)
{
	free(s->title);
	s->title = xstrdup("changed");
	return *(int *)data;
}

static int rename_task(struct task *t, void *data)
{
	free(t->name);
	t->name = xstrdup(data);
	return 0;
}

static long long counter(struct store *st, long long id)
{
	struct step s = { 0 };
	long long n = -1;
	if (!store_step_get(st, id, &s)) {
		json_t *v = json_object_get(s.results, "n");
		n = v ? json_integer_value(v) : 0;
		step_release(&s);
	}
	return n;
}

/* the size of the embedded database's WAL, -1 when it is missing */
static long long wal_size(void)
{
	char *path = xstrfmt("%s/task-sync/task-sync.db-wal",
			     getenv("XDG_DATA_HOME"));
	struct stat sb;
	long long size = stat(path, &sb) ? -1 : (long long)sb.st_size;

	free(path);
	return size;
}

/*
 * SQLite: a connection that leaves more than 100 frames in the WAL
 * empties it when it closes (the next command need not read them all);
 * one that leaves a few keeps it, synced.
 */
static void test_wal(void)
{
	struct store *st = open_store(0);
	long long id;
	int i, made = st != NULL;

	for (i = 0; st && i < 150; i++)
		made &= !store_task_create(st, "wal", "active", "/", &id);
	if (st)
		store_close(st);
	ok(made && wal_size() == 0,
	   "sqlite: closing after 150 commits empties the WAL (%lld bytes)",
	   wal_size());
	st = open_store(0);
	made = st && !store_task_create(st, "wal", "active", "/", &id);
	if (st)
		store_close(st);
	ok(made && wal_size() > 0,
	   "sqlite: closing after one commit keeps it (%lld bytes)",
	   wal_size());
}

static void test_backend(const char *name)
{
	struct store *st = open_store(!strcmp(name, "postgres"));
	long long task, step;
	struct step s = { 0 };
	struct task t = { 0 };
	char renamed[] = "renamed";
	json_t *settings;
	int i, code, failed = 0;

	if (!ok(st != NULL, "%s: the store opens", name))
		return;
	settings = json_pack("{s:s}", "file_exists", "a");
	ok(!store_task_create(st, "rmw", "active", "/", &task) &&
		   !store_step_create(st, task, "s", settings, 0, &step),
	   "%s: a task and a step", name);
	json_decref(settings);

	ok(!store_step_edit(st, step, bump, NULL) && counter(st, step) == 1,
	   "%s: an edit is written", name);
	code = -3;
	ok(store_step_edit(st, step, refuse, &code) == -3,
	   "%s: a refused edit returns the refusal", name);
	ok(!store_step_get(st, step, &s) && !strcmp(s.title, "s") &&
		   counter(st, step) == 1,
	   "%s: and writes nothing", name);
	step_release(&s);
	ok(store_step_edit(st, step + 1000, bump, NULL) < 0,
	   "%s: an edit of a missing step fails", name);
	ok(!store_task_edit(st, task, rename_task, renamed) &&
		   !store_task_get(st, task, &t) && !strcmp(t.name, "renamed"),
	   "%s: a task edit is written", name);
	task_release(&t);
	store_close(st);

	/* several processes at once, each with its own connection */
	fflush(stdout);
	for (i = 0; i < WRITERS; i++) {
		pid_t pid = fork();
		if (!pid) {
			struct store *mine = open_store(0);
			int k, bad = !mine;
			/* half the writers edit the settings alone */
			for (k = 0; mine && k < EDITS; k++)
				bad |= (i % 2 ? store_step_edit_settings(
							mine, step,
							bump_setting, NULL)
					      : store_step_edit(mine, step,
								bump, NULL)) !=
				       0;
			if (mine)
				store_close(mine);
			_exit(bad);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		int status;
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	}
	st = open_store(0);
	ok(!failed, "%s: %d writers of %d edits each all succeed", name,
	   WRITERS, EDITS);
	ok(st && counter(st, step) == 1 + WRITERS / 2 * EDITS,
	   "%s: no edit is lost (%lld of %d)", name,
	   st ? counter(st, step) : -1LL, 1 + WRITERS / 2 * EDITS);
	ok(st && setting_counter(st, step) == WRITERS / 2 * EDITS,
	   "%s: no settings edit is lost either (%lld of %d)", name,
	   st ? setting_counter(st, step) : -1LL, WRITERS / 2 * EDITS);
	if (st)
		store_close(st);
	if (!strcmp(name, "sqlite"))
		test_wal();
}

int main(void)
{
	char *dir = scratch_home("test-store");
	const char *pg = getenv("TASK_SYNC_PG_URL");

	if (!dir)
		return 1;
	test_backend("sqlite");
	/* a database of its own on the server scripts/test started */
	if (pg && *pg) {
		char *db = xstrfmt("task_sync_unit_%d", (int)getpid());
		char *sql = xstrfmt("CREATE DATABASE %s", db);
		const char *slash = strrchr(pg, '/');
		char *url = xstrfmt("%.*s/%s", (int)(slash ? slash - pg : 0),
				    pg, db);
		if (ok(slash && !psql(pg, sql), "postgres: database %s", db)) {
			setenv("DATABASE_URL", url, 1);
			test_backend("postgres");
			free(sql);
			sql = xstrfmt("DROP DATABASE %s WITH (FORCE)", db);
			psql(pg, sql);
		}
		free(sql);
		free(url);
		free(db);
	}
	scratch_remove(dir);
	return tap_done();
}
