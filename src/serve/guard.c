/*
 * The header deadline (guard.h): a list of connections, and a thread
 * that shuts down the sockets of those past their deadline.
 */
#include "serve/guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "os/proc.h"
#include "os/xalloc.h"

struct guard_conn {
	int fd;
	long long deadline; /* proc_now_ms(); 0: none (headers in) */
	int shut;
	struct guard_conn *prev, *next;
};

struct guard {
	unsigned deadline_ms;
	pthread_mutex_t mu; /* the list; held while a socket is shut */
	pthread_cond_t cond;
	int stopping;
	pthread_t thread;
	struct guard_conn *conns;
};

static void check(struct guard *g)
{
	long long now = proc_now_ms();
	struct guard_conn *c;

	for (c = g->conns; c; c = c->next)
		if (c->deadline && now >= c->deadline && !c->shut) {
			c->shut = 1;
			shutdown(c->fd, SHUT_RDWR);
			fprintf(stderr,
				"serve: a client sent no complete "
				"request within %u s: closed\n",
				g->deadline_ms / 1000);
		}
}

static void *watch(void *arg)
{
	struct guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&g->cond, &g->mu, &ts) == ETIMEDOUT)
			check(g);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct guard *guard_start(unsigned deadline_s)
{
	struct guard *g = xcalloc(1, sizeof(*g));

	g->deadline_ms = deadline_s * 1000;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cond, NULL);
	if (pthread_create(&g->thread, NULL, watch, g)) {
		pthread_cond_destroy(&g->cond);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

void guard_stop(struct guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = 1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	while (g->conns)
		guard_remove(g, g->conns);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

struct guard_conn *guard_add(struct guard *g, int fd)
{
	struct guard_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->deadline = proc_now_ms() + g->deadline_ms;
	pthread_mutex_lock(&g->mu);
	c->next = g->conns;
	if (g->conns)
		g->conns->prev = c;
	g->conns = c;
	pthread_mutex_unlock(&g->mu);
	return c;
}

void guard_headers_done(struct guard *g, struct guard_conn *c)
{
	pthread_mutex_lock(&g->mu);
	c->deadline = 0;
	pthread_mutex_unlock(&g->mu);
}

void guard_waiting(struct guard *g, struct guard_conn *c)
{
	pthread_mutex_lock(&g->mu);
	c->deadline = proc_now_ms() + g->deadline_ms;
	pthread_mutex_unlock(&g->mu);
}

void guard_remove(struct guard *g, struct guard_conn *c)
{
	pthread_mutex_lock(&g->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	free(c);
}
