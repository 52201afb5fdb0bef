/*
 * sqlite_lock.c — the SQLite engine's run lock: an flock(2) on the database
 * file itself, so it needs no extra file and vanishes with the process even
 * on kill -9. See engine/engine.h (lock, unlock).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sqlite_pool.h"

typedef struct sq_lock {
    ds_lock base;
    int fd;
} sq_lock;

/* The descriptors of the locks this process holds, for the children that
 * must not keep them (sqlite_worker.c): a copy of the descriptor would hold
 * the flock after a kill -9 of the run. A process holds one lock, tests a
 * few. Changed only by the thread that runs dashspec's commands. */
#define MAX_HELD 16
static int held[MAX_HELD];
static int nheld;

void ds_sqlite_lock_drop_inherited(void)
{
    for (int i = 0; i < nheld; i++) close(held[i]);
    nheld = 0;
}

int ds_sqlite_lock(const char *path, ds_lock **out, ds_diag *d)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        ds_fail(d, DS_DBERROR, "cannot open database '%s': not a regular file (%s)", path,
                ds_sqlite_file_kind(st.st_mode));
        return -2;
    }
    /* O_NONBLOCK: a FIFO swapped in after ds_db_open's check must not hang here. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        ds_fail(d, DS_DBERROR, "cannot open database '%s': %s", path, strerror(errno));
        return -2;
    }
    int e = fstat(fd, &st) != 0 ? errno : 0;
    if (e || !S_ISREG(st.st_mode)) {
        close(fd);
        if (e) ds_fail(d, DS_DBERROR, "cannot open database '%s': %s", path, strerror(e));
        else ds_fail(d, DS_DBERROR, "cannot open database '%s': not a regular file (%s)", path,
                     ds_sqlite_file_kind(st.st_mode));
        return -2;
    }
    /* flock(2) locks are separate from the POSIX locks SQLite takes on the same
     * file, belong to this open file description only, and die with the process. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            ds_fail(d, DS_LOCKED, "another dashspec run holds '%s'", path);
            return -1;
        }
        ds_fail(d, DS_DBERROR, "cannot lock database '%s': %s", path, strerror(e));
        return -2;
    }
    sq_lock *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        ds_fail(d, DS_DBERROR, "out of memory");
        return -2;
    }
    l->base.eng = &ds_sqlite_engine;
    l->fd = fd;
    if (nheld < MAX_HELD) held[nheld++] = fd;
    *out = &l->base;
    return 0;
}

void ds_sqlite_unlock(ds_lock *base)
{
    sq_lock *l = (sq_lock *)base;
    if (!l) return;
    for (int i = 0; i < nheld; i++)
        if (held[i] == l->fd) { held[i] = held[--nheld]; break; }
    close(l->fd);
    free(l);
}
