#ifndef CORE_MODEL_H
#define CORE_MODEL_H

/* Rules about tasks and steps that do not depend on storage. */

#include <stddef.h>

#define TASK_STATUSES "active|inactive|disabled|running"
#define TASK_DEFAULT_STATUS "active"

int task_status_valid(const char *status);
/*
 * Make a user-given path absolute against the current directory,
 * dropping "." segments and a trailing slash. Owned by the caller.
 */
char *absolute_path(const char *path);

/*
 * The length of a candidate's name without a ".patch" ending: its role
 * in containers_map, so "solution1.patch" and "solution1" are the same
 * candidate (".patch" alone keeps its length).
 */
size_t candidate_role_len(const char *name);

#endif
