/* settings_check: a step's settings against its type's key table */
#include "steps/settings_check.h"
#include "steps/step.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <string.h>

static unsigned kind_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return SK_STRING;
	case JSON_INTEGER:
		return SK_INTEGER;
	case JSON_REAL:
		return SK_REAL;
	case JSON_TRUE:
	case JSON_FALSE:
		return SK_BOOL;
	case JSON_ARRAY:
		return SK_ARRAY;
	case JSON_OBJECT:
		return SK_OBJECT;
	default:
		return 0;
	}
}

/* "a string", "a list of strings", "true or false", ... */
static void add_kinds(struct strbuf *sb, unsigned kinds, unsigned items)
{
	static const struct {
		unsigned k;
		const char *name;
	} names[] = {
		{ SK_STRING, "a string" }, { SK_INTEGER, "an integer" },
		{ SK_REAL, "a number" },   { SK_BOOL, "true or false" },
		{ SK_ARRAY, "a list" },    { SK_OBJECT, "an object" },
	};
	size_t i, n = 0, total = 0;

	if ((kinds & SK_NUMBER) == SK_NUMBER)
		kinds &= ~SK_INTEGER;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		total += !!(kinds & names[i].k);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(kinds & names[i].k))
			continue;
		if (n++)
			strbuf_addstr(sb, n == total ? " or " : ", ");
		if (names[i].k == SK_ARRAY && items == SK_STRING)
			strbuf_addstr(sb, "a list of strings");
		else if (names[i].k == SK_ARRAY && items == SK_OBJECT)
			strbuf_addstr(sb, "a list of objects");
		else
			strbuf_addstr(sb, names[i].name);
	}
}

static int check_key(const char *type, const struct setting_key *k,
		     const json_t *v, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *e;

	if (json_is_null(v))
		return 0;
	if (kind_of(v) & k->kinds) {
		if (!json_is_array(v) || !k->items)
			return 0;
		json_array_foreach(v, i, e) if (!(kind_of(e) & k->items)) break;
		if (i == json_array_size(v))
			return 0;
		strbuf_addf(&sb, "%s.%s[%zu]: expected ", type, k->key, i);
		add_kinds(&sb, k->items, 0);
	} else {
		strbuf_addf(&sb, "%s.%s: expected ", type, k->key);
		add_kinds(&sb, k->kinds, k->items);
	}
	error_quiet(err, "%s", sb.buf);
	strbuf_release(&sb);
	return -1;
}

int settings_check(const json_t *settings, const char *type, struct strbuf *err)
{
	const struct step_type *t = step_type_find(type);
	const json_t *conf = json_object_get(settings, type);
	const struct setting_key *k;

	if (!t)
		return 0;
	if (t->check_settings)
		return t->check_settings(conf, err);
	if (!t->keys || !json_is_object(conf))
		return 0;
	for (k = t->keys; k->key; k++) {
		const json_t *v = json_object_get(conf, k->key);
		if (v && check_key(type, k, v, err))
			return -1;
	}
	return 0;
}
