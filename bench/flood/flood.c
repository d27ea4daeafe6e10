/*
 * A paced UDP flood to 127.0.0.1, for measuring capture drops: RATE datagrams of 100 bytes per second
 * for SECONDS seconds, then stops; RATE 0: unpaced, as fast as this sender goes, for SECONDS. Loopback only,
 * bounded in count and time.
 * Build: cc -O2 -o flood flood.c      Run: ./flood PORT RATE SECONDS
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: flood PORT RATE SECONDS\n"); return 2; }
    int port = atoi(argv[1]); double rate = atof(argv[2]), seconds = atof(argv[3]);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    char payload[100]; memset(payload, 'x', sizeof payload);
    int unpaced = rate <= 0;
    long total = unpaced ? 1000000000L : (long)(rate * seconds), sent = 0;
    double start = now();
    while (sent < total) {
        if (unpaced) { if ((sent & 1023) == 0 && now() - start >= seconds) break; }
        else { double due = start + sent / rate; while (now() < due) { } }
        if (sendto(s, payload, sizeof payload, 0, (struct sockaddr *)&to, sizeof to) > 0) sent++;
        if (now() - start > seconds * 2) break; /* a machine too slow for the rate: stop anyway */
    }
    printf("%ld sent in %.2f s\n", sent, now() - start);
    close(s);
    return 0;
}
