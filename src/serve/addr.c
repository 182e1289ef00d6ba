/* the --listen address (addr.h) */
#include "serve/addr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "os/error.h"
#include "os/xalloc.h"

int addr_parse(const char *text, struct sockaddr_in *sa)
{
	const char *colon = strrchr(text, ':');
	char *host, *end;
	long port;
	int ok;

	if (!colon)
		return error_code(TS_EUSAGE,
				  "--listen '%s': expected "
				  "ADDR:PORT, such as 127.0.0.1:8064",
				  text);
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || port > 65535)
		return error_code(TS_EUSAGE,
				  "--listen '%s': the port must "
				  "be a number from 0 to 65535",
				  text);
	host = xstrndup(text, (size_t)(colon - text));
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	ok = inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1",
		       &sa->sin_addr) == 1;
	free(host);
	if (!ok)
		return error_code(TS_EUSAGE,
				  "--listen '%s': the address "
				  "must be an IPv4 address such as 127.0.0.1",
				  text);
	return 0;
}

int addr_is_loopback(const struct sockaddr_in *sa)
{
	return (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
}
