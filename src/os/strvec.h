#ifndef OS_STRVEC_H
#define OS_STRVEC_H

#include <stddef.h>

/*
 * A NULL-terminated array of owned strings, for argv and environment
 * lists. v is never NULL; v[nr] is always NULL.
 */
struct strvec {
	char **v;
	size_t nr;
	size_t alloc;
};

extern const char *strvec_empty[];
#define STRVEC_INIT                                             \
	{                                                       \
		.v = (char **)strvec_empty, .nr = 0, .alloc = 0 \
	}

void strvec_init(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strvec_pushl(struct strvec *sv, ...);
void strvec_pushv(struct strvec *sv, const char *const *v);
void strvec_clear(struct strvec *sv);

#endif
