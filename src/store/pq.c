/* libpq, loaded at the first PostgreSQL connection (pq.h). */
#include "store/pq.h"
#include "os/dynlib.h"
#include "os/error.h"

#include <pthread.h>

#define PQ_DEFINE(f) __typeof__(f) *pq_##f;
PQ_FUNCTIONS(PQ_DEFINE)
#undef PQ_DEFINE

#define PQ_SONAME "libpq.so.5"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

#define PQ_SYM(f) { #f, (void *)&pq_##f },
static const struct dynlib_sym syms[] = { PQ_FUNCTIONS(PQ_SYM) };
#undef PQ_SYM

static void load(void)
{
	load_status = dynlib_open(PQ_SONAME, syms, sizeof(syms) / sizeof(*syms),
				  load_error, sizeof(load_error));
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
