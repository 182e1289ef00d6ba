#ifndef SERVE_REPLY_H
#define SERVE_REPLY_H

#include <jansson.h>
#include <stddef.h>

/* what a route answers: a JSON document or raw bytes */
struct reply {
	unsigned status;
	json_t *json;             /* owned; NULL when data is used */
	char *data;               /* owned bytes (text/plain) */
	const char *content_type; /* of data; NULL for text/plain */
	size_t len;
	const char *allow;   /* the Allow header of a 405 */
	char *content_range; /* owned; bytes a-b/total of a partial output */
	const char *static_data; /* bytes not owned (the page), len long */
};

/* status with {"error": message}; returns status */
unsigned reply_error(struct reply *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 200 with j (stolen) */
void reply_json(struct reply *r, json_t *j);
void reply_release(struct reply *r);

#endif
