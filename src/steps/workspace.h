#ifndef STEPS_WORKSPACE_H
#define STEPS_WORKSPACE_H

#include <jansson.h>
#include <sys/types.h>

#include "os/strvec.h"
#include "steps/settings_check.h"

struct strbuf;

/*
 * Per-candidate workspaces on the host, shared by docker_extract_volume
 * (fills them) and docker_volume_pool (mounts them), spec §7.7-7.8:
 * LP/original for the role "original", LP/volume_<role> for the others
 * (golden, solution1..4).
 */

/*
 * The roles (docker_pool's too): conf.roles when it lists some
 * (empty names skipped), else pool_size (default 6, at least 1) as
 * original, golden, solution1..pool_size-2.
 */
void workspace_roles(const json_t *conf, struct strvec *roles);
/* the settings keys workspace_roles reads, for a type's key table */
#define WORKSPACE_ROLE_KEYS                \
	{ "roles", SK_ARRAY, SK_STRING },  \
	{                                  \
		"pool_size", SK_INTEGER, 0 \
	}
/* the host folder of a role under base; owned */
char *workspace_dir(const char *base, const char *role);

/*
 * Make dir exist and be empty (its contents removed, the folder itself
 * kept, so bind mounts of it stay valid). These three print nothing:
 * 0, or -1 with the reason appended to err.
 */
int workspace_empty_dir(const char *dir, struct strbuf *err);
/* copy the contents of src into dir (cp -a); 0 or -1 */
int workspace_copy(const char *src, const char *dir, struct strbuf *err);
/*
 * Give dir and everything below it to uid:gid (only when task-sync runs
 * as root and they differ from root). 0 or -1.
 */
int workspace_chown(const char *dir, uid_t uid, gid_t gid, struct strbuf *err);

#endif
