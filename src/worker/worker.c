/*
 * The worker loop (worker.h): slots that claim and run items, and a
 * heartbeat, each thread with its own database connection.
 */
#include "worker/worker.h"
#include "worker/images.h"
#include "engine/engine.h"
#include "os/error.h"
#include "os/proc.h"
#include "os/xalloc.h"
#include "steps/step.h"
#include "store/store.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stopping;

void worker_stop(void)
{
	stopping = 1;
}

struct shared {
	const struct config *cfg;
	const struct worker_opts *o;
	struct worker_stats *stats;
	pthread_mutex_t lock;
	int slots_left; /* slot threads still running */
	int failed;     /* a slot could not open its connection */
	/* what each slot holds now (id 0: nothing), for the heartbeat */
	long long *held_id, *held_epoch;
	int nslots, next_slot;
	/* the engine's image IDs (images.h; NULL: docker cannot tell) */
	char *images;
};

/* how often the heartbeat thread lists the engine's images again */
#define IMAGES_MS 30000

struct claim {
	const struct work_item *w;
	const char *owner;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* engine_opts.guard: the claim still holds (the row locked till commit) */
static int guard(struct store *st, void *data)
{
	struct claim *c = data;
	return store_queue_guard(st, c->w->id, c->owner, c->w->epoch);
}

static void count(struct shared *sh, long long *field)
{
	pthread_mutex_lock(&sh->lock);
	(*field)++;
	pthread_mutex_unlock(&sh->lock);
}

static void say(struct shared *sh, const struct work_item *w, const char *what,
		const char *why)
{
	pthread_mutex_lock(&sh->lock);
	fprintf(sh->o->out,
		"worker %s: item %lld (task %lld, step %lld%s%s) %s%s%s\n",
		sh->o->name, w->id, w->task_id, w->step_id,
		w->candidate ? ", " : "", w->candidate ? w->candidate : "",
		what, why ? ": " : "", why ? why : "");
	fflush(sh->o->out);
	pthread_mutex_unlock(&sh->lock);
}

static void run_item(struct shared *sh, struct store *st, struct work_item *w)
{
	const struct worker_opts *o = sh->o;
	struct claim c = { w, o->name };
	struct engine_opts e = { 0 };
	struct engine_stats s = { 0 };
	json_t *origin =
		json_pack("{s:s, s:s}", "worker", o->name, "host", o->host);
	const char *state, *msg;
	int ret, fin;

	e.flags = w->flags | (w->candidate ? RUN_FORCE : 0);
	e.out = o->out;
	e.quiet_fresh = 0;
	e.no_task_lock = 1;
	e.only_candidate = w->candidate;
	e.guard = guard;
	e.guard_data = &c;
	e.origin = origin;
	ret = engine_run_step(st, sh->cfg, w->step_id, &e, &s);
	/* what a generator made joins the batch before it counts as done */
	if (!ret && !w->candidate) {
		long long added = 0;
		if (engine_enqueue_generated(st, sh->cfg, w->batch, w->task_id,
					     w->step_id, w->flags, &added))
			ret = TS_EFAIL;
		else if (added) {
			char why[64];
			snprintf(why, sizeof(why), "%lld item%s", added,
				 added == 1 ? "" : "s");
			say(sh, w, "queued what it generated", why);
		}
	}
	state = ret ? "failed" : "succeeded";
	msg = !ret              ? (s.fresh ? "fresh" : "success")
	      : s.blocked       ? "blocked"
	      : s.unrecorded    ? "its result could not be recorded"
	      : s.infra         ? "infrastructure failure"
	      : ret == TS_ESTEP ? "did not succeed"
				: "error";
	fin = store_queue_finish(st, w, o->name, state, msg);
	if (fin == 1) {
		count(sh, ret ? &sh->stats->failed : &sh->stats->succeeded);
		say(sh, w, state, msg);
	} else {
		count(sh, &sh->stats->lost);
		say(sh, w, "lost",
		    fin < 0 ? "the queue could not be updated"
			    : "its claim was taken by another worker; "
			      "nothing recorded");
	}
	json_decref(origin);
}

static void hold(struct shared *sh, int me, const struct work_item *w)
{
	pthread_mutex_lock(&sh->lock);
	sh->held_id[me] = w ? w->id : 0;
	sh->held_epoch[me] = w ? w->epoch : 0;
	pthread_mutex_unlock(&sh->lock);
}

/*
 * Idle: until a wake-up (store_queue_wait: an item was added, freed or
 * ended), ms (a dead worker's items expire without one) or a stop.
 * 1 woken, 0 not, TS_EFAIL the connection was lost.
 */
static int idle_wait(struct store *st, int ms)
{
	long long until = proc_now_ms() + ms;

	while (!stopping) {
		long long left = until - proc_now_ms();
		int r;

		if (left <= 0)
			return 0;
		/* in slices: a stop is seen within 200 ms */
		r = store_queue_wait(st, left < 200 ? (int)left : 200);
		if (r)
			return r;
	}
	return 0;
}

static void *slot(void *arg)
{
	struct shared *sh = arg;
	int me, session = 0;
	const struct worker_opts *o = sh->o;
	int lease = 2 * o->heartbeat_ms;
	struct store *st = NULL;

	pthread_mutex_lock(&sh->lock);
	me = sh->next_slot++;
	pthread_mutex_unlock(&sh->lock);
	if (store_open(sh->cfg, 0, &st)) {
		pthread_mutex_lock(&sh->lock);
		sh->failed = 1;
		pthread_mutex_unlock(&sh->lock);
		stopping = 1;
		goto out;
	}
	while (!stopping) {
		struct work_item w;
		char *images;
		long long next_ms = -1;
		int r;

		/* a connection lost: a new one, once the database answers */
		if (!st && store_open(sh->cfg, 0, &st)) {
			st = NULL;
			sleep_ms(o->heartbeat_ms);
			continue;
		}
		if (!session) {
			if (store_queue_session(st, lease)) {
				store_close(st);
				st = NULL;
				sleep_ms(o->heartbeat_ms);
				continue;
			}
			session = 1;
		}
		/*
		 * the wake-ups that came meanwhile are answered by this
		 * claim: consumed, so a slot that is never idle does not
		 * pile them up in libpq
		 */
		r = store_queue_wait(st, 0);
		if (r < 0) {
			store_close(st);
			st = NULL;
			session = 0;
			continue;
		}
		pthread_mutex_lock(&sh->lock);
		images = sh->images ? xstrdup(sh->images) : NULL;
		pthread_mutex_unlock(&sh->lock);
		r = store_queue_claim(st, o->name, o->host, lease, o->tasks,
				      o->ntasks, images, &w, &next_ms);
		free(images);
		if (r < 0) {
			store_close(st);
			st = NULL;
			session = 0;
			sleep_ms(o->heartbeat_ms);
			continue;
		}
		if (r == 1) {
			hold(sh, me, &w);
			count(sh, &sh->stats->claimed);
			if (w.reclaimed_from) {
				char why[300];
				snprintf(why, sizeof(why),
					 "%s (silent for %lld ms)",
					 w.reclaimed_from, w.silent_ms);
				count(sh, &sh->stats->reclaimed);
				say(sh, &w, "reclaimed from", why);
			}
			if (stopping) {
				/* not started: back to the queue */
				if (store_queue_release(st, &w, o->name) == 1)
					count(sh, &sh->stats->released);
				hold(sh, me, NULL);
				work_item_release(&w);
				break;
			}
			run_item(sh, st, &w);
			hold(sh, me, NULL);
			work_item_release(&w);
			continue;
		}
		if (o->once) {
			long long n = 0;
			int e = store_queue_pending(st, o->tasks, o->ntasks,
						    &n);
			if (!e && !n)
				break;
		}
		/*
		 * until a wake-up, the poll, or the moment the first lease
		 * in scope expires: a dead worker's item is claimed then,
		 * not up to a poll interval later
		 */
		if (next_ms >= 0 && next_ms < o->poll_ms)
			r = idle_wait(st, (int)next_ms);
		else
			r = idle_wait(st, o->poll_ms);
		if (r < 0) {
			store_close(st);
			st = NULL;
			session = 0;
		}
	}
out:
	store_close(st);
	pthread_mutex_lock(&sh->lock);
	sh->slots_left--;
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

static int slots_left(struct shared *sh)
{
	int n;
	pthread_mutex_lock(&sh->lock);
	n = sh->slots_left;
	pthread_mutex_unlock(&sh->lock);
	return n;
}

static void *heartbeat(void *arg)
{
	struct shared *sh = arg;
	struct store *st = NULL;
	long long next = 0, relist = proc_now_ms() + IMAGES_MS;

	while (slots_left(sh) > 0) {
		long long now = proc_now_ms();
		/* a worker without Docker keeps none */
		if (now >= relist && sh->images) {
			char *images = worker_images();
			pthread_mutex_lock(&sh->lock);
			free(sh->images);
			sh->images = images;
			pthread_mutex_unlock(&sh->lock);
			relist = proc_now_ms() + IMAGES_MS;
		}
		if (now >= next) {
			long long n = 0, ids[64], epochs[64];
			size_t k = 0;
			int i;

			pthread_mutex_lock(&sh->lock);
			for (i = 0; i < sh->nslots && k < 64; i++)
				if (sh->held_id[i]) {
					ids[k] = sh->held_id[i];
					epochs[k++] = sh->held_epoch[i];
				}
			pthread_mutex_unlock(&sh->lock);
			if (!st && store_open(sh->cfg, 0, &st))
				st = NULL;
			/* a failed beat: reconnect on the next one */
			if (st && store_queue_heartbeat(st, sh->o->name, ids,
							epochs, k, &n)) {
				store_close(st);
				st = NULL;
			}
			next = now + sh->o->heartbeat_ms;
		}
		sleep_ms(20);
	}
	store_close(st);
	return NULL;
}

int worker_run(const struct config *cfg, const struct worker_opts *o,
	       struct worker_stats *stats)
{
	struct shared sh;
	pthread_t *t, hb;
	int i, n = o->concurrency > 0 ? o->concurrency : 1, started = 0;
	int hb_started;

	memset(&sh, 0, sizeof(sh));
	sh.cfg = cfg;
	sh.o = o;
	sh.stats = stats;
	sh.slots_left = n;
	sh.nslots = n;
	sh.held_id = xcalloc(n, sizeof(*sh.held_id));
	sh.held_epoch = xcalloc(n, sizeof(*sh.held_epoch));
	pthread_mutex_init(&sh.lock, NULL);
	sh.images = worker_images();
	t = xcalloc(n, sizeof(*t));
	for (i = 0; i < n; i++) {
		if (pthread_create(&t[i], NULL, slot, &sh))
			break;
		started++;
	}
	pthread_mutex_lock(&sh.lock);
	sh.slots_left -= n - started;
	pthread_mutex_unlock(&sh.lock);
	hb_started = !pthread_create(&hb, NULL, heartbeat, &sh);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	if (hb_started)
		pthread_join(hb, NULL);
	free(t);
	free(sh.held_id);
	free(sh.held_epoch);
	free(sh.images);
	pthread_mutex_destroy(&sh.lock);
	if (!started)
		return error_code(TS_EFAIL,
				  "cannot start the worker's threads");
	return sh.failed ? TS_EFAIL : 0;
}
