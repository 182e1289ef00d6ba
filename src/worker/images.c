/* The image IDs on this machine's Docker engine (images.h). */
#include "worker/images.h"
#include "os/docker.h"
#include "os/proc.h"
#include "os/strbuf.h"

#include <string.h>

/* an image ID as docker prints it: sha256 and hex, nothing to quote */
static int plain_id(const char *s, size_t n)
{
	size_t i;

	if (n < 8 || strncmp(s, "sha256:", 7))
		return 0;
	for (i = 7; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

char *worker_images(void)
{
	struct proc p = PROC_INIT;
	struct strbuf sb = STRBUF_INIT;
	const char *s, *end;
	int n = 0;

	docker_proc_init(&p);
	strvec_pushl(&p.argv, "images", "-q", "--no-trunc", NULL);
	p.timeout_ms = DOCKER_QUICK_MS;
	p.capture_cap = 4 * 1024 * 1024;
	/* not docker_call: it would print why docker cannot tell */
	if (proc_run(&p) < 0 || p.exit_code || p.timed_out) {
		proc_release(&p);
		return NULL;
	}
	strbuf_addch(&sb, '{');
	for (s = p.out.buf; *s; s = *end ? end + 1 : end) {
		end = s + strcspn(s, "\n");
		if (!plain_id(s, (size_t)(end - s)))
			continue;
		if (n++)
			strbuf_addch(&sb, ',');
		strbuf_add(&sb, s, (size_t)(end - s));
	}
	strbuf_addch(&sb, '}');
	proc_release(&p);
	return strbuf_detach(&sb, NULL);
}
