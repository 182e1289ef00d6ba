#ifndef SERVE_ROUTES_H
#define SERVE_ROUTES_H

#include <pthread.h>
#include <stddef.h>

#include "serve/reply.h"
#include "store/store.h"

/* one request, as the routes see it (no libmicrohttpd here) */
struct request {
	const char *method;
	const char *path; /* without the query */
	const char *body; /* PUT: the whole body, NUL-terminated */
	size_t len;
	/* a query argument's value, NULL when absent */
	const char *(*query)(void *conn, const char *key);
	void *conn;
	const char *accept; /* the Accept header, NULL when absent */
};

struct runs;

struct serve_ctx {
	struct store *st;
	const struct config *cfg;
	/* held around each read and write of st; a run's start (POST) takes
	 * it only while it checks, not while the child decides */
	pthread_mutex_t *store_lock;
	struct runs *runs;
};

/* route rq to its handler; r is filled (status, JSON or bytes) */
void route_request(struct serve_ctx *sc, const struct request *rq,
		   struct reply *r);

#endif
