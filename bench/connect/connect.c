/*
 * Paced short TCP connections on 127.0.0.1, for measuring what kernel events cost: RATE connections per
 * second for SECONDS seconds, each connect, one byte each way, close. A server thread in the same process
 * accepts them. The client closes with SO_LINGER 0 (an RST), so no TIME_WAIT piles up and 10k/s does not
 * run out of ephemeral ports. Loopback only, bounded in count and time.
 * Build: cc -O2 -pthread -o connect connect.c      Run: ./connect PORT RATE SECONDS
 * Prints: connections made, seconds taken.
 * Across namespaces (bench/recorder-busy.sh), server and client apart:
 *   ./connect PORT 0 SECONDS ADDR      serve on ADDR:PORT for SECONDS, then exit
 *   ./connect PORT RATE SECONDS ADDR   client only, to ADDR:PORT; paced by sleeping, not spinning, so that
 *                                      several clients on a 2-core host leave the CPU to what is measured
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void *serve(void *arg) {
    int listener = (int)(intptr_t)arg; /* by value: the listener's variable ends with its block in main */
    char b;
    for (;;) {
        int c = accept(listener, NULL, NULL);
        if (c < 0) continue;
        if (read(c, &b, 1) == 1) (void)!write(c, &b, 1);
        close(c);
    }
    return NULL;
}

static void sleep_until(double due) {
    struct timespec t = { .tv_sec = (time_t)due, .tv_nsec = (long)((due - (time_t)due) * 1e9) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) { }
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) { fprintf(stderr, "usage: connect PORT RATE SECONDS [ADDR]\n"); return 2; }
    int port = atoi(argv[1]); double rate = atof(argv[2]), seconds = atof(argv[3]);
    int apart = argc == 5; /* server or client only, on ADDR */
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, apart ? argv[4] : "127.0.0.1", &to.sin_addr);
    if (!apart || rate <= 0) {
        int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(listener, (struct sockaddr *)&to, sizeof to) || listen(listener, 4096)) { perror("listen"); return 1; }
        pthread_t server;
        pthread_create(&server, NULL, serve, (void *)(intptr_t)listener);
        if (rate <= 0) { sleep_until(now() + seconds); return 0; }
    }
    struct linger reset = { .l_onoff = 1, .l_linger = 0 };
    long total = (long)(rate * seconds), made = 0;
    double start = now();
    char b = 'x';
    long tried = 0;
    while (made < total) {
        /* Across namespaces a refused connection must not make the client spin: pace attempts, not successes. */
        double due = start + (apart ? tried++ : made) / rate;
        if (apart) sleep_until(due);
        else while (now() < due) { }
        int c = socket(AF_INET, SOCK_STREAM, 0);
        /* Bounded: a reply that never comes ends this attempt after a second, not the run. */
        struct timeval limit = { .tv_sec = 1 };
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        if (connect(c, (struct sockaddr *)&to, sizeof to) == 0 && write(c, &b, 1) == 1 && read(c, &b, 1) == 1) made++;
        setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        close(c);
        if (now() - start > seconds * 2 || (apart && tried >= total)) break; /* too slow for the rate, or every attempt made */
    }
    printf("%ld %.3f\n", made, now() - start);
    return 0;
}
