#ifndef SERVE_EVENTS_H
#define SERVE_EVENTS_H

#include "serve/mhd.h"
#include <pthread.h>

#include "store/store.h"

/*
 * /events (docs/serve.md): Server-Sent Events, one "result" message each
 * time a step's results change in the store, found by polling it (on
 * SQLite and PostgreSQL alike), and the messages others post (a run
 * started or finished, serve/runs.h). Each message has an id; the last ones are
 * kept, so a client reconnecting with Last-Event-ID gets what it missed,
 * or a "reset" when that is gone (or was another server's).
 */
struct events;

/*
 * Start polling st every interval_ms, holding *store_lock while it reads;
 * the first poll is done before it returns (what is there is no event).
 * NULL when the thread cannot start.
 */
struct events *events_start(struct store *st, pthread_mutex_t *store_lock,
			    unsigned interval_ms);
/* end every stream and the polling */
void events_stop(struct events *ev);
/* free ev, once no stream uses it (after MHD_stop_daemon) */
void events_free(struct events *ev);
/* append a message of this type (data: JSON on one line) for every
 * stream; the serve's runs say "run-started" and "run-finished" */
void events_post(struct events *ev, const char *type, const char *data);
/* read the store now (as a poll does), so that results already written
 * get their messages before what is posted next */
void events_refresh(struct events *ev);
/* a stream of the events after last_id (NULL or "": from now on) */
struct MHD_Response *events_response(struct events *ev, const char *last_id);

#endif
