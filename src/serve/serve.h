#ifndef SERVE_SERVE_H
#define SERVE_SERVE_H

#include "core/config.h"
#include "store/store.h"

/*
 * task-sync serve: the HTTP API (docs/serve.md) on libmicrohttpd, over
 * the same store the commands use. Each connection has its thread; a
 * lock keeps the store to one request (or /events poll) at a time.
 */

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8064"
/* the largest request body read (PUT settings); more is 413 */
#define SERVE_BODY_LIMIT (1024 * 1024)

struct serve_opts {
	const char *listen; /* "ADDR:PORT"; port 0 picks a free one */
	const struct config *cfg;
	struct store *st;
};

/*
 * Serve until SIGINT or SIGTERM. Returns 0, TS_EUSAGE (a bad --listen,
 * a non-loopback address without a token), or TS_EFAIL (cannot listen,
 * cannot make the token), reported.
 */
int serve_run(const struct serve_opts *o);

#endif
