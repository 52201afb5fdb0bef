/*
 * pg_dl.h — libpq, loaded at first use with dlopen instead of linked.
 *
 * Why: linking libpq makes every dashspec process load it and the twenty
 * libraries behind it (TLS, Kerberos, LDAP) at start: measured 26 ms for
 * `dashspec --version` against 10 ms for `sqlite3 --version` on the shared
 * 2-core machine, paid by every cron tick on SQLite that never meets a
 * PostgreSQL target (a no-op run was 3.6 ms before libpq). Now only a process
 * that connects to PostgreSQL loads it.
 *
 * Every PQ* call of engine/postgres/ goes through the table below: the macros
 * after it turn `PQexec(c, sql)` into a call through ds_pq_api()->PQexec.
 * ds_pq_available() tries the load once (thread-safe) and says whether it
 * worked; ds_pg_connect checks it first, so no PQ* call is reached without
 * libpq (ds_pq_api() aborts if one is: a bug, not a user error).
 * Keep DS_PQ_FUNCS in step with the PQ* functions engine/postgres/ calls:
 * a missing one fails the build (the macro would not exist, the link would
 * find no PQ* symbol since libpq is not linked).
 */
#ifndef DS_PG_DL_H
#define DS_PG_DL_H

#include <libpq-fe.h>

#define DS_PQ_FUNCS(X)                                                          \
    X(PQclear) X(PQexec) X(PQresultStatus) X(PQntuples) X(PQgetvalue)           \
    X(PQresultErrorField) X(PQgetisnull) X(PQtransactionStatus) X(PQstatus)     \
    X(PQexecParams) X(PQsendQueryParams) X(PQgetResult) X(PQpass) X(PQfinish)   \
    X(PQresultErrorMessage) X(PQprepare) X(PQnfields) X(PQgetlength) X(PQftype) \
    X(PQfname) X(PQerrorMessage) X(PQdescribePrepared) X(PQconnectdbParams)     \
    X(PQcmdTuples) X(PQcancel) X(PQsetSingleRowMode) X(PQsetNoticeProcessor)    \
    X(PQreset) X(PQpipelineSync) X(PQpipelineStatus) X(PQgetCancel)             \
    X(PQfreeCancel) X(PQexitPipelineMode) X(PQenterPipelineMode)                \
    X(PQconninfoFree) X(PQconndefaults) X(PQconnectdb) X(PQfformat)             \
    X(PQsendQuery) X(PQconsumeInput) X(PQisBusy) X(PQsocket) X(PQflush)

typedef struct ds_pq_table {
#define DS_PQ_FIELD(f) __typeof__(&f) f;
    DS_PQ_FUNCS(DS_PQ_FIELD)
#undef DS_PQ_FIELD
} ds_pq_table;

/* 1 when libpq is loaded (loading it on the first call), else 0 with the
 * reason in *why (a static string; may be NULL). Thread-safe. */
int ds_pq_available(const char **why);
/* The loaded table; aborts when libpq could not be loaded (callers check
 * ds_pq_available before their first connection). */
const ds_pq_table *ds_pq_api(void);

#ifndef DS_PQ_DEFINE_TABLE
#define PQclear (ds_pq_api()->PQclear)
#define PQexec (ds_pq_api()->PQexec)
#define PQresultStatus (ds_pq_api()->PQresultStatus)
#define PQntuples (ds_pq_api()->PQntuples)
#define PQgetvalue (ds_pq_api()->PQgetvalue)
#define PQresultErrorField (ds_pq_api()->PQresultErrorField)
#define PQgetisnull (ds_pq_api()->PQgetisnull)
#define PQtransactionStatus (ds_pq_api()->PQtransactionStatus)
#define PQstatus (ds_pq_api()->PQstatus)
#define PQexecParams (ds_pq_api()->PQexecParams)
#define PQsendQueryParams (ds_pq_api()->PQsendQueryParams)
#define PQgetResult (ds_pq_api()->PQgetResult)
#define PQpass (ds_pq_api()->PQpass)
#define PQfinish (ds_pq_api()->PQfinish)
#define PQresultErrorMessage (ds_pq_api()->PQresultErrorMessage)
#define PQprepare (ds_pq_api()->PQprepare)
#define PQnfields (ds_pq_api()->PQnfields)
#define PQgetlength (ds_pq_api()->PQgetlength)
#define PQftype (ds_pq_api()->PQftype)
#define PQfname (ds_pq_api()->PQfname)
#define PQerrorMessage (ds_pq_api()->PQerrorMessage)
#define PQdescribePrepared (ds_pq_api()->PQdescribePrepared)
#define PQconnectdbParams (ds_pq_api()->PQconnectdbParams)
#define PQcmdTuples (ds_pq_api()->PQcmdTuples)
#define PQcancel (ds_pq_api()->PQcancel)
#define PQsetSingleRowMode (ds_pq_api()->PQsetSingleRowMode)
#define PQsetNoticeProcessor (ds_pq_api()->PQsetNoticeProcessor)
#define PQreset (ds_pq_api()->PQreset)
#define PQpipelineSync (ds_pq_api()->PQpipelineSync)
#define PQpipelineStatus (ds_pq_api()->PQpipelineStatus)
#define PQgetCancel (ds_pq_api()->PQgetCancel)
#define PQfreeCancel (ds_pq_api()->PQfreeCancel)
#define PQexitPipelineMode (ds_pq_api()->PQexitPipelineMode)
#define PQenterPipelineMode (ds_pq_api()->PQenterPipelineMode)
#define PQconninfoFree (ds_pq_api()->PQconninfoFree)
#define PQconndefaults (ds_pq_api()->PQconndefaults)
#define PQconnectdb (ds_pq_api()->PQconnectdb)
#define PQfformat (ds_pq_api()->PQfformat)
#define PQsendQuery (ds_pq_api()->PQsendQuery)
#define PQconsumeInput (ds_pq_api()->PQconsumeInput)
#define PQisBusy (ds_pq_api()->PQisBusy)
#define PQsocket (ds_pq_api()->PQsocket)
#define PQflush (ds_pq_api()->PQflush)
#endif

#endif
