/*
 * One steady TCP stream on 127.0.0.1, for the soak (bench/soak.sh): KBPS kilobytes per second for SECONDS
 * seconds, written in 100 chunks a second, paced by sleeping (not spinning: the soak runs for hours on a shared
 * 2-core host). A reader thread in the same process accepts the one connection and discards what arrives.
 * Loopback only, bounded in time (and stops at twice SECONDS if the machine cannot keep up).
 * Build: cc -O2 -pthread -o stream stream.c      Run: ./stream PORT KBPS SECONDS
 * Prints: bytes sent, seconds taken.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void sleep_until(double due) {
    struct timespec t = { .tv_sec = (time_t)due, .tv_nsec = (long)((due - (time_t)due) * 1e9) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) { }
}

static void *drain(void *arg) {
    int listener = (int)(intptr_t)arg;
    int c = accept(listener, NULL, NULL);
    static char sink[65536];
    if (c >= 0) while (read(c, sink, sizeof sink) > 0) { }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: stream PORT KBPS SECONDS\n"); return 2; }
    int port = atoi(argv[1]); double kbps = atof(argv[2]), seconds = atof(argv[3]);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&to, sizeof to) || listen(listener, 1)) { perror("listen"); return 1; }
    pthread_t reader;
    pthread_create(&reader, NULL, drain, (void *)(intptr_t)listener);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&to, sizeof to)) { perror("connect"); return 1; }
    size_t chunk = (size_t)(kbps * 1000 / 100);
    if (chunk < 1) chunk = 1;
    char *payload = calloc(chunk, 1);
    long ticks = (long)(seconds * 100), tick = 0;
    long long sent = 0;
    double start = now();
    for (; tick < ticks; tick++) {
        sleep_until(start + tick / 100.0);
        ssize_t n = write(s, payload, chunk);
        if (n <= 0) break;
        sent += n;
        if (now() - start > seconds * 2) break; /* too slow a machine: stop anyway */
    }
    printf("%lld %.3f\n", sent, now() - start);
    close(s);
    return 0;
}
