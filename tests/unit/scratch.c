#include "scratch.h"
#include "os/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

char *scratch_home(const char *name)
{
	static const char *const unset[] = {
		"DATABASE_URL",    "DB_HOST",     "DB_NAME",
		"PASS_MARKER",     "FAIL_MARKER", "TIMEOUT_MARKER",
		"TIMEOUT_SECONDS", NULL
	};
	char *dir = xstrfmt("/tmp/%s.XXXXXX", name), *home;
	int i;

	if (!mkdtemp(dir) || chdir(dir)) {
		free(dir);
		return NULL;
	}
	home = xstrfmt("%s/home", dir);
	setenv("HOME", home, 1);
	setenv("XDG_DATA_HOME", dir, 1);
	setenv("XDG_CONFIG_HOME", dir, 1);
	for (i = 0; unset[i]; i++)
		unsetenv(unset[i]);
	free(home);
	return dir;
}

void scratch_remove(char *dir)
{
	char *cmd;
	if (!dir)
		return;
	cmd = xstrfmt("rm -rf '%s'", dir);
	if (chdir("/") || system(cmd))
		fprintf(stderr, "# could not remove %s\n", dir);
	free(cmd);
	free(dir);
}
