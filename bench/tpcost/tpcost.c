/*
 * What a send/receive tracepoint costs the process that sends and receives, in the kernel (issue 26): one thread
 * ping-pongs 64 bytes over a TCP connection on 127.0.0.1 (a send and a receive on each end per round trip: four
 * sock_send_length/sock_recv_length hits) and its own CPU time per round trip is measured (CLOCK_THREAD_CPUTIME_ID:
 * other work on the machine does not count, but the loopback softirq it runs does) under each mode, alternating:
 *   off      no perf event on the tracepoints
 *   reject   the recorder's events (one per CPU, pid -1, same sample type and clock), with a filter no sample
 *            passes: what having the tracepoints enabled costs by itself
 *   write    the recorder's filter (TCP calls that moved data): every call writes a sample into the ring
 *   period=N the recorder's filter, sample_period N: the kernel writes every Nth passing call per CPU
 *   wake     as write, and every sample wakes the reader (wakeup_events 1, as the recorder asks of TCP state
 *            changes, forks and execs): what a wake-up per sample adds
 * A second thread drains the rings as the recorder does (moving the tail on; no decoding), so they never fill.
 * Prints, per mode, the median over the repeats of ns of CPU per round trip, its min and max, and the samples written.
 * Build: cc -O2 -pthread -o tpcost tpcost.c     Run (root): ./tpcost [repeats 7] [round trips per run 200000] [N 64]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 64
#define RING_PAGES 256

static int ncpu, fds[2][MAX_CPUS];
static void *rings[MAX_CPUS];
static atomic_int draining;
static atomic_long samples;

static long tracepoint_id(const char *name) {
    char path[256], buf[32];
    snprintf(path, sizeof path, "/sys/kernel/tracing/events/sock/%s/id", name);
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(path, sizeof path, "/sys/kernel/debug/tracing/events/sock/%s/id", name); f = fopen(path, "r"); }
    if (!f || !fgets(buf, sizeof buf, f)) { fprintf(stderr, "tpcost: no tracepoint sock:%s\n", name); exit(1); }
    fclose(f);
    return atol(buf);
}

/* Opens both tracepoints on every CPU into one ring per CPU, as the recorder does (the first is the ring's owner). */
static void open_events(const char *filter, unsigned long period, int wakes) {
    const char *names[2] = {"sock_send_length", "sock_recv_length"};
    for (int t = 0; t < 2; t++) {
        long id = tracepoint_id(names[t]);
        for (int cpu = 0; cpu < ncpu; cpu++) {
            struct perf_event_attr a = {0};
            a.type = PERF_TYPE_TRACEPOINT; a.size = sizeof a; a.config = id; a.sample_period = period;
            a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW;
            a.disabled = 1; a.sample_id_all = 1; a.wakeup_events = wakes; a.use_clockid = 1; a.clockid = CLOCK_MONOTONIC;
            int fd = syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
            if (fd < 0) { perror("perf_event_open"); exit(1); }
            if (ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter) != 0) { perror("PERF_EVENT_IOC_SET_FILTER"); exit(1); }
            if (t == 0) {
                rings[cpu] = mmap(NULL, (1 + RING_PAGES) * 4096L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                if (rings[cpu] == MAP_FAILED) { perror("mmap"); exit(1); }
            } else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, fds[0][cpu]) != 0) { perror("PERF_EVENT_IOC_SET_OUTPUT"); exit(1); }
            fds[t][cpu] = fd;
        }
    }
    for (int t = 0; t < 2; t++) for (int cpu = 0; cpu < ncpu; cpu++) ioctl(fds[t][cpu], PERF_EVENT_IOC_ENABLE, 0);
}

static void close_events(void) {
    for (int t = 0; t < 2; t++) for (int cpu = 0; cpu < ncpu; cpu++) close(fds[t][cpu]);
    for (int cpu = 0; cpu < ncpu; cpu++) munmap(rings[cpu], (1 + RING_PAGES) * 4096L);
}

/* Counts the samples and frees their space: waits in poll (woken by the kernel, or after 50 ms), then drains, then
 * sleeps 5 ms, as the recorder does under a stream of events. */
static void *drain(void *unused) {
    (void)unused;
    struct pollfd p[MAX_CPUS];
    for (int cpu = 0; cpu < ncpu; cpu++) p[cpu] = (struct pollfd){.fd = fds[0][cpu], .events = POLLIN};
    while (atomic_load(&draining)) {
        poll(p, ncpu, 50);
        for (int cpu = 0; cpu < ncpu; cpu++) {
            struct perf_event_mmap_page *m = rings[cpu];
            unsigned long head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE), tail = m->data_tail;
            char *data = (char *)m + m->data_offset;
            while (tail < head) {
                struct perf_event_header *h = (void *)(data + (tail & (m->data_size - 1)));
                if (h->type == PERF_RECORD_SAMPLE) atomic_fetch_add(&samples, 1);
                tail += h->size;
            }
            __atomic_store_n(&m->data_tail, tail, __ATOMIC_RELEASE);
        }
        usleep(5000);
    }
    return NULL;
}

static double thread_ns(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

static int a, b;
static void connect_pair(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in at = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
    socklen_t len = sizeof at;
    if (bind(l, (void *)&at, sizeof at) || listen(l, 1) || getsockname(l, (void *)&at, &len)) { perror("listen"); exit(1); }
    a = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(a, (void *)&at, sizeof at)) { perror("connect"); exit(1); }
    b = accept(l, NULL, NULL);
    setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    close(l);
}

static void full_recv(int s, char *buf, int n) {
    for (int got = 0; got < n;) { int r = recv(s, buf + got, n - got, 0); if (r <= 0) { perror("recv"); exit(1); } got += r; }
}

static double run(long trips) { /* ns of this thread's CPU per round trip */
    char buf[64] = {0};
    double t0 = thread_ns();
    for (long i = 0; i < trips; i++) {
        if (send(a, buf, sizeof buf, 0) != sizeof buf) { perror("send"); exit(1); }
        full_recv(b, buf, sizeof buf);
        if (send(b, buf, sizeof buf, 0) != sizeof buf) { perror("send"); exit(1); }
        full_recv(a, buf, sizeof buf);
    }
    return (thread_ns() - t0) / trips;
}

static int cmp(const void *x, const void *y) { double d = *(double *)x - *(double *)y; return d < 0 ? -1 : d > 0; }

int main(int argc, char **argv) {
    int repeats = argc > 1 ? atoi(argv[1]) : 7;
    long trips = argc > 2 ? atol(argv[2]) : 200000;
    unsigned long period = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > MAX_CPUS) ncpu = MAX_CPUS;
    connect_pair();
    enum { OFF, REJECT, WRITE, PERIOD, WAKE, MODES };
    const char *label[MODES] = {"off", "reject", "write", "period", "wake"};
    double ns[MODES][64];
    long written[MODES] = {0};
    if (repeats > 64) repeats = 64;
    run(trips / 10); /* warm-up */
    for (int r = 0; r < repeats; r++)
        for (int k = 0; k < MODES; k++) {
            int m = (k + r) % MODES; /* a different mode first each repeat */
            pthread_t drainer;
            if (m != OFF) {
                open_events(m == REJECT ? "family == 65535" : "protocol == 6 && ret > 0", m == PERIOD ? period : 1, m == WAKE);
                atomic_store(&samples, 0);
                atomic_store(&draining, 1);
                pthread_create(&drainer, NULL, drain, NULL);
            }
            ns[m][r] = run(trips);
            if (m != OFF) {
                atomic_store(&draining, 0);
                pthread_join(drainer, NULL);
                close_events();
                written[m] += atomic_load(&samples);
            }
        }
    printf("%-10s %-28s %-16s\n", "mode", "ns CPU/round trip med (min-max)", "samples/round trip");
    for (int m = 0; m < MODES; m++) {
        qsort(ns[m], repeats, sizeof(double), cmp);
        char name[32];
        if (m == PERIOD) snprintf(name, sizeof name, "period=%lu", period); else snprintf(name, sizeof name, "%s", label[m]);
        printf("%-10s %-6.0f (%.0f-%.0f)%12s %-16.3f\n", name, ns[m][(repeats - 1) / 2], ns[m][0], ns[m][repeats - 1], "",
               (double)written[m] / repeats / trips);
    }
    return 0;
}
