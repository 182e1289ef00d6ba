/* A shared library loaded on first use (os/dynlib.h). */
#include "os/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int failed(const char *what, char *why, size_t why_size)
{
	const char *e = dlerror();

	snprintf(why, why_size, "%s", e ? e : what);
	return -1;
}

int dynlib_open(const char *soname, const struct dynlib_sym *syms, size_t n,
		char *why, size_t why_size)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		return failed(soname, why, why_size);
	for (size_t i = 0; i < n; i++) {
		void *sym = dlsym(lib, syms[i].name);

		if (!sym)
			return failed(syms[i].name, why, why_size);
		/* dlsym's void * into a function pointer, as POSIX allows */
		memcpy(syms[i].slot, &sym, sizeof(sym));
	}
	return 0;
}
