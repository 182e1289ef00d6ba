/* the replies of the routes (reply.h) */
#include "serve/reply.h"

#include <stdarg.h>
#include <stdlib.h>

#include "os/xalloc.h"

unsigned reply_error(struct reply *r, unsigned status, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xstrvfmt(fmt, ap);
	va_end(ap);
	json_decref(r->json);
	r->json = json_pack("{s:s}", "error", msg);
	if (!r->json) /* msg quoted bytes that are not UTF-8 */
		r->json = json_pack("{s:s}", "error", "bad request");
	r->status = status;
	free(msg);
	return status;
}

void reply_json(struct reply *r, json_t *j)
{
	json_decref(r->json);
	r->json = j;
	r->status = 200;
}

void reply_release(struct reply *r)
{
	json_decref(r->json);
	free(r->data);
	free(r->content_range);
	r->json = NULL;
	r->data = NULL;
	r->content_range = NULL;
	r->static_data = NULL;
}
