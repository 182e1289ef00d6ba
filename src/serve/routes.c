/*
 * The API's routes (docs/serve.md): a path pattern and its methods per
 * row, '#' matching one ID segment. Handlers read and write through the
 * store only; settings written are checked as `step edit` checks them.
 */
#include "serve/routes.h"

#include <stdlib.h>
#include <string.h>

#include "core/jsonutil.h"
#include "engine/grid.h"
#include "engine/regrade.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "serve/json.h"
#include "serve/runs.h"
#include "steps/step_settings.h"

/* the most bytes of a run's output one request returns */
#define OUTPUT_CHUNK_MAX (1024 * 1024)

typedef void (*route_fn)(struct serve_ctx *sc, const struct request *rq,
			 const long long *ids, struct reply *r);

struct route {
	const char *pattern;     /* segments; '#' is an ID */
	const char *what[2];     /* the IDs' nouns, for messages */
	route_fn get, put, post; /* post: called without the store lock */
};

/* a store failure as a reply: 404 names the object, else 500 */
static void store_failed(struct reply *r, int ret, const char *what,
			 long long id)
{
	if (ret == TS_ENOTFOUND)
		reply_error(r, 404, "%s %lld not found", what, id);
	else
		reply_error(r, 500, "database error (see the server's log)");
}

static void get_index(struct serve_ctx *sc, const struct request *rq,
		      const long long *ids, struct reply *r);

/* src/serve/page.html, compiled in by scripts/embed.sh */
extern const char serve_page[];

/* a browser gets the page; an API client (no text/html in Accept) the
 * original's JSON index, also at /api */
static void get_root(struct serve_ctx *sc, const struct request *rq,
		     const long long *ids, struct reply *r)
{
	if (!rq->accept || !strstr(rq->accept, "text/html")) {
		get_index(sc, rq, ids, r);
		return;
	}
	r->status = 200;
	r->static_data = serve_page;
	r->len = strlen(serve_page);
	r->content_type = "text/html; charset=utf-8";
}

static void get_status(struct serve_ctx *sc, const struct request *rq,
		       const long long *ids, struct reply *r)
{
	(void)rq;
	(void)ids;
	reply_json(r, json_pack("{s:s, s:s, s:s}", "status", "ok", "version",
				TASK_SYNC_VERSION, "backend",
				store_backend_name(sc->st)));
}

static void get_tasks(struct serve_ctx *sc, const struct request *rq,
		      const long long *ids, struct reply *r)
{
	struct task *v = NULL;
	size_t nr = 0, i;
	json_t *a;
	int ret = store_task_list(sc->st, &v, &nr);

	(void)rq;
	(void)ids;
	if (ret) {
		store_failed(r, ret, "task", 0);
		return;
	}
	a = json_array();
	for (i = 0; i < nr; i++)
		json_array_append_new(a, serve_task_json(&v[i], 0));
	task_list_free(v, nr);
	reply_json(r, json_pack("{s:o}", "tasks", a));
}

static void get_task(struct serve_ctx *sc, const struct request *rq,
		     const long long *ids, struct reply *r)
{
	struct task t = { 0 };
	int ret = store_task_get(sc->st, ids[0], &t);

	(void)rq;
	if (ret)
		store_failed(r, ret, "task", ids[0]);
	else
		reply_json(r,
			   json_pack("{s:o}", "task", serve_task_json(&t, 1)));
	task_release(&t);
}

static void get_task_settings(struct serve_ctx *sc, const struct request *rq,
			      const long long *ids, struct reply *r)
{
	struct task t = { 0 };
	int ret = store_task_get(sc->st, ids[0], &t);

	(void)rq;
	if (ret)
		store_failed(r, ret, "task", ids[0]);
	else
		reply_json(r, json_pack("{s:o}", "settings",
					t.settings ? json_incref(t.settings)
						   : json_object()));
	task_release(&t);
}

static void get_task_steps(struct serve_ctx *sc, const struct request *rq,
			   const long long *ids, struct reply *r)
{
	struct task t = { 0 };
	struct step *v = NULL;
	size_t nr = 0, i;
	json_t *a;
	int ret = store_task_get(sc->st, ids[0], &t);

	(void)rq;
	task_release(&t);
	if (!ret)
		ret = store_step_list(sc->st, ids[0], &v, &nr);
	if (ret) {
		store_failed(r, ret, "task", ids[0]);
		return;
	}
	a = json_array();
	for (i = 0; i < nr; i++)
		json_array_append_new(a, serve_step_json(&v[i]));
	step_list_free(v, nr);
	reply_json(r, json_pack("{s:o}", "steps", a));
}

/* the document `task report --json` prints (engine/grid.h) */
static void get_task_report(struct serve_ctx *sc, const struct request *rq,
			    const long long *ids, struct reply *r)
{
	json_t *doc = NULL;
	int ret = grid_task_json(sc->st, sc->cfg, ids[0], &doc);

	(void)rq;
	if (ret)
		store_failed(r, ret, "task", ids[0]);
	else
		reply_json(r, doc);
}

/* the step, or a 404 reply; 0 when found */
static int find_step(struct serve_ctx *sc, long long id, struct step *s,
		     struct reply *r)
{
	int ret = store_step_find(sc->st, id, s);
	if (ret)
		store_failed(r, ret, "step", id);
	return ret;
}

static void get_step(struct serve_ctx *sc, const struct request *rq,
		     const long long *ids, struct reply *r)
{
	struct step s = { 0 };

	(void)rq;
	if (!find_step(sc, ids[0], &s, r))
		reply_json(r, json_pack("{s:o}", "step", serve_step_json(&s)));
	step_release(&s);
}

static void get_step_settings(struct serve_ctx *sc, const struct request *rq,
			      const long long *ids, struct reply *r)
{
	struct step s = { 0 };

	(void)rq;
	if (!find_step(sc, ids[0], &s, r))
		reply_json(r, json_pack("{s:O}", "settings", s.settings));
	step_release(&s);
}

static void get_step_runs(struct serve_ctx *sc, const struct request *rq,
			  const long long *ids, struct reply *r)
{
	struct step s = { 0 };
	struct step_run *v = NULL;
	size_t nr = 0, i;
	json_t *a;
	int ret;

	(void)rq;
	ret = find_step(sc, ids[0], &s, r);
	step_release(&s);
	if (ret)
		return;
	ret = store_run_list(sc->st, ids[0], 0, &v, &nr);
	if (ret) {
		store_failed(r, ret, "step", ids[0]);
		return;
	}
	a = json_array();
	for (i = 0; i < nr; i++)
		json_array_append_new(a, serve_run_json(&v[i]));
	step_run_list_free(v, nr);
	reply_json(r, json_pack("{s:o}", "runs", a));
}

static void get_run(struct serve_ctx *sc, const struct request *rq,
		    const long long *ids, struct reply *r)
{
	struct step s = { 0 };
	struct step_run *run = xcalloc(1, sizeof(*run));
	int ret;

	(void)rq;
	ret = find_step(sc, ids[0], &s, r);
	step_release(&s);
	if (!ret) {
		ret = store_run_get(sc->st, ids[0], ids[1], run);
		if (ret)
			store_failed(r, ret, "run", ids[1]);
		else
			reply_json(r, json_pack("{s:o}", "run",
						serve_run_json(run)));
	}
	step_run_list_free(run, 1);
}

/* a query argument that must be a non-negative integer; -1 if bad */
static long long query_count(const struct request *rq, const char *key,
			     long long dflt)
{
	const char *v = rq->query(rq->conn, key);
	char *end;
	long long n;

	if (!v)
		return dflt;
	if (*v < '0' || *v > '9')
		return -1;
	n = strtoll(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}

static void get_run_output(struct serve_ctx *sc, const struct request *rq,
			   const long long *ids, struct reply *r)
{
	char *out = NULL;
	int found = 0, ret;
	long long off = query_count(rq, "offset", 0);
	long long len = query_count(rq, "length", OUTPUT_CHUNK_MAX);
	size_t total;

	if (off < 0 || len < 0) {
		reply_error(r, 400,
			    "offset and length must be non-negative "
			    "integers");
		return;
	}
	if (len > OUTPUT_CHUNK_MAX)
		len = OUTPUT_CHUNK_MAX;
	ret = store_run_output(sc->st, ids[0], ids[1], &out, &found);
	if (ret) {
		store_failed(r, ret, "run", ids[1]);
		return;
	}
	if (!found || !out) {
		free(out);
		reply_error(r, 404,
			    "run %lld of step %lld not found or has "
			    "no output",
			    ids[1], ids[0]);
		return;
	}
	total = strlen(out);
	if ((size_t)off > total) {
		reply_error(r, 416,
			    "offset %lld is past the output's end "
			    "(%zu bytes)",
			    off, total);
		free(out);
		return;
	}
	if ((size_t)len > total - (size_t)off)
		len = (long long)(total - (size_t)off);
	r->status = 200;
	r->len = (size_t)len;
	r->data = xmalloc(r->len + 1);
	memcpy(r->data, out + off, r->len);
	r->content_range = xstrfmt("bytes %lld-%lld/%zu", off,
				   off + len - (len > 0), total);
	free(out);
}

/* ---- writes ---- */

/* the body as a JSON object, or a 400 reply and NULL */
static json_t *body_object(const struct request *rq, struct reply *r,
			   const char *what)
{
	json_error_t je;
	json_t *j = json_loadb(rq->body ? rq->body : "", rq->len,
			       JSON_DECODE_ANY, &je);

	if (!j) {
		reply_error(r, 400, "invalid JSON: %s (line %d, column %d)",
			    je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(r, 400, "%s must be a JSON object", what);
		return NULL;
	}
	return j;
}

struct settings_put {
	struct store *st;
	json_t *settings;
	struct strbuf err; /* why they were refused */
};

/* settings that could not be read back once stored are refused */
static int storable(struct settings_put *p)
{
	struct strbuf why = STRBUF_INIT;
	char *text = json_compact_stored(p->settings, &why);

	if (!text)
		strbuf_addf(&p->err,
			    "the new settings could not be read back "
			    "(%s); nothing changed",
			    why.buf);
	free(text);
	strbuf_release(&why);
	return text ? 0 : TS_EUSAGE;
}

static int put_task_fn(struct task *t, void *data)
{
	struct settings_put *p = data;

	if (storable(p))
		return TS_EUSAGE;
	json_decref(t->settings);
	t->settings = json_incref(p->settings);
	return 0;
}

/* checked as step edit checks (steps/step_settings.h) */
static int put_step_fn(struct step *s, void *data)
{
	struct settings_put *p = data;
	int ret;

	strbuf_reset(&p->err);
	if (step_settings_check(p->settings, &p->err))
		return TS_EUSAGE;
	ret = step_settings_new_deps(p->st, s->id, s->settings, p->settings,
				     &p->err);
	if (!ret)
		ret = storable(p);
	if (ret)
		return ret;
	json_decref(s->settings);
	s->settings = json_incref(p->settings);
	return 0;
}

/* the outcome of a settings write as a reply */
static void put_done(struct reply *r, int ret, struct settings_put *p,
		     const char *what, long long id)
{
	if (!ret)
		reply_json(r, json_pack("{s:O}", "settings", p->settings));
	else if (p->err.len)
		reply_error(r, ret == TS_ENOTFOUND ? 404 : 400, "%s %lld: %s",
			    what, id, p->err.buf);
	else
		store_failed(r, ret, what, id);
	json_decref(p->settings);
	strbuf_release(&p->err);
}

static void put_task_settings(struct serve_ctx *sc, const struct request *rq,
			      const long long *ids, struct reply *r)
{
	struct settings_put p = { sc->st, body_object(rq, r, "settings"),
				  STRBUF_INIT };

	if (p.settings)
		put_done(r, store_task_edit(sc->st, ids[0], put_task_fn, &p),
			 &p, "task", ids[0]);
}

static void put_step_settings(struct serve_ctx *sc, const struct request *rq,
			      const long long *ids, struct reply *r)
{
	struct settings_put p = { sc->st, body_object(rq, r, "settings"),
				  STRBUF_INIT };

	if (p.settings)
		put_done(r, store_step_edit(sc->st, ids[0], put_step_fn, &p),
			 &p, "step", ids[0]);
}

/* ---- runs (serve/runs.h) ---- */

/* the body's boolean flags into *flag[i]; 0, or a 400 reply */
static int body_flags(const struct request *rq, struct reply *r,
		      const char *const *names, int **flags)
{
	json_t *j, *v;
	const char *k;
	size_t i;

	if (!rq->len)
		return 0;
	j = body_object(rq, r, "the body");
	if (!j)
		return -1;
	json_object_foreach(j, k, v)
	{
		for (i = 0; names[i] && strcmp(names[i], k); i++)
			;
		if (!names[i] || !json_is_boolean(v)) {
			reply_error(r, 400,
				    names[i] ? "\"%s\" must be true or false"
					     : "unknown key \"%s\"",
				    k);
			json_decref(j);
			return -1;
		}
		*flags[i] = json_is_true(v);
	}
	json_decref(j);
	return 0;
}

/* the task, active; else a reply (rs: store lock held) */
static int runnable_task(struct serve_ctx *sc, long long id, struct reply *r)
{
	struct task t = { 0 };
	int ret = store_task_get(sc->st, id, &t);

	if (ret)
		store_failed(r, ret, "task", id);
	else if (strcmp(t.status, "active"))
		ret = reply_error(r, 409,
				  "task %lld is %s: only active tasks run", id,
				  t.status);
	task_release(&t);
	return ret;
}

static void start_run(struct serve_ctx *sc, const struct request *rq,
		      struct run_request *req, struct reply *r)
{
	static const char *const names[] = { "force", "golden", "original",
					     NULL };
	int *flags[] = { &req->force, &req->golden, &req->original };
	json_t *job = NULL;
	struct strbuf err = STRBUF_INIT;
	unsigned status;

	if (body_flags(rq, r, names, flags))
		return;
	status = runs_start(sc->runs, req, &job, &err);
	if (!job) {
		reply_error(r, status, "%s", err.buf);
	} else {
		reply_json(r, json_pack("{s:o}", "job", job));
		r->status = status;
	}
	strbuf_release(&err);
}

static void post_task_run(struct serve_ctx *sc, const struct request *rq,
			  const long long *ids, struct reply *r)
{
	struct run_request req = { ids[0], 0, 0, 0, 0 };
	int ret;

	pthread_mutex_lock(sc->store_lock);
	ret = runnable_task(sc, ids[0], r);
	pthread_mutex_unlock(sc->store_lock);
	if (!ret)
		start_run(sc, rq, &req, r);
}

static void post_step_run(struct serve_ctx *sc, const struct request *rq,
			  const long long *ids, struct reply *r)
{
	struct run_request req = { 0, ids[0], 0, 0, 0 };
	struct step s = { 0 };
	int ret;

	pthread_mutex_lock(sc->store_lock);
	ret = find_step(sc, ids[0], &s, r);
	if (!ret) {
		req.task_id = s.task_id;
		ret = runnable_task(sc, s.task_id, r);
	}
	pthread_mutex_unlock(sc->store_lock);
	step_release(&s);
	if (!ret)
		start_run(sc, rq, &req, r);
}

static void add_change(const struct regrade_change *c, void *data)
{
	json_array_append_new(data,
			      json_pack("{s:I, s:s, s:s, s:s}", "step_id",
					(json_int_t)c->step_id, "candidate",
					c->key, "from", c->from, "to", c->to));
}

/* regrade in this process, under the task's run lock */
static void post_task_regrade(struct serve_ctx *sc, const struct request *rq,
			      const long long *ids, struct reply *r)
{
	static const char *const names[] = { "dry_run", NULL };
	struct regrade_counts n = { 0, 0, 0, 0 };
	struct task t = { 0 };
	int dry_run = 0, *flags[] = { &dry_run }, ret, locked;
	json_t *changes;

	if (body_flags(rq, r, names, flags))
		return;
	pthread_mutex_lock(sc->store_lock);
	ret = store_task_get(sc->st, ids[0], &t);
	task_release(&t);
	if (ret) {
		store_failed(r, ret, "task", ids[0]);
		goto out;
	}
	locked = store_lock_task(sc->st, ids[0]);
	if (locked <= 0) {
		if (locked < 0)
			store_failed(r, TS_EFAIL, "task", ids[0]);
		else
			reply_error(r, 409,
				    "task %lld is being run by another "
				    "task-sync process; try again when it "
				    "finishes",
				    ids[0]);
		goto out;
	}
	changes = json_array();
	ret = regrade_task(sc->st, sc->cfg, ids[0], dry_run, add_change,
			   changes, &n);
	store_unlock_task(sc->st, ids[0]);
	if (ret) {
		json_decref(changes);
		store_failed(r, ret, "task", ids[0]);
	} else {
		reply_json(r,
			   json_pack("{s:o, s:i, s:i, s:i, s:i, s:b}",
				     "changes", changes, "changed", n.changed,
				     "up", n.up, "down", n.down, "recorded",
				     n.recorded, "dry_run", dry_run));
	}
out:
	pthread_mutex_unlock(sc->store_lock);
}

static void get_jobs(struct serve_ctx *sc, const struct request *rq,
		     const long long *ids, struct reply *r)
{
	(void)rq;
	(void)ids;
	reply_json(r, json_pack("{s:o}", "jobs", runs_list(sc->runs)));
}

static void get_job(struct serve_ctx *sc, const struct request *rq,
		    const long long *ids, struct reply *r)
{
	json_t *j = runs_job(sc->runs, ids[0]);

	(void)rq;
	if (!j)
		reply_error(r, 404, "job %lld not found", ids[0]);
	else
		reply_json(r, json_pack("{s:o}", "job", j));
}

static void get_job_output(struct serve_ctx *sc, const struct request *rq,
			   const long long *ids, struct reply *r)
{
	char *out = runs_output(sc->runs, ids[0]);

	(void)rq;
	if (!out) {
		reply_error(r, 404, "job %lld not found or still running",
			    ids[0]);
		return;
	}
	r->status = 200;
	r->len = strlen(out);
	r->data = out;
}

/* http.c answers GET /events (serve/events.h) before routes are asked */
static void get_events(struct serve_ctx *sc, const struct request *rq,
		       const long long *ids, struct reply *r)
{
	(void)sc;
	(void)rq;
	(void)ids;
	reply_error(r, 500, "/events is answered elsewhere");
}

static const struct route routes[] = {
	{ "", { NULL, NULL }, get_root, NULL, NULL },
	{ "api", { NULL, NULL }, get_index, NULL, NULL },
	{ "status", { NULL, NULL }, get_status, NULL, NULL },
	{ "tasks", { NULL, NULL }, get_tasks, NULL, NULL },
	{ "tasks/#", { "task", NULL }, get_task, NULL, NULL },
	{ "tasks/#/steps", { "task", NULL }, get_task_steps, NULL, NULL },
	{ "tasks/#/report", { "task", NULL }, get_task_report, NULL, NULL },
	{ "tasks/#/settings",
	  { "task", NULL },
	  get_task_settings,
	  put_task_settings,
	  NULL },
	{ "tasks/#/run", { "task", NULL }, NULL, NULL, post_task_run },
	{ "tasks/#/regrade", { "task", NULL }, NULL, NULL, post_task_regrade },
	{ "steps/#", { "step", NULL }, get_step, NULL, NULL },
	{ "steps/#/settings",
	  { "step", NULL },
	  get_step_settings,
	  put_step_settings,
	  NULL },
	{ "steps/#/run", { "step", NULL }, NULL, NULL, post_step_run },
	{ "steps/#/runs", { "step", NULL }, get_step_runs, NULL, NULL },
	{ "steps/#/runs/#", { "step", "run" }, get_run, NULL, NULL },
	{ "steps/#/runs/#/output",
	  { "step", "run" },
	  get_run_output,
	  NULL,
	  NULL },
	{ "jobs", { NULL, NULL }, get_jobs, NULL, NULL },
	{ "jobs/#", { "job", NULL }, get_job, NULL, NULL },
	{ "jobs/#/output", { "job", NULL }, get_job_output, NULL, NULL },
	{ "events", { NULL, NULL }, get_events, NULL, NULL },
	{ NULL, { NULL, NULL }, NULL, NULL, NULL },
};

/* the methods a route takes, as the index (or with head, Allow) lists */
static const char *methods(const struct route *e, int head)
{
	if (e->post)
		return "POST";
	if (e->put)
		return head ? "GET, HEAD, PUT" : "GET, PUT";
	return head ? "GET, HEAD" : "GET";
}

static void get_index(struct serve_ctx *sc, const struct request *rq,
		      const long long *ids, struct reply *r)
{
	json_t *a = json_array();
	const struct route *e;

	(void)sc;
	(void)rq;
	(void)ids;
	for (e = routes; e->pattern; e++) {
		char *p = xstrfmt("%s /%s", methods(e, 0), e->pattern);
		json_array_append_new(a, json_string(p));
		free(p);
	}
	reply_json(r, json_pack("{s:s, s:o}", "message", "Welcome to Task Sync",
				"endpoints", a));
}

/*
 * Match path against pattern: 1 when it matches, with each '#' segment
 * in seg[] (pointers into path, lengths in seglen).
 */
static int match(const char *pattern, const char *path, const char **seg,
		 size_t *seglen)
{
	int n = 0;

	for (;;) {
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
		if (pl == 1 && *pattern == '#') {
			if (!sl || n == 2)
				return 0;
			seg[n] = path;
			seglen[n++] = sl;
		} else if (pl != sl || strncmp(pattern, path, pl)) {
			return 0;
		}
		pattern += pl;
		path += sl;
		if (!*pattern || !*path)
			return !*pattern && !*path;
		pattern++;
		path++;
	}
}

/* a strict positive decimal ID; 0 when it is not one */
static long long parse_id(const char *s, size_t len)
{
	long long id = 0;
	size_t i;

	if (!len || len > 18)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		id = id * 10 + (s[i] - '0');
	}
	return id;
}

static const struct route *find_route(const char *path, long long *ids,
				      struct reply *r)
{
	char *p = xstrdup(path + (*path == '/'));
	size_t n = strlen(p), seglen[2];
	const char *seg[2];
	const struct route *e;
	int i;

	if (n && p[n - 1] == '/')
		p[n - 1] = '\0';
	for (e = routes; e->pattern; e++)
		if (match(e->pattern, p, seg, seglen))
			break;
	for (i = 0; e->pattern && i < 2 && e->what[i]; i++) {
		ids[i] = parse_id(seg[i], seglen[i]);
		if (!ids[i]) {
			reply_error(r, 400,
				    "invalid %s ID '%.*s': not a "
				    "positive integer",
				    e->what[i], (int)seglen[i], seg[i]);
			free(p);
			return NULL;
		}
	}
	if (!e->pattern)
		reply_error(r, 404,
			    "no such endpoint: %s (GET / lists "
			    "them)",
			    path);
	free(p);
	return e->pattern ? e : NULL;
}

void route_request(struct serve_ctx *sc, const struct request *rq,
		   struct reply *r)
{
	long long ids[2] = { 0, 0 };
	const struct route *e;

	if (strstr(rq->path, "/../") || strstr(rq->path, "/./") ||
	    (strlen(rq->path) >= 3 &&
	     !strcmp(rq->path + strlen(rq->path) - 3, "/..")) ||
	    strstr(rq->path, "//")) {
		reply_error(r, 400,
			    "path '%s': '.', '..' and empty segments "
			    "are refused",
			    rq->path);
		return;
	}
	e = find_route(rq->path, ids, r);
	if (!e)
		return;
	if ((!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD")) &&
	    e->get) {
		pthread_mutex_lock(sc->store_lock);
		e->get(sc, rq, ids, r);
		pthread_mutex_unlock(sc->store_lock);
	} else if (!strcmp(rq->method, "PUT") && e->put) {
		pthread_mutex_lock(sc->store_lock);
		e->put(sc, rq, ids, r);
		pthread_mutex_unlock(sc->store_lock);
	} else if (!strcmp(rq->method, "POST") && e->post) {
		e->post(sc, rq, ids, r);
	} else {
		r->allow = methods(e, 1);
		reply_error(r, 405,
			    "method %s not allowed on %s (allowed: "
			    "%s)",
			    rq->method, rq->path, r->allow);
	}
}
