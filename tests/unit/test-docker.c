/*
 * Unit tests for the pure parts of os/docker: how docker parameters are
 * split into arguments and how the image placeholder is replaced.
 */
#include "tap.h"
#include "os/docker.h"
#include "os/strbuf.h"
#include "os/strvec.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* the arguments joined with '|', for one comparison */
static char *joined(const struct strvec *sv)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	for (i = 0; i < sv->nr; i++)
		strbuf_addf(&sb, "%s%s", i ? "|" : "", sv->v[i]);
	return strbuf_detach(&sb, NULL);
}

static void test_replace_imagetag(void)
{
	char *s;

	s = docker_replace_imagetag("%%IMAGETAG%%", "img:1");
	is_str(s, "img:1", "the placeholder alone becomes the tag");
	free(s);
	s = docker_replace_imagetag("a=%%IMAGETAG%%,b=%%IMAGETAG%%.", "t");
	is_str(s, "a=t,b=t.", "every placeholder is replaced");
	free(s);
	s = docker_replace_imagetag("no placeholder", "t");
	is_str(s, "no placeholder", "a string without one is unchanged");
	free(s);
	s = docker_replace_imagetag("%%IMAGETAG", "t");
	is_str(s, "%%IMAGETAG", "half a placeholder is kept");
	free(s);
}

static void check_params(const char *json, const char *tag, const char *want)
{
	struct strvec args = STRVEC_INIT;
	json_t *params = json_loads(json, JSON_DECODE_ANY, NULL);
	struct strbuf name = STRBUF_INIT;
	char *got;

	docker_add_params(&args, params, tag);
	got = joined(&args);
	strbuf_addf(&name, "params %s with tag %s", json, tag ? tag : "unset");
	is_str(got, want, name.buf);
	free(got);
	strbuf_release(&name);
	strvec_clear(&args);
	json_decref(params);
}

static void test_add_params(void)
{
	check_params("[\"-e K=V\", \"--rm\"]", NULL, "-e|K=V|--rm");
	check_params("[\"--flag=a b\"]", NULL, "--flag=a b");
	check_params("[\"not-a-flag x\"]", NULL, "not-a-flag x");
	check_params("[\"--label x=%%IMAGETAG%%\"]", "img:2",
		     "--label|x=img:2");
	check_params("[\"%%IMAGETAG%%\", \"sh\"]", NULL, "%%IMAGETAG%%|sh");
	check_params("\"--one-string\"", "t", "--one-string");
	check_params("[1, \"-v a:b\"]", NULL, "-v|a:b");
}

int main(void)
{
	test_replace_imagetag();
	test_add_params();
	return tap_done();
}
