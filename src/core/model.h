#ifndef CORE_MODEL_H
#define CORE_MODEL_H

/* Rules about tasks and steps that do not depend on storage. */

#define TASK_STATUSES "active|inactive|disabled|running"
#define TASK_DEFAULT_STATUS "active"

int task_status_valid(const char *status);
/*
 * Make a user-given path absolute against the current directory,
 * dropping "." segments and a trailing slash. Owned by the caller.
 */
char *absolute_path(const char *path);

#endif
