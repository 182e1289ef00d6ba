/*
 * task-sync gc [--task ID] [--dry-run] [--json]: list and remove the
 * Docker containers, volumes and images this database's task-sync
 * created (labelled task-sync.db=<its identity>, and task-sync.task=ID
 * with --task). Another database's objects, and those of a task-sync
 * from before database identities (no task-sync.db label), are left
 * alone. Containers go first, so the images they used can go too.
 * gc --runs [N] trims the database's step run history instead
 * (store_runs_prune).
 */
#include "cmd/cmd.h"
#include "os/error.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "store/store.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct gc_item {
	const char *kind; /* container, volume, image */
	char *ref;        /* what docker rm / rmi is given */
	char *id;         /* short ID, or the volume's name */
	char *name;
	char *task, *step; /* label values, may be "" */
};

struct gc {
	struct gc_item *v;
	size_t nr, alloc;
	long long task;
	const char *db; /* the database's identity */
};

static void add_item(struct gc *g, const char *kind, const char *ref,
		     const char *id, const char *name, const char *task,
		     const char *step)
{
	struct gc_item *it;
	ALLOC_GROW(g->v, g->nr + 1, g->alloc);
	it = &g->v[g->nr++];
	it->kind = kind;
	it->ref = xstrdup(ref);
	it->id = xstrdup(id);
	it->name = xstrdup(name);
	it->task = xstrdup(task);
	it->step = xstrdup(step);
}

static void gc_release(struct gc *g)
{
	size_t i;
	for (i = 0; i < g->nr; i++) {
		free(g->v[i].ref);
		free(g->v[i].id);
		free(g->v[i].name);
		free(g->v[i].task);
		free(g->v[i].step);
	}
	free(g->v);
}

/* split a tab-separated line in place into at most n fields */
static size_t split_tabs(char *line, char **f, size_t n)
{
	size_t k = 0;
	while (k < n) {
		f[k++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	while (k < n)
		f[k++] = (char *)"";
	return n;
}

/* run a listing; each output line goes to fn. 0 or -1 */
static int list_lines(struct gc *g, const struct strvec *args,
		      void (*fn)(struct gc *g, char *line))
{
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT;
	char *line, *nl;
	int rc = docker_call(args, DOCKER_QUICK_MS, &o, &why);

	if (rc > 0)
		error("docker %s: %s", args->v[0], why.buf);
	strbuf_release(&why);
	if (rc) {
		strbuf_release(&o);
		return -1;
	}
	for (line = o.buf; *line; line = nl) {
		nl = line + strcspn(line, "\n");
		if (*nl)
			*nl++ = '\0';
		if (*line)
			fn(g, line);
	}
	strbuf_release(&o);
	return 0;
}

/* docker ANDs the label filters: this database's, this task's */
static void filter_args(struct gc *g, struct strvec *a)
{
	strvec_push(a, "--filter");
	strvec_pushf(a, "label=%s=%s", DOCKER_LABEL_DB, g->db);
	if (g->task) {
		strvec_push(a, "--filter");
		strvec_pushf(a, "label=%s=%lld", DOCKER_LABEL_TASK, g->task);
	}
}

#define LABEL_FMT(k) "{{.Label \"" k "\"}}"

static void container_line(struct gc *g, char *line)
{
	char *f[4];
	split_tabs(line, f, 4);
	add_item(g, "container", f[0], f[0], f[1], f[2], f[3]);
}

static void volume_line(struct gc *g, char *line)
{
	char *f[3];
	split_tabs(line, f, 3);
	add_item(g, "volume", f[0], f[0], f[0], f[1], f[2]);
}

static void image_line(struct gc *g, char *line)
{
	char *f[3], *name;
	split_tabs(line, f, 3);
	/* remove by tag; an untagged image by its ID */
	if (!strcmp(f[1], "<none>") || !strcmp(f[2], "<none>")) {
		add_item(g, "image", f[0], f[0], "<none>", "", "");
		return;
	}
	name = xstrfmt("%s:%s", f[1], f[2]);
	add_item(g, "image", name, f[0], name, "", "");
	free(name);
}

/* images have no label column in `docker images`: inspect them once */
static void image_labels(struct gc *g, size_t from)
{
	struct strvec a = STRVEC_INIT;
	struct strbuf o = STRBUF_INIT;
	char *line, *nl;
	size_t i;

	if (from == g->nr)
		return;
	strvec_pushl(&a, "image", "inspect", "--format",
		     "{{.Id}}\t"
		     "{{index .Config.Labels \"" DOCKER_LABEL_TASK
		     "\"}}\t{{index .Config.Labels \"" DOCKER_LABEL_STEP "\"}}",
		     NULL);
	for (i = from; i < g->nr; i++)
		strvec_push(&a, g->v[i].id);
	if (!docker_call(&a, DOCKER_QUICK_MS, &o, NULL)) {
		for (line = o.buf; *line; line = nl) {
			char *f[3], *id;
			nl = line + strcspn(line, "\n");
			if (*nl)
				*nl++ = '\0';
			split_tabs(line, f, 3);
			id = f[0] + (strncmp(f[0], "sha256:", 7) ? 0 : 7);
			for (i = from; i < g->nr; i++)
				if (!strncmp(id, g->v[i].id,
					     strlen(g->v[i].id))) {
					free(g->v[i].task);
					free(g->v[i].step);
					g->v[i].task = xstrdup(f[1]);
					g->v[i].step = xstrdup(f[2]);
				}
		}
	}
	strvec_clear(&a);
	strbuf_release(&o);
}

static int collect(struct gc *g)
{
	struct strvec a = STRVEC_INIT;
	size_t first_image;
	int ret;

	strvec_pushl(&a, "ps", "-a", NULL);
	filter_args(g, &a);
	strvec_pushl(
		&a, "--format",
		"{{.ID}}\t{{.Names}}\t" LABEL_FMT(
			DOCKER_LABEL_TASK) "\t" LABEL_FMT(DOCKER_LABEL_STEP),
		NULL);
	ret = list_lines(g, &a, container_line);
	strvec_clear(&a);
	if (ret)
		return ret;

	strvec_pushl(&a, "volume", "ls", NULL);
	filter_args(g, &a);
	strvec_pushl(&a, "--format",
		     "{{.Name}}\t" LABEL_FMT(DOCKER_LABEL_TASK) "\t" LABEL_FMT(
			     DOCKER_LABEL_STEP),
		     NULL);
	ret = list_lines(g, &a, volume_line);
	strvec_clear(&a);
	if (ret)
		return ret;

	first_image = g->nr;
	strvec_pushl(&a, "images", NULL);
	filter_args(g, &a);
	strvec_pushl(&a, "--format", "{{.ID}}\t{{.Repository}}\t{{.Tag}}",
		     NULL);
	ret = list_lines(g, &a, image_line);
	strvec_clear(&a);
	if (!ret)
		image_labels(g, first_image);
	return ret;
}

/* 0, or nonzero with docker's reason (may be empty) in err */
static int remove_item(const struct gc_item *it, struct strbuf *err)
{
	struct strbuf o = STRBUF_INIT;
	int rc;

	if (!strcmp(it->kind, "container"))
		rc = docker_callv(&o, err, DOCKER_QUICK_MS, "rm", "-f", it->ref,
				  NULL);
	else if (!strcmp(it->kind, "volume"))
		rc = docker_callv(&o, err, DOCKER_QUICK_MS, "volume", "rm",
				  it->ref, NULL);
	else
		rc = docker_callv(&o, err, DOCKER_QUICK_MS, "rmi", it->ref,
				  NULL);
	/* gone meanwhile is what we wanted */
	if (rc > 0 && (strstr(o.buf, "No such") || strstr(o.buf, "no such")))
		rc = 0;
	if (!rc)
		strbuf_reset(err);
	strbuf_release(&o);
	return rc;
}

/* how many runs of each step `gc --runs` keeps by default (docs/gc.md) */
#define GC_KEEP_RUNS 20

/*
 * "--runs" may come without its number: give the option parser
 * "--runs=20" then. argv is copied into *out.
 */
static void runs_default(int argc, const char **argv, struct strvec *out)
{
	int i;
	for (i = 0; i < argc; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--runs") &&
		    (!next || !*next || !strchr("0123456789", *next)))
			strvec_pushf(out, "--runs=%d", GC_KEEP_RUNS);
		else
			strvec_push(out, argv[i]);
	}
}

/* gc --runs: the database's old step runs, not Docker objects */
static int gc_runs(struct cmd_ctx *ctx, long long task, long long keep, int dry,
		   int as_json)
{
	struct store *st = cmd_store(ctx, 0);
	struct run_prune *v = NULL;
	long long total = 0;
	size_t nr = 0, i;
	int ret;

	if (!st)
		return CMD_DB_FAILED;
	ret = store_runs_prune(st, task, keep, dry, &v, &nr);
	if (ret) {
		free(v);
		return ts_exit_code(ret);
	}
	if (as_json) {
		json_t *a = json_array();
		char *text;
		for (i = 0; i < nr; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "step",
					    json_integer(v[i].step_id));
			json_object_set_new(o, "task",
					    json_integer(v[i].task_id));
			json_object_set_new(o, "runs",
					    json_integer(v[i].removed));
			json_object_set_new(o, "removed", json_boolean(!dry));
			json_array_append_new(a, o);
		}
		text = json_pretty(a);
		fprintf(ctx->out, "%s\n", text);
		free(text);
		json_decref(a);
		free(v);
		return EXIT_OK;
	}
	for (i = 0; i < nr; i++) {
		fprintf(ctx->out, "%s %lld run%s of step %lld, task %lld\n",
			dry ? "would remove" : "removed", v[i].removed,
			v[i].removed == 1 ? "" : "s", v[i].step_id,
			v[i].task_id);
		total += v[i].removed;
	}
	if (!nr)
		fprintf(ctx->out,
			"nothing to remove: no step has more than "
			"%lld run%s the results do not use\n",
			keep, keep == 1 ? "" : "s");
	else
		fprintf(ctx->out,
			"%s %lld run%s of %zu step%s; each keeps its "
			"newest %lld and those its results use\n",
			dry ? "would remove" : "removed", total,
			total == 1 ? "" : "s", nr, nr == 1 ? "" : "s", keep);
	free(v);
	return EXIT_OK;
}

int cmd_gc(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	struct gc g = { NULL, 0, 0, 0, NULL };
	struct store *st;
	int dry = 0, as_json = 0, failed = 0;
	long long keep = 0;
	size_t i, counts[3] = { 0, 0, 0 };
	json_t *arr = NULL;
	const struct option opts[] = {
		OPT_ID(0, "task", &g.task, "ID",
		       "only what belongs to this task"),
		OPT_BOOL('n', "dry-run", &dry,
			 "list what would be removed; remove nothing"),
		OPT_BOOL(0, "json", &as_json, "print JSON"),
		OPT_ID(0, "runs", &keep, "N",
		       "remove old step runs from the database instead, keeping "
		       "the newest N of each step (default 20) and those its "
		       "results use"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"gc [--task ID] [--dry-run] [--json] [--runs [N]]",
		"Remove the Docker containers, volumes and images task-sync "
		"created for this database (labelled task-sync.db with its "
		"identity), printing each; with --task only one task's. Other "
		"databases' objects are left alone. With --runs, remove old "
		"step runs from the database instead.",
		0, 0,
		"  task-sync gc --dry-run\n  task-sync gc --task 3\n"
		"  task-sync gc --runs\n"
	};
	struct strvec av = STRVEC_INIT;
	int ret;

	runs_default(argc, argv, &av);
	ret = parse_options((int)av.nr, (const char **)av.v, &u, opts, "gc",
			    &args);
	strvec_clear(&av);
	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	if (keep)
		return gc_runs(ctx, g.task, keep, dry, as_json);
	st = cmd_store(ctx, STORE_READ_ONLY);
	if (!st || store_identity(st, 0, &g.db))
		return CMD_DB_FAILED;
	/* no identity yet: this database has made nothing */
	if (g.db && collect(&g)) {
		gc_release(&g);
		return EXIT_CONFIG;
	}
	if (as_json)
		arr = json_array();
	for (i = 0; i < g.nr; i++) {
		const struct gc_item *it = &g.v[i];
		struct strbuf err = STRBUF_INIT;
		int removed = 0, refused;

		if (!dry && !remove_item(it, &err))
			removed = 1;
		refused = !dry && !removed;
		if (refused)
			failed++;
		if (removed || dry)
			counts[it->kind[0] == 'c'   ? 0
			       : it->kind[0] == 'v' ? 1
						    : 2]++;
		if (arr) {
			json_t *o = json_object();
			json_object_set_new(o, "kind", json_string(it->kind));
			json_object_set_new(o, "id", json_string(it->id));
			json_object_set_new(o, "name", json_string(it->name));
			json_object_set_new(o, "task", json_string(it->task));
			json_object_set_new(o, "step", json_string(it->step));
			json_object_set_new(o, "removed",
					    json_boolean(removed));
			if (refused)
				json_object_set_new(o, "error",
						    json_string(err.buf));
			json_array_append_new(arr, o);
		} else {
			char *idp = strcmp(it->name, it->id)
					    ? xstrfmt(" (%.12s)", it->id)
					    : xstrdup("");
			fprintf(ctx->out, "%s %s %s%s%s%s%s%s%s%s\n",
				dry       ? "would remove"
				: removed ? "removed"
					  : "cannot remove",
				it->kind, it->name, idp,
				*it->task ? ", task " : "", it->task,
				*it->step ? " step " : "", it->step,
				refused ? ": " : "", err.buf);
			free(idp);
		}
		if (refused)
			error("cannot remove %s %s: %s", it->kind, it->name,
			      err.buf);
		strbuf_release(&err);
	}
	if (arr) {
		char *s = json_pretty(arr);
		fprintf(ctx->out, "%s\n", s);
		free(s);
		json_decref(arr);
	} else if (!g.nr) {
		fputs("nothing to remove\n", ctx->out);
	} else {
		fprintf(ctx->out,
			"%s %zu container%s, %zu volume%s, %zu "
			"image%s\n",
			dry ? "would remove" : "removed", counts[0],
			counts[0] == 1 ? "" : "s", counts[1],
			counts[1] == 1 ? "" : "s", counts[2],
			counts[2] == 1 ? "" : "s");
	}
	gc_release(&g);
	return failed ? EXIT_STEP_FAILED : EXIT_OK;
}
