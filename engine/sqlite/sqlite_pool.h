/*
 * sqlite_pool.h — internals of the SQLite engine's query workers (issue 12):
 * spec queries of `run` execute in worker processes that can be killed, so
 * an item's timeout is a hard wall and a memory bomb grows a worker, never
 * the writer. docs/architecture.md ("Where queries run") has the design.
 *
 *   sqlite_pool.c    the writer's side: a ds_exec that is a handle on one
 *                    worker (send the item, read the value with a deadline,
 *                    kill and replace), and the client of the spawner
 *   sqlite_worker.c  the other processes: the spawner (forked once, while
 *                    the writer is single-threaded, forks the workers) and
 *                    the worker's loop around the in-process executor
 *   sqlite_wire.c    what crosses the sockets: requests and replies
 */
#ifndef DS_SQLITE_POOL_H
#define DS_SQLITE_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sqlite_int.h"

/* ---------------------------------------------------------------- the wire */

/* A request: one item to run at `now` with the worker's busy timeout. It
 * travels as a 4-byte length and that many bytes (ds_wire_request). */
typedef struct ds_wire_req {
    ds_item item;           /* strings point into the request's bytes; params and y malloc'd */
    int64_t now;
    int64_t busy_ms;
} ds_wire_req;

/* A reply's head; `len` bytes follow: the JSON value (DS_WIRE_OK) or the
 * error message (DS_WIRE_ERR). The worker's hello is a reply too: OK with
 * no bytes, or ERR with the open's message and its ds_status in entries. */
enum { DS_WIRE_OK = 0, DS_WIRE_ERR = 1 };
#define DS_WIRE_HEAD 25     /* status (1), entries (8), duration_ms (8), len (8) */

typedef struct ds_wire_head {
    int status;
    int64_t entries;
    int64_t duration_ms;
    uint64_t len;
} ds_wire_head;

/* Appends the request for it at now to b (b is reset first). 0, or -1 on OOM. */
int ds_wire_request(ds_buf *b, const ds_item *it, int64_t now, int64_t busy_ms);
/* Decodes the n bytes after a request's length into r, pointing into p
 * (which must outlive r). 0, or -1 when malformed or out of memory. */
int ds_wire_request_decode(char *p, size_t n, ds_wire_req *r);
void ds_wire_request_free(ds_wire_req *r);      /* frees params and y only */
void ds_wire_head_encode(unsigned char out[DS_WIRE_HEAD], const ds_wire_head *h);
void ds_wire_head_decode(const unsigned char in[DS_WIRE_HEAD], ds_wire_head *h);

/* ---------------------------------------------------------------- the spawner */

/* Messages from the spawner to the writer, one datagram each (SEQPACKET). */
typedef struct ds_spawn_msg {
    char kind;              /* 'W': a new worker (its socket as SCM_RIGHTS); 'X': a worker ended */
    int err;                /* 'W' only: errno of a failed fork or socketpair, 0 ok */
    pid_t pid;
    int status;             /* 'X' only: as waitpid reports it */
} ds_spawn_msg;

/* In the child of the fork that creates the spawner: serves requests on fd
 * ("S" + the database path: fork a worker for it) until fd closes, then
 * kills and reaps its workers and exits. Never returns. writer: the pid of
 * the process that forked it (the spawner dies with it). */
void ds_sqlite_spawner_main(int fd, pid_t writer) __attribute__((noreturn));

/* Worker exit codes besides death by a signal. */
#define DS_WORKER_EXIT_OOM 3    /* could not even report "out of memory" */
#define DS_WORKER_EXIT_PROTO 4  /* the writer sent something malformed */

/* sqlite_exec.c, for the worker: the heap cap follows each item's own length
 * limit (base + one connection + 2 x the limit) instead of the largest in
 * use, and RLIMIT_AS follows it (as_base: the address space the worker had
 * before its first query, 0 = no RLIMIT_AS). */
void ds_sqlite_exec_private(int64_t as_base);
/* sqlite_worker.c: the address space this process uses now, in bytes (0
 * when /proc cannot say). */
int64_t ds_sqlite_address_space(void);

/* sqlite_lock.c: closes, in a child, the descriptors of run locks this
 * process holds, so a killed writer's lock dies with it and not with its
 * children. */
void ds_sqlite_lock_drop_inherited(void);

#endif
