/*
 * dsfault.c — a fault injector for process tests, loaded into the dashspec
 * binary with LD_PRELOAD (built as $(BUILD)/fault/dsfault.so by mk/faults.mk).
 *
 * It interposes the allocator (malloc, calloc, realloc, free: SQLite, libyaml,
 * cJSON and dashspec all allocate through them) and the file I/O calls SQLite
 * uses (pread64, pwrite64, write, fdatasync, fsync, ftruncate64), and fails
 * the ones the environment asks for. Everything is off unless a variable is
 * set, so a preloaded but idle shim changes nothing.
 *
 *   DSF_ONLY=NAME          act only in a program of that name (argv[0]'s base
 *                          name): not in a wrapper that starts it (valgrind's
 *                          is a shell script)
 *   DSF_MALLOC_FAIL=N      the Nth allocation (1-based, counted from when the
 *                          shim was loaded) returns NULL with ENOMEM
 *   DSF_MALLOC_STICKY=1    ... and every allocation after it too
 *   DSF_REPORT=FILE        at exit, append one line to FILE:
 *                            allocs=A failed=F live=L leaked=K io=I iofailed=J
 *                          where leaked counts allocations still live at exit
 *                          whose caller is not the C library (stdio buffers
 *                          and the like are libc's and are not leaks); each
 *                          leaked block is listed on a following "leak" line
 *                          with its size and the calling function
 *   DSF_IO_PATH=S          I/O faults apply to files whose path contains S
 *   DSF_IO_OP=write|sync|read   which calls fail (default write)
 *   DSF_IO_AFTER=K         the first K matching calls succeed, the rest fail
 *   DSF_IO_ERRNO=ENOSPC|EIO     the error (default ENOSPC)
 *   DSF_IO_GROW=1          with op=write: only writes that extend a file
 *                          count and fail (a full disk still lets a program
 *                          overwrite blocks it already has)
 *
 * The leak check records the caller of every allocation in a table in
 * mmap'd memory (never malloc, which would recurse) and removes it on free.
 * Allocations are passed on to the next allocator in the search order: the
 * C library's, or AddressSanitizer's in a sanitized build (so ASan and LSan
 * still see every block), or valgrind's underneath the C library's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>


/* ---------------------------------------------------------------- configuration */

static int loaded;                  /* the constructor ran: count from here */
static long fail_at;                /* DSF_MALLOC_FAIL, 0 = never */
static int sticky;
static int tracking;                /* DSF_REPORT set */
static char report_path[4096];
static atomic_long nallocs, nfailed;

static char io_path[1024];
static enum { IO_WRITE, IO_SYNC, IO_READ } io_op;
static long io_after = -1;          /* -1 = no I/O faults */
static int io_errno = ENOSPC;
static int io_grow;
static atomic_long nio, niofailed;

/* ---------------------------------------------------------------- live-allocation table */

typedef struct rec { void *p; void *caller; size_t n; } rec;

#define TABLE_BITS 22               /* 4M slots, 96 MiB of address space, touched lazily */
#define TABLE_SIZE ((size_t)1 << TABLE_BITS)
static rec *table;
static size_t table_used;
static int table_full;
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> (64 - TABLE_BITS));
}

static void table_add(void *p, size_t n, void *caller)
{
    if (!table || !p) return;
    pthread_mutex_lock(&table_mu);
    if (table_used + 1 >= TABLE_SIZE / 2) {
        table_full = 1;             /* stop tracking rather than degrade */
    } else {
        size_t i = slot_of(p);
        while (table[i].p && table[i].p != p) i = (i + 1) & (TABLE_SIZE - 1);
        if (!table[i].p) table_used++;
        table[i] = (rec){p, caller, n};
    }
    pthread_mutex_unlock(&table_mu);
}

/* Linear probing with backward-shift deletion: no tombstones to pile up. */
static void table_del(void *p)
{
    if (!table || !p) return;
    pthread_mutex_lock(&table_mu);
    size_t i = slot_of(p);
    while (table[i].p && table[i].p != p) i = (i + 1) & (TABLE_SIZE - 1);
    if (table[i].p) {
        table_used--;
        size_t j = i;
        for (;;) {
            table[i].p = NULL;
            for (;;) {
                j = (j + 1) & (TABLE_SIZE - 1);
                if (!table[j].p) goto done;
                size_t k = slot_of(table[j].p);
                /* Move j back to i unless its home lies cyclically in (i, j]. */
                if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
                break;
            }
            table[i] = table[j];
            i = j;
        }
    }
done:
    pthread_mutex_unlock(&table_mu);
}

/* ---------------------------------------------------------------- allocator */

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int resolving;

/* dlsym itself may allocate: those few blocks come from here, never freed. */
static _Alignas(16) char boot[65536];
static size_t boot_used;

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof boot - boot_used) return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p;
}

static int in_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

static int resolve_alloc(void)
{
    if (next_malloc) return 1;
    if (resolving) return 0;
    resolving = 1;
    next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
    return next_malloc != NULL;
}

/* 1 once this thread runs code of the program: the main thread from the
 * constructor, a new thread from its start routine (start_tramp). What a
 * thread allocates before that is the thread library's or a sanitizer's
 * setup (ASan's thread start calls pthread_getattr_np, which allocates, and
 * aborts the process on its failure): not dashspec's, never failed, not
 * counted. initial-exec: reading it never allocates (malloc calls it). */
static __thread int thread_ready __attribute__((tls_model("initial-exec")));

static int fail_now(void)
{
    if (!thread_ready) return 0;
    if (!loaded || !fail_at) {
        if (loaded) atomic_fetch_add(&nallocs, 1);
        return 0;
    }
    long k = atomic_fetch_add(&nallocs, 1) + 1;
    if (k == fail_at || (sticky && k > fail_at)) {
        atomic_fetch_add(&nfailed, 1);
        return 1;
    }
    return 0;
}

void *malloc(size_t n)
{
    if (!resolve_alloc()) return boot_alloc(n);
    if (fail_now()) { errno = ENOMEM; return NULL; }
    void *p = next_malloc(n);
    if (tracking) table_add(p, n, __builtin_return_address(0));
    return p;
}

void *calloc(size_t n, size_t m)
{
    if (!resolve_alloc()) return m && n > SIZE_MAX / m ? NULL : boot_alloc(n * m);   /* zeroed: static */
    if (fail_now()) { errno = ENOMEM; return NULL; }
    void *p = next_calloc(n, m);
    if (tracking) table_add(p, n * m, __builtin_return_address(0));
    return p;
}

void *realloc(void *old, size_t n)
{
    if (!resolve_alloc() || in_boot(old)) {
        /* a boot block grows into a real one; its old size is unknown, so
         * copy what the boot area can hold past it */
        void *p = resolve_alloc() ? next_malloc(n) : boot_alloc(n);
        if (p && old) {
            size_t room = (size_t)(boot + sizeof boot - (char *)old);
            memcpy(p, old, n < room ? n : room);
        }
        return p;
    }
    if (old && n == 0) {            /* glibc: frees, returns NULL */
        if (tracking) table_del(old);
        return next_realloc(old, 0);
    }
    if (fail_now()) { errno = ENOMEM; return NULL; }
    void *p = next_realloc(old, n);
    if (tracking && p) {
        if (old) table_del(old);
        table_add(p, n, __builtin_return_address(0));
    }
    return p;
}

void free(void *p)
{
    if (!p || in_boot(p)) return;
    if (!resolve_alloc()) return;
    if (tracking) table_del(p);
    next_free(p);
}

/* ---------------------------------------------------------------- file I/O */

static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pread64)(int, void *, size_t, off_t);
static int (*real_fdatasync)(int);
static int (*real_fsync)(int);
static int (*real_ftruncate64)(int, off_t);

/* The next definition of a function we interpose (resolved on first use:
 * something may write before our constructor runs). */
static void *resolve(void **var, const char *name)
{
    if (!*var) *var = dlsym(RTLD_NEXT, name);
    return *var;
}
#define REAL(var, name) ((__typeof__(var))resolve((void **)&var, name))

/* Does fd name a file the I/O faults apply to? */
static int io_match(int fd)
{
    if (io_after < 0 || fd < 0) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = '\0';
    return strstr(path, io_path) != NULL;
}

/* Counts a matching call; 1 when it must fail. */
static int io_fail(int fd, int op, off_t off, size_t len)
{
    if (op != (int)io_op || !io_match(fd)) return 0;
    if (op == IO_WRITE && io_grow) {
        struct stat st;
        if (fstat(fd, &st) == 0) {
            off_t end = off >= 0 ? off : lseek(fd, 0, SEEK_CUR);
            if (end >= 0 && end + (off_t)len <= st.st_size) return 0;
        }
    }
    long k = atomic_fetch_add(&nio, 1) + 1;
    if (k <= io_after) return 0;
    atomic_fetch_add(&niofailed, 1);
    errno = io_errno;
    return 1;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    if (io_fail(fd, IO_WRITE, off, n)) return -1;
    return REAL(real_pwrite64, "pwrite64")(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite64(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    if (io_fail(fd, IO_WRITE, -1, n)) return -1;
    return REAL(real_write, "write")(fd, buf, n);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
    if (io_fail(fd, IO_READ, off, n)) return -1;
    return REAL(real_pread64, "pread64")(fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    return pread64(fd, buf, n, off);
}

int fdatasync(int fd)
{
    if (io_fail(fd, IO_SYNC, 0, 0)) return -1;
    return REAL(real_fdatasync, "fdatasync")(fd);
}

int fsync(int fd)
{
    if (io_fail(fd, IO_SYNC, 0, 0)) return -1;
    return REAL(real_fsync, "fsync")(fd);
}

int ftruncate64(int fd, off_t len)
{
    /* Growing a file by truncation is a write that extends it. */
    if (io_op == IO_WRITE) {
        struct stat st;
        if (fstat(fd, &st) == 0 && len > st.st_size && io_fail(fd, IO_WRITE, st.st_size, (size_t)(len - st.st_size)))
            return -1;
    }
    return REAL(real_ftruncate64, "ftruncate64")(fd, len);
}

int ftruncate(int fd, off_t len)
{
    return ftruncate64(fd, len);
}

/* ---------------------------------------------------------------- setup and report */

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : dflt;
}

/* pthread_create: the start routine runs behind start_tramp, which marks
 * the thread ready first (see thread_ready). */
typedef struct dsf_start { void *(*fn)(void *); void *arg; } dsf_start;

static void *start_tramp(void *p)
{
    dsf_start st = *(dsf_start *)p;
    next_free(p);
    thread_ready = 1;
    return st.fn(st.arg);
}

static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (!resolve_alloc()) return EAGAIN;
    dsf_start *st = next_malloc(sizeof *st);    /* the shim's own: never failed or tracked */
    if (!st) return EAGAIN;
    st->fn = fn;
    st->arg = arg;
    int rc = REAL(real_pthread_create, "pthread_create")(t, attr, start_tramp, st);
    if (rc) next_free(st);
    return rc;
}

/* In a forked child: no faults (see the constructor). */
static void dsf_child(void)
{
    fail_at = 0;
    io_after = -1;
}

__attribute__((constructor)) static void dsf_init(void)
{
    const char *only = getenv("DSF_ONLY");
    if (only && *only && strcmp(only, program_invocation_short_name) != 0) return;
    real_pwrite64 = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
    real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_pread64 = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread64");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_ftruncate64 = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate64");

    const char *s = getenv("DSF_REPORT");
    if (s && *s && strlen(s) < sizeof report_path) {
        strcpy(report_path, s);
        void *m = mmap(NULL, TABLE_SIZE * sizeof(rec), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m != MAP_FAILED) { table = m; tracking = 1; }
    }
    if ((s = getenv("DSF_IO_PATH")) && *s && strlen(s) < sizeof io_path) {
        strcpy(io_path, s);
        io_after = env_long("DSF_IO_AFTER", 0);
        const char *op = getenv("DSF_IO_OP");
        io_op = op && strcmp(op, "sync") == 0 ? IO_SYNC : op && strcmp(op, "read") == 0 ? IO_READ : IO_WRITE;
        const char *e = getenv("DSF_IO_ERRNO");
        io_errno = e && strcmp(e, "EIO") == 0 ? EIO : ENOSPC;
        io_grow = env_long("DSF_IO_GROW", 0) != 0;
    }
    thread_ready = 1;
    fail_at = env_long("DSF_MALLOC_FAIL", 0);
    sticky = env_long("DSF_MALLOC_STICKY", 0) != 0;
    /* Faults are the started process's: a forked child (run's query workers,
     * engine/sqlite/sqlite_worker.c) would otherwise fail its own Nth
     * allocation or read too, with a counter copied at the fork. */
    pthread_atfork(NULL, NULL, dsf_child);
    loaded = 1;
}

/* Is the code at addr part of the C library (or the dynamic loader)? */
static int in_libc(void *addr, const char **name)
{
    Dl_info di;
    *name = "?";
    if (!dladdr(addr, &di)) return 0;
    if (di.dli_sname) *name = di.dli_sname;
    const char *f = di.dli_fname ? di.dli_fname : "";
    const char *b = strrchr(f, '/');
    b = b ? b + 1 : f;
    return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "ld-linux", 8) == 0 ||
           strncmp(b, "libpthread", 10) == 0 || strncmp(b, "dsfault", 7) == 0;
}

__attribute__((destructor)) static void dsf_fini(void)
{
    if (!tracking) return;
    tracking = 0;
    loaded = 0;
    int fd = open(report_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    long live = 0, leaked = 0;
    char line[512];
    pthread_mutex_lock(&table_mu);
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (!table[i].p) continue;
        live++;
        const char *fn;
        if (!in_libc(table[i].caller, &fn)) leaked++;
    }
    int n = snprintf(line, sizeof line, "allocs=%ld failed=%ld live=%ld leaked=%ld io=%ld iofailed=%ld%s\n",
                     atomic_load(&nallocs), atomic_load(&nfailed), live, leaked, atomic_load(&nio),
                     atomic_load(&niofailed), table_full ? " table_full=1" : "");
    REAL(real_write, "write")(fd, line, (size_t)n);
    long shown = 0;
    for (size_t i = 0; i < TABLE_SIZE && shown < 20; i++) {
        if (!table[i].p) continue;
        const char *fn;
        if (in_libc(table[i].caller, &fn)) continue;
        Dl_info di;
        const char *obj = dladdr(table[i].caller, &di) && di.dli_fname ? di.dli_fname : "?";
        n = snprintf(line, sizeof line, "leak %zu bytes from %s (%s +%#lx)\n", table[i].n, fn, obj,
                     dladdr(table[i].caller, &di) ? (unsigned long)((char *)table[i].caller - (char *)di.dli_fbase) : 0UL);
        REAL(real_write, "write")(fd, line, (size_t)n);
        shown++;
    }
    pthread_mutex_unlock(&table_mu);
    close(fd);
}
