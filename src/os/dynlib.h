/*
 * A shared library loaded with dlopen on first use, so that commands that
 * do not need it never load it (store/pq for libpq, serve/mhd for
 * libmicrohttpd).
 */
#ifndef OS_DYNLIB_H
#define OS_DYNLIB_H

#include <stddef.h>

/* one symbol: its name and the function pointer it is stored in */
struct dynlib_sym {
	const char *name;
	void *slot;
};

/*
 * Open soname (never closed: the pointers stay valid until the process
 * ends) and store each symbol in its slot. 0 when all are there, else -1
 * with dlerror's text in why.
 */
int dynlib_open(const char *soname, const struct dynlib_sym *syms, size_t n,
		char *why, size_t why_size);

#endif
