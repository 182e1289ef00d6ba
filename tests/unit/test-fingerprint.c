/*
 * Unit tests for core/fingerprint: the settings and outputs digests,
 * fingerprint_change, and the no-change key (fresh_key_encode and its
 * decoders), including a round trip and every prefix and mutation of a
 * key fed to the decoders.
 */
#include "tap.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "os/strbuf.h"

#include <stdlib.h>
#include <string.h>

static json_t *js(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!v) {
		fprintf(stderr, "test: bad JSON: %s\n", text);
		exit(2);
	}
	return v;
}

static int same_digest(const char *a, const char *b)
{
	json_t *x = js(a), *y = js(b);
	char *da = fingerprint_settings_digest(x);
	char *db = fingerprint_settings_digest(y);
	int same = !strcmp(da, db);
	free(da);
	free(db);
	json_decref(x);
	json_decref(y);
	return same;
}

static void test_settings_digest(void)
{
	json_t *s = js("{\"docker_run\":{\"image\":\"x\"}}");
	char want[SHA256_HEX_LEN + 1], *got;
	const char *canon = "{\"docker_run\":{\"image\":\"x\"}}";

	hash_string(canon, strlen(canon), want);
	got = fingerprint_settings_digest(s);
	is_str(got, want, "settings digest: SHA-256 of the compact text");
	free(got);
	json_decref(s);

	ok(same_digest("{\"docker_run\":{\"image\":\"x\",\"hashes\":{\"a\":1},"
		       "\"triggers\":[1],\"force\":true,\"rerun\":2,"
		       "\"hash_last_run\":\"h\"}}",
		       "{\"docker_run\":{\"image\":\"x\"}}"),
	   "settings digest leaves out the keys a step writes back");
	ok(same_digest("{\"b\":1,\"docker_run\":{\"z\":1,\"image\":\"x\"}}",
		       "{\"docker_run\":{\"image\":\"x\",\"z\":1},\"b\":1}"),
	   "settings digest does not depend on key order");
	ok(!same_digest("{\"docker_run\":{\"image\":\"x\"}}",
			"{\"docker_run\":{\"image\":\"y\"}}"),
	   "settings digest changes with a setting");
	ok(!same_digest("{\"hashes\":1,\"docker_run\":{}}",
			"{\"docker_run\":{}}"),
	   "a top-level key named like a written-back one still counts");
	ok(same_digest("[1,2]", "[1,2]") && !same_digest("[1,2]", "[2,1]"),
	   "settings that are no object are digested as they are");
}

static void test_outputs_digest(void)
{
	json_t *r = js("{\"result\":\"success\",\"message\":\"m\"}");
	char want[SHA256_HEX_LEN + 1], *got;

	hash_outputs(r, want);
	got = fingerprint_outputs_digest(r);
	is_str(got, want, "outputs digest is hash_outputs");
	free(got);
	json_decref(r);
	hash_outputs(NULL, want);
	got = fingerprint_outputs_digest(NULL);
	is_str(got, want, "outputs digest of no results");
	free(got);
}

static void change_is(const char *old, const char *now, const char *want,
		      const char *name)
{
	json_t *o = js(old), *n = js(now);
	char *got = fingerprint_change(o, n);
	is_str(got, want, name);
	free(got);
	json_decref(o);
	json_decref(n);
}

#define FP(s, d, i) \
	"{\"settings\":\"" s "\",\"deps\":{" d "},\"inputs\":{" i "}}"
#define IN(sha, size) "{\"sha256\":\"" sha "\",\"size\":" size "}"

static void test_change(void)
{
	change_is(FP("a", "\"1\":\"x\"", "\"f\":" IN("s", "1")),
		  FP("a", "\"1\":\"x\"", "\"f\":" IN("s", "2")), NULL,
		  "same digests: no change, whatever the stat");
	change_is(FP("a", "", ""), FP("b", "", ""), "settings changed",
		  "settings changed");
	change_is(FP("a", "\"1\":\"x\"", ""), FP("a", "\"1\":\"y\"", ""),
		  "dependency 1 changed", "a dependency's outputs changed");
	change_is(FP("a", "\"1\":\"x\",\"2\":\"y\"", ""),
		  FP("a", "\"1\":\"x\"", ""), "dependencies changed",
		  "a dependency was dropped");
	change_is(FP("a", "", "\"f\":" IN("s", "1")),
		  FP("a", "", "\"f\":" IN("t", "1")), "input changed: f",
		  "an input's content changed");
	change_is(FP("a", "", "\"f\":" IN("s", "1") ",\"g\":" IN("s", "1")),
		  FP("a", "", "\"f\":" IN("s", "1")), "input files changed",
		  "an input was dropped");
}

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define STAT(sz)                                            \
	"{\"sha256\":\"s\",\"size\":" sz ",\"mtime_ns\":2," \
	"\"ctime_ns\":3,\"ino\":4}"

static char *encode(const char *sha, const char *base, const long long *deps,
		    size_t ndeps, const char *fp_text)
{
	json_t *fp = fp_text ? js(fp_text) : NULL;
	char *key = fresh_key_encode(sha, base, deps, ndeps, fp);
	json_decref(fp);
	return key;
}

static void test_encode(void)
{
	static const long long two[] = { 3, 12 };
	char *key;

	key = encode(SHA, "/t", two, 2,
		     "{\"settings\":\"x\",\"deps\":{\"12\":"
		     "\"d12\",\"3\":\"d3\"},\"inputs\":{\"/a/b\":" STAT(
			     "1") ",\"rel\":" STAT("5") "}}");
	is_str(key,
	       "v1|" SHA "|2:/t|3=d3,12=d12|4:/a/b\t1\t2\t3\t4\n"
	       "3:rel\t5\t2\t3\t4\n",
	       "key text: version, settings, folder, deps in order, inputs");
	free(key);

	key = encode(SHA, NULL, NULL, 0, "{\"deps\":{},\"inputs\":{}}");
	is_str(key, "v1|" SHA "|0:||", "no folder, no deps, no inputs");
	free(key);

	ok(!encode(SHA, "/t", NULL, 0, NULL), "no key without a fingerprint");
	ok(!encode("abc", "/t", NULL, 0, "{\"inputs\":{}}"),
	   "no key for a settings digest of the wrong length");
	ok(!encode(NULL, "/t", NULL, 0, "{\"inputs\":{}}"),
	   "no key without a settings digest");
	ok(!encode(SHA, "/t", NULL, 0, "{\"deps\":{}}"),
	   "no key when the fingerprint has no inputs object");
	ok(!encode(SHA, "/t", two, 2,
		   "{\"deps\":{\"3\":\"d3\"},"
		   "\"inputs\":{}}"),
	   "no key when a dependency's digest is missing");
	ok(!encode(SHA, "/t", two, 1,
		   "{\"deps\":{\"3\":\"d,3\"},"
		   "\"inputs\":{}}"),
	   "no key when a digest holds a comma");
	ok(!encode(SHA, "/t", two, 1,
		   "{\"deps\":{\"3\":\"d|3\"},"
		   "\"inputs\":{}}"),
	   "no key when a digest holds a bar");
	ok(!encode(SHA, "", NULL, 0, "{\"inputs\":{\"rel\":" STAT("1") "}}"),
	   "no key for a relative input without a folder");
	ok(!encode(SHA, "/t", NULL, 0,
		   "{\"inputs\":{\"/a\":{\"size\":1,"
		   "\"mtime_ns\":2,\"ctime_ns\":3}}}"),
	   "no key for an input without its inode");
	ok(!encode(SHA, "/t", NULL, 0,
		   "{\"inputs\":{\"/a\":{\"size\":\"1\","
		   "\"mtime_ns\":2,\"ctime_ns\":3,\"ino\":4}}}"),
	   "no key for an input whose size is no integer");
}

/* decode key in full into text like encode's input; -1 when rejected */
static int decode(const char *key, struct strbuf *out)
{
	struct fresh_key k;
	struct fresh_key_input in;
	const char *p, *dg;
	long long id;
	size_t len;
	int r;

	strbuf_reset(out);
	if (fresh_key_parse(key, &k))
		return -1;
	strbuf_addf(out, "sha=%.*s base=%.*s deps=", SHA256_HEX_LEN,
		    k.settings_sha, (int)k.base_len, k.base);
	p = k.deps;
	while ((r = fresh_key_next_dep(&p, &id, &dg, &len)) > 0)
		strbuf_addf(out, "[%lld:%.*s]", id, (int)len, dg);
	if (r < 0)
		return -1;
	strbuf_addstr(out, " inputs=");
	p = k.inputs;
	while ((r = fresh_key_next_input(&p, &in)) > 0)
		strbuf_addf(out, "[%.*s %lld %lld %lld %lld]", (int)in.len,
			    in.path, in.size, in.mtime_ns, in.ctime_ns, in.ino);
	return r < 0 ? -1 : 0;
}

static void test_round_trip(void)
{
	static const long long deps[] = { 7, 1 };
	struct strbuf sb = STRBUF_INIT;
	char *key;

	/* a folder and inputs holding the key's own separators */
	key = encode(SHA, "/w|x:1\t2", deps, 2,
		     "{\"deps\":{\"7\":\"aa\",\"1\":\"bb\"},\"inputs\":{"
		     "\"/in|put\\n\":{\"size\":10,\"mtime_ns\":-20,"
		     "\"ctime_ns\":1700000000123456789,\"ino\":9},"
		     "\"r:e,l\":{\"size\":0,\"mtime_ns\":0,\"ctime_ns\":0,"
		     "\"ino\":0}}}");
	ok(key != NULL, "round trip: encoded");
	ok(decode(key, &sb) == 0, "round trip: decoded");
	is_str(sb.buf,
	       "sha=" SHA " base=/w|x:1\t2 deps=[7:aa][1:bb] inputs="
	       "[/in|put\n 10 -20 1700000000123456789 9][r:e,l 0 0 0 0]",
	       "round trip gives back every part");
	free(key);
	strbuf_release(&sb);
}

static void rejected(const char *key, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	ok(decode(key, &sb) < 0, "%s", name);
	strbuf_release(&sb);
}

static void test_decode_limits(void)
{
	struct strbuf sb = STRBUF_INIT;
	ok(decode("v1|" SHA "|0:|9223372036854775807=a|2:/a\t-1\t2\t3\t"
		  "9223372036854775807\n",
		  &sb) == 0,
	   "LLONG_MAX decodes, and a negative stat field");
	is_str(sb.buf,
	       "sha=" SHA " base= deps=[9223372036854775807:a] "
	       "inputs=[/a -1 2 3 9223372036854775807]",
	       "the limits decode exactly");
	strbuf_release(&sb);
}

static void test_decode_rejects(void)
{
	rejected(NULL, "no key");
	rejected("", "an empty key");
	rejected("v2|" SHA "|0:||", "another version");
	rejected("v1|" SHA "0|0:||", "a settings digest too long");
	rejected("v1|abc|0:||", "a settings digest too short");
	rejected("v1|" SHA "|5:ab||", "a folder shorter than its length");
	rejected("v1|" SHA "|-1:||", "a negative folder length");
	rejected("v1|" SHA "|2:abX|", "no bar after the folder");
	rejected("v1|" SHA "|0:|1=a", "no bar after the dependencies");
	rejected("v1|" SHA "|0:|-1=a|", "a negative dependency id");
	rejected("v1|" SHA "|0:|1a|", "a dependency without its digest");
	rejected("v1|" SHA "|0:|99999999999999999999=a|",
		 "a dependency id past 19 digits");
	rejected("v1|" SHA "|0:|9999999999999999999=a|",
		 "a dependency id past LLONG_MAX");
	rejected("v1|" SHA "|0:||2:/a\t1\t2\t3\t9223372036854775808\n",
		 "an inode one past LLONG_MAX");
	rejected("v1|" SHA "|0:||2:/a\t1\t2\t3\n", "an input missing a field");
	rejected("v1|" SHA "|0:||2:/a\t1\t2\t3\t4", "an input without newline");
	rejected("v1|" SHA "|0:||2:/a\t1\tx\t3\t4\n",
		 "an input with a field no number");
	rejected("v1|" SHA "|0:||9:/a\t1\t2\t3\t4\n",
		 "an input longer than the key");
}

/*
 * Every prefix of a key, and every byte of it replaced by each of the
 * key's separators, a digit and a minus, goes through the decoders:
 * they must stay in the string (the ASan build checks) and accept only
 * what is a key. A prefix is one only where the inputs list may end.
 */
static void test_mutations(void)
{
	static const long long deps[] = { 3, 12 };
	static const char repl[] = "|:,=\t\n-9";
	struct strbuf sb = STRBUF_INIT;
	char *key = encode(SHA, "/t", deps, 2,
			   "{\"deps\":{\"3\":\"d3\","
			   "\"12\":\"d12\"},\"inputs\":{\"/a/b\":" STAT(
				   "1") ",\"rel\":" STAT("5") "}}");
	size_t n = strlen(key), i, j, whole = 0, version = 0, refused = 0;
	size_t after_deps = strstr(key, "d12|") + 4 - key;
	size_t after_first = strchr(key, '\n') + 1 - key;
	int only_ends = 1;

	for (i = 0; i <= n; i++) {
		char *cut = strndup(key, i);
		int ends = i == after_deps || i == after_first || i == n;
		if (decode(cut, &sb) == 0) {
			whole++;
			only_ends &= ends;
		}
		free(cut);
	}
	ok(whole == 3 && only_ends,
	   "prefixes: only the three that end an inputs list decode (%zu)",
	   whole);
	for (i = 0; i < n; i++)
		for (j = 0; j < sizeof(repl) - 1; j++) {
			char *m = strdup(key);
			int r;
			if (m[i] == repl[j]) {
				free(m);
				continue;
			}
			m[i] = repl[j];
			r = decode(m, &sb);
			if (i < strlen(FRESH_KEY_VERSION)) {
				version++;
				refused += r < 0;
			}
			free(m);
		}
	ok(version && refused == version,
	   "mutations: every changed version byte is refused (%zu of %zu)",
	   refused, version);
	free(key);
	strbuf_release(&sb);
}

int main(void)
{
	test_settings_digest();
	test_outputs_digest();
	test_change();
	test_encode();
	test_round_trip();
	test_decode_limits();
	test_decode_rejects();
	test_mutations();
	return tap_done();
}
