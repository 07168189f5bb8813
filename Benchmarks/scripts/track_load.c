// Load client for the tracking hub (/v1/ws/track): many WebSocket subscribers on one epoll thread, moving
// drivers as signed UDP datagrams (DESIGN.md, version 1) from a second thread. Reports delivered frames and
// positions per second and the latency from sending a ping to a subscriber receiving it (the ping's `ts`).
//
//   track_load fanout HTTP_PORT UDP_PORT SECRET_HEX ADMIN_TOKEN SUBSCRIBERS DRIVERS SECONDS RATE_HZ STALLED
//   track_load idle   HTTP_PORT SUBSCRIBERS SECONDS
//   track_load bare   CONNECTIONS MESSAGE_BYTES SECONDS   (the kernel's limit: a bare C writer, no WebSocket server)
//
// Built by Benchmarks/scripts/track-load.sh (cc -O2 … -lcrypto). Loopback only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
#define LAT0 100000000   // 10.0° × 1e7
#define LNG0 100000000
#define SPAN 5000000     // 0.5°
#define BOX 500000       // 0.05° subscriber viewport
static int drivers;

typedef struct {
    int fd;
    int state;   // 0 handshake, 1 open, 2 closed
    int len;
    unsigned char *buf;
} conn_t;

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int connect_to(int port, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0) { if (errno == EINTR || errno == EAGAIN) continue; perror("write"); exit(1); }
        c += k; n -= (size_t)k;
    }
}

static void handshake(int fd, const char *path) {
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path);
    write_all(fd, req, (size_t)n);
}

static void send_text(int fd, const char *text) {
    size_t n = strlen(text);
    unsigned char f[4096];
    size_t h = 0;
    f[h++] = 0x81;
    if (n < 126) f[h++] = 0x80 | (unsigned char)n;
    else { f[h++] = 0x80 | 126; f[h++] = (unsigned char)(n >> 8); f[h++] = (unsigned char)n; }
    unsigned char mask[4] = {1, 2, 3, 4};
    memcpy(f + h, mask, 4); h += 4;
    for (size_t i = 0; i < n; i++) f[h + i] = (unsigned char)text[i] ^ mask[i & 3];
    write_all(fd, f, h + n);
}

// Latency: every delivered position's delay in µs, counted per µs up to 10 s (the script turns the counts into
// percentiles with HdrHistogram). The sender thread stamps each driver's last ping (its `ts` and the monotonic µs
// it left at); a position whose ts matches is timed from that stamp, an older one (the stamp moved on) from its ts
// in wall-clock ms.
#define LMAX 10000000
static uint32_t *lat_us;
static _Atomic int64_t *sent_ts, *sent_us;
static uint64_t frames, positions, closes, exact, coarse;
static int measuring;

static int64_t mono_us(void) { return mono_ns() / 1000; }

static void count_positions(const unsigned char *p, size_t n) {
    int64_t now_us = mono_us(), now = now_ms();
    int64_t id = -1;
    for (size_t i = 0; i + 5 < n; i++) {
        if (p[i] == '"' && p[i + 1] == 'i' && p[i + 2] == 'd' && p[i + 3] == '"' && p[i + 4] == ':') {
            size_t j = i + 5;
            id = 0;
            while (j < n && p[j] >= '0' && p[j] <= '9') id = id * 10 + (p[j++] - '0');
            i = j;
        } else if (p[i] == '"' && p[i + 1] == 't' && p[i + 2] == 's' && p[i + 3] == '"' && p[i + 4] == ':') {
            int64_t ts = 0;
            size_t j = i + 5;
            while (j < n && p[j] >= '0' && p[j] <= '9') ts = ts * 10 + (p[j++] - '0');
            if (measuring) {
                int64_t d;
                if (id >= 1 && id <= drivers && atomic_load_explicit(&sent_ts[id], memory_order_acquire) == ts) {
                    d = now_us - atomic_load_explicit(&sent_us[id], memory_order_relaxed);
                    exact++;
                } else {
                    d = (now - ts) * 1000;
                    coarse++;
                }
                if (d < 0) d = 0;
                lat_us[d > LMAX ? LMAX : d]++;
                positions++;
            }
            id = -1;
            i = j;
        }
    }
}

// Consumes whole frames from c->buf.
static void parse_frames(conn_t *c) {
    int off = 0;
    while (c->len - off >= 2) {
        unsigned char *p = c->buf + off;
        uint64_t n = p[1] & 0x7F;
        int h = 2;
        if (n == 126) { if (c->len - off < 4) break; n = (uint64_t)p[2] << 8 | p[3]; h = 4; }
        else if (n == 127) {
            if (c->len - off < 10) break;
            n = 0; for (int i = 0; i < 8; i++) n = n << 8 | p[2 + i];
            h = 10;
        }
        if (n + (uint64_t)h > BUF) { fprintf(stderr, "frame of %llu bytes is larger than the buffer\n", (unsigned long long)n); exit(1); }
        if ((uint64_t)(c->len - off) < n + (uint64_t)h) break;
        int op = p[0] & 0x0F;
        if (op == 1) { if (measuring) frames++; count_positions(p + h, n); }
        else if (op == 8) { closes++; c->state = 2; }
        else if (op == 9) {   // ping → pong
            unsigned char pong[6 + 125];
            pong[0] = 0x8A; pong[1] = 0x80 | (unsigned char)n; memset(pong + 2, 0, 4);
            memcpy(pong + 6, p + h, n);
            write_all(c->fd, pong, 6 + n);
        }
        off += h + (int)n;
    }
    if (off > 0) { memmove(c->buf, c->buf + off, (size_t)(c->len - off)); c->len -= off; }
}

// UDP sender.
static int udp_port, rate_hz;
static unsigned char secret[64];
static int secret_len;
static atomic_int stop_sender;
static uint64_t sent_records;

static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }

static void *sender(void *arg) {
    (void)arg;
    unsigned char key[32];
    unsigned int klen = 32;
    const char *label = "gateway:1";
    HMAC(EVP_sha256(), secret, secret_len, (const unsigned char *)label, strlen(label), key, &klen);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(udp_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int side = 1; while (side * side < drivers) side++;
    // Every millisecond, the drivers whose turn it is (drivers × rate / 1000 per slot): pings arrive spread in time,
    // never in step with the server's tick.
    double per_slot = (double)drivers * rate_hz / 1000.0, due = 0;
    int next = 0;
    unsigned char d[16 + 100 * 32 + 16];
    struct timespec slot;
    clock_gettime(CLOCK_MONOTONIC, &slot);
    int64_t last_ts = 0;
    while (!atomic_load(&stop_sender)) {
        due += per_slot;
        int64_t ts = now_ms();
        if (ts <= last_ts) ts = last_ts + 1;   // strictly newer for every driver
        last_ts = ts;
        while (due >= 1) {
            int n = due > 100 ? 100 : (int)due;
            due -= n;
            memset(d, 0, sizeof d);
            d[0] = 1; d[1] = 1; put16(d + 2, (uint16_t)n); put64(d + 8, 1);
            for (int i = 0; i < n; i++) {
                int id = next; next = (next + 7919) % drivers;   // a stride coprime with most counts: fixes arrive spread over the map
                unsigned char *r = d + 16 + 32 * i;
                int32_t lat = LAT0 + (id / side) * (SPAN / side) + (int32_t)((ts / 10) % 1000) * 10;
                int32_t lng = LNG0 + (id % side) * (SPAN / side);
                put64(r, (uint64_t)id + 1); put64(r + 8, (uint64_t)ts);
                put32(r + 16, (uint32_t)lat); put32(r + 20, (uint32_t)lng);
                put16(r + 24, 500); put16(r + 26, 65535); put16(r + 28, 65535); r[30] = 1;
            }
            size_t body = 16 + 32 * (size_t)n;
            unsigned char mac[32]; unsigned int mlen = 32;
            HMAC(EVP_sha256(), key, 32, d, body, mac, &mlen);
            memcpy(d + body, mac, 16);
            int64_t leaving = mono_us();
            for (int i = 0; i < n; i++) {
                uint64_t rid = 0;
                for (int b = 7; b >= 0; b--) rid = rid << 8 | d[16 + 32 * i + b];
                atomic_store_explicit(&sent_us[rid], leaving, memory_order_relaxed);
                atomic_store_explicit(&sent_ts[rid], ts, memory_order_release);
            }
            sendto(fd, d, body + 16, 0, (struct sockaddr *)&a, sizeof a);
            sent_records += (uint64_t)n;
        }
        slot.tv_nsec += 1000000;
        if (slot.tv_nsec >= 1000000000) { slot.tv_nsec -= 1000000000; slot.tv_sec++; }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &slot, NULL);
    }
    close(fd);
    return NULL;
}

static int hex(char c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0'; }

static int upgrade_all(conn_t *cs, int n, int ep) {
    // Reads the 101 answers (blocking per connection is fine: the server answers at once).
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char head[2048]; int len = 0;
        while (len < (int)sizeof head - 1) {
            ssize_t k = read(cs[i].fd, head + len, sizeof head - 1 - (size_t)len);
            if (k <= 0) break;
            len += (int)k; head[len] = 0;
            char *end = strstr(head, "\r\n\r\n");
            if (end) {
                if (strncmp(head, "HTTP/1.1 101", 12) == 0) { cs[i].state = 1; ok++; }
                int rest = len - (int)(end + 4 - head);
                if (rest > 0 && cs[i].buf) { memcpy(cs[i].buf, end + 4, (size_t)rest); cs[i].len = rest; }
                break;
            }
        }
        if (ep >= 0) {
            fcntl(cs[i].fd, F_SETFL, fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK);
            struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
        }
    }
    return ok;
}

// The bare baseline: a C writer thread sends SIZE-byte messages round-robin over N loopback TCP connections while
// this thread reads them the way the fan-out client does (polling epoll). What the kernel allows one writing thread
// on this machine, with nothing of a WebSocket server in it.
static atomic_int bare_stop;
static int bare_n, bare_size;
static int *bare_srv;
static double bare_seconds, bare_rate;
// BARE_WRITER_CPU / BARE_READER_CPU pin the two threads like the fan-out run pins the server and the client.
static void pin_self(const char *variable) {
    const char *v = getenv(variable);
    if (!v || !*v) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(v), &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *bare_writer(void *arg) {
    (void)arg;
    pin_self("BARE_WRITER_CPU");
    char *msg = malloc((size_t)bare_size);
    memset(msg, 'x', (size_t)bare_size);
    msg[0] = (char)0x81;   // looks like a text frame; the reader does not parse
    uint64_t writes = 0;
    int64_t t0 = mono_ns(), t = t0;
    int i = 0;
    while (t - t0 < (int64_t)(bare_seconds * 1e9)) {
        for (int b = 0; b < 1000; b++) {
            if (write(bare_srv[i], msg, (size_t)bare_size) == bare_size) writes++;
            i = (i + 1) % bare_n;
        }
        t = mono_ns();
    }
    bare_rate = (double)writes / ((double)(t - t0) * 1e-9);
    atomic_store(&bare_stop, 1);
    free(msg);
    return NULL;
}

static int bare(int n, int size, double seconds) {
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4096) != 0) { perror("listen"); return 1; }
    getsockname(l, (struct sockaddr *)&a, &al);
    bare_n = n; bare_size = size; bare_seconds = seconds;
    bare_srv = calloc((size_t)n, sizeof(int));
    int *cli = calloc((size_t)n, sizeof(int));
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        cli[i] = connect_to(ntohs(a.sin_port), 0);
        bare_srv[i] = accept(l, NULL, NULL);
        if (bare_srv[i] < 0) { perror("accept"); return 1; }
        setsockopt(bare_srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(bare_srv[i], F_SETFL, O_NONBLOCK);
        fcntl(cli[i], F_SETFL, O_NONBLOCK);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &e);
    }
    pthread_t th;
    pthread_create(&th, NULL, bare_writer, NULL);
    pin_self("BARE_READER_CPU");
    static unsigned char buf[BUF];
    struct epoll_event evs[1024];
    uint64_t bytes = 0;
    while (!atomic_load(&bare_stop)) {
        int k = epoll_wait(ep, evs, 1024, 0);
        if (k == 0) sched_yield();
        for (int j = 0; j < k; j++) {
            ssize_t r;
            while ((r = read(cli[evs[j].data.u32], buf, sizeof buf)) > 0) { bytes += (uint64_t)r; if (r < (ssize_t)sizeof buf) break; }
        }
    }
    pthread_join(th, NULL);
    printf("bare connections=%d size=%d writes_per_s=%.0f read_mb=%.1f\n", n, size, bare_rate, (double)bytes / 1e6);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "bare") == 0) return bare(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
    if (argc >= 5 && strcmp(argv[1], "idle") == 0) {
        int port = atoi(argv[2]), n = atoi(argv[3]), seconds = atoi(argv[4]);
        conn_t *cs = calloc((size_t)n, sizeof *cs);
        for (int i = 0; i < n; i++) {
            cs[i].fd = connect_to(port, 0);
            handshake(cs[i].fd, "/v1/ws/track?token=");
        }
        // An empty token is anonymous: the idle test runs against a --demo server (public tracking).
        int ok = upgrade_all(cs, n, -1);
        // Each viewer subscribes to a small box where nothing moves: idle, but with the state a real viewer has.
        for (int i = 0; i < n; i++) send_text(cs[i].fd, "{\"op\":\"subscribe\",\"bbox\":[-45.01,-120.01,-45,-120]}");
        printf("idle connections open: %d\n", ok);
        fflush(stdout);
        const char *ready = getenv("READY_FILE");
        if (ready) { FILE *f = fopen(ready, "w"); if (f) fclose(f); }
        sleep((unsigned)seconds);
        return ok == n ? 0 : 1;
    }
    if (argc < 11 || strcmp(argv[1], "fanout") != 0) {
        fprintf(stderr, "usage: track_load fanout HTTP_PORT UDP_PORT SECRET_HEX ADMIN_TOKEN SUBSCRIBERS DRIVERS SECONDS RATE_HZ STALLED\n"
                        "       track_load idle HTTP_PORT SUBSCRIBERS SECONDS\n"
                        "       track_load bare CONNECTIONS MESSAGE_BYTES SECONDS\n");
        return 2;
    }
    int http_port = atoi(argv[2]);
    udp_port = atoi(argv[3]);
    const char *sx = argv[4];
    secret_len = (int)strlen(sx) / 2;
    for (int i = 0; i < secret_len; i++) secret[i] = (unsigned char)(hex(sx[2 * i]) << 4 | hex(sx[2 * i + 1]));
    const char *admin = argv[5];
    int subs = atoi(argv[6]);
    drivers = atoi(argv[7]);
    int seconds = atoi(argv[8]);
    rate_hz = atoi(argv[9]);
    lat_us = calloc(LMAX + 1, sizeof *lat_us);
    sent_ts = calloc((size_t)drivers + 1, sizeof *sent_ts);
    sent_us = calloc((size_t)drivers + 1, sizeof *sent_us);
    int stalled = atoi(argv[10]);

    char path[512];
    snprintf(path, sizeof path, "/v1/ws/track?token=%s", admin);
    int blocking_reader = getenv("BLOCKING_READER") && atoi(getenv("BLOCKING_READER")) != 0;
    int ep = epoll_create1(0);
    conn_t *cs = calloc((size_t)subs, sizeof *cs);
    srand(7);
    for (int i = 0; i < subs; i++) {
        cs[i].fd = connect_to(http_port, 0);
        cs[i].buf = malloc(BUF);
        handshake(cs[i].fd, path);
    }
    int ok = upgrade_all(cs, subs, ep);
    // FOLLOW=1: each subscriber follows one driver (a customer watching a courier; drivers × rate × subscribers /
    // drivers positions per second). Default: a 0.05° viewport each (about 1 % of the drivers in view).
    int follow = getenv("FOLLOW") && atoi(getenv("FOLLOW")) != 0;
    for (int i = 0; i < subs; i++) {
        double lat = 10.0 + (rand() % 450) / 1000.0, lng = 10.0 + (rand() % 450) / 1000.0;
        char cmd[160];
        if (follow) snprintf(cmd, sizeof cmd, "{\"op\":\"subscribe\",\"driver\":%d}", i % drivers + 1);
        else snprintf(cmd, sizeof cmd, "{\"op\":\"subscribe\",\"bbox\":[%.4f,%.4f,%.4f,%.4f]}", lat, lng, lat + BOX / 1e7, lng + BOX / 1e7);
        send_text(cs[i].fd, cmd);
    }
    // Stalled readers: whole-area subscriptions that are never read.
    conn_t *st = calloc((size_t)(stalled > 0 ? stalled : 1), sizeof *st);
    for (int i = 0; i < stalled; i++) {
        st[i].fd = connect_to(http_port, 4096);
        handshake(st[i].fd, path);
    }
    int stalled_ok = upgrade_all(st, stalled, -1);
    for (int i = 0; i < stalled; i++) send_text(st[i].fd, "{\"op\":\"subscribe\",\"bbox\":[10,10,10.5,10.5]}");
    fprintf(stderr, "subscribers open: %d of %d, stalled readers: %d\n", ok, subs, stalled_ok);
    // Tell the script the set-up burst is over (it reads /metrics now), then give it a moment.
    const char *ready = getenv("READY_FILE");
    if (ready) { FILE *f = fopen(ready, "w"); if (f) fclose(f); sleep(2); }

    pthread_t th;
    pthread_create(&th, NULL, sender, NULL);
    struct epoll_event evs[1024];
    int64_t start = now_ms(), warm = start + 3000, end = warm + (int64_t)seconds * 1000;
    while (now_ms() < end) {
        if (!measuring && now_ms() >= warm) measuring = 1;
        // Poll without sleeping (yielding the core when nothing is ready): a sleeping reader makes every server write
        // pay a cross-CPU wake-up, which on this VM costs more than the write itself and would be the client's cost,
        // not the server's. BLOCKING_READER=1 restores the sleeping reader.
        int n = epoll_wait(ep, evs, 1024, blocking_reader ? 100 : 0);
        if (n == 0 && !blocking_reader) sched_yield();
        for (int k = 0; k < n; k++) {
            conn_t *c = &cs[evs[k].data.u32];
            for (;;) {
                ssize_t r = read(c->fd, c->buf + c->len, (size_t)(BUF - c->len));
                if (r > 0) { c->len += (int)r; parse_frames(c); if (r < BUF / 2) break; continue; }
                if (r == 0) { epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); c->state = 2; }
                break;
            }
        }
    }
    atomic_store(&stop_sender, 1);
    pthread_join(th, NULL);
    // Tell the script the measured window is over before the connections close (a close storm is not steady state).
    const char *done = getenv("DONE_FILE");
    if (done) { FILE *f = fopen(done, "w"); if (f) fclose(f); sleep(2); }
    uint64_t total = 0, p50 = 0, p99 = 0, pmax = 0, acc = 0;
    for (int i = 0; i <= LMAX; i++) total += lat_us[i];
    for (int i = 0; i <= LMAX; i++) {
        acc += lat_us[i];
        if (!p50 && acc * 100 >= total * 50) p50 = (uint64_t)i;
        if (!p99 && acc * 100 >= total * 99) p99 = (uint64_t)i;
        if (lat_us[i]) pmax = (uint64_t)i;
    }
    const char *lf = getenv("LATENCY_FILE");
    if (lf) {   // "µs count" per non-empty bucket, for HdrHistogram
        FILE *f = fopen(lf, "w");
        if (f) { for (int i = 0; i <= LMAX; i++) if (lat_us[i]) fprintf(f, "%d %u\n", i, lat_us[i]); fclose(f); }
    }
    printf("subscribers=%d stalled=%d drivers=%d rate_hz=%d seconds=%d\n", ok, stalled_ok, drivers, rate_hz, seconds);
    printf("records_sent_per_s=%.0f frames_per_s=%.0f positions_per_s=%.0f closes=%llu\n",
           (double)sent_records / (seconds + 3), (double)frames / seconds, (double)positions / seconds,
           (unsigned long long)closes);
    printf("latency_ms p50=%.3f p99=%.3f max=%.3f (ping sent -> subscriber received) timed_exactly=%llu timed_by_ts=%llu\n",
           p50 / 1000.0, p99 / 1000.0, pmax / 1000.0, (unsigned long long)exact, (unsigned long long)coarse);
    return 0;
}
