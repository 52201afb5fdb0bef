/*
 * sqlite_pool.c — the writer's side of the SQLite engine's query workers
 * (issue 12; the workers and the spawner are sqlite_worker.c, the design
 * docs/architecture.md, "Where queries run").
 *
 * An isolated source (engine.h source_open_isolated, which `run` uses) is a
 * handle on one worker process: exec_item sends the item over the worker's
 * socket and reads the shaped value back, waiting with poll against a
 * deadline, the item's timeout plus DS_KILL_GRACE_MS. The worker enforces
 * the timeout itself first (its progress handler, as in-process); past the
 * deadline — a single SQL function call that runs for a minute — the worker
 * is killed and the item fails with "query timed out after Ns". A worker
 * that dies (killed from outside, a crash) fails only its item, with its
 * wait status in the message. Either way the handle forgets the worker and
 * the next item gets a new one. The scheduler's cancel flags (a signal, a
 * preemption) kill the worker too: "interrupted".
 *
 * Workers start lazily: a run with nothing due opens no source and forks
 * nothing. Every worker comes from the spawner, a process forked once per
 * process at the first open (single-threaded then: ds_run opens its sources
 * before its threads start), so replacing a worker never forks a
 * multi-threaded process. The spawner lives while any isolated source is
 * open; closing the last one ends it and every worker with it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "sqlite_pool.h"

/* A worker still busy this long after its item's timeout is killed: its
 * own progress handler ends ordinary queries at the timeout, so only a
 * single long function call gets here. */
#define DS_KILL_GRACE_MS 200
/* How often a wait looks at the cancel flags (set by another thread). */
#define SLICE_MS 20
/* The longest wait for a killed worker's exit status, and for a new worker. */
#define REAP_MS 5000
#define HELLO_MS 120000

typedef struct sq_iso {
    ds_exec base;                       /* base.eng == &ds_sqlite_engine */
    int isolated;                       /* 1: sqlite_int.h sq_source */
    char *path;
    pid_t pid;                          /* the worker, 0 none */
    int fd;                             /* its socket, -1 none */
    int64_t busy_ms;
    const volatile sig_atomic_t *cancel_sig;
    const atomic_int *cancel_flag;
    ds_buf req;                         /* the request being sent, reused */
} sq_iso;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- the spawner's client */

static pthread_mutex_t sp_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t sp_pid;                    /* 0: none */
static int sp_fd = -1;
static int sp_refs;                     /* isolated sources open */
/* Exit statuses of workers, reported by the spawner, not asked for yet. */
#define NDEAD 64
static struct { pid_t pid; int status; } sp_dead[NDEAD];
static size_t sp_ndead;

/* Starts the spawner (sp_mu held). Forks: the caller must be the only thread
 * using SQLite. 0, or -1 with *e. */
static int sp_start(char **e)
{
    if (sp_fd >= 0) return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        *e = ds_asprintf("cannot start query workers: %s", strerror(errno));
        return -1;
    }
    pid_t me = getpid(), pid = fork();
    if (pid == 0) {
        close(sv[0]);
        ds_sqlite_spawner_main(sv[1], me);
    }
    close(sv[1]);
    if (pid < 0) {
        *e = ds_asprintf("cannot start query workers: %s", strerror(errno));
        close(sv[0]);
        return -1;
    }
    sp_pid = pid;
    sp_fd = sv[0];
    sp_ndead = 0;
    return 0;
}

/* Ends the spawner (sp_mu held): it kills and reaps its workers first. */
static void sp_stop(void)
{
    if (sp_fd >= 0) close(sp_fd);
    sp_fd = -1;
    if (sp_pid > 0)
        while (waitpid(sp_pid, NULL, 0) < 0 && errno == EINTR) {}
    sp_pid = 0;
    sp_ndead = 0;
}

/* The spawner stopped answering (killed from outside): forget it; the next
 * source_open (single-threaded again) starts a new one. sp_mu held. */
static void sp_lost(void)
{
    if (sp_pid > 0) kill(sp_pid, SIGKILL);
    sp_stop();
}

static void sp_note_dead(pid_t pid, int status)
{
    if (sp_ndead == NDEAD) {
        memmove(&sp_dead[0], &sp_dead[1], (NDEAD - 1) * sizeof sp_dead[0]);
        sp_ndead--;
    }
    sp_dead[sp_ndead].pid = pid;
    sp_dead[sp_ndead].status = status;
    sp_ndead++;
}

/* Takes pid's status from what the spawner reported. 1 found, 0 not yet. */
static int sp_take_dead(pid_t pid, int *status)
{
    for (size_t i = 0; i < sp_ndead; i++) {
        if (sp_dead[i].pid != pid) continue;
        *status = sp_dead[i].status;
        memmove(&sp_dead[i], &sp_dead[i + 1], (sp_ndead - i - 1) * sizeof sp_dead[0]);
        sp_ndead--;
        return 1;
    }
    return 0;
}

/* One message from the spawner (sp_mu held), waiting until deadline (mono
 * ms). 'X' messages are noted on the way. 1 with *m (and *fd for 'W': -1
 * when none came), 0 on timeout, -1 when the spawner is gone. */
static int sp_recv(ds_spawn_msg *m, int *fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) return 0;
        struct pollfd p = {sp_fd, POLLIN, 0};
        int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char ctl[CMSG_SPACE(sizeof(int))];
        struct iovec io = {m, sizeof *m};
        struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
        ssize_t n = recvmsg(sp_fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n != (ssize_t)sizeof *m) return -1;
        *fd = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(c), sizeof(int));
        if (m->kind == 'X') sp_note_dead(m->pid, m->status);
        return 1;
    }
}

/* A new worker for path: its pid and socket. 0, or -1 with *e. */
static int sp_spawn(const char *path, pid_t *pid, int *fd, char **e)
{
    pthread_mutex_lock(&sp_mu);
    int rc = -1;
    size_t n = strlen(path);
    char *msg = malloc(n + 1);
    if (!msg) { *e = ds_strdup("out of memory"); goto out; }
    msg[0] = 'S';
    memcpy(msg + 1, path, n);
    ssize_t w = sp_fd < 0 ? -1 : send(sp_fd, msg, n + 1, MSG_NOSIGNAL);
    free(msg);
    if (w != (ssize_t)(n + 1)) {
        if (sp_fd >= 0) sp_lost();
        *e = ds_strdup("cannot start a query worker: the spawner is gone");
        goto out;
    }
    int64_t deadline = mono_ms() + REAP_MS;
    for (;;) {
        ds_spawn_msg m;
        int r = sp_recv(&m, fd, deadline);
        if (r <= 0) {
            sp_lost();
            *e = ds_strdup("cannot start a query worker: the spawner does not answer");
            goto out;
        }
        if (m.kind != 'W') continue;
        if (m.err || *fd < 0) {
            if (*fd >= 0) close(*fd);
            *e = ds_asprintf("cannot start a query worker: %s", strerror(m.err ? m.err : EPROTO));
            goto out;
        }
        int ignored;
        sp_take_dead(m.pid, &ignored);      /* a stale status of an earlier process with this pid */
        *pid = m.pid;
        rc = 0;
        goto out;
    }
out:
    pthread_mutex_unlock(&sp_mu);
    return rc;
}

/* Kills worker pid (through the spawner: see sqlite_worker.c). */
static void sp_kill(pid_t pid)
{
    char msg[1 + sizeof pid];
    msg[0] = 'K';
    memcpy(msg + 1, &pid, sizeof pid);
    pthread_mutex_lock(&sp_mu);
    if (sp_fd >= 0) send(sp_fd, msg, sizeof msg, MSG_NOSIGNAL);
    pthread_mutex_unlock(&sp_mu);
}

/* Waits for worker pid's end. 1 with *status, 0 when it was not reported. */
static int sp_status(pid_t pid, int *status)
{
    pthread_mutex_lock(&sp_mu);
    int64_t deadline = mono_ms() + REAP_MS;
    int found;
    while (!(found = sp_take_dead(pid, status)) && sp_fd >= 0) {
        ds_spawn_msg m;
        int fd = -1;
        int r = sp_recv(&m, &fd, deadline);
        if (fd >= 0) close(fd);
        if (r <= 0) break;
    }
    pthread_mutex_unlock(&sp_mu);
    return found;
}

/* ---------------------------------------------------------------- one worker */

typedef enum io_result { IO_OK, IO_TIMEOUT, IO_CANCEL, IO_DIED } io_result;

static int cancelled(const sq_iso *x)
{
    return (x->cancel_sig && *x->cancel_sig) ||
           (x->cancel_flag && atomic_load_explicit(x->cancel_flag, memory_order_relaxed));
}

/* Waits until the worker's socket is ready for events, the deadline (mono
 * ms, 0 none) passes or a cancel flag is set. */
static io_result wait_for(const sq_iso *x, short events, int64_t deadline)
{
    for (;;) {
        if (cancelled(x)) return IO_CANCEL;
        int slice = SLICE_MS;
        if (deadline) {
            int64_t left = deadline - mono_ms();
            if (left <= 0) return IO_TIMEOUT;
            if (left < slice) slice = (int)left;
        }
        struct pollfd p = {x->fd, events, 0};
        int r = poll(&p, 1, slice);
        if (r > 0) return IO_OK;
        if (r < 0 && errno != EINTR) return IO_DIED;
    }
}

static io_result recv_all(const sq_iso *x, void *buf, size_t n, int64_t deadline)
{
    char *p = buf;
    while (n) {
        io_result w = wait_for(x, POLLIN, deadline);
        if (w != IO_OK) return w;
        ssize_t k = recv(x->fd, p, n, MSG_DONTWAIT);
        if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (k <= 0) return IO_DIED;
        p += k;
        n -= (size_t)k;
    }
    return IO_OK;
}

static io_result send_all(const sq_iso *x, const char *p, size_t n, int64_t deadline)
{
    while (n) {
        io_result w = wait_for(x, POLLOUT, deadline);
        if (w != IO_OK) return w;
        ssize_t k = send(x->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (k <= 0) return IO_DIED;
        p += k;
        n -= (size_t)k;
    }
    return IO_OK;
}

/* Reads a reply: head, then its bytes (at most max; malloc'd, NUL-ended). */
static io_result recv_reply(const sq_iso *x, ds_wire_head *h, char **body, uint64_t max, int64_t deadline)
{
    unsigned char head[DS_WIRE_HEAD];
    *body = NULL;
    io_result w = recv_all(x, head, sizeof head, deadline);
    if (w != IO_OK) return w;
    ds_wire_head_decode(head, h);
    if ((h->status != DS_WIRE_OK && h->status != DS_WIRE_ERR) || h->len > max) return IO_DIED;
    if (!(*body = malloc((size_t)h->len + 1))) return IO_DIED;
    w = recv_all(x, *body, (size_t)h->len, deadline);
    if (w != IO_OK) {
        free(*body);
        *body = NULL;
        return w;
    }
    (*body)[h->len] = '\0';
    return IO_OK;
}

/* Forgets the worker: killed first when it may still run, its exit status
 * into *status (1 known, 0 not). */
static int retire(sq_iso *x, int kill_it, int *status)
{
    int known = 0;
    if (x->pid > 0) {
        if (kill_it) sp_kill(x->pid);
        known = sp_status(x->pid, status);
    }
    if (x->fd >= 0) close(x->fd);
    x->fd = -1;
    x->pid = 0;
    return known;
}

/* What a worker's end says about its item. malloc'd (NULL on OOM). */
static char *death_message(int known, int st)
{
    if (!known) return ds_strdup("query worker died");
    if (WIFSIGNALED(st)) return ds_asprintf("query worker died (signal %d)", WTERMSIG(st));
    if (WIFEXITED(st) && WEXITSTATUS(st) == DS_WORKER_EXIT_OOM) return ds_strdup("out of memory (in the query worker)");
    return ds_asprintf("query worker died (exit %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A worker for x, waiting for its hello until deadline. 0, or -1 with *e and
 * *st (the ds_status the open failed with). */
static int start_worker(sq_iso *x, int64_t deadline, char **e, int *st)
{
    *st = DS_DBERROR;
    if (sp_spawn(x->path, &x->pid, &x->fd, e)) return -1;
    ds_wire_head h = {0, 0, 0, 0};
    char *body = NULL;
    io_result w = recv_reply(x, &h, &body, 1 << 20, deadline);
    if (w == IO_OK && h.status == DS_WIRE_OK) {
        free(body);
        return 0;
    }
    int status = 0, known = retire(x, w != IO_DIED || h.status != DS_WIRE_ERR, &status);
    if (w == IO_OK) {
        *e = body;                      /* the open's own message */
        body = NULL;
        if (h.entries > 0 && h.entries < 64) *st = (int)h.entries;
    } else if (w == IO_TIMEOUT) {
        *e = ds_strdup("the query worker did not start in time");
    } else if (w == IO_CANCEL) {
        *e = ds_strdup("interrupted");
    } else {
        *e = death_message(known, status);
    }
    free(body);
    return -1;
}

/* ---------------------------------------------------------------- the source */

ds_exec *ds_sqlite_pool_open(const char *path, ds_diag *d)
{
    char *e = NULL;
    pthread_mutex_lock(&sp_mu);
    int rc = sp_start(&e);
    if (rc == 0) sp_refs++;
    pthread_mutex_unlock(&sp_mu);
    if (rc) {
        ds_fail(d, DS_DBERROR, "%s", e ? e : "out of memory");
        free(e);
        return NULL;
    }
    sq_iso *x = calloc(1, sizeof *x);
    if (!x || !(x->path = ds_strdup(path))) {
        free(x);
        ds_fail(d, DS_DBERROR, "out of memory");
        ds_sqlite_pool_close(NULL);
        return NULL;
    }
    x->base.eng = &ds_sqlite_engine;
    x->isolated = 1;
    x->fd = -1;
    x->busy_ms = DS_BUSY_TIMEOUT_MS;
    ds_buf_init(&x->req);
    /* The first worker now, so that a database the workers cannot open
     * fails the run as the in-process open would (exit 5, its message). */
    int st;
    if (start_worker(x, mono_ms() + HELLO_MS, &e, &st)) {
        ds_fail(d, (ds_status)st, "%s", e ? e : "out of memory");
        free(e);
        ds_sqlite_pool_close(&x->base);
        return NULL;
    }
    return &x->base;
}

void ds_sqlite_pool_close(ds_exec *b)
{
    sq_iso *x = (sq_iso *)b;
    if (x) {
        /* An idle worker ends when its socket closes (the spawner reaps it). */
        if (x->fd >= 0) close(x->fd);
        ds_buf_free(&x->req);
        free(x->path);
        free(x);
    }
    pthread_mutex_lock(&sp_mu);
    if (--sp_refs == 0) sp_stop();
    pthread_mutex_unlock(&sp_mu);
}

void ds_sqlite_pool_busy_timeout(ds_exec *b, int64_t ms)
{
    ((sq_iso *)b)->busy_ms = ms < 0 ? 0 : ms;
}

void ds_sqlite_pool_cancel_on(ds_exec *b, const volatile sig_atomic_t *sig, const atomic_int *flag)
{
    sq_iso *x = (sq_iso *)b;
    x->cancel_sig = sig;
    x->cancel_flag = flag;
}

/* The largest reply a worker may send for it: its value is at most
 * max_bytes (clamped as the executor clamps it). */
static uint64_t reply_max(const ds_item *it)
{
    int64_t mb = it->max_bytes > 0 && it->max_bytes <= DS_MAX_BYTES_CEILING ? it->max_bytes : DS_MAX_BYTES_CEILING;
    return (uint64_t)mb + (1 << 20);
}

/* Sends it and reads the reply into out or *e. */
static io_result ask(sq_iso *x, const ds_item *it, int64_t now, int64_t deadline, ds_result *out, char **e)
{
    if (ds_wire_request(&x->req, it, now, x->busy_ms)) {
        *e = ds_strdup("out of memory");
        return IO_OK;
    }
    io_result w = send_all(x, x->req.p, x->req.len, deadline);
    if (w != IO_OK) return w;
    ds_wire_head h;
    char *body = NULL;
    if ((w = recv_reply(x, &h, &body, reply_max(it), deadline)) != IO_OK) return w;
    if (h.status == DS_WIRE_ERR) {
        *e = body;
        return IO_OK;
    }
    out->json = body;
    out->len = (size_t)h.len;
    out->entries = h.entries;
    return IO_OK;
}

int ds_sqlite_pool_exec(ds_exec *b, const ds_item *it, int64_t now, ds_result *out, char **err)
{
    sq_iso *x = (sq_iso *)b;
    int64_t t0 = mono_ms();
    char *e = NULL;
    memset(out, 0, sizeof *out);
    *err = NULL;
    /* The hard wall: the timeout (at most its ceiling, whatever the plan
     * row says) and a grace for the worker's own progress handler. */
    int64_t secs = it->timeout > 0 && it->timeout < DS_TIMEOUT_CEILING ? it->timeout : DS_TIMEOUT_CEILING;
    int64_t deadline = t0 + secs * 1000 + DS_KILL_GRACE_MS;
    /* An idle worker never speaks first: readable now means it died. */
    struct pollfd p = {x->fd, POLLIN, 0};
    int st, status;
    if (x->fd >= 0 && poll(&p, 1, 0) > 0) retire(x, 0, &status);
    io_result w = x->fd >= 0 || start_worker(x, deadline, &e, &st) == 0 ? ask(x, it, now, deadline, out, &e) : IO_OK;
    if (w == IO_TIMEOUT) {
        char buf[32];
        retire(x, 1, &status);
        e = ds_asprintf("query timed out after %s", ds_duration_format(secs, buf, sizeof buf));
    } else if (w == IO_CANCEL) {
        retire(x, 1, &status);
        e = ds_strdup("interrupted");
    } else if (w == IO_DIED) {
        int known = retire(x, 1, &status);
        e = death_message(known, status);
    }
    out->duration_ms = mono_ms() - t0;
    if (e || !out->json) {
        free(out->json);
        out->json = NULL;
        out->len = 0;
        out->entries = 0;
        *err = e ? e : ds_strdup("out of memory");
        return -1;
    }
    return 0;
}
