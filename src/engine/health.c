/*
 * Criterion health (engine/health.h): what each criterion's cells say
 * of the criterion itself.
 */
#include "engine/health.h"
#include "core/grade.h"
#include "core/jsonutil.h"
#include "os/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>

/* golden may use up to this share of its limit before it is "slow" */
#define SLOW_SHARE 2
/* the suggested timeout leaves golden this factor of room */
#define SUGGEST_FACTOR 4

/* golden's time, when its cell holds a verdict (not the machinery's ERROR) */
static void golden_time(struct health *h)
{
	const json_t *e = json_object_get(h->c->s->results,
					  grid_cand_keys[GRID_COL_GOLDEN]);
	const json_t *d = json_object_get(e, "duration_ms");
	const json_t *lim =
		json_object_get(json_object_get(e, "basis"), "timeout_s");
	int verdict = grid_verdict(h->c, GRID_COL_GOLDEN) != GRID_NOT_RUN;

	h->golden_ms = verdict && json_is_integer(d) ? json_integer_value(d)
						     : -1;
	h->limit_s = json_is_integer(lim) ? (int)json_integer_value(lim) : 0;
	if (h->golden_ms >= 0)
		h->suggested_s =
			(int)((h->golden_ms * SUGGEST_FACTOR + 999) / 1000);
	if (h->suggested_s && h->suggested_s < 1)
		h->suggested_s = 1;
}

static void flag(struct health *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void flag(struct health *h, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xstrvfmt(fmt, ap);
	va_end(ap);
	json_array_append_new(h->flags, json_string(s));
	free(s);
}

static const char *status_name(int st)
{
	return st == GRID_NOT_RUN ? "not graded"
				  : grade_status_name((enum grade_status)st);
}

static void judge(struct health *h, long long task)
{
	const struct grid_criterion *c = h->c;
	int g = grid_verdict(c, GRID_COL_GOLDEN);
	int o = grid_verdict(c, GRID_COL_ORIGINAL);
	int col, graded = 0;

	for (col = 0; col < GRID_NCAND; col++) {
		int st = grid_verdict(c, col);
		if (st == GRID_NOT_RUN)
			continue;
		graded++;
		if (st == GRADE_PASS)
			h->passed_mask |= 1u << col;
		else
			h->failed_mask |= 1u << col;
		if (c->attempts[col] > 1) {
			h->repeated++;
			h->flips += st == GRADE_FLAKY;
		}
	}
	if (g == GRID_NOT_RUN && o == GRID_NOT_RUN)
		flag(h,
		     "golden and the original not graded (task run %lld "
		     "--golden)",
		     task);
	else if (g == GRID_NOT_RUN)
		flag(h, "golden not graded (task run %lld --golden)", task);
	else if (g != GRADE_PASS)
		flag(h,
		     "golden does not pass: %s (%d of %d attempt%s "
		     "passed)",
		     status_name(g), c->passes[GRID_COL_GOLDEN],
		     c->attempts[GRID_COL_GOLDEN],
		     c->attempts[GRID_COL_GOLDEN] == 1 ? "" : "s");
	if (o == GRID_NOT_RUN && g != GRID_NOT_RUN)
		flag(h, "original not graded (task run %lld --original)", task);
	else if (o == GRADE_PASS)
		flag(h, "the original passes: the criterion needs no change");
	if (graded > 1 && (!h->passed_mask || !h->failed_mask))
		flag(h, "separates nothing: every graded candidate is %s",
		     h->passed_mask ? "PASS" : "not PASS");
	if (h->flips)
		flag(h,
		     "flaky: the attempts disagree in %d of %d repeated "
		     "cell%s",
		     h->flips, h->repeated, h->repeated == 1 ? "" : "s");
	if (h->limit_s > 0 && h->golden_ms >= 0 &&
	    h->golden_ms * SLOW_SHARE > (long long)h->limit_s * 1000)
		flag(h,
		     "slow: golden took %lld ms of its %d s limit "
		     "(suggested timeout: %d s)",
		     h->golden_ms, h->limit_s,
		     h->suggested_s > h->limit_s ? h->suggested_s
						 : h->limit_s * 2);
}

struct health *health_of(const struct grid *g)
{
	struct health *h = xcalloc(g->nr + 1, sizeof(*h));
	size_t i;

	for (i = 0; i < g->nr; i++) {
		h[i].c = &g->c[i];
		h[i].flags = json_array();
		golden_time(&h[i]);
		judge(&h[i], g->task->id);
	}
	return h;
}

void health_free(struct health *h, size_t nr)
{
	size_t i;
	for (i = 0; h && i < nr; i++)
		json_decref(h[i].flags);
	free(h);
}

int health_valid(const struct health *h, size_t nr)
{
	size_t i;
	for (i = 0; i < nr; i++)
		if (json_array_size(h[i].flags))
			return 0;
	return nr > 0;
}

static json_t *cands_of(unsigned mask)
{
	json_t *a = json_array();
	int col;
	for (col = 0; col < GRID_NCAND; col++)
		if (mask & (1u << col))
			json_array_append_new(a,
					      json_string(grid_cand_keys[col]));
	return a;
}

static json_t *status_json(int st)
{
	return st == GRID_NOT_RUN
		       ? json_null()
		       : json_string(grade_status_name((enum grade_status)st));
}

static json_t *one_json(const struct health *h)
{
	const struct grid_criterion *c = h->c;
	json_t *o = json_object(), *gd = json_object(), *og = json_object();
	json_t *sep = json_object();

	json_object_set_new(o, "step_id", json_integer(c->s->id));
	json_object_set_new(o, "criterion_id",
			    c->criterion_id ? json_string(c->criterion_id)
					    : json_null());
	json_object_set_new(o, "ok", json_boolean(!json_array_size(h->flags)));
	json_object_set(o, "flags", h->flags);
	json_object_set_new(gd, "status",
			    status_json(c->status[GRID_COL_GOLDEN]));
	json_object_set_new(gd, "attempts",
			    json_integer(c->attempts[GRID_COL_GOLDEN]));
	json_object_set_new(gd, "passes",
			    json_integer(c->passes[GRID_COL_GOLDEN]));
	json_object_set_new(gd, "duration_ms",
			    h->golden_ms >= 0 ? json_integer(h->golden_ms)
					      : json_null());
	json_object_set_new(gd, "timeout_s",
			    h->limit_s ? json_integer(h->limit_s)
				       : json_null());
	json_object_set_new(og, "status",
			    status_json(c->status[GRID_COL_ORIGINAL]));
	json_object_set_new(sep, "pass", cands_of(h->passed_mask));
	json_object_set_new(sep, "fail", cands_of(h->failed_mask));
	json_object_set_new(o, "golden", gd);
	json_object_set_new(o, "original", og);
	json_object_set_new(o, "separates", sep);
	json_object_set_new(o, "flip_rate",
			    h->repeated
				    ? json_real((double)h->flips / h->repeated)
				    : json_null());
	json_object_set_new(o, "suggested_timeout_s",
			    h->suggested_s ? json_integer(h->suggested_s)
					   : json_null());
	return o;
}

json_t *health_json(const struct grid *g, const struct health *h)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	for (i = 0; i < g->nr; i++)
		json_array_append_new(a, one_json(&h[i]));
	json_object_set_new(o, "valid", json_boolean(health_valid(h, g->nr)));
	json_object_set_new(o, "criteria", a);
	return o;
}
