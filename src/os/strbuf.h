#ifndef OS_STRBUF_H
#define OS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A growable string. Invariants: buf is never NULL and is always
 * NUL-terminated; len never exceeds alloc - 1 once anything was added.
 * A strbuf initialised with STRBUF_INIT owns no memory until first use.
 */
struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT                                         \
	{                                                   \
		.alloc = 0, .len = 0, .buf = strbuf_slopbuf \
	}

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* hand the buffer to the caller (who frees it) and reset sb */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* strip leading and trailing whitespace in place */
void strbuf_trim(struct strbuf *sb);
/*
 * Make the buffer valid UTF-8 text in place: NUL bytes and bytes that
 * are not part of a well-formed UTF-8 sequence become '?'. Captured
 * output goes into JSON and PostgreSQL text, which accept neither.
 */
void strbuf_make_text(struct strbuf *sb);
/* append s as a single-quoted POSIX shell word */
void strbuf_add_shell_quoted(struct strbuf *sb, const char *s);
/* read a whole file; returns 0 or -1 with errno set */
int strbuf_read_file(struct strbuf *sb, const char *path);

#endif
