/* the --listen address (addr.h) */
#include "serve/addr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "os/error.h"
#include "os/xalloc.h"

/* the host part into sa; 1 when it is an address */
static int parse_host(const char *host, struct sockaddr_storage *sa,
		      unsigned short port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
	size_t len = strlen(host);

	memset(sa, 0, sizeof(*sa));
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		char *inner = xstrndup(host + 1, len - 2);
		int ok = inet_pton(AF_INET6, inner, &in6->sin6_addr) == 1;

		free(inner);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return ok;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	return inet_pton(AF_INET,
			 strcmp(host, "localhost") ? host : "127.0.0.1",
			 &in->sin_addr) == 1;
}

int addr_parse(const char *text, struct sockaddr_storage *sa)
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
	ok = parse_host(host, sa, (unsigned short)port);
	free(host);
	if (!ok)
		return error_code(TS_EUSAGE,
				  "--listen '%s': the address "
				  "must be an IPv4 address such as 127.0.0.1, "
				  "or an IPv6 one in brackets such as [::1]",
				  text);
	return 0;
}

int addr_is_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >>
		24) == 127;
}

socklen_t addr_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

char *addr_format(const struct sockaddr_storage *sa, unsigned port)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET6) {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
			  sizeof(ip));
		return xstrfmt("[%s]:%u", ip, port);
	}
	inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip,
		  sizeof(ip));
	return xstrfmt("%s:%u", ip, port);
}
