/*
 * A paced exec load, for what the recorder's exec identities cost (bench/recorder-exec.sh): RATE new processes
 * per second for SECONDS seconds, each a posix_spawn of /bin/true with a short argument list, waited for before
 * the next is due (one at a time: the kernel's work at exec, where perf copies the new stack, lands in the child).
 * Prints: spawned, the children's CPU (utime+stime, µs, from RUSAGE_CHILDREN) and the median spawn-to-exit time (µs).
 * Bounded in count and time.  Build: cc -O2 -o spawn spawn.c     Run: ./spawn RATE SECONDS
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int by_value(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: spawn RATE SECONDS\n"); return 2; }
    double rate = atof(argv[1]), seconds = atof(argv[2]);
    long total = (long)(rate * seconds), spawned = 0;
    if (total <= 0 || total > 1000000) { fprintf(stderr, "spawn: RATE x SECONDS must be 1..1000000\n"); return 2; }
    double *took = calloc((size_t)total, sizeof *took);
    char *args[] = { "/bin/true", "--attribution-bench", "exec", "identity", NULL };
    double start = now();
    while (spawned < total) {
        double due = start + spawned / rate, t = now();
        if (t < due) { struct timespec d = { 0, (long)((due - t) * 1e9) }; nanosleep(&d, NULL); }
        pid_t pid;
        double t0 = now();
        if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) != 0) { perror("posix_spawn"); return 1; }
        int status;
        waitpid(pid, &status, 0);
        took[spawned++] = (now() - t0) * 1e6;
        if (now() - start > seconds * 2) break; /* a machine too slow for the rate: stop anyway */
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    double cpu = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
    qsort(took, (size_t)spawned, sizeof *took, by_value);
    printf("%ld %.0f %.0f\n", spawned, cpu, spawned ? took[spawned / 2] : 0);
    return 0;
}
