/*
 * rss.c — bench/bench.py's stopwatch: runs one command and prints its wall
 * time and its own peak resident memory.
 *
 *   build/bench-rss [-m] [-q] -- CMD [ARG]...
 *
 * prints one line on stdout:
 *
 *   wall_ns=N cpu_us=N maxrss_kib=N hwm_kib=N status=N
 *
 * wall_ns is fork to reap (clock_gettime MONOTONIC, no interpreter in the
 * way); cpu_us the command's user + system CPU time (all its threads: wall
 * minus this is waiting, for fsync or for a core). maxrss_kib is wait4's ru_maxrss, which on Linux also counts the
 * forked child's memory before exec (the kernel carries the old mm's high
 * water mark into the new image): from this tiny helper that is a few hundred
 * KiB, from Python's subprocess ~10 MiB, which is why bench.py no longer
 * measures from Python. With -m the child is traced (PTRACE_O_TRACEEXIT) and
 * hwm_kib is VmHWM of the process's own address space read from
 * /proc/PID/status at its exit: exactly the peak of the program itself
 * (threads share it). Without -m, hwm_kib=0. -q sends the command's stdout to
 * /dev/null (stdin and stderr are inherited). status is the exit status, or
 * 128 + the signal. The helper exits 0 when it could run the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* VmHWM of pid in KiB, or 0. */
static long vm_hwm(pid_t pid)
{
    char path[64], line[256];
    long kib = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
    fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    int trace = 0, quiet = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) { i++; break; }
        if (strcmp(argv[i], "-m") == 0) trace = 1;
        else if (strcmp(argv[i], "-q") == 0) quiet = 1;
        else { fprintf(stderr, "bench-rss: unknown option %s\n", argv[i]); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "usage: bench-rss [-m] [-q] -- CMD [ARG]...\n"); return 2; }

    long long t0 = mono_ns();
    pid_t pid = fork();
    if (pid < 0) { perror("bench-rss: fork"); return 1; }
    if (pid == 0) {
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) { dup2(fd, 1); close(fd); }
        }
        if (trace && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) _exit(126);
        execvp(argv[i], argv + i);
        fprintf(stderr, "bench-rss: %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    int st = 0, setup = 0;
    long hwm = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        if (wait4(pid, &st, 0, &ru) < 0) {
            if (errno == EINTR) continue;
            perror("bench-rss: wait4");
            return 1;
        }
        if (!WIFSTOPPED(st)) break;
        /* Traced: the exec stop, the exit stop, or a signal to pass on. */
        int sig = WSTOPSIG(st), pass = 0;
        if (sig == SIGTRAP && (st >> 16) == PTRACE_EVENT_EXIT) {
            hwm = vm_hwm(pid);
        } else if (sig == SIGTRAP && (st >> 16) == 0 && !setup) {
            setup = 1;
            ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
        } else {
            pass = sig;
        }
        ptrace(PTRACE_CONT, pid, NULL, (void *)(long)pass);
    }
    long long t1 = mono_ns();
    int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    printf("wall_ns=%lld cpu_us=%lld maxrss_kib=%ld hwm_kib=%ld status=%d\n", t1 - t0, cpu, ru.ru_maxrss, hwm, status);
    return 0;
}
