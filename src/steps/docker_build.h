#ifndef STEPS_DOCKER_BUILD_H
#define STEPS_DOCKER_BUILD_H

#include "os/proc.h"
#include "os/strbuf.h"

#include <jansson.h>

/*
 * The `docker build` a docker_build step with settings conf runs in the
 * task folder base: its arguments pushed on p (after docker_proc_init),
 * tagged tag, labelled for db, task_id and step_id, writing the image ID
 * to the file iid. 0, or -1 with why (the context is not a directory).
 * The step itself and a worker that lacks the step's image
 * (steps/image_fetch.h) build the same way.
 */
int docker_build_command(struct proc *p, const json_t *conf, const char *base,
			 const char *tag, const char *db, long long task_id,
			 long long step_id, const char *iid,
			 struct strbuf *why);

#endif
