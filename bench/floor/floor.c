/*
 * The floor: the least work a reader of the same file must do. A libpcap loop that finds each packet's
 * 5-tuple (Linux cooked v2 or Ethernet, IPv4 or IPv6, TCP or UDP) and counts it in an open-addressing
 * flow hash table. Anything Attribution does per packet comes on top of this.
 * Build: cc -O2 -o floor floor.c -lpcap      Run: ./floor capture.pcapng
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key { uint8_t proto; uint8_t a[16], b[16]; uint16_t pa, pb; };
struct slot { struct key k; uint64_t packets, bytes; int used; };

static struct slot *table;
static size_t capacity = 1 << 20, flows;

static uint64_t hash(const struct key *k) {
    uint64_t h = 1469598103934665603ULL;
    const uint8_t *p = (const uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void count(const struct key *k, uint32_t len) {
    size_t i = hash(k) & (capacity - 1);
    while (table[i].used && memcmp(&table[i].k, k, sizeof *k)) i = (i + 1) & (capacity - 1);
    if (!table[i].used) { table[i].used = 1; table[i].k = *k; flows++; }
    table[i].packets++;
    table[i].bytes += len;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: floor capture\n"); return 2; }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) { fprintf(stderr, "%s\n", err); return 1; }
    table = calloc(capacity, sizeof *table);
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t packets = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        packets++;
        size_t off; uint16_t et;
        if (dlt == DLT_LINUX_SLL2) { if (h->caplen < 20) continue; et = (d[0] << 8) | d[1]; off = 20; }
        else if (dlt == DLT_EN10MB) { if (h->caplen < 14) continue; et = (d[12] << 8) | d[13]; off = 14; }
        else continue;
        struct key k; memset(&k, 0, sizeof k);
        const u_char *ip = d + off; size_t left = h->caplen - off, ihl;
        if (et == 0x0800 && left >= 20) { ihl = (ip[0] & 15) * 4; k.proto = ip[9]; memcpy(k.a, ip + 12, 4); memcpy(k.b, ip + 16, 4); }
        else if (et == 0x86DD && left >= 40) { ihl = 40; k.proto = ip[6]; memcpy(k.a, ip + 8, 16); memcpy(k.b, ip + 24, 16); }
        else continue;
        if ((k.proto == 6 || k.proto == 17) && left >= ihl + 4) { k.pa = (ip[ihl] << 8) | ip[ihl + 1]; k.pb = (ip[ihl + 2] << 8) | ip[ihl + 3]; }
        if (memcmp(k.a, k.b, 16) > 0 || (!memcmp(k.a, k.b, 16) && k.pa > k.pb)) {
            uint8_t t[16]; memcpy(t, k.a, 16); memcpy(k.a, k.b, 16); memcpy(k.b, t, 16);
            uint16_t tp = k.pa; k.pa = k.pb; k.pb = tp;
        }
        count(&k, h->len);
    }
    printf("%llu packets, %zu flows\n", (unsigned long long)packets, flows);
    pcap_close(p);
    return 0;
}
