/* per-candidate host folders: naming, emptying, copying, ownership */
#include "steps/workspace.h"
#include "os/proc.h"
#include "os/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_TIMEOUT_MS (30L * 60 * 1000)

void workspace_roles(const json_t *conf, struct strvec *roles)
{
	const json_t *r = json_object_get(conf, "roles");
	const json_t *ps = json_object_get(conf, "pool_size");
	long long n = 6, i;
	size_t k;
	json_t *v;

	if (json_is_array(r) && json_array_size(r)) {
		json_array_foreach(r, k, v) if (json_is_string(v) &&
						*json_string_value(v))
			strvec_push(roles, json_string_value(v));
		if (roles->nr)
			return;
	}
	/* a pool_size below 1 is the nearest it can be: original alone */
	if (json_is_integer(ps))
		n = json_integer_value(ps) < 1 ? 1 : json_integer_value(ps);
	strvec_push(roles, "original");
	if (n >= 2)
		strvec_push(roles, "golden");
	for (i = 1; i <= n - 2; i++)
		strvec_pushf(roles, "solution%lld", i);
}

char *workspace_dir(const char *base, const char *role)
{
	size_t n = strlen(base);
	while (n > 1 && base[n - 1] == '/')
		n--;
	if (!strcmp(role, "original"))
		return xstrfmt("%.*s/original", (int)n, base);
	return xstrfmt("%.*s/volume_%s", (int)n, base, role);
}

/* run argv; 0, or -1 with what failed and its output appended to err */
static int run_tool(struct proc *p, const char *what, struct strbuf *err)
{
	int ret = 0;
	p->timeout_ms = FS_TIMEOUT_MS;
	p->capture_cap = 8 * 1024;
	if (proc_run(p) < 0 || p->exit_code) {
		strbuf_trim(&p->out);
		strbuf_addf(err, "%s failed (exit %d)%s%s", what, p->exit_code,
			    p->out.len ? ": " : "", p->out.buf);
		ret = -1;
	}
	proc_release(p);
	return ret;
}

int workspace_empty_dir(const char *dir, struct strbuf *err)
{
	struct proc p = PROC_INIT;
	struct stat st;
	char *what;
	int ret;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create '%s': %s", dir,
			    strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		strbuf_addf(err, "'%s' is not a directory", dir);
		return -1;
	}
	strvec_pushl(&p.argv, "find", dir, "-mindepth", "1", "-delete", NULL);
	what = xstrfmt("emptying '%s'", dir);
	ret = run_tool(&p, what, err);
	free(what);
	return ret;
}

int workspace_copy(const char *src, const char *dir, struct strbuf *err)
{
	struct proc p = PROC_INIT;
	char *from = xstrfmt("%s/.", src), *what;
	int ret;

	strvec_pushl(&p.argv, "cp", "-a", "--", from, dir, NULL);
	what = xstrfmt("copying '%s' to '%s'", src, dir);
	ret = run_tool(&p, what, err);
	free(what);
	free(from);
	return ret;
}

int workspace_chown(const char *dir, uid_t uid, gid_t gid, struct strbuf *err)
{
	struct proc p = PROC_INIT;
	char *what;
	int ret;

	if (geteuid() != 0 || (uid == 0 && gid == 0))
		return 0;
	strvec_pushl(&p.argv, "chown", "-R", "--no-dereference", NULL);
	strvec_pushf(&p.argv, "%lu:%lu", (unsigned long)uid,
		     (unsigned long)gid);
	strvec_pushl(&p.argv, "--", dir, NULL);
	what = xstrfmt("chown of '%s'", dir);
	ret = run_tool(&p, what, err);
	free(what);
	return ret;
}
