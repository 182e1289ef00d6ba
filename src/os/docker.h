#ifndef OS_DOCKER_H
#define OS_DOCKER_H

#include <jansson.h>

#include "os/proc.h"
#include "os/strbuf.h"
#include "os/strvec.h"

/*
 * Every `docker` invocation goes through here: argv arrays, never a
 * shell string, and a bounded timeout, so a hung or absent daemon is a
 * clear error ("docker daemon not reachable: ..."), never a hang.
 * The binary is $TASK_SYNC_DOCKER, else "docker" from PATH.
 *
 * Labels: everything task-sync creates carries task-sync.db=<database
 * identity>, task-sync.task=<id> and task-sync.step=<id>
 * (docker_labels()); steps/owner.h decides from them whose a container
 * is.
 */

#define DOCKER_LABEL_DB "task-sync.db"
#define DOCKER_LABEL_TASK "task-sync.task"
#define DOCKER_LABEL_STEP "task-sync.step"
#define DOCKER_LABEL_ROLE "task-sync.role"

/*
 * The timeout for quick calls (inspect, ps, rm): 60 s, or
 * $TASK_SYNC_DOCKER_TIMEOUT_MS (tests use it to make a hung daemon fail
 * fast).
 */
#define DOCKER_QUICK_MS docker_quick_ms()
long docker_quick_ms(void);

/*
 * Run docker with args (not including "docker"). Returns the exit code
 * (0 = success) with the combined output in *out (may be NULL), or -1
 * after printing an error when docker could not be run, the daemon is
 * not reachable, or the call timed out.
 *
 * err (may be NULL; os/error.h) is reset, then gets the reason of a
 * failure, for a step's result: the message printed for -1 (none after
 * Ctrl-C), or the first line of the output of a non-zero exit. The
 * functions below that take err fill it the same way.
 */
int docker_call(const struct strvec *args, long timeout_ms, struct strbuf *out,
		struct strbuf *err);
/* the same with a fully set-up proc (for streaming, input, caps) */
int docker_call_proc(struct proc *p, long timeout_ms, struct strbuf *err);
/*
 * docker_call_proc for commands whose own run time is bounded (docker
 * exec of a user command): reaching timeout_ms is the command's
 * timeout, not a daemon failure. Returns p->exit_code (124 with
 * p->timed_out set at the deadline), or -1 when docker could not be
 * run or the daemon is not reachable.
 */
int docker_exec_proc(struct proc *p, long timeout_ms, struct strbuf *err);
/* start a proc whose argv is docker's */
void docker_proc_init(struct proc *p);
/*
 * docker_call for literal args:
 * docker_callv(&out, &err, ms, "inspect", x, NULL)
 */
int docker_callv(struct strbuf *out, struct strbuf *err, long timeout_ms, ...);

/*
 * append --label task-sync.db=DB --label task-sync.task=T
 * --label task-sync.step=S (db: the database's identity, store_identity)
 */
void docker_labels(struct strvec *args, const char *db, long long task_id,
		   long long step_id);

/*
 * Is there an image ref (a tag or ID)? A question (os/error.h): 1 yes,
 * with its ID (sha256:...) in *id, owned by the caller; 0 no such
 * image; -1 error.
 */
int docker_image_id(const char *ref, char **id, struct strbuf *err);

/*
 * The registry reference by digest ("repo@sha256:...") under which image
 * id was pulled from tag's repository (its RepoDigests): 1 with it in
 * *digest (owned), 0 when it has none for that repository, -1 error.
 */
int docker_repo_digest(const char *id, const char *tag, char **digest,
		       struct strbuf *err);

struct docker_container {
	char *id;
	char *name;  /* without the leading '/' */
	char *image; /* image ID it runs */
	int running;
	int exit_code;
	long long task_label, step_label; /* 0 when absent */
	char *db_label;                   /* task-sync.db, NULL when absent */
	char *role_label;
	json_t *labels; /* all labels (an object, owned) */
};

/*
 * Is there a container ref? A question (os/error.h): 1 yes (*c filled,
 * release it), 0 no such container, -1 error.
 */
int docker_inspect_container(const char *ref, struct docker_container *c,
			     struct strbuf *err);
/*
 * The same for n containers in one `docker container inspect`: c[i]
 * filled and found[i] = 1 for each refs[i] there is (release them), 0
 * for each there is not. 0, or -1 when docker failed (none filled).
 */
int docker_inspect_containers(const char *const *refs, size_t n,
			      struct docker_container *c, int *found,
			      struct strbuf *err);
void docker_container_release(struct docker_container *c);

/* a label's value, or NULL (borrowed from c) */
const char *docker_container_label(const struct docker_container *c,
				   const char *key);

/*
 * Wait up to ms for a container to stop; has it? A question
 * (os/error.h): 1 yes (*code gets its exit code), 0 still running
 * after ms, -1 error.
 */
int docker_wait_exit(const char *ref, long ms, int *code, struct strbuf *err);

/* docker rm -f REF; a missing container is fine. 0 or -1 */
int docker_remove(const char *ref, struct strbuf *err);

/*
 * Split docker parameters the way the original wrote them: each array
 * element is one argument, except that an element "--flag value" that
 * starts with '-' and contains a space is split once at the first
 * space (unless an '=' comes before it: "--flag=a b" stays whole).
 * DOCKER_IMAGETAG is replaced by tag when tag is set.
 */
void docker_add_params(struct strvec *args, const json_t *params,
		       const char *tag);

/* the image's placeholder in docker parameters */
#define DOCKER_IMAGETAG "%%IMAGETAG%%"
/* s with every DOCKER_IMAGETAG replaced by tag; the caller frees it */
char *docker_replace_imagetag(const char *s, const char *tag);

/* the last lines of a text, at most max bytes (for failure messages) */
char *text_tail(const char *s, size_t max);

#endif
