/* libmicrohttpd, loaded when serve starts (mhd.h). */
#include "serve/mhd.h"
#include "os/error.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MHD_DEFINE(f) __typeof__(f) *mhd_##f;
MHD_FUNCTIONS(MHD_DEFINE)
#undef MHD_DEFINE

#define MHD_SONAME "libmicrohttpd.so.12"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

/* dlsym's void * into a function pointer, as POSIX allows */
static int resolve(void *lib, const char *name, void *slot)
{
	void *sym = dlsym(lib, name);

	if (!sym) {
		const char *why = dlerror();
		snprintf(load_error, sizeof(load_error), "%s",
			 why ? why : name);
		return -1;
	}
	memcpy(slot, &sym, sizeof(sym));
	return 0;
}

static void load(void)
{
	/* never closed: the pointers stay valid until the process ends */
	void *lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		const char *why = dlerror();
		snprintf(load_error, sizeof(load_error), "%s",
			 why ? why : MHD_SONAME);
		return;
	}
#define MHD_RESOLVE(f)                              \
	if (resolve(lib, #f, (void *)&mhd_##f) < 0) \
		return;
	MHD_FUNCTIONS(MHD_RESOLVE)
#undef MHD_RESOLVE
	load_status = 0;
}

int mhd_load(void)
{
	pthread_once(&once, load);
	if (load_status < 0)
		error("cannot load the HTTP server library (%s, Debian "
		      "package libmicrohttpd12): %s",
		      MHD_SONAME, load_error);
	return load_status;
}
