#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int count, failed;

int ok_at(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	count++;
	printf("%sok %d - ", cond ? "" : "not ", count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

int is_str_at(const char *got, const char *want, const char *file, int line,
	      const char *name)
{
	int same = (!got && !want) || (got && want && !strcmp(got, want));
	if (!ok_at(same, file, line, "%s", name))
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
	return same;
}

int tap_done(void)
{
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}
