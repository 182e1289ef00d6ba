#include "core/jsonutil.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define REAL_FLAGS JSON_REAL_PRECISION(16)

char *json_compact(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | REAL_FLAGS);
}

char *json_pretty(const json_t *j)
{
	return json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY |
				     REAL_FLAGS);
}

json_t *json_parse_named(const char *text, const char *what)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			       &err);
	if (!j && json_error_code(&err) == json_error_numeric_overflow)
		error("%s: number out of range at line %d, column %d: " JSON_RANGE_NOTE,
		      what, err.line, err.column);
	else if (!j)
		error("%s: invalid JSON at line %d, column %d: %s", what,
		      err.line, err.column, err.text);
	return j;
}

/* why text that jansson could not parse cannot be read, in words */
static void why_unreadable(const json_error_t *err, struct strbuf *why)
{
	switch (json_error_code(err)) {
	case json_error_stack_overflow:
		strbuf_addf(why, "nested deeper than %d levels",
			    JSON_PARSER_MAX_DEPTH);
		break;
	case json_error_null_character:
	case json_error_null_byte_in_key:
		strbuf_addstr(why, "a string holds \\u0000");
		break;
	default:
		strbuf_addf(why, "invalid JSON at line %d, column %d: %s",
			    err->line, err->column, err->text);
	}
}

json_t *json_load_stored(const char *text, struct strbuf *why)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_STORE_FLAGS, &err);
	if (!j)
		why_unreadable(&err, why);
	return j;
}

char *json_compact_stored(const json_t *j, struct strbuf *why)
{
	char *text = json_compact(j);
	json_t *back;

	if (!text) {
		strbuf_addstr(why, "it cannot be written as JSON (a string "
				   "that is not UTF-8)");
		return NULL;
	}
	back = json_load_stored(text, why);
	if (!back) {
		free(text);
		return NULL;
	}
	json_decref(back);
	return text;
}

const char *json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_t *json_number_kept(double d)
{
	/* 2^53: every whole double up to it is an exact integer */
	if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
	    d == (double)(json_int_t)d)
		return json_integer((json_int_t)d);
	return json_real(d);
}

json_t *json_shallow_without(json_t *v, const char *const *skip)
{
	json_t *copy, *val;
	const char *key;
	int i;

	if (!json_is_object(v))
		return json_incref(v);
	copy = json_object();
	json_object_foreach(v, key, val)
	{
		for (i = 0; skip && skip[i] && strcmp(skip[i], key); i++)
			;
		if (!skip || !skip[i])
			json_object_set(copy, key, val);
	}
	return copy;
}

void json_add_keys_or_items(json_t *out, const json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, e)
			json_array_append_new(out, json_string(key));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) if (json_is_string(e))
			json_array_append(out, e);
	} else if (json_is_string(v)) {
		json_array_append(out, (json_t *)v);
	}
}
