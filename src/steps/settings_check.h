#ifndef STEPS_SETTINGS_CHECK_H
#define STEPS_SETTINGS_CHECK_H

#include <jansson.h>

struct strbuf;

/*
 * The keys a step type reads from its settings object and the JSON
 * kinds each may hold. Each type declares its table once, next to the
 * type (struct step_type.keys); settings_check reads it for `step
 * create` and `step edit`, so a wrong kind is refused when written, not
 * found when the step runs. Keys a table does not name are kept as
 * they are (the engine ignores them). null is accepted for every key:
 * it reads as unset.
 */

enum setting_kind {
	SK_STRING = 1 << 0,
	SK_INTEGER = 1 << 1,
	SK_REAL = 1 << 2,
	SK_BOOL = 1 << 3,
	SK_ARRAY = 1 << 4, /* of items (0: of anything) */
	SK_OBJECT = 1 << 5,
};
#define SK_NUMBER (SK_INTEGER | SK_REAL)

struct setting_key {
	const char *key;
	unsigned kinds;
	unsigned items; /* for SK_ARRAY: the kinds of its entries */
};
#define SETTING_KEYS_END   \
	{                  \
		NULL, 0, 0 \
	}

/*
 * Check settings (whose type step_type_of found) against the type's
 * table, and its own check when it has one. Returns 0, or -1 with a
 * message naming the key's path appended to err (not printed):
 * "docker_run.keep_forever: expected true or false".
 */
int settings_check(const json_t *settings, const char *type,
		   struct strbuf *err);

#endif
