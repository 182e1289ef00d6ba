#ifndef STORE_PQ_H
#define STORE_PQ_H

/*
 * libpq, loaded at the first PostgreSQL connection (pq_load), not at
 * process start: libpq.so.5 brings some twenty shared objects (Kerberos,
 * LDAP, SASL, ...) that an SQLite command would load and relocate for
 * nothing. postgres.c includes this instead of <libpq-fe.h> and calls
 * the PQ* functions as usual: each name below stands for a pointer that
 * pq_load fills in with dlsym. A PQ* function not listed here fails to
 * link (the binary does not link libpq): add it to PQ_FUNCTIONS and to
 * the #defines.
 */
#include <libpq-fe.h>

#define PQ_FUNCTIONS(X)         \
	X(PQclear)              \
	X(PQcmdTuples)          \
	X(PQconnectdbParams)    \
	X(PQconsumeInput)       \
	X(PQerrorMessage)       \
	X(PQfinish)             \
	X(PQflush)              \
	X(PQfreemem)            \
	X(PQgetResult)          \
	X(PQgetisnull)          \
	X(PQgetlength)          \
	X(PQgetvalue)           \
	X(PQhost)               \
	X(PQisBusy)             \
	X(PQnfields)            \
	X(PQnotifies)           \
	X(PQntuples)            \
	X(PQport)               \
	X(PQresStatus)          \
	X(PQresultErrorMessage) \
	X(PQresultStatus)       \
	X(PQsendQuery)          \
	X(PQsendPrepare)        \
	X(PQsendQueryParams)    \
	X(PQsendQueryPrepared)  \
	X(PQsetNoticeProcessor) \
	X(PQsetnonblocking)     \
	X(PQsocket)             \
	X(PQstatus)

#define PQ_DECLARE(f) extern __typeof__(f) *pq_##f;
PQ_FUNCTIONS(PQ_DECLARE)
#undef PQ_DECLARE

#define PQclear (*pq_PQclear)
#define PQcmdTuples (*pq_PQcmdTuples)
#define PQconnectdbParams (*pq_PQconnectdbParams)
#define PQconsumeInput (*pq_PQconsumeInput)
#define PQerrorMessage (*pq_PQerrorMessage)
#define PQfinish (*pq_PQfinish)
#define PQflush (*pq_PQflush)
#define PQfreemem (*pq_PQfreemem)
#define PQgetResult (*pq_PQgetResult)
#define PQgetisnull (*pq_PQgetisnull)
#define PQgetlength (*pq_PQgetlength)
#define PQgetvalue (*pq_PQgetvalue)
#define PQhost (*pq_PQhost)
#define PQisBusy (*pq_PQisBusy)
#define PQnfields (*pq_PQnfields)
#define PQnotifies (*pq_PQnotifies)
#define PQntuples (*pq_PQntuples)
#define PQport (*pq_PQport)
#define PQresStatus (*pq_PQresStatus)
#define PQresultErrorMessage (*pq_PQresultErrorMessage)
#define PQresultStatus (*pq_PQresultStatus)
#define PQsendQuery (*pq_PQsendQuery)
#define PQsendPrepare (*pq_PQsendPrepare)
#define PQsendQueryParams (*pq_PQsendQueryParams)
#define PQsendQueryPrepared (*pq_PQsendQueryPrepared)
#define PQsetNoticeProcessor (*pq_PQsetNoticeProcessor)
#define PQsetnonblocking (*pq_PQsetnonblocking)
#define PQsocket (*pq_PQsocket)
#define PQstatus (*pq_PQstatus)

/*
 * Load libpq.so.5 and every function above, once per process (thread
 * safe). 0, or -1 with the error printed (the library or a function is
 * missing: the libpq5 package is not installed).
 */
int pq_load(void);

#endif
