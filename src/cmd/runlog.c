/*
 * A step's run history: step runs (the executions, one row per
 * candidate for a rubric step) and step log (one run's output, the
 * harness's trailer lines shown as phase lines unless --raw).
 */
#include "cmd/cmd.h"
#include "cmd/table.h"
#include "os/error.h"
#include "core/jsonutil.h"
#include "core/model.h"
#include "core/trailer.h"
#include "os/strbuf.h"
#include "steps/registry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static json_t *run_to_json(const struct step_run *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "step_id", json_integer(r->step_id));
	json_object_set_new(o, "started_at", json_string(r->started_at));
	json_object_set_new(o, "finished_at", json_string(r->finished_at));
	json_object_set_new(o, "status", json_string(r->status));
	json_object_set_new(o, "exit_code",
			    r->exit_code >= 0 ? json_integer(r->exit_code)
					      : json_null());
	json_object_set_new(o, "duration_ms", json_integer(r->duration_ms));
	json_object_set(o, "detail", r->detail ? r->detail : json_null());
	return o;
}

/* detail[key] when it is a string, else NULL */
static const char *detail_str(const struct step_run *r, const char *key)
{
	return json_string_value(json_object_get(r->detail, key));
}

static void print_runs(FILE *out, const struct step_run *runs, size_t nr)
{
	struct table t = TABLE_INIT;
	int cand = 0;
	size_t i;

	/* a rubric step's runs are one per candidate: say which */
	for (i = 0; i < nr; i++)
		if (detail_str(&runs[i], "candidate"))
			cand = 1;
	if (cand)
		table_header(&t, "RUN", "STARTED", "CANDIDATE", "STATUS",
			     "EXIT", "DURATION", "CONTAINER", NULL);
	else
		table_header(&t, "RUN", "STARTED", "STATUS", "EXIT", "DURATION",
			     NULL);
	for (i = 0; i < nr; i++) {
		const struct step_run *r = &runs[i];
		const char *c = detail_str(r, "candidate");
		const char *name = detail_str(r, "container");
		table_addf(&t, "%lld", r->id);
		table_add(&t, r->started_at);
		if (cand)
			table_add(&t, c ? c : "-");
		table_add(&t, r->status);
		if (r->exit_code >= 0)
			table_addf(&t, "%d", r->exit_code);
		else
			table_add(&t, "-");
		table_addf(&t, "%lld ms", r->duration_ms);
		if (cand)
			table_add(&t, name ? name : "-");
	}
	table_print(&t, out);
	table_release(&t);
}

int cmd_step_runs(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct step_run *runs = NULL;
	size_t nr = 0, i;
	long long id = 0;
	int as_json = 0, ret;
	struct store *st;
	struct step s = { 0 };
	const struct option opts[] = OPT_JSON_ONLY(&as_json);
	const struct cmd_usage u = { "step runs ID [--json]",
				     "List the step's executions, newest "
				     "first; a rubric step's with the "
				     "candidate and container of each.",
				     1, 1, NULL };

	ret = parse_one_id(argc, argv, &u, opts, "step runs", "step", &id);
	if (ret < 0)
		return PARSE_EXIT(ret);
	st = cmd_store(ctx, STORE_READ_ONLY);
	if (!st)
		return CMD_DB_FAILED;
	ret = store_step_get(st, id, &s);
	step_release(&s);
	if (!ret)
		ret = store_run_list(st, id, 0, &runs, &nr);
	if (ret)
		return ts_exit_code(ret);
	if (as_json) {
		json_t *a = json_array();
		char *text;
		for (i = 0; i < nr; i++)
			json_array_append_new(a, run_to_json(&runs[i]));
		text = json_pretty(a);
		fprintf(ctx->out, "%s\n", text);
		free(text);
		json_decref(a);
	} else {
		print_runs(ctx->out, runs, nr);
	}
	step_run_list_free(runs, nr);
	return EXIT_OK;
}

/* a and b name the same candidate: "solution1" is "solution1.patch" */
static int same_candidate(const char *a, const char *b)
{
	size_t la = candidate_role_len(a), lb = candidate_role_len(b);
	return la == lb && !memcmp(a, b, la);
}

/* original, golden, solution<N>[.patch]: the names rubric steps grade */
static int standard_candidate(const char *name)
{
	const char *p;
	if (same_candidate(name, "original") || same_candidate(name, "golden"))
		return 1;
	if (strncmp(name, "solution", 8))
		return 0;
	p = name + 8;
	if (!isdigit((unsigned char)*p) || *p == '0')
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return !*p || !strcmp(p, ".patch");
}

/*
 * A key of obj names the candidate; with entries, only a key whose
 * value is an object (a candidate's entry in results, not "message")
 */
static int keyed(const json_t *obj, const char *name, int entries)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key,
			    v) if ((!entries || json_is_object(v)) &&
				   same_candidate(key, name)) return 1;
	return 0;
}

/*
 * The candidates a step knows beyond the standard ones: those of its
 * settings' assign_containers, of its results and of its runs.
 */
static int known_candidate(const struct step *s, const struct step_run *runs,
			   size_t nr, const char *name)
{
	const char *type = NULL;
	const json_t *conf = NULL;
	size_t i;

	if (!step_type_of(s->settings, &type, NULL))
		conf = json_object_get(s->settings, type);

	if (standard_candidate(name) ||
	    keyed(json_object_get(conf, "assign_containers"), name, 0))
		return 1;
	if (keyed(s->results, name, 1))
		return 1;
	for (i = 0; i < nr; i++) {
		const char *c = detail_str(&runs[i], "candidate");
		if (c && same_candidate(c, name))
			return 1;
	}
	return 0;
}

/*
 * The newest run of candidate name in *run_id; 0 when found, else the
 * exit code after reporting.
 */
static int candidate_run(struct store *st, long long id, const char *name,
			 long long *run_id)
{
	struct step_run *runs = NULL;
	struct step s = { 0 };
	size_t nr = 0, i;
	int ret = store_step_get(st, id, &s);

	if (!ret)
		ret = store_run_list(st, id, 0, &runs, &nr);
	if (ret) {
		ret = ts_exit_code(ret);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		const char *c = detail_str(&runs[i], "candidate");
		if (c && same_candidate(c, name)) {
			*run_id = runs[i].id;
			goto out; /* newest first */
		}
	}
	if (!known_candidate(&s, runs, nr, name)) {
		error("step %lld has no candidate '%s'", id, name);
		hint("candidates are original, golden, solution1..solutionN "
		     "and the keys of assign_containers");
		ret = EXIT_USAGE;
	} else {
		error("step %lld has no output for candidate '%s' yet", id,
		      name);
		ret = EXIT_NOT_FOUND;
	}
out:
	step_run_list_free(runs, nr);
	step_release(&s);
	return ret;
}

static void print_output(FILE *out, const char *text, int raw)
{
	struct strbuf sb = STRBUF_INIT;

	if (!text)
		return;
	if (raw) {
		fputs(text, out);
		return;
	}
	trailer_render(&sb, text, strlen(text));
	fputs(sb.buf, out);
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		fputc('\n', out);
	strbuf_release(&sb);
}

int cmd_step_log(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct step_run r = { 0 };
	long long id = 0, run = 0;
	const char *candidate = NULL;
	int ret, raw = 0;
	struct store *st;
	const struct option opts[] = {
		OPT_ID(0, "run", &run, "N", "this run (default: the newest)"),
		OPT_STRING(0, "candidate", &candidate, "NAME",
			   "a rubric step: this candidate's newest run"),
		OPT_BOOL(0, "raw", &raw,
			 "the stored bytes, harness trailer lines included"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"step log ID [--run N | --candidate NAME] [--raw]",
		"Print the output captured by one run of the step. The "
		"grading harness's trailer lines are shown as phase lines "
		"('-- reset ok', '-- exit 0 after 71 ms'); --raw prints the "
		"output as stored.",
		1, 1,
		"  task-sync step log 7\n"
		"  task-sync step log 7 --candidate solution2\n"
	};

	ret = parse_one_id(argc, argv, &u, opts, "step log", "step", &id);
	if (ret < 0)
		return PARSE_EXIT(ret);
	if (run && candidate)
		return usage_error("step log", "--run and --candidate cannot "
					       "be used together");
	if (candidate && !*candidate)
		return usage_error("step log", "--candidate needs a name");
	st = cmd_store(ctx, STORE_READ_ONLY);
	if (!st)
		return CMD_DB_FAILED;
	if (candidate) {
		ret = candidate_run(st, id, candidate, &run);
		if (ret)
			return ret;
	}
	ret = store_run_get(st, id, run, &r);
	if (ret)
		return ts_exit_code(ret);
	print_output(ctx->out, r.output, raw);
	free(r.started_at);
	free(r.finished_at);
	free(r.status);
	free(r.output);
	json_decref(r.detail);
	return EXIT_OK;
}
