/*
 * /events (events.h): a polling thread compares each step's results with
 * what it saw last (a hash of their compact JSON) and appends a message
 * per change to a ring; each stream's reader waits on the ring.
 */
#include "serve/events.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "os/strbuf.h"
#include "os/xalloc.h"

/* messages kept for clients that reconnect */
#define RING 256
/* seconds between keep-alive comments on a quiet stream */
#define KEEPALIVE 5

struct seen {
	long long id;
	uint64_t hash;
};

struct events {
	struct store *st;
	pthread_mutex_t *store_lock;
	unsigned interval_ms;
	pthread_t thread;
	pthread_mutex_t poll_mu; /* one poll at a time; before store_lock */
	pthread_mutex_t mu;      /* guards what follows */
	pthread_cond_t cond;
	int stopping;
	long long seq;    /* the last message's id */
	long long first;  /* the first id this server gave, less one */
	char *ring[RING]; /* message seq at ring[seq % RING] */
	struct seen *seen;
	size_t nr_seen;
	int failing; /* the last poll failed (said once) */
};

/* one stream */
struct stream {
	struct events *ev;
	long long next;    /* the next message's id */
	struct strbuf out; /* to send */
	size_t sent;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int by_id(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static void deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* append one message (ev->mu held); data is one line of JSON */
static void add_message(struct events *ev, const char *type, const char *data)
{
	long long id = ++ev->seq;

	free(ev->ring[id % RING]);
	ev->ring[id % RING] =
		xstrfmt("id: %lld\nevent: %s\ndata: %s\n\n", id, type, data);
}

static void add_result(struct events *ev, long long task, long long step)
{
	char *data =
		xstrfmt("{\"task_id\": %lld, \"step_id\": %lld}", task, step);

	add_message(ev, "result", data);
	free(data);
}

void events_post(struct events *ev, const char *type, const char *data)
{
	pthread_mutex_lock(&ev->mu);
	add_message(ev, type, data);
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
}

/* read every step's results; a message per change unless baseline */
static void poll_store(struct events *ev, int baseline)
{
	struct task *tv = NULL;
	size_t nt = 0, i, j, n = 0, alloc = 0;
	struct seen *now = NULL;
	long long(*changed)[2] = NULL;
	size_t nc = 0, ac = 0;
	int ret;

	pthread_mutex_lock(&ev->poll_mu);
	pthread_mutex_lock(ev->store_lock);
	ret = store_task_list(ev->st, &tv, &nt);
	for (i = 0; !ret && i < nt; i++) {
		struct step *sv = NULL;
		size_t ns = 0;

		ret = store_step_list(ev->st, tv[i].id, &sv, &ns);
		for (j = 0; !ret && j < ns; j++) {
			char *text =
				sv[j].results
					? json_dumps(sv[j].results,
						     JSON_COMPACT |
							     JSON_SORT_KEYS)
					: NULL;
			struct seen s = { sv[j].id, text ? fnv1a(text) : 0 };
			struct seen *old;

			free(text);
			ALLOC_GROW(now, n + 1, alloc);
			now[n++] = s;
			old = ev->seen ? bsearch(&s, ev->seen, ev->nr_seen,
						 sizeof(s), by_id)
				       : NULL;
			if (!baseline &&
			    (old ? old->hash != s.hash : s.hash != 0)) {
				ALLOC_GROW(changed, nc + 1, ac);
				changed[nc][0] = tv[i].id;
				changed[nc++][1] = s.id;
			}
		}
		step_list_free(sv, ns);
	}
	task_list_free(tv, nt);
	pthread_mutex_unlock(ev->store_lock);

	pthread_mutex_lock(&ev->mu);
	if (ret) {
		if (!ev->failing)
			fprintf(stderr, "serve: /events cannot read the "
					"database; trying again\n");
		ev->failing = 1;
		free(now);
	} else {
		ev->failing = 0;
		if (n)
			qsort(now, n, sizeof(*now), by_id);
		free(ev->seen);
		ev->seen = now;
		ev->nr_seen = n;
		for (i = 0; i < nc; i++)
			add_result(ev, changed[i][0], changed[i][1]);
		if (nc)
			pthread_cond_broadcast(&ev->cond);
	}
	pthread_mutex_unlock(&ev->mu);
	pthread_mutex_unlock(&ev->poll_mu);
	free(changed);
}

void events_refresh(struct events *ev)
{
	poll_store(ev, 0);
}

static void *poller(void *arg)
{
	struct events *ev = arg;
	struct timespec ts;

	pthread_mutex_lock(&ev->mu);
	while (!ev->stopping) {
		deadline(&ts, ev->interval_ms);
		while (!ev->stopping &&
		       pthread_cond_timedwait(&ev->cond, &ev->mu, &ts) !=
			       ETIMEDOUT)
			;
		if (ev->stopping)
			break;
		pthread_mutex_unlock(&ev->mu);
		poll_store(ev, 0);
		pthread_mutex_lock(&ev->mu);
	}
	pthread_mutex_unlock(&ev->mu);
	return NULL;
}

struct events *events_start(struct store *st, pthread_mutex_t *store_lock,
			    unsigned interval_ms)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	struct timespec now;

	ev->st = st;
	ev->store_lock = store_lock;
	ev->interval_ms = interval_ms;
	pthread_mutex_init(&ev->poll_mu, NULL);
	pthread_mutex_init(&ev->mu, NULL);
	pthread_cond_init(&ev->cond, NULL);
	/* ids grow across restarts: milliseconds since the epoch at start */
	clock_gettime(CLOCK_REALTIME, &now);
	ev->seq = ev->first =
		(long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	poll_store(ev, 1);
	if (pthread_create(&ev->thread, NULL, poller, ev)) {
		events_free(ev);
		return NULL;
	}
	return ev;
}

void events_free(struct events *ev);

void events_stop(struct events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	ev->stopping = 1;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
	pthread_join(ev->thread, NULL);
}

void events_free(struct events *ev)
{
	int i;

	if (!ev)
		return;
	for (i = 0; i < RING; i++)
		free(ev->ring[i]);
	free(ev->seen);
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->mu);
	pthread_mutex_destroy(&ev->poll_mu);
	free(ev);
}

/* the stream's next bytes (ev->mu held): messages, a reset, or nothing */
static void fill(struct stream *s)
{
	struct events *ev = s->ev;
	long long oldest = ev->seq - RING + 1;

	if (oldest <= ev->first)
		oldest = ev->first + 1;
	if (s->next < oldest || s->next > ev->seq + 1) {
		/* gone from the ring, or another server's: start again */
		strbuf_addf(&s->out, "id: %lld\nevent: reset\ndata: {}\n\n",
			    ev->seq);
		s->next = ev->seq + 1;
		return;
	}
	for (; s->next <= ev->seq; s->next++)
		strbuf_addstr(&s->out, ev->ring[s->next % RING]);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	struct events *ev = s->ev;
	struct timespec ts;
	size_t n;

	(void)pos;
	if (s->sent == s->out.len) {
		strbuf_reset(&s->out);
		s->sent = 0;
		pthread_mutex_lock(&ev->mu);
		deadline(&ts, KEEPALIVE * 1000);
		for (;;) {
			if (ev->stopping) {
				pthread_mutex_unlock(&ev->mu);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			fill(s);
			if (s->out.len)
				break;
			if (pthread_cond_timedwait(&ev->cond, &ev->mu, &ts) ==
			    ETIMEDOUT) {
				strbuf_addstr(&s->out, ": keep-alive\n\n");
				break;
			}
		}
		pthread_mutex_unlock(&ev->mu);
	}
	n = s->out.len - s->sent;
	if (n > max)
		n = max;
	memcpy(buf, s->out.buf + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	strbuf_release(&s->out);
	free(s);
}

struct MHD_Response *events_response(struct events *ev, const char *last_id)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	struct MHD_Response *r;
	char *end;

	s->ev = ev;
	strbuf_init(&s->out, 0);
	/* reconnect within a second */
	strbuf_addstr(&s->out, "retry: 1000\n\n");
	pthread_mutex_lock(&ev->mu);
	s->next = ev->seq + 1;
	if (last_id && *last_id) {
		long long id = strtoll(last_id, &end, 10);
		/* a bad id is an unknown one: a reset */
		s->next = *end || id < 0 ? 0 : id + 1;
		fill(s);
	}
	pthread_mutex_unlock(&ev->mu);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s,
					      stream_free);
	if (!r) {
		stream_free(s);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	return r;
}
