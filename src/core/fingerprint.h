#ifndef CORE_FINGERPRINT_H
#define CORE_FINGERPRINT_H

#include <jansson.h>
#include <stddef.h>

/*
 * Fingerprints of a step's inputs and the no-change key, as pure data:
 * no store, no step types. The engine (engine/decide.c) builds a
 * fingerprint from a step; this file digests, compares, encodes and
 * decodes.
 *
 * A fingerprint (results.fingerprint) is
 *   {"settings": <settings digest>, "deps": {"<id>": <outputs digest>},
 *    "inputs": {"<path>": <hash.h stat cache entry>}}
 */

/*
 * The settings part of a fingerprint: SHA-256 hex of the settings
 * without the keys a step writes back into itself (hashes, triggers,
 * force, rerun, hash_last_run in each type's object). rubric_set uses
 * it to renumber a child without regrading it. Caller frees.
 */
char *fingerprint_settings_digest(const json_t *settings);

/* hash_outputs of results, as a new string */
char *fingerprint_outputs_digest(const json_t *results);

/* what changed between two fingerprints (owned), or NULL when nothing */
char *fingerprint_change(const json_t *old, const json_t *now);

/*
 * The no-change key (steps.fresh_key). Deciding freshness in full needs
 * every step's results (the last fingerprint) parsed, its settings and
 * its dependencies' results re-serialised for their digests, and each
 * input checked against the stat cache. The key says the same in a few
 * hundred bytes that are compared without parsing any JSON:
 *
 *   v1|<S>|<len>:<folder>|<dep>=<digest>,...|<len>:<input>\t<size>\t
 *   <mtime_ns>\t<ctime_ns>\t<ino>\n...
 *
 * S is the SHA-256 of the step's settings text as stored, folder the
 * task's local_path the inputs were resolved in, each dependency's
 * digest the one the fingerprint holds (hash_outputs, what its
 * steps.output_digest holds while its results stay), and each input
 * the stat the fingerprint took (relative inputs are resolved in the
 * folder; a key needs one for them). Lengths make any path safe.
 *
 * Why a matching key means the full decision says fresh, and when the
 * engine writes it: engine/decide.c (fresh_key_make) and engine/fast.c.
 */
#define FRESH_KEY_VERSION "v1|"

/*
 * The key for fingerprint fp, computed from the settings whose stored
 * text hashes to settings_sha, with the dependencies deps[0..ndeps) (in
 * depends_on order) and inputs resolved in base. NULL when there can be
 * none: no fingerprint, a malformed settings_sha, a dependency digest
 * missing or holding ',' or '|', an input without its stat, or a
 * relative input with no folder. Caller frees.
 */
char *fresh_key_encode(const char *settings_sha, const char *base,
		       const long long *deps, size_t ndeps, const json_t *fp);

/* A key split into its parts; pointers into the key, which must stay. */
struct fresh_key {
	const char *settings_sha; /* SHA256_HEX_LEN characters */
	const char *base;         /* base_len bytes, not NUL-terminated */
	size_t base_len;
	const char *deps;   /* for fresh_key_next_dep */
	const char *inputs; /* for fresh_key_next_input */
};

/* 0, or -1 when key (may be NULL) is not a key of this version */
int fresh_key_parse(const char *key, struct fresh_key *k);

/*
 * The next dependency at *p (start at k->deps): 1 with its id and
 * digest[0..*len), *p moved past it; 0 at the end of the list; -1 when
 * malformed.
 */
int fresh_key_next_dep(const char **p, long long *id, const char **digest,
		       size_t *len);

struct fresh_key_input {
	const char *path; /* len bytes, not NUL-terminated */
	size_t len;
	long long size, mtime_ns, ctime_ns, ino;
};

/*
 * The next input at *p (start at k->inputs): 1 with it, *p moved past
 * it; 0 at the end of the key; -1 when malformed.
 */
int fresh_key_next_input(const char **p, struct fresh_key_input *in);

#endif
