/*
 * Idle processes holding sockets, for bench/recorder-busy.sh: a "container" full of servers that do nothing.
 * Run inside a network namespace: holder ADDR BASEPORT NPROC
 * Forks NPROC children; child i holds 10 sockets and then sleeps:
 *   - a TCP listener on ADDR:BASEPORT+i,
 *   - a UDP socket bound to ADDR:BASEPORT+i, one UDP socket connected to child i+1's, one bound to an
 *     ephemeral port,
 *   - three TCP connections to child i+1's listener, and the three it accepts from child i-1.
 * So NPROC children hold NPROC*10 sockets: NPROC listeners, 3*NPROC UDP, 3*NPROC established pairs.
 * Prints "ready" once every child holds its sockets, then waits for SIGTERM or SIGINT, stops its children
 * (by their pids) and exits. Children die with the parent (PR_SET_PDEATHSIG), so a SIGKILL leaves nothing.
 * Traffic stays on ADDR (inside the namespace). Every wait is bounded.
 * Build: cc -O2 -o holder holder.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTGOING 3

static struct sockaddr_in at(const char *addr, int port) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, addr, &a.sin_addr);
    return a;
}

static int connect_retrying(int type, struct sockaddr_in *to) {
    for (int attempt = 0; attempt < 2000; attempt++) { /* the next child may not listen yet: up to ~10 s */
        int s = socket(AF_INET, type, 0);
        if (s < 0) return -1;
        if (connect(s, (struct sockaddr *)to, sizeof *to) == 0) return s;
        close(s);
        struct timespec pause = { 0, 5 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void child(const char *addr, int base, int i, int n, int ready) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct sockaddr_in mine = at(addr, base + i), next = at(addr, base + (i + 1) % n);
    int one = 1;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct timeval limit = { .tv_sec = 20 };
    setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit); /* accept gives up after 20 s */
    if (bind(listener, (struct sockaddr *)&mine, sizeof mine) || listen(listener, 16)) _exit(1);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(udp, (struct sockaddr *)&mine, sizeof mine)) _exit(1);
    struct sockaddr_in any = at(addr, 0);
    int spare = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(spare, (struct sockaddr *)&any, sizeof any)) _exit(1);
    if (connect_retrying(SOCK_DGRAM, &next) < 0) _exit(1);
    for (int k = 0; k < OUTGOING; k++)
        if (connect_retrying(SOCK_STREAM, &next) < 0) _exit(1);
    for (int k = 0; k < OUTGOING; k++)
        if (accept(listener, NULL, NULL) < 0) _exit(1);
    (void)!write(ready, "x", 1);
    for (;;) pause(); /* idle until the parent (or its death) ends us */
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: holder ADDR BASEPORT NPROC\n"); return 2; }
    const char *addr = argv[1];
    int base = atoi(argv[2]), n = atoi(argv[3]);
    if (n < 2 || n > 10000) { fprintf(stderr, "holder: NPROC must be 2..10000\n"); return 2; }
    /* Block the stop signals before forking, so none is lost and sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop); sigaddset(&stop, SIGTERM); sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int ready[2];
    if (pipe(ready)) { perror("pipe"); return 1; }
    pid_t *kids = calloc(n, sizeof *kids);
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        if (kids[i] == 0) { sigprocmask(SIG_UNBLOCK, &stop, NULL); close(ready[0]); child(addr, base, i, n, ready[1]); }
        if (kids[i] < 0) { perror("fork"); n = i; break; }
    }
    close(ready[1]);
    int got = 0;
    struct pollfd p = { .fd = ready[0], .events = POLLIN };
    while (got < n && poll(&p, 1, 30000) > 0) { /* bounded: 30 s without progress ends the wait */
        char b[256];
        ssize_t r = read(ready[0], b, sizeof b);
        if (r <= 0) break;
        got += (int)r;
    }
    printf(got == n ? "ready %d\n" : "failed %d\n", got);
    fflush(stdout);
    if (got == n) { int sig; sigwait(&stop, &sig); }
    for (int i = 0; i < n; i++) kill(kids[i], SIGTERM);
    for (int i = 0; i < n; i++) waitpid(kids[i], NULL, 0);
    return got == n ? 0 : 1;
}
