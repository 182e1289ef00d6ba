#ifndef CORE_ERROR_H
#define CORE_ERROR_H

/*
 * Error reporting and the exit-code contract (docs/exit-codes.md).
 *
 * Library code never exits: it reports with error(), which prints
 * "error: <msg>" on stderr and returns -1, so that
 *   return error("cannot open '%s': %s", path, strerror(errno));
 * is one line. Functions that must tell the caller *what kind* of
 * failure happened return one of the negative TS_E* codes instead; only
 * command code turns them into exit codes with ts_exit_code().
 */

enum ts_exit {
	EXIT_OK = 0,
	EXIT_STEP_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,  /* configuration or database error */
	EXIT_NOT_FOUND = 4,
};

enum ts_err {
	TS_OK = 0,
	TS_EFAIL = -1,     /* database, configuration or I/O error */
	TS_ENOTFOUND = -2, /* a named object does not exist */
	TS_EUSAGE = -3,    /* the user's input is invalid */
	TS_ESTEP = -4,     /* a step ran and failed */
};

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* same as error() but returns the given code */
int error_code(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hint: <msg>", after a usage error; hint_given() tells whether one was */
void hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hint_given(void);

/* map a TS_E* code (or 0) to the process exit code */
int ts_exit_code(int err);

#endif
