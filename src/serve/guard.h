#ifndef SERVE_GUARD_H
#define SERVE_GUARD_H

/*
 * Slow clients (slowloris): libmicrohttpd closes a connection idle for
 * its timeout, but a client that sends a byte now and then is never
 * idle. The guard gives each request's headers a deadline from the
 * moment the connection opened (or its last request ended): a client
 * that has not sent them all by then gets its socket shut down, and
 * libmicrohttpd closes the connection.
 */
struct guard;
struct guard_conn;

/* a thread that checks every half second; NULL if it cannot start */
struct guard *guard_start(unsigned deadline_s);
/* stop the thread and free g (every connection removed first) */
void guard_stop(struct guard *g);
/* a new connection on socket fd, waiting for its headers */
struct guard_conn *guard_add(struct guard *g, int fd);
/* its headers are in: no deadline until guard_waiting */
void guard_headers_done(struct guard *g, struct guard_conn *c);
/* its request is over; the next one's headers have the deadline */
void guard_waiting(struct guard *g, struct guard_conn *c);
/* the connection closes (before its socket does) */
void guard_remove(struct guard *g, struct guard_conn *c);

#endif
