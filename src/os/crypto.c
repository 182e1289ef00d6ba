/* Random bytes from the kernel (crypto.h). */
#include "os/crypto.h"

#include <errno.h>
#include <sys/random.h>

int crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}
