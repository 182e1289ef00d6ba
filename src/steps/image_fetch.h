#ifndef STEPS_IMAGE_FETCH_H
#define STEPS_IMAGE_FETCH_H

#include "steps/step.h"

/*
 * Images by digest (docs/workers.md): make sure image_id, an image ID
 * the task recorded (its pool's containers_map), is on this machine's
 * Docker engine before a worker grades on it. When it is missing:
 * (a) pull the "repo@sha256:..." a docker_pull step of the task
 * recorded with that image ID (results.repo_digest); else (b) build
 * the task's docker_build step that recorded it, when its context is a
 * folder here (steps/docker_build.h). Either way the image must then
 * have exactly image_id. Prints what it does on x->out.
 * 0: the image is here; -1 with one line in why naming the image and
 * what was tried (never another image's ID accepted).
 * Thread-safe: one fetch at a time per process.
 */
int step_image_fetch(struct step_exec *x, const char *image_id,
		     struct strbuf *why);

#endif
