#ifndef SERVE_ADDR_H
#define SERVE_ADDR_H

#include <netinet/in.h>

/*
 * "ADDR:PORT" (IPv4, or "localhost") into *sa; port 0 lets the system
 * pick one. Returns 0, or TS_EUSAGE (reported).
 */
int addr_parse(const char *text, struct sockaddr_in *sa);
/* whether sa is a loopback address (127.0.0.0/8) */
int addr_is_loopback(const struct sockaddr_in *sa);

#endif
