/*
 * sqlite_worker.c — the processes that run spec queries for `run` (issue 12;
 * the writer's side is sqlite_pool.c, the design docs/architecture.md,
 * "Where queries run").
 *
 * The spawner. Forking a process that then uses SQLite or malloc is only
 * safe from a single-threaded process (another thread could hold a SQLite
 * mutex at the fork instant, and the child would wait on it forever), and
 * the writer runs --jobs threads. So the writer forks one spawner, once,
 * while it is still single-threaded (the first isolated source_open, before
 * the scheduler starts its threads, with no SQLite lock held), and every
 * worker, the first ones and the replacements of killed ones, is forked by
 * that spawner, which never runs anything but this loop. Its socket to the
 * writer carries requests ("S" + path: a worker for that database; "K" +
 * pid: kill that worker) and messages back ('W': a new worker, its socket
 * passed with SCM_RIGHTS; 'X': a worker ended, with its wait status, so the
 * writer can say "query worker died (signal 9)"). Killing goes through the
 * spawner because only a parent can signal a child without racing against
 * the reuse of its pid.
 *
 * The worker opens its own read-only connection (it never touches the
 * connections it inherited: they are idle, and it leaves them as they are
 * and _exits at the end), answers a hello, then loops: read an item, run it
 * with the in-process executor (sqlite_exec.c: statement cache, authorizer,
 * progress handler, length limit, heap cap), send the shaped value back.
 *
 * Both die with their parent (PR_SET_PDEATHSIG), ignore SIGINT/SIGTERM/
 * SIGHUP (the writer decides what a signal means for the items in flight),
 * drop the run lock's descriptor (so a killed writer's lock dies with it),
 * dump no core, and never write to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sqlite_pool.h"

/* ---------------------------------------------------------------- both */

/* Dies with parent (the process that forked this one); 0, or -1 when the
 * parent is gone already. */
static int tie_to(pid_t parent, const char *name)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return -1;
    prctl(PR_SET_NAME, name);
    return 0;
}

/* The writer's signal handling undone: the run's SIGINT/SIGTERM handlers and
 * its SIGALRM backstop are not this process's business. */
static void child_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* 1 read, 0 end of file before the first byte, -1 error or a short read. */
static int read_all(int fd, void *p, size_t n)
{
    char *s = p;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, s + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k == 0 && got == 0) return 0;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 1;
}

/* ---------------------------------------------------------------- the worker */

/* Sends one reply: head and bytes, in one call when the socket takes them
 * (one wakeup of the writer, not two). -1 when the writer is gone. */
static int reply(int fd, int status, int64_t entries, int64_t ms, const char *p, size_t n)
{
    ds_wire_head h = {status, entries, ms, n};
    unsigned char head[DS_WIRE_HEAD];
    ds_wire_head_encode(head, &h);
    struct iovec v[2] = {{head, sizeof head}, {(void *)p, n}};
    ssize_t k;
    while ((k = writev(fd, v, n ? 2 : 1)) < 0 && errno == EINTR) {}
    if (k < 0) return -1;
    if ((size_t)k < sizeof head)
        return write_all(fd, head + k, sizeof head - (size_t)k) || (n && write_all(fd, p, n)) ? -1 : 0;
    size_t done = (size_t)k - sizeof head;
    return done < n ? write_all(fd, p + done, n - done) : 0;
}

int64_t ds_sqlite_address_space(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f) return 0;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    long ps = sysconf(_SC_PAGESIZE);
    return ok && ps > 0 ? (int64_t)pages * ps : 0;
}

/* Reads and runs items until the writer closes the socket. */
static void serve(int fd, ds_exec *x)
{
    char *buf = NULL;
    size_t cap = 0;
    int64_t busy = -1;
    for (;;) {
        uint32_t len;
        int r = read_all(fd, &len, sizeof len);
        if (r == 0) break;
        if (r < 0) _exit(DS_WORKER_EXIT_PROTO);
        if ((size_t)len + 1 > cap) {
            free(buf);
            cap = (size_t)len + 1;
            if (!(buf = malloc(cap))) _exit(DS_WORKER_EXIT_OOM);
        }
        if (read_all(fd, buf, len) != 1) _exit(DS_WORKER_EXIT_PROTO);
        ds_wire_req q;
        if (ds_wire_request_decode(buf, len, &q)) _exit(DS_WORKER_EXIT_PROTO);
        if (q.busy_ms != busy) ds_sqlite_source_busy_timeout(x, busy = q.busy_ms);
        ds_result res;
        char *err = NULL;
        int rc = ds_sqlite_exec_item(x, &q.item, q.now, &res, &err);
        ds_wire_request_free(&q);
        const char *msg = err ? err : "out of memory";
        int w = rc == 0 ? reply(fd, DS_WIRE_OK, res.entries, res.duration_ms, res.json, res.len)
                        : reply(fd, DS_WIRE_ERR, 0, res.duration_ms, msg, strlen(msg));
        ds_result_free(&res);
        free(err);
        if (w) break;
    }
    free(buf);
}

/* A worker for path on socket fd: hello, then items. Never returns. */
static void worker_main(int fd, const char *path, pid_t spawner) __attribute__((noreturn));
static void worker_main(int fd, const char *path, pid_t spawner)
{
    if (tie_to(spawner, "dashspec-query")) _exit(0);
    child_signals();
    ds_sqlite_exec_private(ds_sqlite_address_space());
    ds_diag d;
    ds_diag_init(&d);
    ds_exec *x = ds_sqlite_source_open(path, &d);
    if (!x) {
        const char *m = d.n && d.v[0].msg ? d.v[0].msg : "cannot open the database";
        reply(fd, DS_WIRE_ERR, d.status ? d.status : DS_DBERROR, 0, m, strlen(m));
        _exit(0);
    }
    ds_diag_free(&d);
    if (reply(fd, DS_WIRE_OK, 0, 0, NULL, 0) == 0) serve(fd, x);
    /* Its own connection only: the inherited ones stay as they are. */
    ds_sqlite_source_close(x);
    _exit(0);
}

/* ---------------------------------------------------------------- the spawner */

static volatile sig_atomic_t got_chld;

static void on_chld(int sig)
{
    (void)sig;
    got_chld = 1;
}

/* The workers this spawner forked and has not reaped. */
static pid_t *kids;
static size_t nkids, kids_cap;

/* Reaps ended workers and tells the writer. A message the writer's buffer
 * has no room for is dropped: it then learns only that the worker died. */
static void reap(int fd)
{
    int st;
    pid_t p;
    got_chld = 0;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        for (size_t i = 0; i < nkids; i++)
            if (kids[i] == p) { kids[i] = kids[--nkids]; break; }
        ds_spawn_msg m = {.kind = 'X', .pid = p, .status = st};
        send(fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
}

/* Forks a worker for path and hands the writer its socket. */
static void spawn(int fd, const char *path)
{
    ds_spawn_msg m = {.kind = 'W'};
    int sv[2] = {-1, -1};
    if (nkids == kids_cap) {
        size_t nc = kids_cap ? 2 * kids_cap : 16;
        pid_t *v = realloc(kids, nc * sizeof *v);
        if (!v) { m.err = ENOMEM; goto tell; }
        kids = v;
        kids_cap = nc;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) { m.err = errno; goto tell; }
    pid_t me = getpid(), pid = fork();
    if (pid == 0) {
        close(fd);
        close(sv[0]);
        worker_main(sv[1], path, me);
    }
    close(sv[1]);
    if (pid < 0) {
        m.err = errno;
        close(sv[0]);
        sv[0] = -1;
        goto tell;
    }
    kids[nkids++] = pid;
    m.pid = pid;
tell:;
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec io = {&m, sizeof m};
    struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1};
    if (sv[0] >= 0) {
        memset(ctl, 0, sizeof ctl);
        mh.msg_control = ctl;
        mh.msg_controllen = sizeof ctl;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &sv[0], sizeof(int));
    }
    while (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
    if (sv[0] >= 0) close(sv[0]);
}

/* A kill the writer asked for: only a worker not reaped yet, so never a
 * process that reused an ended worker's pid. */
static void kill_kid(pid_t pid)
{
    for (size_t i = 0; i < nkids; i++)
        if (kids[i] == pid) { kill(pid, SIGKILL); return; }
}

void ds_sqlite_spawner_main(int fd, pid_t writer)
{
    if (tie_to(writer, "dashspec-spawn")) _exit(0);
    child_signals();
    ds_sqlite_lock_drop_inherited();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (null > 2) close(null);
    }
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);          /* workers inherit it: no core of a 2 GiB query */
    /* SIGCHLD is blocked except inside ppoll, so none is missed between a
     * reap and the next wait. */
    sigset_t chld, waiting;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &waiting);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    char buf[PATH_MAX + 2];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = ppoll(&p, 1, NULL, &waiting);
        reap(fd);
        if (r <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;                          /* the writer closed: the end */
        buf[n] = '\0';
        if (buf[0] == 'S' && n > 1) {
            spawn(fd, buf + 1);
        } else if (buf[0] == 'K' && n == 1 + (ssize_t)sizeof(pid_t)) {
            pid_t pid;
            memcpy(&pid, buf + 1, sizeof pid);
            kill_kid(pid);
        }
    }
    /* No worker outlives the spawner: the writer's waitpid on it returns
     * when every one of them is gone. */
    for (size_t i = 0; i < nkids; i++) kill(kids[i], SIGKILL);
    for (;;) {
        pid_t p = waitpid(-1, NULL, 0);
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) break;
    }
    _exit(0);
}
