#include "core/model.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

int task_status_valid(const char *status)
{
	static const char *const ok[] = { "active", "inactive", "disabled",
					  "running", NULL };
	int i;
	for (i = 0; ok[i]; i++)
		if (!strcmp(ok[i], status))
			return 1;
	return 0;
}

char *absolute_path(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char cwd[PATH_MAX];
	const char *p = path;

	if (path[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return xstrdup(path);
		/* in "/" the first segment adds the only slash needed */
		if (strcmp(cwd, "/"))
			strbuf_addstr(&sb, cwd);
	}
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n && !(n == 1 && p[0] == '.')) {
			if (n == 2 && !strncmp(p, "..", 2)) {
				char *last = strrchr(sb.buf, '/');
				strbuf_setlen(&sb,
					      last ? (size_t)(last - sb.buf)
						   : 0);
			} else {
				strbuf_addch(&sb, '/');
				strbuf_add(&sb, p, n);
			}
		}
		p += n + (slash ? 1 : 0);
	}
	if (!sb.len)
		strbuf_addch(&sb, '/');
	return strbuf_detach(&sb, NULL);
}

size_t candidate_role_len(const char *name)
{
	size_t n = strlen(name);
	if (n > 6 && !strcmp(name + n - 6, ".patch"))
		n -= 6;
	return n;
}
