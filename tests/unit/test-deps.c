/* Unit tests for core/deps: reading depends_on from step settings. */
#include "tap.h"
#include "core/deps.h"
#include "os/strbuf.h"

#include <stdlib.h>
#include <string.h>

/*
 * Run step_depends_on on settings given as JSON text; the IDs come back
 * as "1,2,3" in *ids_out, the error (or "") in *err_out.
 */
static int deps(const char *text, struct strbuf *ids_out,
		struct strbuf *err_out)
{
	json_t *settings = json_loads(text, JSON_DECODE_ANY, NULL);
	long long *ids = (long long *)1;
	size_t nr = 99, i;
	int ret;

	strbuf_reset(ids_out);
	strbuf_reset(err_out);
	if (!settings) {
		strbuf_addstr(err_out, "test: bad JSON");
		return -99;
	}
	ret = step_depends_on(settings, &ids, &nr, err_out);
	for (i = 0; i < nr; i++)
		strbuf_addf(ids_out, "%s%lld", i ? "," : "", ids[i]);
	if (!nr && ids)
		strbuf_addstr(ids_out, "(non-NULL ids with 0 entries)");
	free(ids);
	json_decref(settings);
	return ret;
}

int main(void)
{
	struct strbuf ids = STRBUF_INIT, err = STRBUF_INIT;

	ok(deps("{\"docker_run\":{\"image\":\"x\"},"
		"\"depends_on\":[{\"id\":12},{\"id\":7}]}",
		&ids, &err) == 0,
	   "top-level list");
	is_str(ids.buf, "12,7", "top-level IDs in order written");
	is_str(err.buf, "", "no error");

	ok(deps("{\"docker_run\":{\"image\":\"x\","
		"\"depends_on\":[{\"id\":3},{\"id\":1}]}}",
		&ids, &err) == 0,
	   "nested list");
	is_str(ids.buf, "3,1", "nested IDs");

	ok(deps("{\"depends_on\":[{\"id\":1}],"
		"\"docker_run\":{\"depends_on\":[{\"id\":9}]}}",
		&ids, &err) == 0,
	   "top-level and nested");
	is_str(ids.buf, "1", "top-level wins over nested");

	ok(deps("{\"depends_on\":[],"
		"\"docker_run\":{\"depends_on\":[{\"id\":9}]}}",
		&ids, &err) == 0,
	   "empty top-level and nested");
	is_str(ids.buf, "", "a present top-level list wins even when empty");

	ok(deps("{\"depends_on\":[{\"id\":3},{\"id\":\"4\"},5]}", &ids, &err) ==
		   0,
	   "mixed entry forms");
	is_str(ids.buf, "3,4,5", "object, numeric string and bare number");

	ok(deps("{\"depends_on\":[{\"id\":2},{\"id\":1},2,\"1\",{\"id\":\"2\"},"
		"3]}",
		&ids, &err) == 0,
	   "duplicates");
	is_str(ids.buf, "2,1,3", "duplicates removed, first position kept");

	ok(deps("{\"depends_on\":[{\"id\":1},{\"name\":\"x\"}]}", &ids, &err) ==
		   -1,
	   "malformed entry is an error");
	is_str(err.buf,
	       "depends_on entry 2 is not a step reference like "
	       "{\"id\": 12}",
	       "malformed entry message names the entry");
	is_str(ids.buf, "", "no IDs returned on error");

	ok(deps("{\"depends_on\":[true]}", &ids, &err) == -1 && err.len,
	   "a boolean entry is an error");
	ok(deps("{\"depends_on\":[{\"id\":0}]}", &ids, &err) == -1 && err.len,
	   "id 0 is an error");
	ok(deps("{\"depends_on\":[-4]}", &ids, &err) == -1 && err.len,
	   "a negative id is an error");
	ok(deps("{\"depends_on\":[\"4x\"]}", &ids, &err) == -1 && err.len,
	   "a non-numeric string is an error");
	ok(deps("{\"depends_on\":[\"\"]}", &ids, &err) == -1 && err.len,
	   "an empty string is an error");
	ok(deps("{\"depends_on\":[1.5]}", &ids, &err) == -1 && err.len,
	   "a real is an error");
	ok(deps("{\"depends_on\":[\"99999999999999999999\"]}", &ids, &err) ==
			   -1 &&
		   err.len,
	   "an out-of-range string is an error");
	ok(deps("{\"docker_run\":{\"depends_on\":[{\"id\":\"x\"}]}}", &ids,
		&err) == -1 &&
		   err.len,
	   "a malformed nested entry is an error");

	ok(deps("{\"depends_on\":\"12\"}", &ids, &err) == -1,
	   "a non-array depends_on is an error");
	is_str(err.buf, "depends_on must be an array like [{\"id\": 12}]",
	       "non-array message");
	ok(deps("{\"depends_on\":{\"id\":1}}", &ids, &err) == -1 && err.len,
	   "an object depends_on is an error");

	ok(deps("{\"docker_run\":{\"image\":\"x\"}}", &ids, &err) == 0,
	   "missing depends_on");
	is_str(ids.buf, "", "missing -> 0 entries");
	is_str(err.buf, "", "missing -> no error");
	ok(deps("{}", &ids, &err) == 0 && !ids.len, "empty settings");
	ok(deps("{\"depends_on\":null}", &ids, &err) == 0 && !ids.len,
	   "null depends_on -> 0 entries");
	ok(deps("{\"docker_run\":{\"depends_on\":[]}}", &ids, &err) == 0,
	   "empty nested list");
	is_str(ids.buf, "", "empty nested list -> 0 entries");
	ok(deps("{\"docker_run\":\"scalar\",\"x\":[1]}", &ids, &err) == 0 &&
		   !ids.len,
	   "non-object type values are skipped");
	ok(deps("[{\"id\":1}]", &ids, &err) == 0 && !ids.len,
	   "non-object settings -> 0 entries");

	strbuf_release(&ids);
	strbuf_release(&err);
	return tap_done();
}
