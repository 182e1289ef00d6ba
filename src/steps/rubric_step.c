/* what the two child generators, rubric_set and dynamic_rubric, share */
#include "steps/rubric_step.h"
#include "steps/rubric_children.h"
#include "core/hash.h"

int rubric_step_load(struct step_exec *x, const char *f, struct rubric *r,
		     char **path)
{
	struct strbuf why = STRBUF_INIT;

	*path = hash_resolve_path(x->base, f);
	if (rubric_load(*path, r, &why)) {
		step_set_result(x, "failure", "cannot use rubric: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	return rubric_refuse_empty(x, r, f) ? -1 : 0;
}

static long long count_of(const json_t *summary, const char *key)
{
	return json_integer_value(json_object_get(summary, key));
}

int rubric_step_apply(struct step_exec *x, const struct rubric *r,
		      const json_t *extra, json_t *summary, const char *from)
{
	if (rubric_reconcile(x, r, extra, summary)) {
		step_set_result(x, "error",
				"could not update the rubric steps; "
				"nothing was changed");
		return -1;
	}
	step_set_result(x, "success",
			"%zu %s%s%s: %lld created, %lld "
			"updated, %lld deleted, %lld kept",
			r->nr, r->nr == 1 ? "criterion" : "criteria",
			from ? " from " : "", from ? from : "",
			count_of(summary, "created"),
			count_of(summary, "updated"),
			count_of(summary, "deleted"),
			count_of(summary, "kept"));
	/*
	 * The children's dependents' view of this step is its results:
	 * what changes with other criteria (the counts, the list of
	 * children) goes to the run's detail, so that removing one
	 * criterion does not regrade the unchanged ones.
	 */
	x->detail = json_incref(summary);
	if (from)
		json_object_set_new(x->detail, "rubric_file",
				    json_string(from));
	json_object_set_new(x->detail, "criteria",
			    json_integer((long long)r->nr));
	rubric_report_skipped(x, r, x->detail);
	return 0;
}
