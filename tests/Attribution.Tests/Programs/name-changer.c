/*
 * A TCP client that changes what it is called while it talks, for the end-to-end test of names in force at a
 * packet's time (ProcessNameEndToEndTests). It connects to an echo server, exchanges BYTES, and then for each
 * STEP: waits 300 ms with the connection quiet, changes its name, prints the change with the time it took
 * effect, waits 300 ms more, and exchanges BYTES again; at the end it waits, prints the time, and closes.
 *
 *   prctl:NAME    prctl(PR_SET_NAME): the thread's comm (this program has one thread, so the process's)
 *   comm:NAME     a write to /proc/self/comm: the same field, by another way in
 *   title:TEXT    rewrites argv in place, as setproctitle() and nginx, PostgreSQL, sshd do: /proc/PID/cmdline
 *                 then reads TEXT; comm is unchanged
 *
 * Build: cc -O2 -o name-changer name-changer.c      Run: ./name-changer ADDR PORT BYTES STEP...
 * Prints (times are CLOCK_REALTIME nanoseconds, the capture's clock):
 *   port LOCALPORT
 *   prctl NAME AT / comm NAME AT / title TEXT AT     one line per step, once it is in force
 *   close AT                                         just before close()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void quiet(void) {
    struct timespec t = {0, 300 * 1000 * 1000};
    nanosleep(&t, NULL);
}

static void fail(const char *what) {
    fprintf(stderr, "name-changer: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* Sends n bytes and reads as many back from the echo server. */
static void exchange(int s, long n) {
    static char buffer[65536];
    memset(buffer, 'n', sizeof buffer);
    long sent = 0, got = 0;
    while (got < n) {
        if (sent < n) {
            long chunk = n - sent < (long)sizeof buffer ? n - sent : (long)sizeof buffer;
            ssize_t w = send(s, buffer, chunk, 0);
            if (w < 0) fail("send");
            sent += w;
        }
        ssize_t r = recv(s, buffer, sizeof buffer, sent < n ? MSG_DONTWAIT : 0);
        if (r == 0) { errno = ECONNRESET; fail("recv"); }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) fail("recv");
        if (r > 0) got += r;
    }
}

/*
 * argv's strings lie one after another in the area the kernel reports as /proc/PID/cmdline. The title goes at
 * its start and the rest is zeroed (as setproctitle does), so the area reads TEXT followed by NULs. The area
 * cannot grow: a longer title is cut. TEXT must not lie in the area (main passes a copy).
 */
static void set_title(int argc, char **argv, const char *text) {
    char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
    size_t room = (size_t)(end - start);
    size_t n = strlen(text) < room ? strlen(text) : room;
    memset(start, 0, room);
    memcpy(start, text, n);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: name-changer ADDR PORT BYTES STEP...\n");
        return 1;
    }
    long bytes = atol(argv[3]);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *server;
    if (getaddrinfo(argv[1], argv[2], &hints, &server) != 0) { errno = EINVAL; fail("address"); }
    int s = socket(server->ai_family, SOCK_STREAM, 0);
    if (s < 0) fail("socket");
    if (connect(s, server->ai_addr, server->ai_addrlen) < 0) fail("connect");
    struct sockaddr_storage local;
    socklen_t length = sizeof local;
    if (getsockname(s, (struct sockaddr *)&local, &length) < 0) fail("getsockname");
    int port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port : ((struct sockaddr_in *)&local)->sin_port);
    printf("port %d\n", port);
    fflush(stdout);
    exchange(s, bytes);

    /* The steps are copied first: a title overwrites argv's strings. */
    int steps = argc - 4;
    char kinds[16][8], values[16][64];
    if (steps > 16) steps = 16;
    for (int i = 0; i < steps; i++) {
        const char *step = argv[4 + i], *colon = strchr(step, ':');
        if (colon == NULL || colon - step >= (long)sizeof kinds[i]) { errno = EINVAL; fail(step); }
        snprintf(kinds[i], sizeof kinds[i], "%.*s", (int)(colon - step), step);
        snprintf(values[i], sizeof values[i], "%s", colon + 1);
    }
    for (int i = 0; i < steps; i++) {
        quiet();
        if (strcmp(kinds[i], "prctl") == 0) {
            if (prctl(PR_SET_NAME, values[i], 0, 0, 0) < 0) fail("prctl");
        } else if (strcmp(kinds[i], "comm") == 0) {
            int fd = open("/proc/self/comm", O_WRONLY);
            if (fd < 0 || write(fd, values[i], strlen(values[i])) < 0) fail("/proc/self/comm");
            close(fd);
        } else if (strcmp(kinds[i], "title") == 0) {
            set_title(argc, argv, values[i]);
        } else {
            errno = EINVAL;
            fail(kinds[i]);
        }
        printf("%s %s %lld\n", kinds[i], values[i], now_ns());
        fflush(stdout);
        quiet();
        exchange(s, bytes);
    }
    quiet();
    printf("close %lld\n", now_ns());
    fflush(stdout);
    close(s);
    return 0;
}
