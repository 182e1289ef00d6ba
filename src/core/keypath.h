#ifndef CORE_KEYPATH_H
#define CORE_KEYPATH_H

#include <jansson.h>

struct strbuf;

/*
 * Dot paths into a JSON object: "docker_run.parameters" names
 * root["docker_run"]["parameters"]. A literal dot inside a key is
 * written "\.", as in "assign_containers.solution1\.patch".
 *
 * JSON ownership: these functions borrow root; keypath_set steals value
 * (it is released even on error).
 */

enum keypath_mode {
	KEYPATH_STRICT,    /* a non-object intermediate segment is an error */
	KEYPATH_OVERWRITE, /* ... is replaced by an empty object */
};

/*
 * Set path to value, creating missing intermediate objects. Returns 0,
 * or -1 with the message appended to err (not printed).
 */
int keypath_set(json_t *root, const char *path, json_t *value,
		enum keypath_mode mode, struct strbuf *err);
/* Remove path; a missing path is not an error. Returns 1 if removed. */
int keypath_unset(json_t *root, const char *path);
/* Borrowed reference to the value at path, or NULL. */
json_t *keypath_get(json_t *root, const char *path);
/*
 * Parse a command-line value: valid JSON (any type) becomes that value,
 * anything else a string. Returns a new reference, or NULL with the
 * message appended to err for JSON whose number jansson cannot hold
 * (see JSON_RANGE_NOTE).
 */
json_t *keypath_parse_value(const char *text, struct strbuf *err);

#endif
