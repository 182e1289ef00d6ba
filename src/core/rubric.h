#ifndef CORE_RUBRIC_H
#define CORE_RUBRIC_H

#include <stddef.h>

#include "os/strbuf.h"
#include "os/strvec.h"

/*
 * Rubrics: the criteria a candidate patch is graded against.
 *
 * rubrics.json: an array of {rubricItemId, criterion, score, required,
 * forms}; the command is the first that is not blank of "command",
 * forms.criterion_test_command, forms.<form id>.criterion_test_command
 * (in file order) and forms[i].criterion_test_command. counter =
 * position + 1. required is read by core/truth.h (absent or null: not
 * required); one that does not read skips the item with a warning.
 * A command that is only whitespace is no command.
 *
 * Markdown: sections headed "### #<n>: <id>" or "### <id>: <title>"
 * (e.g. "### crit-01: Check for README.md" or "### crit-01: <uuid>"),
 * at level 2 to 4 ("## ...", "#### ..."); a label of several words
 * ending in a number ("### Criterion 2: <uuid or title>") and spaces
 * before the colon are accepted; off level 3 a one-word label needs a
 * digit (or a UUID after the colon). A section ends at the next heading
 * of its level or above; an unrecognised heading whose section holds
 * fields is a warning, never merged into the previous criterion.
 * with **Score**:, **Required**: (core/truth.h; blank is not
 * required, one that does not read skips the criterion with a warning),
 * **Criterion**: (multi-paragraph, up to the next field) and
 * **Held-out tests**: (a ```, ```bash, ```sh or ~~~ fence; an inline
 * `command` works too, unless a fence follows the field line, which then
 * wins; a blank one is no command). CRLF is accepted. Without a
 * **Criterion**: field, the section's plain text is the criterion. A
 * second **Score**, **Required** or command in one section is a
 * warning; the first is used.
 *
 * A criterion ID used twice (JSON or Markdown) is an error naming the
 * file, the line (item for JSON) and both places.
 *
 * Items without an ID or a command are not dropped silently: they are
 * listed in rubric.skipped ("item 3 'crit-3': no criterion_test_command",
 * "item 4 'x': criterion_test_command is only whitespace"); those
 * refused for their required are in rubric.warnings.
 */

struct criterion {
	char *id;
	char *counter; /* "1", "2", ... as written */
	char *title;   /* heading text, may be "" */
	char *text;    /* the criterion itself */
	double score;
	int required;
	char *command;
	int timeout_s; /* its own time limit (s): "timeout_seconds" in
			  JSON, **Timeout**: in Markdown; 0: none */
	int line;      /* where it starts in the file (1-based; 0 JSON) */
};

struct rubric {
	struct criterion *v;
	size_t nr, alloc;
	struct strvec skipped;
	struct strvec warnings; /* "r.md:7: criterion 'x': ..." */
	/* what rubric_why_empty() tells: the items (JSON) or criterion
	 * sections (Markdown) seen, those skipped for want of a command,
	 * and those refused for a required that does not read */
	size_t items, no_command, refused;
};

#define RUBRIC_INIT                                           \
	{                                                     \
		NULL, 0, 0, STRVEC_INIT, STRVEC_INIT, 0, 0, 0 \
	}

/*
 * Why a rubric that parsed holds no criterion, for the step's failure
 * ("no criteria in rubrics.json: no item has a command"): "it holds no
 * items", "no item has a command", "no item's required reads as
 * true/false/yes/no/1/0" or "every item was skipped". Static string.
 */
const char *rubric_why_empty(const struct rubric *r);

/*
 * Parse; on error print "<path>:<line>: <reason>" and return -1. err
 * (may be NULL; os/error.h) then holds the message too
 * ("<path>:<line>:<col>: invalid JSON: ..."), for a step's result.
 */
int rubric_parse_json(const char *text, const char *path, struct rubric *r,
		      struct strbuf *err);
int rubric_parse_markdown(const char *text, const char *path, struct rubric *r,
			  struct strbuf *err);
/* read path and parse by its extension (.json, else Markdown) */
int rubric_load(const char *path, struct rubric *r, struct strbuf *err);
void rubric_release(struct rubric *r);

/*
 * The one criterion hash, used by every step: SHA-256 hex of
 * "<score>|<text>|<required>|<command>" (score as %g, required as
 * true/false). Caller frees.
 */
char *criterion_hash(const struct criterion *c);

#endif
