#ifndef CORE_JSONUTIL_H
#define CORE_JSONUTIL_H

#include <jansson.h>

struct strbuf;

/*
 * JSON conventions for the whole program (jansson underneath).
 * Ownership rule: functions borrow their json_t arguments unless the
 * header says "steals"; returned json_t * are new references.
 */

/* compact text for storage; caller frees */
char *json_compact(const json_t *j);
/* pretty text: 2-space indent, sorted keys (step info, --json) */
char *json_pretty(const json_t *j);
/*
 * Parse text that must be a JSON value; on failure print
 * "<what>: invalid JSON at line L, column C: <reason>" and return NULL.
 */
json_t *json_parse_named(const char *text, const char *what);
/* what a number out of range is told (jansson holds int64 and double) */
#define JSON_RANGE_NOTE                                                   \
	"integers must be within -9223372036854775808.."                  \
	"9223372036854775807 and other numbers within a double's range; " \
	"write it as a string (\"...\") to keep every digit"

/*
 * Stored JSON (the settings and results columns, run details): every
 * text is read with JSON_STORE_FLAGS, and nothing is written that those
 * flags cannot read back.
 */
#define JSON_STORE_FLAGS JSON_DECODE_ANY
/* parse stored text; NULL with why it cannot be read appended to why */
json_t *json_load_stored(const char *text, struct strbuf *why);
/*
 * Compact text of j that json_load_stored reads back as it is; NULL
 * with the reason appended to why when it would not (nested too deep, a "\u0000" in a
 * string, a string that is not UTF-8). Caller frees the text.
 */
char *json_compact_stored(const json_t *j, struct strbuf *why);

/*
 * A number as people write it (new reference): an integer when d is
 * whole and within +-2^53, so a score written 3 stays 3 and is never
 * shown as 3.0; a real otherwise (2.5 stays 2.5).
 */
json_t *json_number_kept(double d);

/*
 * A new reference to v without the keys in skip (NULL-terminated; NULL
 * for none): a shallow copy when v is an object (the values are shared,
 * so only for reading, as a digest does), v itself otherwise.
 */
json_t *json_shallow_without(json_t *v, const char *const *skip);

/* borrowed string member or NULL */
const char *json_str(const json_t *obj, const char *key);

/*
 * Append to array out the names v stands for: an object's keys, an
 * array's strings (other items skipped), or v itself when a string.
 */
void json_add_keys_or_items(json_t *out, const json_t *v);

#endif
