#ifndef CORE_JSONUTIL_H
#define CORE_JSONUTIL_H

#include <jansson.h>

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
#define JSON_RANGE_NOTE "integers must be within -9223372036854775808.." \
	"9223372036854775807 and other numbers within a double's range; " \
	"write it as a string (\"...\") to keep every digit"

/* borrowed string member or NULL */
const char *json_str(const json_t *obj, const char *key);

#endif
