#ifndef STEPS_REGISTRY_H
#define STEPS_REGISTRY_H

#include <jansson.h>

struct strbuf;

/*
 * The step types task-sync knows. A step's type is the one top-level
 * key of its settings that names a known type; depends_on may also sit
 * at the top level.
 */

/* whether name is a step type (steps/step.h: step_type_find) */
int step_type_known(const char *name);
/* "file_exists, docker_pull, ..." (static storage) */
const char *step_type_list(void);
/*
 * Find the type of settings. Returns 0 and sets *type (borrowed from
 * the registry), or -1 with why appended to err (NULL: not wanted;
 * nothing is printed):
 * not an object, no known type key, two type keys, a type value of the
 * wrong JSON kind.
 */
int step_type_of(const json_t *settings, const char **type, struct strbuf *err);
/* the type's object (borrowed), or NULL when the value is not one */
json_t *step_type_object(json_t *settings, const char *type);

#endif
