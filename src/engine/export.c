/*
 * The grid as JUnit XML and CSV (engine/export.h).
 */
#include "engine/export.h"
#include "core/grade.h"
#include "core/jsonutil.h"

#include <string.h>

static const json_t *entry_of(const struct grid_criterion *c, int col)
{
	return json_object_get(c->s->results, grid_cand_keys[col]);
}

static const char *status_of(const struct grid_criterion *c, int col)
{
	int st = c->status[col];
	return st == GRID_NOT_RUN ? "" : grade_status_name(st);
}

/* ---- JUnit ---- */

static void xml_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			/* XML 1.0 has no other control characters */
			if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
				fputc('?', out);
			else
				fputc(ch, out);
		}
	}
}

struct counts {
	int tests, failures, errors, skipped;
};

static void count(const struct grid *g, int col, struct counts *n)
{
	size_t i;
	memset(n, 0, sizeof(*n));
	for (i = 0; i < g->nr; i++) {
		int st = g->c[i].status[col];
		n->tests++;
		n->skipped += st == GRID_NOT_RUN;
		n->errors += st == GRADE_ERROR;
		n->failures += st == GRADE_FAIL || st == GRADE_TIMEOUT ||
			       st == GRADE_FLAKY;
	}
}

static void testcase(FILE *out, const struct grid *g,
		     const struct grid_criterion *c, int col)
{
	const json_t *e = entry_of(c, col);
	const json_t *d = json_object_get(e, "duration_ms");
	const char *reason = json_str(e, "reason");
	const char *st = status_of(c, col);

	fprintf(out, "    <testcase classname=\"");
	xml_text(out, g->task->name);
	fprintf(out, ".%s\" name=\"%lld ", grid_cand_keys[col], c->s->id);
	xml_text(out, c->s->title);
	fputc('"', out);
	if (json_is_integer(d))
		fprintf(out, " time=\"%.3f\"", json_integer_value(d) / 1000.0);
	fputs(">\n", out);
	if (c->attempts[col] > 1)
		fprintf(out,
			"      <properties><property name=\"attempts\" "
			"value=\"%d\"/><property name=\"passes\" "
			"value=\"%d\"/></properties>\n",
			c->attempts[col], c->passes[col]);
	if (c->status[col] == GRID_NOT_RUN) {
		fputs("      <skipped message=\"not graded\"/>\n", out);
	} else if (c->status[col] != GRADE_PASS) {
		const char *tag = c->status[col] == GRADE_ERROR ? "error"
								: "failure";
		fprintf(out, "      <%s type=\"%s\" message=\"", tag, st);
		xml_text(out, reason ? reason : st);
		fprintf(out, "\"/>\n");
	}
	if (c->stale[col]) {
		fputs("      <system-out>stale: ", out);
		xml_text(out, c->stale[col]);
		fputs("</system-out>\n", out);
	}
	fputs("    </testcase>\n", out);
}

void export_junit(FILE *out, const struct grid *g)
{
	struct counts all = { 0, 0, 0, 0 }, n;
	size_t i;
	int col;

	for (col = 0; col < GRID_NCAND; col++) {
		count(g, col, &n);
		all.tests += n.tests;
		all.failures += n.failures;
		all.errors += n.errors;
		all.skipped += n.skipped;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"%lld-", g->task->id);
	xml_text(out, g->task->name);
	fprintf(out,
		"\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
		"skipped=\"%d\">\n",
		all.tests, all.failures, all.errors, all.skipped);
	for (col = 0; col < GRID_NCAND; col++) {
		count(g, col, &n);
		fprintf(out,
			"  <testsuite name=\"%s\" tests=\"%d\" "
			"failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n",
			grid_cand_keys[col], n.tests, n.failures, n.errors,
			n.skipped);
		for (i = 0; i < g->nr; i++)
			testcase(out, g, &g->c[i], col);
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
}

/* ---- CSV ---- */

/* a field, quoted when it holds a comma, a quote or a line break */
static void csv_field(FILE *out, const char *s, int last)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else if (s) {
		fputs(s, out);
	}
	fputs(last ? "\r\n" : ",", out);
}

static void csv_int(FILE *out, const json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, "%lld", (long long)json_integer_value(v));
	fputc(',', out);
}

void export_csv(FILE *out, const struct grid *g)
{
	size_t i;
	int col;

	fputs("task_id,task,step_id,criterion_id,title,candidate,status,"
	      "stale,attempts,passes,duration_ms,exit_code,reason\r\n",
	      out);
	for (i = 0; i < g->nr; i++) {
		const struct grid_criterion *c = &g->c[i];
		for (col = 0; col < GRID_NCAND; col++) {
			const json_t *e = entry_of(c, col);
			fprintf(out, "%lld,", g->task->id);
			csv_field(out, g->task->name, 0);
			fprintf(out, "%lld,", c->s->id);
			csv_field(out, c->criterion_id, 0);
			csv_field(out, c->s->title, 0);
			csv_field(out, grid_cand_keys[col], 0);
			csv_field(out, status_of(c, col), 0);
			fprintf(out, "%s,%d,%d,", c->stale[col] ? "yes" : "no",
				c->attempts[col], c->passes[col]);
			csv_int(out, json_object_get(e, "duration_ms"));
			csv_int(out, json_object_get(e, "exit_code"));
			csv_field(out, json_str(e, "reason"), 1);
		}
	}
}
