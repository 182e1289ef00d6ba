#ifndef SERVE_ADDR_H
#define SERVE_ADDR_H

#include <netinet/in.h>
#include <sys/socket.h>

/*
 * "ADDR:PORT" into *sa: an IPv4 address, "localhost" (127.0.0.1), or an
 * IPv6 address in brackets ("[::1]:8064"); port 0 lets the system pick
 * one. Returns 0, or TS_EUSAGE (reported).
 */
int addr_parse(const char *text, struct sockaddr_storage *sa);
/* whether sa is a loopback address (127.0.0.0/8, ::1) */
int addr_is_loopback(const struct sockaddr_storage *sa);
/* sa's size, for bind and the like */
socklen_t addr_len(const struct sockaddr_storage *sa);
/* "127.0.0.1:8064" or "[::1]:8064" for port (owned) */
char *addr_format(const struct sockaddr_storage *sa, unsigned port);

#endif
