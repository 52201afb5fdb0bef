/*
 * loadtest.c — `make loadtest`: dashspec under load, as the dashboard sees it.
 *
 * 1. Readers. A reader process runs the dashboard's one query,
 *    SELECT cache_value FROM dashboard_cache WHERE cache_key = ?,
 *    as fast as it can over every key, first with the database idle, then
 *    while the parent runs `dashspec run --force` 100 times in a row. Each
 *    value read must parse as JSON (a torn value would not). It reports
 *    reads, errors and latency percentiles; this is done for a
 *    rollback-journal and a WAL database, and in rollback mode for a sweep of
 *    reader busy timeouts, to show what a reader needs.
 * 2. Racing runs. Four `dashspec run` processes released at the same moment,
 *    50 rounds: exactly one works (exit 0), the three others exit 4.
 *
 * Exits 0 when there were no reader errors at the recommended busy timeout,
 * no torn values, every run succeeded, and every race had one winner.
 *
 * usage: loadtest --bin PATH [--runs N] [--rounds N] [--busy MS] [--dir DIR]
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bin;
static char dir[4096];

#define NOW "2026-02-12 10:00:00"

static const char schema[] =
    "CREATE TABLE sites (id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL, pad TEXT);"
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 20000)"
    " INSERT INTO sites SELECT n, CASE n % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'done' WHEN 2 THEN 'open' ELSE 'lost' END,"
    " datetime('2026-02-12 10:00:00', '-' || n || ' minutes'), printf('%050d', n) FROM c;";

static const char specs_yaml[] =
    "version: 1\n"
    "defaults: { ttl: 1h }\n"
    "metrics:\n"
    "  - key: total\n    shape: scalar\n    query: SELECT count(*) FROM sites\n"
    "  - key: by_status\n    shape: map\n    query: SELECT status, count(*) FROM sites GROUP BY status ORDER BY status\n"
    "  - key: latest\n    shape: row\n    query: SELECT max(id) AS id, max(created_at) AS at FROM sites\n"
    "  - key: recent\n    shape: rows\n"
    "    query: SELECT id, status, pad FROM sites WHERE created_at >= datetime(:now, '-500 minutes') ORDER BY id\n"
    "charts:\n"
    "  - key: hourly\n    shape: series\n    x: hour\n    y: n\n    series_by: status\n"
    "    query: |\n"
    "      SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, status, count(*) AS n FROM sites\n"
    "      WHERE created_at >= datetime(:now, '-48 hours') GROUP BY hour, status ORDER BY hour, status\n"
    "  - key: daily\n    shape: series\n    x: d\n    y: [n, ids]\n"
    "    query: SELECT date(created_at) AS d, count(*) AS n, sum(id) AS ids FROM sites GROUP BY d ORDER BY d\n";

static const char *const keys[] = {"total", "by_status", "latest", "recent", "hourly", "daily"};
#define NKEYS 6

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *fmt, const char *a)
{
    fprintf(stderr, "loadtest: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n");
    exit(2);
}

static void sql_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    if (sqlite3_open(db, &h) != SQLITE_OK || sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        die("sql: %s", sqlite3_errmsg(h));
    sqlite3_close(h);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Runs the binary with args; returns its exit code (128+signal if killed). */
static int run_bin(const char *const *args)
{
    const char *av[32];
    int k = 0;
    av[k++] = bin;
    for (; *args && k < 31; args++) av[k++] = *args;
    av[k] = NULL;
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        execv(bin, (char *const *)av);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---------------------------------------------------------------- the reader */

typedef struct stats {
    long reads, errors, torn, busy_errors;
    double p50, p90, p99, p999, max;    /* microseconds */
    char first_error[128];
} stats;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads until *stop, then fills out. */
static void reader(const char *db, int busy_ms, volatile int *stop, stats *out)
{
    sqlite3 *h = NULL;
    memset(out, 0, sizeof *out);
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("reader: %s", sqlite3_errmsg(h));
    sqlite3_busy_timeout(h, busy_ms);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT cache_value FROM dashboard_cache WHERE cache_key = ?", -1, &st, NULL) != SQLITE_OK)
        die("reader: %s", sqlite3_errmsg(h));
    size_t cap = 1 << 16, n = 0;
    int64_t *lat = malloc(cap * sizeof *lat);
    if (!lat) die("%s", "out of memory");
    for (long i = 0; !*stop; i++) {
        const char *key = keys[i % NKEYS];
        int64_t t0 = now_us();
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        int64_t t1 = now_us();
        if (rc == SQLITE_ROW) {
            /* parse the small values every time, the big ones now and then */
            int len = sqlite3_column_bytes(st, 0);
            if (len < 4096 || i % 50 == 0) {
                const char *v = (const char *)sqlite3_column_text(st, 0);
                cJSON *j = v ? cJSON_ParseWithLength(v, (size_t)len) : NULL;
                if (!j) out->torn++;
                cJSON_Delete(j);
            }
        } else if (rc != SQLITE_DONE) {
            out->errors++;
            if ((rc & 0xff) == SQLITE_BUSY) out->busy_errors++;
            if (!out->first_error[0]) snprintf(out->first_error, sizeof out->first_error, "%s", sqlite3_errmsg(h));
        }
        sqlite3_reset(st);
        out->reads++;
        if (n == cap) {
            int64_t *v = realloc(lat, (cap *= 2) * sizeof *lat);
            if (!v) die("%s", "out of memory");
            lat = v;
        }
        lat[n++] = t1 - t0;
    }
    qsort(lat, n, sizeof *lat, cmp_i64);
    if (n) {
        out->p50 = (double)lat[n / 2];
        out->p90 = (double)lat[n * 90 / 100];
        out->p99 = (double)lat[n * 99 / 100];
        out->p999 = (double)lat[n * 999 / 1000];
        out->max = (double)lat[n - 1];
    }
    free(lat);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* Shared between the parent and the reader process. */
typedef struct shared { volatile int stop; volatile int ready; stats s; } shared;

static pid_t start_reader(shared *sh, const char *db, int busy_ms)
{
    sh->stop = 0;
    sh->ready = 0;
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        sh->ready = 1;
        reader(db, busy_ms, &sh->stop, &sh->s);
        _exit(0);
    }
    while (!sh->ready) usleep(1000);
    return pid;
}

static void stop_reader(shared *sh, pid_t pid)
{
    sh->stop = 1;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
}

static void print_row(const char *mode, const char *phase, int busy_ms, const stats *s)
{
    printf("| %-8s | %-22s | %8d ms | %8ld | %6ld | %4ld | %8.0f | %8.0f | %9.0f | %9.0f |%s%s\n", mode, phase, busy_ms,
           s->reads, s->errors, s->torn, s->p50, s->p99, s->p999, s->max, s->first_error[0] ? " " : "",
           s->first_error);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    int runs = 100, rounds = 50, busy = 5000;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dashspec-loadtest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bin") && i + 1 < argc) bin = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--busy") && i + 1 < argc) busy = atoi(argv[++i]);
        else { fprintf(stderr, "usage: loadtest --bin PATH [--runs N] [--rounds N] [--busy MS]\n"); return 2; }
    }
    if (!bin) { fprintf(stderr, "usage: loadtest --bin PATH [--runs N] [--rounds N] [--busy MS]\n"); return 2; }
    if (!mkdtemp(dir)) die("mkdtemp: %s", strerror(errno));
    char db[4200], specs[4200], yaml[4300];
    snprintf(specs, sizeof specs, "%s/specs", dir);
    mkdir(specs, 0755);
    snprintf(yaml, sizeof yaml, "%s/specs/load.yaml", dir);
    write_file(yaml, specs_yaml);

    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap: %s", strerror(errno));
    int failures = 0;
    double worst_us = 0;

    printf("dashspec load test: %d forced runs under a reader, %d rounds of four racing runs\n\n", runs, rounds);
    printf("| journal  | phase                  | reader busy | reads    | errors | torn | p50 (us) | p99 (us) | p99.9 (us)| max (us)  |\n");
    printf("|----------|------------------------|-------------|----------|--------|------|----------|----------|-----------|-----------|\n");
    static const char *const modes[] = {"delete", "wal"};
    for (int m = 0; m < 2; m++) {
        snprintf(db, sizeof db, "%s/load-%s.db", dir, modes[m]);
        sql_exec(db, schema);
        if (m == 1) sql_exec(db, "PRAGMA journal_mode = WAL;");
        if (run_bin((const char *const[]){"run", "--db", db, "--specs", specs, "--now", NOW, "--quiet", NULL}) != 0)
            die("the first run on %s failed", db);

        /* idle: nothing writes */
        pid_t r = start_reader(sh, db, busy);
        usleep(2000000);
        stop_reader(sh, r);
        print_row(modes[m], "idle", busy, &sh->s);
        failures += sh->s.errors > 0 || sh->s.torn > 0;

        /* under load: the runs one after another */
        r = start_reader(sh, db, busy);
        int bad_runs = 0;
        for (int i = 0; i < runs; i++)
            bad_runs += run_bin((const char *const[]){"run", "--db", db, "--now", NOW, "--force", "--quiet", NULL}) != 0;
        stop_reader(sh, r);
        char phase[64];
        snprintf(phase, sizeof phase, "%d forced runs", runs);
        print_row(modes[m], phase, busy, &sh->s);
        if (sh->s.max > worst_us) worst_us = sh->s.max;
        failures += sh->s.errors > 0 || sh->s.torn > 0 || bad_runs > 0;
        if (bad_runs) printf("  %d of the runs did not exit 0\n", bad_runs);

        /* what a reader needs: the same load with shorter busy timeouts */
        if (m == 0) {
            static const int sweep[] = {0, 10, 100, 1000};
            for (int k = 0; k < 4; k++) {
                r = start_reader(sh, db, sweep[k]);
                for (int i = 0; i < runs / 4; i++)
                    run_bin((const char *const[]){"run", "--db", db, "--now", NOW, "--force", "--quiet", NULL});
                stop_reader(sh, r);
                snprintf(phase, sizeof phase, "%d forced runs", runs / 4);
                print_row(modes[m], phase, sweep[k], &sh->s);
            }
        }
    }
    printf("\nworst reader latency while runs committed: %.1f ms (a reader's busy timeout must exceed it;\n"
           "dashspec's own readers use 5000 ms)\n\n", worst_us / 1000.0);

    /* racing runs: a slow item keeps the winner busy while the others start */
    snprintf(db, sizeof db, "%s/race.db", dir);
    sql_exec(db, schema);
    char rspecs[4200], ryaml[4300];
    snprintf(rspecs, sizeof rspecs, "%s/rspecs", dir);
    mkdir(rspecs, 0755);
    snprintf(ryaml, sizeof ryaml, "%s/rspecs/r.yaml", dir);
    write_file(ryaml, "version: 1\ndefaults: { ttl: 1h }\nmetrics:\n"
                      "  - key: slow\n    shape: scalar\n    query: |\n"
                      "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1500000) SELECT count(*) FROM c\n");
    if (run_bin((const char *const[]){"compile", "--db", db, "--specs", rspecs, NULL}) != 0) die("compile %s failed", db);
    int good_rounds = 0, codes[256] = {0};
    for (int i = 0; i < rounds; i++) {
        int gate[2];
        if (pipe(gate) != 0) die("pipe: %s", strerror(errno));
        pid_t pids[4];
        for (int k = 0; k < 4; k++) {
            if ((pids[k] = fork()) < 0) die("fork: %s", strerror(errno));
            if (pids[k] == 0) {
                close(gate[1]);
                char c;
                while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
                int fd = open("/dev/null", O_RDWR);
                dup2(fd, 1);
                dup2(fd, 2);
                execl(bin, bin, "run", "--db", db, "--now", NOW, "--force", "--quiet", (char *)NULL);
                _exit(127);
            }
        }
        close(gate[0]);
        close(gate[1]);
        int zero = 0, four = 0;
        for (int k = 0; k < 4; k++) {
            int st;
            while (waitpid(pids[k], &st, 0) < 0 && errno == EINTR) {}
            int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            codes[code & 0xff]++;
            zero += code == 0;
            four += code == 4;
        }
        good_rounds += zero == 1 && four == 3;
    }
    printf("racing runs: %d of %d rounds had exactly one run working (exit 0) and three exiting 4", good_rounds, rounds);
    printf(" (exit codes:");
    for (int c = 0; c < 256; c++)
        if (codes[c]) printf(" %d x%d", c, codes[c]);
    printf(")\n");
    failures += good_rounds != rounds;

    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "loadtest: could not remove %s\n", dir);
    printf("\n%s\n", failures ? "FAILED" : "ok: no reader errors, no torn values, one run at a time");
    return failures ? 1 : 0;
}
