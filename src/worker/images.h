#ifndef WORKER_IMAGES_H
#define WORKER_IMAGES_H

/*
 * The image IDs this machine's Docker engine holds (`docker images -q
 * --no-trunc`), for the claim to prefer the items whose image is here:
 * a PostgreSQL array literal "{sha256:...,...}" (owned), or NULL when
 * docker cannot tell (none installed, no daemon). Quiet: a worker whose
 * items run no container needs no Docker.
 */
char *worker_images(void);

#endif
