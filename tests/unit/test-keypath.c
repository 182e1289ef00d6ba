/*
 * Unit tests for core/keypath: dot paths into JSON objects and the
 * command-line value parser.
 */
#include "tap.h"
#include "core/keypath.h"
#include "os/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* compare root, dumped compactly with sorted keys, to want */
static void is_json(json_t *root, const char *want, const char *name)
{
	char *got = json_dumps(root,
			       JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	is_str(got, want, name);
	free(got);
}

static json_t *parse(const char *text)
{
	return json_loads(text, JSON_DECODE_ANY, NULL);
}

static void test_set(void)
{
	json_t *root = json_object();
	struct strbuf err = STRBUF_INIT;

	ok(keypath_set(root, "a.b.c", json_integer(1), KEYPATH_STRICT, &err) ==
			   0 &&
		   !err.len,
	   "set a.b.c in an empty object");
	is_json(root, "{\"a\":{\"b\":{\"c\":1}}}",
		"intermediate objects are created");
	ok(keypath_set(root, "a.b.d", json_string("x"), KEYPATH_STRICT, &err) ==
		   0,
	   "set a sibling");
	ok(keypath_set(root, "a.b.c", json_true(), KEYPATH_STRICT, &err) == 0,
	   "replace a leaf");
	is_json(root, "{\"a\":{\"b\":{\"c\":true,\"d\":\"x\"}}}",
		"existing objects are reused");
	ok(keypath_set(root, "a", json_integer(2), KEYPATH_STRICT, &err) == 0,
	   "STRICT may replace an object at the leaf");
	is_json(root, "{\"a\":2}", "leaf object replaced");
	json_decref(root);

	/* a non-object intermediate */
	root = parse("{\"a\":{\"b\":5}}");
	ok(keypath_set(root, "a.b.c", json_integer(1), KEYPATH_STRICT, &err) ==
		   -1,
	   "STRICT: non-object intermediate is an error");
	is_str(err.buf,
	       "cannot set value at path 'a.b.c': segment 'b' is not an "
	       "object",
	       "STRICT error message");
	strbuf_reset(&err);
	is_json(root, "{\"a\":{\"b\":5}}", "STRICT failure leaves root alone");
	ok(keypath_set(root, "a.b.c", json_integer(1), KEYPATH_OVERWRITE,
		       &err) == 0 &&
		   !err.len,
	   "OVERWRITE: non-object intermediate is replaced");
	is_json(root, "{\"a\":{\"b\":{\"c\":1}}}", "OVERWRITE result");
	json_decref(root);

	root = parse("{\"a\":null}");
	ok(keypath_set(root, "a.b", json_integer(1), KEYPATH_STRICT, &err) ==
		   -1,
	   "STRICT: null intermediate is an error");
	is_str(err.buf,
	       "cannot set value at path 'a.b': segment 'a' is not an "
	       "object",
	       "STRICT error names the first segment");
	strbuf_reset(&err);
	json_decref(root);

	/* escaped dots */
	root = json_object();
	ok(keypath_set(root, "a\\.b", json_integer(1), KEYPATH_STRICT, &err) ==
		   0,
	   "set an escaped-dot key");
	is_json(root, "{\"a.b\":1}", "a\\.b is one key");
	ok(keypath_set(root, "x.solution1\\.patch.y", json_integer(2),
		       KEYPATH_STRICT, &err) == 0,
	   "set through an escaped-dot segment");
	is_json(root, "{\"a.b\":1,\"x\":{\"solution1.patch\":{\"y\":2}}}",
		"escaped dot in the middle of a path");
	ok(keypath_set(root, "back\\\\slash", json_integer(3), KEYPATH_STRICT,
		       &err) == 0,
	   "set a key with an escaped backslash");
	ok(json_integer_value(json_object_get(root, "back\\slash")) == 3,
	   "\\\\ is a literal backslash");

	/* bad paths and values */
	ok(keypath_set(root, "a..b", json_integer(1), KEYPATH_STRICT, &err) ==
		   -1,
	   "an empty segment is an error");
	is_str(err.buf, "invalid key path 'a..b'", "empty segment message");
	strbuf_reset(&err);
	ok(keypath_set(root, "", json_integer(1), KEYPATH_STRICT, &err) == -1,
	   "an empty path is an error");
	strbuf_reset(&err);
	ok(keypath_set(root, "a.", json_integer(1), KEYPATH_STRICT, &err) == -1,
	   "a trailing dot is an error");
	strbuf_reset(&err);
	ok(keypath_set(root, "k", NULL, KEYPATH_STRICT, &err) == -1 && err.len,
	   "a NULL value is an error");
	strbuf_reset(&err);
	ok(keypath_set(root, "\xff.b", json_integer(1), KEYPATH_OVERWRITE,
		       &err) == -1 &&
		   err.len,
	   "an invalid UTF-8 intermediate key is an error");
	strbuf_reset(&err);
	ok(keypath_set(root, "a.\xff", json_integer(1), KEYPATH_OVERWRITE,
		       &err) == -1 &&
		   err.len,
	   "an invalid UTF-8 leaf key is an error");
	strbuf_reset(&err);
	is_json(root,
		"{\"a.b\":1,\"back\\\\slash\":3,\"x\":{\"solution1."
		"patch\":{\"y\":2}}}",
		"failed sets leave root alone");
	json_decref(root);

	root = json_array();
	ok(keypath_set(root, "a", json_integer(1), KEYPATH_OVERWRITE, &err) ==
		   -1,
	   "a non-object root is an error");
	is_str(err.buf, "settings are not a JSON object",
	       "non-object root message");
	strbuf_release(&err);
	json_decref(root);
}

static void test_unset_get(void)
{
	json_t *root = parse("{\"a\":{\"b\":{\"c\":1,\"d\":2}},\"e.f\":3,"
			     "\"n\":5}");

	ok(json_integer_value(keypath_get(root, "a.b.c")) == 1, "get a.b.c");
	ok(json_is_object(keypath_get(root, "a.b")), "get an object");
	ok(json_integer_value(keypath_get(root, "e\\.f")) == 3,
	   "get an escaped-dot key");
	ok(!keypath_get(root, "e.f"), "unescaped e.f is a path, missing");
	ok(!keypath_get(root, "a.x.c"), "get a missing path");
	ok(!keypath_get(root, "n.x"), "get through a non-object");
	ok(!keypath_get(root, "a..b"), "get with an empty segment");

	ok(keypath_unset(root, "a.b.c") == 1, "unset existing returns 1");
	is_json(root, "{\"a\":{\"b\":{\"d\":2}},\"e.f\":3,\"n\":5}",
		"unset removed a.b.c");
	ok(keypath_unset(root, "a.b.c") == 0, "unset again returns 0");
	ok(keypath_unset(root, "a.x.y") == 0, "unset a missing parent");
	ok(keypath_unset(root, "n.x") == 0, "unset through a non-object");
	ok(keypath_unset(root, "") == 0, "unset an empty path");
	ok(keypath_unset(root, "e\\.f") == 1, "unset an escaped-dot key");
	ok(keypath_unset(root, "a") == 1, "unset a whole subtree");
	is_json(root, "{\"n\":5}", "after unsets");
	json_decref(root);
}

static void test_parse_value(void)
{
	json_t *v;
	struct strbuf err = STRBUF_INIT;

	v = keypath_parse_value("123", &err);
	ok(json_is_integer(v) && json_integer_value(v) == 123, "123 is an int");
	json_decref(v);
	v = keypath_parse_value("-7", &err);
	ok(json_is_integer(v) && json_integer_value(v) == -7, "-7 is an int");
	json_decref(v);
	v = keypath_parse_value("1.5", &err);
	ok(json_is_real(v) && json_real_value(v) == 1.5, "1.5 is a real");
	json_decref(v);
	v = keypath_parse_value("true", &err);
	ok(json_is_true(v), "true is true");
	json_decref(v);
	v = keypath_parse_value("false", &err);
	ok(json_is_false(v), "false is false");
	json_decref(v);
	v = keypath_parse_value("null", &err);
	ok(json_is_null(v), "null is null");
	json_decref(v);
	v = keypath_parse_value("\"x\"", &err);
	ok(json_is_string(v), "\"x\" is a string");
	is_str(json_string_value(v), "x", "\"x\" loses its quotes");
	json_decref(v);
	v = keypath_parse_value("[1,2]", &err);
	is_json(v, "[1,2]", "[1,2] is an array");
	json_decref(v);
	v = keypath_parse_value("{\"a\":1}", &err);
	is_json(v, "{\"a\":1}", "{\"a\":1} is an object");
	json_decref(v);
	v = keypath_parse_value("hello world", &err);
	ok(json_is_string(v), "hello world is a string");
	is_str(json_string_value(v), "hello world", "hello world verbatim");
	json_decref(v);
	v = keypath_parse_value("", &err);
	ok(json_is_string(v), "empty text is a string");
	is_str(json_string_value(v), "", "empty text is \"\"");
	json_decref(v);
	v = keypath_parse_value("[1,2", &err);
	is_str(json_string_value(v), "[1,2", "broken JSON is a string");
	json_decref(v);
	v = keypath_parse_value("123abc", &err);
	is_str(json_string_value(v), "123abc", "123abc is a string");
	json_decref(v);
	v = keypath_parse_value("9007199254740993", &err);
	ok(json_is_integer(v) && json_integer_value(v) == 9007199254740993LL,
	   "9007199254740993 stays exact");
	json_decref(v);
	v = keypath_parse_value("\xff", &err);
	ok(!v && !err.len, "invalid UTF-8 gives NULL (keypath_set reports it)");
	json_decref(v);
	/* numbers jansson cannot hold: an error, not a string */
	v = keypath_parse_value("12345678901234567890", &err);
	ok(!v && err.len &&
		   strstr(err.buf, "number out of range in "
				   "'12345678901234567890'"),
	   "an integer beyond int64 is an error (%s)",
	   err.len ? err.buf : "none");
	strbuf_reset(&err);
	v = keypath_parse_value("{\"a\":12345678901234567890}", &err);
	ok(!v && err.len, "... inside an object too");
	strbuf_reset(&err);
	v = keypath_parse_value("-9223372036854775809", &err);
	ok(!v && err.len, "... below int64 too");
	strbuf_reset(&err);
	v = keypath_parse_value("1e999", &err);
	ok(!v && err.len, "a real beyond a double is an error");
	strbuf_reset(&err);
	v = keypath_parse_value("9223372036854775807", &err);
	ok(!err.len && json_is_integer(v) &&
		   json_integer_value(v) == 9223372036854775807LL,
	   "INT64_MAX stays an exact integer");
	json_decref(v);
	v = keypath_parse_value("12345678901234567890abc", &err);
	ok(!err.len && json_is_string(v), "digits then text stay a string");
	json_decref(v);
	strbuf_release(&err);
}

int main(void)
{
	test_set();
	test_unset_get();
	test_parse_value();
	return tap_done();
}
