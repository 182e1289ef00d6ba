/* libpq, loaded at the first PostgreSQL connection (pq.h). */
#include "store/pq.h"
#include "os/error.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define PQ_DEFINE(f) __typeof__(f) *pq_##f;
PQ_FUNCTIONS(PQ_DEFINE)
#undef PQ_DEFINE

#define PQ_SONAME "libpq.so.5"

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
	void *lib = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		const char *why = dlerror();
		snprintf(load_error, sizeof(load_error), "%s",
			 why ? why : PQ_SONAME);
		return;
	}
#define PQ_RESOLVE(f)                              \
	if (resolve(lib, #f, (void *)&pq_##f) < 0) \
		return;
	PQ_FUNCTIONS(PQ_RESOLVE)
#undef PQ_RESOLVE
	load_status = 0;
}

int pq_load(void)
{
	pthread_once(&once, load);
	if (load_status < 0)
		error("cannot load the PostgreSQL client library (%s, Debian "
		      "package libpq5): %s",
		      PQ_SONAME, load_error);
	return load_status;
}
