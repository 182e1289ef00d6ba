#ifndef OS_XALLOC_H
#define OS_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Allocation wrappers that abort on out-of-memory and check size
 * overflow. Every pointer they return belongs to the caller.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh buffer owned by the caller */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrvfmt(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* grow an array of *alloc elements of size elt so it holds at least nr */
#define ALLOC_GROW(arr, nr, alloc)                                        \
	do {                                                              \
		if ((size_t)(nr) > (size_t)(alloc)) {                     \
			size_t alloc_grow_n_ = (size_t)(alloc)*2 + 16;    \
			if (alloc_grow_n_ < (size_t)(nr))                 \
				alloc_grow_n_ = (size_t)(nr);             \
			(arr) = xrealloc((arr),                           \
					 alloc_grow_n_ * sizeof(*(arr))); \
			(alloc) = alloc_grow_n_;                          \
		}                                                         \
	} while (0)

/* free p and set it to NULL */
#define FREE_AND_NULL(p)    \
	do {                \
		free(p);    \
		(p) = NULL; \
	} while (0)

#endif
