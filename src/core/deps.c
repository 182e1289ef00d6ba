#include "core/deps.h"
#include "os/error.h"
#include "os/xalloc.h"

#include <errno.h>
#include <stdlib.h>

static int entry_id(const json_t *e, long long *id)
{
	const char *s;
	char *end;

	if (json_is_object(e))
		e = json_object_get(e, "id");
	if (json_is_integer(e)) {
		*id = json_integer_value(e);
		return *id > 0 ? 0 : -1;
	}
	s = json_string_value(e);
	if (!s || !*s)
		return -1;
	errno = 0;
	*id = strtoll(s, &end, 10);
	return errno || *end || *id <= 0 ? -1 : 0;
}

static const json_t *find_list(const json_t *settings)
{
	const char *key;
	json_t *val, *dep = json_object_get(settings, "depends_on");

	if (dep)
		return dep;
	json_object_foreach((json_t *)settings, key, val)
	{
		dep = json_object_get(val, "depends_on");
		if (dep && !(json_is_array(dep) && !json_array_size(dep)))
			return dep;
	}
	return NULL;
}

int step_depends_on(const json_t *settings, long long **ids, size_t *nr,
		    struct strbuf *err)
{
	const json_t *list = json_is_object(settings) ? find_list(settings)
						      : NULL;
	size_t i, j, alloc = 0;
	json_t *e;

	*ids = NULL;
	*nr = 0;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list)) {
		return error_quiet(err, "depends_on must be an array like "
					"[{\"id\": 12}]");
	}
	json_array_foreach(list, i, e)
	{
		long long id;
		if (entry_id(e, &id)) {
			free(*ids);
			*ids = NULL;
			*nr = 0;
			return error_quiet(err,
					   "depends_on entry %zu is not a step "
					   "reference like {\"id\": 12}",
					   i + 1);
		}
		for (j = 0; j < *nr; j++)
			if ((*ids)[j] == id)
				break;
		if (j < *nr)
			continue;
		ALLOC_GROW(*ids, *nr + 1, alloc);
		(*ids)[(*nr)++] = id;
	}
	return 0;
}
