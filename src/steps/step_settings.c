/* the checks of a step's new settings (step_settings.h) */
#include "steps/step_settings.h"

#include <stdlib.h>

#include "core/deps.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/registry.h"
#include "steps/settings_check.h"

int step_settings_check(const json_t *settings, struct strbuf *err)
{
	const char *type;
	long long *ids = NULL;
	size_t nr;
	int ret = step_type_of(settings, &type, err);

	if (!ret)
		ret = settings_check(settings, type, err);
	if (!ret)
		ret = step_depends_on(settings, &ids, &nr, err);
	free(ids);
	return ret;
}

int step_settings_new_deps(struct store *st, long long self,
			   const json_t *before, const json_t *settings,
			   struct strbuf *err)
{
	long long *old = NULL, *ids = NULL;
	size_t nold = 0, nr = 0, i, j;
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	/* stored malformed: every entry counts as new */
	if (before && step_depends_on(before, &old, &nold, NULL))
		nold = 0;
	if (step_depends_on(settings, &ids, &nr, &why)) {
		strbuf_addf(err, "depends_on: %s", why.buf);
		ret = TS_EUSAGE;
		nr = 0;
	}
	for (i = 0; i < nr && !ret; i++) {
		struct step d = { 0 };
		for (j = 0; j < nold && old[j] != ids[i]; j++)
			;
		if (j < nold)
			continue;
		if (ids[i] == self) {
			strbuf_addf(err,
				    "depends_on: step %lld cannot depend "
				    "on itself",
				    self);
			ret = TS_EUSAGE;
			break;
		}
		ret = store_step_find(st, ids[i], &d);
		step_release(&d);
		if (ret == TS_ENOTFOUND)
			strbuf_addf(err, "depends_on: step %lld does not exist",
				    ids[i]);
	}
	strbuf_release(&why);
	free(old);
	free(ids);
	return ret;
}
