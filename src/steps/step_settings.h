#ifndef STEPS_STEP_SETTINGS_H
#define STEPS_STEP_SETTINGS_H

#include <jansson.h>

#include "store/store.h"

struct strbuf;

/*
 * The checks of a step's new settings that `step create`, `step edit`
 * and serve's PUT share; nothing is printed: the reason is appended to
 * err, which the caller reports.
 */

/*
 * Settings a step can have: exactly one step type, its keys of the
 * kinds the type declares (steps/settings_check.h), and a depends_on
 * the engine can read (else it would run the step as if it had none).
 * Returns 0, or -1 with the reason in err.
 */
int step_settings_check(const json_t *settings, struct strbuf *err);

/*
 * The dependencies settings add to step self (0: a new step) over
 * before (NULL: none) name other steps that exist. Returns 0;
 * TS_EUSAGE (malformed, or self) or TS_ENOTFOUND with the reason in err
 * ("depends_on: step 7 does not exist"); TS_EFAIL after a database
 * error (reported by the store).
 */
int step_settings_new_deps(struct store *st, long long self,
			   const json_t *before, const json_t *settings,
			   struct strbuf *err);

#endif
