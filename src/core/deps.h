#ifndef CORE_DEPS_H
#define CORE_DEPS_H

#include <jansson.h>
#include <stddef.h>

struct strbuf;

/*
 * depends_on of a step: [{"id": 12}, ...] (bare numbers and numeric
 * strings are accepted too), read from the top level of the settings
 * when present, else from inside the type object. IDs come back in the
 * order written, duplicates removed; *ids is owned by the caller.
 * Returns 0, or -1 for a malformed entry, with why appended to err
 * (NULL: not wanted; nothing is printed).
 */
int step_depends_on(const json_t *settings, long long **ids, size_t *nr,
		    struct strbuf *err);

#endif
