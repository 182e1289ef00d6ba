/*
 * Unit tests for the pure parts of os/docker: how docker parameters are
 * split into arguments and how the image placeholder is replaced; and
 * the caller's err of a failed call, with sh standing in for docker
 * ($TASK_SYNC_DOCKER).
 */
#include "tap.h"
#include "os/docker.h"
#include "os/strbuf.h"
#include "os/strvec.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * "sh -c script" as the docker binary; returns its result, with what
 * was printed on stderr in *printed and the caller's err in *err
 */
static int call_sh(const char *script, struct strbuf *err,
		   struct strbuf *printed)
{
	struct strbuf out = STRBUF_INIT;
	FILE *tmp = tmpfile();
	int saved = dup(2), ret;

	strbuf_reset(printed);
	strbuf_addstr(err, "stale");
	fflush(stderr);
	dup2(fileno(tmp), 2);
	ret = docker_callv(&out, err, 5000, "-c", script, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	for (int c; (c = getc(tmp)) != EOF;)
		strbuf_addch(printed, c);
	fclose(tmp);
	strbuf_release(&out);
	return ret;
}

static void test_err(void)
{
	struct strbuf err = STRBUF_INIT, printed = STRBUF_INIT;
	struct strbuf want = STRBUF_INIT;
	char *id = NULL;

	setenv("TASK_SYNC_DOCKER", "sh", 1);
	ok(call_sh("echo 'Error: boom'; echo two; exit 3", &err, &printed) == 3,
	   "err: a failed call returns its code");
	is_str(err.buf, "Error: boom", "err: the output's first line");
	is_str(printed.buf, "", "err: a non-zero exit is not printed");

	ok(call_sh("exit 0", &err, &printed) == 0 && !err.len,
	   "err: reset by a call that succeeds");

	ok(call_sh("echo 'Cannot connect to the Docker daemon at x'; exit 1",
		   &err, &printed) == -1,
	   "err: a dead daemon is -1");
	is_str(err.buf,
	       "docker daemon not reachable: Cannot connect to the "
	       "Docker daemon at x",
	       "err: the daemon's message");
	strbuf_addf(&want, "error: %s\n", err.buf);
	is_str(printed.buf, want.buf, "err: ... printed once, the same");

	/* an inspect prints [] on stdout before its error on stderr */
	ok(call_sh("echo '[]'; echo 'Cannot connect to the Docker daemon at "
		   "unix:///x.sock. Is the docker daemon running?' >&2; exit 1",
		   &err, &printed) == -1,
	   "err: a dead daemon after [] is -1");
	is_str(err.buf,
	       "docker daemon not reachable: Cannot connect to the Docker "
	       "daemon at unix:///x.sock. Is the docker daemon running?",
	       "err: ... and its message is the daemon's line, not []");
	ok(call_sh("echo; echo '[]'; echo 'Error: No such image: x' >&2; "
		   "exit 1",
		   &err, &printed) == 1,
	   "err: a failed inspect returns its code");
	is_str(err.buf, "Error: No such image: x",
	       "err: ... and its first line that says something");

	setenv("TASK_SYNC_DOCKER", "/nonexistent/docker", 1);
	ok(call_sh("true", &err, &printed) == -1 &&
		   !strcmp(err.buf, "docker not available: cannot run "
				    "'/nonexistent/docker'"),
	   "err: no docker binary");
	ok(docker_image_id("img", &id, NULL) == -1 && !id,
	   "err: NULL err still fails (and prints)");
	unsetenv("TASK_SYNC_DOCKER");
	strbuf_release(&err);
	strbuf_release(&printed);
	strbuf_release(&want);
}

/* $TASK_SYNC_DOCKER: a script of our own printing out, exiting with code */
static char *fake_docker(const char *out, int code)
{
	char *path = strdup("/tmp/test-docker.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!f)
		return path;
	fprintf(f, "#!/bin/sh\ncat <<'EOF'\n%sEOF\nexit %d\n", out, code);
	fclose(f);
	chmod(path, 0700);
	setenv("TASK_SYNC_DOCKER", path, 1);
	return path;
}

static void test_inspect_many(void)
{
	const char *refs[] = { "ccc", "b", "a" };
	struct docker_container c[3], one;
	struct strbuf err = STRBUF_INIT;
	int found[3] = { 7, 7, 7 };
	char *path;

	path = fake_docker(
		"{\"Id\":\"aaa111\",\"Name\":\"/a\",\"Image\":\"sha256:i1\","
		"\"State\":{\"Running\":true},\"Config\":{\"Labels\":"
		"{\"task-sync.task\":\"7\",\"task-sync.db\":\"d\"}}}\n"
		"Error: No such container: b\n"
		"{\"Id\":\"ccc333\",\"Name\":\"/c\",\"Image\":\"sha256:i3\","
		"\"State\":{\"Running\":false,\"ExitCode\":3},"
		"\"Config\":{\"Labels\":null}}\n",
		1);
	ok(docker_inspect_containers(refs, 3, c, found, &err) == 0,
	   "inspect many: a missing one is no failure");
	ok(found[0] == 1 && found[1] == 0 && found[2] == 1,
	   "inspect many: found by ID prefix and by name, in any order");
	is_str(c[0].name, "c", "inspect many: c[i] is refs[i]'s");
	ok(!c[0].running && c[0].exit_code == 3 && !c[0].db_label,
	   "inspect many: state, no labels");
	ok(c[2].running && c[2].task_label == 7 &&
		   !strcmp(c[2].db_label, "d") &&
		   !strcmp(c[2].image, "sha256:i1"),
	   "inspect many: image and labels");
	docker_container_release(&c[0]);
	docker_container_release(&c[2]);
	ok(docker_inspect_container("b", &one, NULL) == 0,
	   "inspect one: no such container is 0");
	unlink(path);
	free(path);

	path = fake_docker("{\"Id\":\"aaa111\",\"Name\":\"/a\"}\n"
			   "Error: permission denied\n",
			   1);
	ok(docker_inspect_containers(refs, 3, c, found, &err) == -1 &&
		   !found[0] && !found[1] && !found[2],
	   "inspect many: any other error fails, nothing filled");
	is_str(err.buf,
	       "docker inspect 'ccc' and others: Error: permission denied",
	       "inspect many: err names the call and the line");
	unlink(path);
	free(path);

	path = fake_docker("{\"Id\":\"ab12\",\"Name\":\"/foo\"}\n"
			   "{\"Id\":\"cd34\",\"Name\":\"/ab\"}\n",
			   0);
	refs[0] = "ab";
	refs[1] = "foo";
	ok(docker_inspect_containers(refs, 2, c, found, &err) == 0 &&
		   found[0] && found[1] && !strcmp(c[0].id, "cd34") &&
		   !strcmp(c[1].id, "ab12"),
	   "inspect many: a name beats a prefix of another's ID");
	docker_container_release(&c[0]);
	docker_container_release(&c[1]);
	unlink(path);
	free(path);
	refs[0] = "ccc";
	refs[1] = "b";

	path = fake_docker("", 1);
	ok(docker_inspect_containers(refs, 3, c, found, &err) == -1,
	   "inspect many: a failure with no line at all fails");
	is_str(err.buf, "docker inspect 'ccc' and others: failed",
	       "inspect many: ... and says so");
	unlink(path);
	free(path);
	unsetenv("TASK_SYNC_DOCKER");
	strbuf_release(&err);
}

int main(void)
{
	test_replace_imagetag();
	test_add_params();
	test_err();
	test_inspect_many();
	return tap_done();
}
