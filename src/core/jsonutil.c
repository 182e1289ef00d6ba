#include "core/jsonutil.h"
#include "core/error.h"

#define REAL_FLAGS JSON_REAL_PRECISION(16)

char *json_compact(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | REAL_FLAGS);
}

char *json_pretty(const json_t *j)
{
	return json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS |
				     JSON_ENCODE_ANY | REAL_FLAGS);
}

json_t *json_parse_named(const char *text, const char *what)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			       &err);
	if (!j && json_error_code(&err) == json_error_numeric_overflow)
		error("%s: number out of range at line %d, column %d: "
		      JSON_RANGE_NOTE, what, err.line, err.column);
	else if (!j)
		error("%s: invalid JSON at line %d, column %d: %s", what,
		      err.line, err.column, err.text);
	return j;
}

const char *json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}
