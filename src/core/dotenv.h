#ifndef CORE_DOTENV_H
#define CORE_DOTENV_H

#include <stddef.h>

/*
 * The .env file: the dotenv conventions most tools share (docs/config.md).
 *
 *   # a comment line; blank lines are skipped
 *   export KEY=VALUE        "export " in front is dropped
 *   KEY = VALUE # comment   blanks around '=' and before " #" are dropped
 *   KEY='literal $ # \n'    single quotes: taken as they are
 *   KEY="a\nb \"c\" \\"     double quotes: \n \t \r \" \\ are read
 *
 * A quoted value ends on its own line; after the closing quote only blanks
 * or a " #" comment may follow. A UTF-8 byte order mark at the start is
 * skipped.
 */

typedef void (*dotenv_pair_fn)(const char *key, const char *value, int line,
			       void *data);
/* why is static text: "expected KEY=VALUE", "an unterminated '\"'", ... */
typedef void (*dotenv_bad_fn)(int line, const char *why, void *data);

/*
 * Parse len bytes of text. Each KEY=VALUE line is passed to pair; each
 * line that cannot be read is passed to bad (which may be NULL) and
 * skipped, and the lines after it are still read. Returns the number of
 * lines skipped.
 */
int dotenv_parse(const char *text, size_t len, dotenv_pair_fn pair,
		 dotenv_bad_fn bad, void *data);

/*
 * s past a leading "export" and the blanks after it (s itself when it does
 * not start so); shared by task.conf, which accepts "export KEY=VALUE" too.
 */
const char *dotenv_skip_export(const char *s);

/* whether c may be part of a key: letters, digits, '_', '.', '-' */
int dotenv_is_key_char(int c);

#endif
