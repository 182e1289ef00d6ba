#ifndef OS_ERROR_H
#define OS_ERROR_H

/*
 * The one error convention (git's), for every layer below cmd/:
 *
 * - A function that fails reports it once, where it knows why, with
 *   error(), which prints "error: <msg>" on stderr and returns -1:
 *     return error("cannot open '%s': %s", path, strerror(errno));
 *   Its callers pass the -1 up without printing again.
 * - A function whose caller must tell *what kind* of failure happened
 *   returns one of the negative TS_E* codes below (error_code() prints
 *   and returns one); -1 is TS_EFAIL, so both conventions agree.
 * - 0 is success; a count or an ID is >= 0.
 * - A question, a function that answers yes or no and may fail
 *   (docker_image_id, docker_inspect_container, docker_wait_exit,
 *   owner_inspect_*, the database's try_lock), returns 1 for yes, 0
 *   for no and -1 when it could not tell (already reported, or the
 *   text in err). Its header comment says "A question" and what yes
 *   means. Callers test == 1 for yes: a plain `if (ret)` would
 *   take a failure for yes.
 * - Nothing below cmd/ exits or knows exit codes: cmd/ turns TS_E*
 *   into them (ts_exit_code(), cmd/cmd.h; docs/exit-codes.md). The
 *   exceptions are a broken process, installation or disk, which no
 *   caller could handle: out of memory (os/xalloc.c), a Nettle library
 *   that cannot be loaded (os/crypto.c) and an SQLite database the
 *   disk cannot read through its memory map (SIGBUS, store/sqlite.c).
 * - A caller that needs a failure's text (a step's result, a report
 *   line) passes its own `struct strbuf *err` (os/strbuf.h); NULL when
 *   it does not (where the header allows it). After a failure err holds
 *   the one-line reason (what error() printed, error_into(); or e.g. the
 *   first line of a failed docker call's output, which is not printed).
 *   A function whose caller reports the failure in its own words (a
 *   check of the user's settings, a step's setup) prints nothing and
 *   appends the reason to err (error_quiet()); its header says so.
 *   A reason that is no failure (why a step runs) goes the same way
 *   into a `struct strbuf *why`. No function hands back a malloc'd
 *   message through a char ** (static text through a const char ** is
 *   fine), and there is no thread-local or static "last error" buffer.
 */

enum ts_err {
	TS_OK = 0,
	TS_EFAIL = -1,     /* database, configuration or I/O error */
	TS_ENOTFOUND = -2, /* a named object does not exist */
	TS_EUSAGE = -3,    /* the user's input is invalid */
	TS_ESTEP = -4,     /* a step ran and failed */
};

struct strbuf;

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* error(); err, when given, then holds its message (and nothing else) */
int error_into(struct strbuf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * For a function whose caller reports the text: append the message to
 * err when given (NULL: dropped), print nothing, return -1.
 */
int error_quiet(struct strbuf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* same as error() but returns the given code */
int error_code(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hint: <msg>", after a usage error; hint_given() tells whether one was */
void hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hint_given(void);

#endif
