#ifndef SERVE_MHD_H
#define SERVE_MHD_H

/*
 * libmicrohttpd, loaded when serve starts (mhd_load), not at process
 * start: libmicrohttpd.so.12 brings gnutls and its eight libraries
 * (p11-kit, nettle, hogweed, gmp, idn2, unistring, tasn1, ffi) that
 * every other command would load and relocate for nothing. The files
 * of serve/ include this instead of <microhttpd.h> and call the MHD_*
 * functions as usual: each name below stands for a pointer that
 * mhd_load fills in with dlsym (the same scheme as store/pq.h). An
 * MHD_* function not listed here fails to link (the binary does not
 * link libmicrohttpd): add it to MHD_FUNCTIONS and to the #defines.
 */
#include <microhttpd.h>

#define MHD_FUNCTIONS(X)                     \
	X(MHD_add_response_header)           \
	X(MHD_create_response_from_buffer)   \
	X(MHD_create_response_from_callback) \
	X(MHD_destroy_response)              \
	X(MHD_get_connection_info)           \
	X(MHD_get_daemon_info)               \
	X(MHD_lookup_connection_value)       \
	X(MHD_queue_response)                \
	X(MHD_start_daemon)                  \
	X(MHD_stop_daemon)

#define MHD_DECLARE(f) extern __typeof__(f) *mhd_##f;
MHD_FUNCTIONS(MHD_DECLARE)
#undef MHD_DECLARE

#define MHD_add_response_header (*mhd_MHD_add_response_header)
#define MHD_create_response_from_buffer (*mhd_MHD_create_response_from_buffer)
#define MHD_create_response_from_callback \
	(*mhd_MHD_create_response_from_callback)
#define MHD_destroy_response (*mhd_MHD_destroy_response)
#define MHD_get_connection_info (*mhd_MHD_get_connection_info)
#define MHD_get_daemon_info (*mhd_MHD_get_daemon_info)
#define MHD_lookup_connection_value (*mhd_MHD_lookup_connection_value)
#define MHD_queue_response (*mhd_MHD_queue_response)
#define MHD_start_daemon (*mhd_MHD_start_daemon)
#define MHD_stop_daemon (*mhd_MHD_stop_daemon)

/*
 * Load libmicrohttpd.so.12 and every function above, once per process
 * (thread safe). 0, or -1 with the error printed (the library or a
 * function is missing: the libmicrohttpd12 package is not installed).
 */
int mhd_load(void);

#endif
