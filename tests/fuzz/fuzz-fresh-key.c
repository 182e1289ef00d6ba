/*
 * libFuzzer entry point for the no-change key's decoders
 * (core/fingerprint.h): the input, NUL-terminated, parsed and every
 * dependency and input walked, as engine/fast.c does. A key that
 * decodes is encoded again from its parts and must come back the same.
 * Built and run by scripts/fuzz (fresh-key).
 */
#include "core/fingerprint.h"
#include "core/hash.h"
#include "os/xalloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The parts of a decoded key encoded again; NULL when they cannot make
 * a key (a repeated id or path, text that is no UTF-8).
 */
static char *reencode(const struct fresh_key *k)
{
	char sha[SHA256_HEX_LEN + 1], *base, *key = NULL;
	json_t *fp = json_object(), *deps = json_object();
	json_t *inputs = json_object();
	long long ids[64], id;
	size_t nids = 0, len;
	const char *p = k->deps, *dg;
	struct fresh_key_input in;
	int r;

	memcpy(sha, k->settings_sha, SHA256_HEX_LEN);
	sha[SHA256_HEX_LEN] = '\0';
	base = xstrndup(k->base, k->base_len);
	while ((r = fresh_key_next_dep(&p, &id, &dg, &len)) > 0) {
		char name[32];
		snprintf(name, sizeof(name), "%lld", id);
		/* a repeated id, or a digest no JSON string holds */
		if (nids == 64 || json_object_get(deps, name) ||
		    json_object_set_new(deps, name, json_stringn(dg, len)))
			goto out;
		ids[nids++] = id;
	}
	p = k->inputs;
	while (r == 0 && (r = fresh_key_next_input(&p, &in)) > 0) {
		char *path = xstrndup(in.path, in.len);
		json_t *e = json_pack("{sI sI sI sI}", "size",
				      (json_int_t)in.size, "mtime_ns",
				      (json_int_t)in.mtime_ns, "ctime_ns",
				      (json_int_t)in.ctime_ns, "ino",
				      (json_int_t)in.ino);
		int bad = json_object_get(inputs, path) != NULL;
		/* a repeated path, or one no JSON key holds (set_new frees e) */
		if (bad)
			json_decref(e);
		else
			bad = json_object_set_new(inputs, path, e) != 0;
		free(path);
		if (bad)
			goto out;
	}
	if (r)
		goto out;
	json_object_set(fp, "deps", deps);
	json_object_set(fp, "inputs", inputs);
	key = fresh_key_encode(sha, base, ids, nids, fp);
out:
	free(base);
	json_decref(fp);
	json_decref(deps);
	json_decref(inputs);
	return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1), *again;
	struct fresh_key k;

	memcpy(text, data, size);
	text[size] = '\0';
	if (!fresh_key_parse(text, &k)) {
		again = reencode(&k);
		/* the numbers decode leniently ("007"): compare re-decoded */
		if (again) {
			struct fresh_key k2;
			char *third;
			if (fresh_key_parse(again, &k2))
				abort();
			third = reencode(&k2);
			if (!third || strcmp(third, again))
				abort();
			free(third);
		}
		free(again);
	}
	free(text);
	return 0;
}
