#ifndef TESTS_TAP_H
#define TESTS_TAP_H

/*
 * A minimal TAP producer for the unit tests: ok(cond, name, ...) prints
 * "ok N - name" or "not ok N - name"; tap_done() prints the plan and
 * returns the exit code (0 when everything passed).
 */
int ok_at(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define ok(cond, ...) ok_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* compare strings (NULL-safe) and show both on failure */
int is_str_at(const char *got, const char *want, const char *file, int line,
	      const char *name);
#define is_str(got, want, name) \
	is_str_at((got), (want), __FILE__, __LINE__, (name))
int tap_done(void);

#endif
