/*
 * serve's HTTP side (serve.h): libmicrohttpd with one internal thread,
 * the body read up to a limit, the token checked, then routes.c. The
 * calling thread waits for SIGINT or SIGTERM and stops the daemon.
 */
#include "serve/serve.h"

#include <arpa/inet.h>
#include "serve/mhd.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "serve/addr.h"
#include "serve/events.h"
#include "serve/guard.h"
#include "serve/routes.h"
#include "serve/runs.h"
#include "serve/token.h"

/* seconds a connection may stay idle (slow clients) */
#define IDLE_TIMEOUT 10

/* the page loads nothing but its own inline code and the API */
#define SERVE_PAGE_CSP                                                    \
	"default-src 'none'; script-src 'unsafe-inline'; "                \
	"style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* how often /events reads the store, in milliseconds */
#define EVENTS_POLL_MS 500

struct server {
	struct serve_ctx sc;
	char token[65];
	int reads_need_token;       /* listening beyond loopback */
	pthread_mutex_t store_lock; /* one request or poll at a time */
	struct events *ev;
	struct guard *guard; /* each request's headers within IDLE_TIMEOUT */
};

/* one request's state across libmicrohttpd's calls */
struct conn {
	struct strbuf body;
	int too_big;
};

static enum MHD_Result send_reply(struct MHD_Connection *c,
				  const struct reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = NULL;

	if (r->json) {
		text = json_dumps(r->json, JSON_INDENT(2) | JSON_SORT_KEYS);
		resp = MHD_create_response_from_buffer(strlen(text), text,
						       MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(resp, "Content-Type",
					"application/json");
	} else if (r->static_data) {
		resp = MHD_create_response_from_buffer(
			r->len, (void *)r->static_data, MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer(r->len, r->data,
						       MHD_RESPMEM_MUST_COPY);
	}
	free(text);
	if (!resp)
		return MHD_NO;
	if (!r->json)
		MHD_add_response_header(resp, "Content-Type",
					r->content_type
						? r->content_type
						: "text/plain; charset=utf-8");
	if (r->content_type && strstr(r->content_type, "text/html"))
		MHD_add_response_header(resp, "Content-Security-Policy",
					SERVE_PAGE_CSP);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->content_range)
		MHD_add_response_header(resp, "Content-Range",
					r->content_range);
	if (r->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* one log line per request; control characters in the path shown as '?' */
static void log_request(const char *method, const char *url, unsigned status)
{
	char *shown = xstrdup(url), *p;

	for (p = shown; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "serve: %.16s %s %u\n", method, shown, status);
	free(shown);
}

static enum MHD_Result answer(struct MHD_Connection *c, const char *method,
			      const char *url, struct reply *r)
{
	enum MHD_Result ret = send_reply(c, r);

	log_request(method, url, r->status);
	reply_release(r);
	return ret;
}

static const char *query_arg(void *conn, const char *key)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

/* PUT and POST write; another method no route takes gets its 405 */
static int needs_token(const struct server *srv, const char *method)
{
	return srv->reads_need_token || !strcmp(method, "PUT") ||
	       !strcmp(method, "POST");
}

/* GET /events: the stream; other methods go to routes.c, for the 405 */
static int is_events(const char *method, const char *url)
{
	return (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
	       (!strcmp(url, "/events") || !strcmp(url, "/events/"));
}

static enum MHD_Result answer_events(struct server *srv,
				     struct MHD_Connection *c,
				     const char *method, const char *url)
{
	const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Last-Event-ID");
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!last)
		last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						   "last_event_id");
	resp = events_response(srv->ev, last);
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	log_request(method, url, 200);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct conn *cn = *con_cls;
	struct reply r = { 0 };
	struct request rq = {
		method,
		url,
		NULL,
		0,
		query_arg,
		c,
		MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_ACCEPT),
	};

	(void)version;
	if (!cn) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci && ci->socket_context)
			guard_headers_done(srv->guard, ci->socket_context);

		const char *len = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		cn = xcalloc(1, sizeof(*cn));
		strbuf_init(&cn->body, 0);
		*con_cls = cn;
		/* refused before the body is read */
		if (needs_token(srv, method) &&
		    !token_matches(srv->token,
				   MHD_lookup_connection_value(
					   c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_AUTHORIZATION))) {
			reply_error(&r, 401,
				    "this request needs the token: "
				    "Authorization: Bearer <the token file's "
				    "contents>");
			return answer(c, method, url, &r);
		}
		if (len && strtoull(len, NULL, 10) > SERVE_BODY_LIMIT) {
			reply_error(&r, 413, "the body is over %d bytes",
				    SERVE_BODY_LIMIT);
			return answer(c, method, url, &r);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (cn->body.len + *upload_size > SERVE_BODY_LIMIT)
			cn->too_big = 1;
		else
			strbuf_add(&cn->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (cn->too_big) {
		reply_error(&r, 413, "the body is over %d bytes",
			    SERVE_BODY_LIMIT);
		return answer(c, method, url, &r);
	}
	if (is_events(method, url))
		return answer_events(srv, c, method, url);
	rq.body = cn->body.buf;
	rq.len = cn->body.len;
	route_request(&srv->sc, &rq, &r);
	return answer(c, method, url, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct conn *cn = *con_cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)toe;
	/* kept alive: the next request's headers have the deadline */
	if (ci && ci->socket_context)
		guard_waiting(srv->guard, ci->socket_context);
	if (cn) {
		strbuf_release(&cn->body);
		free(cn);
		*con_cls = NULL;
	}
}

/* each connection in the guard, from its start to its end */
static void on_connection(void *cls, struct MHD_Connection *c,
			  void **socket_ctx,
			  enum MHD_ConnectionNotificationCode what)
{
	struct server *srv = cls;
	const union MHD_ConnectionInfo *ci;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_ctx = ci ? guard_add(srv->guard, ci->connect_fd) : NULL;
	} else if (*socket_ctx) {
		guard_remove(srv->guard, *socket_ctx);
		*socket_ctx = NULL;
	}
}

/* the token, made on loopback; beyond it only an existing one will do */
static int get_token(struct server *srv, const struct sockaddr_storage *sa,
		     const char *listen, char **path)
{
	int loopback = addr_is_loopback(sa), got;

	*path = token_path();
	if (!*path)
		return error("cannot place the token file: set HOME or "
			     "XDG_CONFIG_HOME");
	got = token_load(*path, loopback, srv->token);
	if (got < 0)
		return TS_EFAIL;
	if (!got)
		return error_code(TS_EUSAGE,
				  "refusing to listen on %s, "
				  "beyond loopback, without a token: start "
				  "'task-sync serve' once on 127.0.0.1 to "
				  "make %s",
				  listen, *path);
	srv->reads_need_token = !loopback;
	return 0;
}

int serve_run(const struct serve_opts *o)
{
	struct server srv = { { o->st, o->cfg, NULL, NULL }, { 0 }, 0,
			      PTHREAD_MUTEX_INITIALIZER,     NULL,  NULL };
	struct sockaddr_storage sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t set;
	char *path = NULL, *shown;
	int ret, sig;

	if (mhd_load())
		return TS_EFAIL;
	ret = addr_parse(o->listen, &sa);
	if (!ret)
		ret = get_token(&srv, &sa, o->listen, &path);
	if (ret) {
		free(path);
		return ret;
	}
	/* the daemon's thread inherits the mask: signals come here */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	srv.sc.store_lock = &srv.store_lock;
	srv.ev = events_start(o->st, &srv.store_lock, EVENTS_POLL_MS);
	if (!srv.ev) {
		free(path);
		error("cannot start the /events thread");
		return TS_EFAIL;
	}
	srv.sc.runs = runs_new(srv.ev);
	srv.guard = guard_start(IDLE_TIMEOUT);
	if (!srv.guard) {
		error("cannot start the slow-client guard's thread");
		events_stop(srv.ev);
		runs_free(srv.sc.runs);
		events_free(srv.ev);
		free(path);
		return TS_EFAIL;
	}
	/* a thread per connection: an /events stream waits in its own */
	d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			(sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, &srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
		&srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256, MHD_OPTION_END);
	if (!d) {
		error("cannot listen on %s (in use, or not an address of "
		      "this machine)",
		      o->listen);
		events_stop(srv.ev);
		runs_free(srv.sc.runs);
		guard_stop(srv.guard);
		events_free(srv.ev);
		free(path);
		return TS_EFAIL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	shown = addr_format(
		&sa, info ? (unsigned)info->port
			  : ntohs(((struct sockaddr_in *)&sa)->sin_port));
	printf("task-sync serve: listening on http://%s/\n"
	       "token for writes: %s\n",
	       shown, path);
	free(shown);
	fflush(stdout);
	sigwait(&set, &sig);
	printf("task-sync serve: %s, stopping\n",
	       sig == SIGINT ? "SIGINT" : "SIGTERM");
	runs_stop(srv.sc.runs); /* the runs started here end first */
	events_stop(srv.ev);    /* ends the streams */
	MHD_stop_daemon(d);
	guard_stop(srv.guard);
	runs_free(srv.sc.runs);
	events_free(srv.ev);
	free(path);
	return 0;
}
