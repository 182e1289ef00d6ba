#ifndef STEPS_WORKER_BOX_H
#define STEPS_WORKER_BOX_H

#include "steps/step.h"

/*
 * A worker's own grading container (docs/workers.md): a worker grades a
 * candidate in a container of its own on its Docker engine, made from
 * the image the task's pool recorded for the candidate's role (by ID),
 * named task_<task>_worker_<worker>_<role>_<db short> and labelled with
 * the database, the task, the step that made it, the role and the worker
 * (task-sync.worker), so two workers on one engine never share one.
 * Kept between items (gc removes it); recreated when its image changed,
 * started when stopped.
 */
#define DOCKER_LABEL_WORKER "task-sync.worker"

/*
 * The container for candidate key (solution1.patch, golden, original)
 * of worker, from image_id with app as its working folder: its ID in
 * *id and its name in *box (owned). 0, or -1 with what failed appended
 * to why (not printed).
 * Thread-safe: on success the box is held by the caller (one item of a
 * worker's slots at a time, as one run grades a container's items one
 * after the other, so no slot ever execs into a box another one is
 * restarting) until worker_box_release(*box).
 */
int worker_box(struct step_exec *x, const char *db, const char *worker,
	       const char *key, const char *image_id, const char *app,
	       char **id, char **box, struct strbuf *why);
void worker_box_release(const char *box);

#endif
