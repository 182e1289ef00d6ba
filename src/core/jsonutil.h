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
/* borrowed string member or NULL */
const char *json_str(const json_t *obj, const char *key);

#endif
