#ifndef SERVE_TOKEN_H
#define SERVE_TOKEN_H

#include <stddef.h>

/*
 * The bearer token of serve's writes: 64 hex digits in a file only its
 * owner can read (0600), $XDG_CONFIG_HOME/task-sync/serve-token, else
 * ~/.config/task-sync/serve-token.
 */

/* the token file's path (owned); NULL when neither variable is set */
char *token_path(void);
/*
 * Read the token from path into out (65 bytes). With create set, a
 * missing file is made first (and its folder, 0700). Returns 1 read,
 * 0 missing (create unset), -1 error (reported: unreadable, not 0600,
 * malformed).
 */
int token_load(const char *path, int create, char out[65]);
/* whether header ("Bearer X") carries token, compared in constant time */
int token_matches(const char *token, const char *header);

#endif
