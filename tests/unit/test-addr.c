/* Unit tests for serve/addr: --listen addresses and loopback. */
#include "tap.h"
#include "serve/addr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void test_addr(void)
{
	struct sockaddr_storage sa;
	char *shown;

	ok(addr_parse("127.0.0.1:8064", &sa) == 0 &&
		   ntohs(((struct sockaddr_in *)&sa)->sin_port) == 8064 &&
		   addr_is_loopback(&sa),
	   "127.0.0.1:8064 is loopback");
	ok(addr_parse("localhost:0", &sa) == 0 && addr_is_loopback(&sa),
	   "localhost is loopback");
	ok(addr_parse("127.1.2.3:1", &sa) == 0 && addr_is_loopback(&sa),
	   "127.0.0.0/8 is loopback");
	ok(addr_parse("0.0.0.0:8064", &sa) == 0 && !addr_is_loopback(&sa),
	   "0.0.0.0 is not");
	ok(addr_parse("192.168.1.2:80", &sa) == 0 && !addr_is_loopback(&sa),
	   "a LAN address is not");
	ok(addr_parse("8064", &sa) != 0, "no colon: refused");
	ok(addr_parse("127.0.0.1:65536", &sa) != 0, "port 65536: refused");
	ok(addr_parse("127.0.0.1:x", &sa) != 0, "port x: refused");
	ok(addr_parse("host.example:80", &sa) != 0, "a host name: refused");
	ok(addr_parse("[::1]:8064", &sa) == 0 && sa.ss_family == AF_INET6 &&
		   addr_is_loopback(&sa) &&
		   addr_len(&sa) == sizeof(struct sockaddr_in6),
	   "[::1] is IPv6 loopback");
	ok(addr_parse("[::]:80", &sa) == 0 && !addr_is_loopback(&sa),
	   "[::] is not");
	ok(addr_parse("::1:80", &sa) != 0, "IPv6 without brackets: refused");
	ok(addr_parse("[::1:80", &sa) != 0, "an unclosed bracket: refused");
	shown = addr_format(&sa, 1);
	free(shown);
	addr_parse("[::1]:0", &sa);
	shown = addr_format(&sa, 9);
	ok(!strcmp(shown, "[::1]:9"), "[::1]:9 shown as given");
	free(shown);
}

int main(void)
{
	test_addr();
	return tap_done();
}
