/*
 * model_task_check: build the prompt an LLM grader gets (spec §7.9).
 *
 * Settings, paths relative to the task folder: model_prompt_sample
 * (the template), task_prompt, rubrics_json, held_out_tests,
 * generated_file (all required), task_explanation (optional; an input,
 * so a change re-runs the step, but never read), force (run even when
 * fresh).
 *
 * The template is expanded in one pass: every {YOUR_TASK_PROMPT} gets
 * the task prompt, every {YOUR_RUBRIC} the raw rubrics JSON and every
 * {held_out_test_patch} the held-out patch. Text coming from the files
 * is never scanned again, so a prompt that mentions a placeholder stays
 * as written. When inlining the patch would make the output longer than
 * PATCH_INLINE_LIMIT bytes, the block
 * <held_out_test_patch>{held_out_test_patch}</held_out_test_patch>
 * (or a bare placeholder) becomes ATTACHED_TEXT instead.
 *
 * generated_file is replaced atomically (a temporary file in the same
 * folder, fsync, rename), mode 0644, owned like the task folder. The
 * step's settings are never rewritten. Results: generated_file, bytes,
 * attached.
 */
#include "steps/step.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/error.h"
#include "os/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATCH_INLINE_LIMIT (250 * 1024)
#define ATTACHED_TEXT "held_out_test_patch is provided as an attached file"

#define PH_PROMPT "{YOUR_TASK_PROMPT}"
#define PH_RUBRIC "{YOUR_RUBRIC}"
#define PH_PATCH "{held_out_test_patch}"
#define PATCH_BLOCK "<held_out_test_patch>" PH_PATCH "</held_out_test_patch>"

/* the files read, in this order; generated_file is the product */
static const char *const read_keys[] = {
	"model_prompt_sample", "task_prompt", "rubrics_json",
	"held_out_tests",      NULL,
};

static const char *path_setting(const json_t *conf, const char *key)
{
	const char *v = json_str(conf, key);
	return v && *v ? v : NULL;
}

static int check_inputs(const json_t *conf, json_t *files, struct strbuf *err)
{
	const char *v;
	int i;

	for (i = 0; read_keys[i]; i++) {
		v = path_setting(conf, read_keys[i]);
		if (!v)
			return error_quiet(err,
					   "model_task_check.%s is not set",
					   read_keys[i]);
		json_array_append_new(files, json_string(v));
	}
	v = path_setting(conf, "task_explanation");
	if (v)
		json_array_append_new(files, json_string(v));
	return 0;
}

static int check_still_fresh(struct step_exec *x, struct strbuf *why)
{
	const char *gen = path_setting(x->conf, "generated_file");
	char *path;
	struct stat st;
	int ok;

	if (json_is_true(json_object_get(x->conf, "force"))) {
		strbuf_addstr(why, "force is set in its settings");
		return 0;
	}
	if (!gen) {
		strbuf_addstr(why,
			      "model_task_check.generated_file is not set");
		return 0;
	}
	path = hash_resolve_path(x->base, gen);
	ok = !stat(path, &st);
	if (!ok)
		strbuf_addf(why, "generated file '%s' no longer exists", gen);
	free(path);
	return ok;
}

struct subst {
	const char *from;
	const char *to;
	size_t to_len;
};

/*
 * Expand tmpl into out: at each position the first matching subs[]
 * pattern is replaced; replacements are not scanned again.
 */
static void expand(const struct strbuf *tmpl, const struct subst *subs,
		   size_t nsubs, struct strbuf *out)
{
	const char *p = tmpl->buf, *end = tmpl->buf + tmpl->len;

	while (p < end) {
		const char *brace = memchr(p, '{', (size_t)(end - p));
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *next = !brace       ? lt
				   : !lt        ? brace
				   : brace < lt ? brace
						: lt;
		size_t i;

		if (!next) {
			strbuf_add(out, p, (size_t)(end - p));
			break;
		}
		strbuf_add(out, p, (size_t)(next - p));
		p = next;
		for (i = 0; i < nsubs; i++) {
			size_t n = strlen(subs[i].from);
			if ((size_t)(end - p) >= n &&
			    !memcmp(p, subs[i].from, n)) {
				strbuf_add(out, subs[i].to, subs[i].to_len);
				p += n;
				break;
			}
		}
		if (i == nsubs)
			strbuf_addch(out, *p++);
	}
}

/* owner of the task folder, for the files the step writes */
static int folder_owner(const char *base, uid_t *uid, gid_t *gid)
{
	struct stat st;
	if (stat(base && *base ? base : ".", &st) < 0)
		return -1;
	*uid = st.st_uid;
	*gid = st.st_gid;
	return 0;
}

/*
 * Replace path with data: write a temporary file next to it, fsync,
 * rename. Returns 0, or -1 with the reason appended to err.
 */
static int write_atomic(const char *path, const char *data, size_t len,
			const char *base, struct strbuf *err)
{
	char *dir_copy = xstrdup(path), *name_copy = xstrdup(path);
	const char *dir = dirname(dir_copy), *name = basename(name_copy);
	char *tmp = xstrfmt("%s/.%s.tmp-XXXXXX", dir, name);
	size_t done = 0;
	uid_t uid;
	gid_t gid;
	int fd, dfd, ret = -1;

	fd = mkstemp(tmp);
	if (fd < 0) {
		strbuf_addf(err, "cannot create a temporary file in '%s': %s",
			    dir, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addf(err, "cannot write '%s': %s", tmp,
				    strerror(errno));
			goto fail;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0) {
		strbuf_addf(err, "cannot chmod '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	/* as root, the file goes to whoever owns the task folder */
	if (geteuid() == 0 && !folder_owner(base, &uid, &gid) && (uid || gid) &&
	    fchown(fd, uid, gid) < 0) {
		strbuf_addf(err, "cannot chown '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) < 0) {
		strbuf_addf(err, "cannot fsync '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		strbuf_addf(err, "cannot close '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		strbuf_addf(err, "cannot rename '%s' to '%s': %s", tmp, path,
			    strerror(errno));
		goto fail;
	}
	/* make the rename itself durable; failing here loses nothing */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ret = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dir_copy);
	free(name_copy);
	return ret;
}

static int check_run(struct step_exec *x)
{
	struct strbuf text[4] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
				  STRBUF_INIT };
	struct strbuf out = STRBUF_INIT;
	const char *gen = path_setting(x->conf, "generated_file");
	const char *expl = path_setting(x->conf, "task_explanation");
	json_t *files = json_array();
	struct strbuf err = STRBUF_INIT;
	char *path = NULL;
	int i, attached = 0;

	if (check_inputs(x->conf, files, &err)) {
		step_set_result(x, "failure", "%s", err.buf);
		goto out;
	}
	if (!gen) {
		step_set_result(x, "failure",
				"model_task_check.generated_file is not set");
		goto out;
	}
	for (i = 0; read_keys[i]; i++) {
		const char *rel = path_setting(x->conf, read_keys[i]);
		free(path);
		path = hash_resolve_path(x->base, rel);
		if (strbuf_read_file(&text[i], path) < 0) {
			step_set_result(x, "failure", "cannot read %s '%s': %s",
					read_keys[i], path, strerror(errno));
			goto out;
		}
	}
	if (expl) {
		struct stat st;
		free(path);
		path = hash_resolve_path(x->base, expl);
		if (stat(path, &st) < 0) {
			step_set_result(x, "failure",
					"cannot read task_explanation '%s': %s",
					path, strerror(errno));
			goto out;
		}
	}

	{
		struct subst inline_subs[] = {
			{ PH_PROMPT, text[1].buf, text[1].len },
			{ PH_RUBRIC, text[2].buf, text[2].len },
			{ PH_PATCH, text[3].buf, text[3].len },
		};
		struct subst attach_subs[] = {
			{ PH_PROMPT, text[1].buf, text[1].len },
			{ PH_RUBRIC, text[2].buf, text[2].len },
			{ PATCH_BLOCK, ATTACHED_TEXT, strlen(ATTACHED_TEXT) },
			{ PH_PATCH, ATTACHED_TEXT, strlen(ATTACHED_TEXT) },
		};
		expand(&text[0], inline_subs, 3, &out);
		if (out.len > PATCH_INLINE_LIMIT) {
			strbuf_reset(&out);
			expand(&text[0], attach_subs, 4, &out);
			attached = 1;
		}
	}

	free(path);
	path = hash_resolve_path(x->base, gen);
	if (write_atomic(path, out.buf, out.len, x->base, &err)) {
		step_set_result(x, "failure", "cannot write generated_file: %s",
				err.buf);
		goto out;
	}
	step_set_result(x, "success", "wrote %s (%zu bytes, held-out patch %s)",
			gen, out.len, attached ? "attached" : "inlined");
	json_object_set_new(x->results, "generated_file", json_string(gen));
	json_object_set_new(x->results, "bytes",
			    json_integer((json_int_t)out.len));
	json_object_set_new(x->results, "attached", json_boolean(attached));
out:
	for (i = 0; i < 4; i++)
		strbuf_release(&text[i]);
	strbuf_release(&out);
	json_decref(files);
	free(path);
	strbuf_release(&err);
	return 0;
}

const struct step_type step_model_task_check = {
	.name = "model_task_check",
	.run = check_run,
	.inputs = check_inputs,
	.still_fresh = check_still_fresh,
};
