/* libmicrohttpd, loaded when serve starts (mhd.h). */
#include "serve/mhd.h"
#include "os/dynlib.h"
#include "os/error.h"

#include <pthread.h>

#define MHD_DEFINE(f) __typeof__(f) *mhd_##f;
MHD_FUNCTIONS(MHD_DEFINE)
#undef MHD_DEFINE

#define MHD_SONAME "libmicrohttpd.so.12"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

#define MHD_SYM(f) { #f, (void *)&mhd_##f },
static const struct dynlib_sym syms[] = { MHD_FUNCTIONS(MHD_SYM) };
#undef MHD_SYM

static void load(void)
{
	load_status = dynlib_open(MHD_SONAME, syms,
				  sizeof(syms) / sizeof(*syms), load_error,
				  sizeof(load_error));
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
