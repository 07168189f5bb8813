// Loopback load tools for Hexfleet's end-to-end benchmarks (compiled with `cc -O2` by loopback-bench.sh).
//
//   udp_baseline drain PORT SECONDS
//       The bare baseline: binds 127.0.0.1:PORT and drains datagrams with recvmmsg (64 per call) for SECONDS after
//       the first one arrives; prints `drain datagrams=N seconds=S rate=R`. No parsing, no verification: the most a
//       single receiving thread can take from the kernel on this machine. DRAIN_GRO=1 turns on UDP GRO (the kernel
//       hands a train of same-size datagrams from one sender over as one buffer; they are counted one by one from
//       the segment size it reports): the same drain with the receive-side offload the engine uses.
//   udp_baseline blast HOST PORT FILE SECONDS
//       Sends the datagrams stored in FILE (u16 little-endian length, then the bytes, repeated) with sendmmsg as
//       fast as the socket takes them, for SECONDS (the file replays from the start when exhausted; SECONDS = 0
//       sends the file exactly once); prints `blast datagrams=N seconds=S rate=R`. With BLAST_PPS set, paces the
//       sends to that many datagrams per second (to load a slower receiver without kernel drops).
//   udp_baseline nearby HOST PORT SECONDS CONNECTIONS TOKEN
//       HTTP/1.1 keep-alive load: CONNECTIONS threads each send `GET /v1/drivers/nearby?...&k=10&radius_m=1000`
//       for points spread over the fleet box (make_datagrams.py's: 48.68 N 2.08 E, 0.36 x 0.54 deg), one request in
//       flight per connection; prints
//       `nearby requests=N errors=E seconds=S rate=R`. NEARBY_LAT0/NEARBY_LNG0 move the query box.
//   udp_baseline geosearch HOST PORT SECONDS CONNECTIONS
//       The same points against Redis: `GEOSEARCH drivers FROMLONLAT lng lat BYRADIUS 1000 m ASC COUNT 10` (RESP).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXDGRAM 65536

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int drain(int port, double seconds) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); return 1; }
    int gro = getenv("DRAIN_GRO") && atoi(getenv("DRAIN_GRO"));
    if (gro) {
        int one = 1;
        if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) != 0) { perror("UDP_GRO"); return 1; }
    }
    size_t slot = gro ? MAXDGRAM : 2048;
    char *bufs = malloc(BATCH * slot);
    static char control[BATCH][CMSG_SPACE(sizeof(int))] __attribute__((aligned(8)));
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs + i * slot;
        iov[i].iov_len = slot;
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint64_t count = 0;
    double start = 0, end = 0;
    printf("drain ready port=%d\n", port);
    fflush(stdout);
    for (;;) {
        if (gro) {
            for (int i = 0; i < BATCH; i++) {
                msgs[i].msg_hdr.msg_control = control[i];
                msgs[i].msg_hdr.msg_controllen = sizeof control[i];
            }
        }
        // MSG_WAITFORONE: block for the first entry only, then take what is queued. Without it a batch waits for
        // all 64 entries, and the last, partial one of a run ends only at the 200 ms receive timeout.
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        double t = now_s();
        if (n > 0) {
            if (count == 0) start = t;
            if (!gro) count += n;
            for (int i = 0; gro && i < n; i++) {
                int seg = 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
                    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&seg, CMSG_DATA(c), sizeof seg);
                count += seg > 0 ? (msgs[i].msg_len + seg - 1) / seg : 1;
            }
            end = t;
        }
        if (count > 0 && t - start >= seconds) break;
        if (n < 0 && count > 0 && t - end > 1.0) break;   // sender stopped
    }
    double elapsed = end > start ? end - start : 1e-9;
    printf("drain datagrams=%llu seconds=%.3f rate=%.0f\n", (unsigned long long)count, elapsed, count / elapsed);
    return 0;
}

static int blast(const char *host, int port, const char *file, double seconds) {
    FILE *f = fopen(file, "rb");
    if (!f) { perror(file); return 1; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(len);
    if (fread(data, 1, len, f) != (size_t)len) { perror("read"); return 1; }
    fclose(f);
    size_t cap = 1024, n = 0;
    struct iovec *items = malloc(cap * sizeof *items);
    for (long off = 0; off + 2 <= len;) {
        unsigned dl = data[off] | data[off + 1] << 8;
        if (off + 2 + dl > len) break;
        if (n == cap) { cap *= 2; items = realloc(items, cap * sizeof *items); }
        items[n].iov_base = data + off + 2;
        items[n].iov_len = dl;
        n++;
        off += 2 + dl;
    }
    if (n == 0) { fprintf(stderr, "no datagrams in %s\n", file); return 1; }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
    struct mmsghdr msgs[BATCH];
    uint64_t sent = 0;
    size_t next = 0;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    double start = now_s(), t = start;
    int once = seconds <= 0;
    double pps = getenv("BLAST_PPS") ? atof(getenv("BLAST_PPS")) : 0;
    // BLAST_GSO=1: runs of up to 64 same-size datagrams leave as one UDP_SEGMENT send (the receiver still gets
    // separate datagrams); the sender then spends far less per datagram and can outrun a receiver.
    if (getenv("BLAST_GSO") && atoi(getenv("BLAST_GSO")) && once) {
        static unsigned char packed[64 * 2048];
        size_t i = 0;
        while (i < n) {
            size_t size = items[i].iov_len, k = 0;
            while (i + k < n && k < 64 && items[i + k].iov_len == size && size <= 2048) {
                memcpy(packed + k * size, items[i + k].iov_base, size);
                k++;
            }
            if (k == 0) { k = 1; if (send(fd, items[i].iov_base, items[i].iov_len, 0) > 0) sent++; i++; continue; }
            char control[CMSG_SPACE(sizeof(uint16_t))] = {0};
            struct iovec v = {.iov_base = packed, .iov_len = k * size};
            struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
            struct cmsghdr *c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_UDP; c->cmsg_type = 103 /* UDP_SEGMENT */; c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t seg = (uint16_t)size;
            memcpy(CMSG_DATA(c), &seg, sizeof seg);
            ssize_t r = k > 1 ? sendmsg(fd, &m, 0) : send(fd, packed, size, 0);
            if (r > 0) { sent += k; i += k; }
            else if (errno == ENOBUFS || errno == EAGAIN) usleep(20);
            else { perror("sendmsg"); break; }
            // Paced (BLAST_PPS): the offered load is spread over a known window, so a receiver that cannot keep up
            // is timed over that whole window, not over the few milliseconds an unpaced burst takes.
            if (pps > 0) {
                double ahead = sent / pps - (now_s() - start);
                if (ahead > 100e-6) usleep((useconds_t)(ahead * 1e6));
            }
        }
        t = now_s();
    }
    while (!(getenv("BLAST_GSO") && atoi(getenv("BLAST_GSO")) && once) && (once ? sent < n : t - start < seconds)) {
        int k = 0, want = once && n - sent < BATCH ? (int)(n - sent) : BATCH;
        for (; k < want; k++) {
            memset(&msgs[k], 0, sizeof msgs[k]);
            msgs[k].msg_hdr.msg_iov = &items[next];
            msgs[k].msg_hdr.msg_iovlen = 1;
            next = (next + 1) % n;
        }
        int r = sendmmsg(fd, msgs, want, 0);
        if (r > 0) sent += r;
        else if (r < 0 && errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED) { perror("sendmmsg"); break; }
        int unsent = r > 0 ? want - r : want;
        if (unsent > 0) next = (next + n - unsent) % n;
        t = now_s();
        if (pps > 0) {
            double ahead = sent / pps - (t - start);
            if (ahead > 0) { usleep((useconds_t)(ahead * 1e6)); t = now_s(); }
        }
    }
    printf("blast datagrams=%llu seconds=%.3f rate=%.0f start_unix=%.6f\n", (unsigned long long)sent, t - start,
           sent / (t - start), wall.tv_sec + wall.tv_nsec * 1e-9);
    return 0;
}

struct nearby_args {
    const char *host;
    int port;
    double seconds;
    const char *token;
    int id;
    uint64_t requests, errors;
};

static void *nearby_worker(void *p) {
    struct nearby_args *a = p;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(a->port)};
    inet_pton(AF_INET, a->host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { a->errors++; return NULL; }
    char req[512], buf[65536];
    unsigned seed = 12345 + a->id;
    double start = now_s();
    while (now_s() - start < a->seconds) {
        double lat = atof(getenv("NEARBY_LAT0") ? getenv("NEARBY_LAT0") : "48.68") + (rand_r(&seed) % 10000) * 0.000036;
        double lng = atof(getenv("NEARBY_LNG0") ? getenv("NEARBY_LNG0") : "2.08") + (rand_r(&seed) % 10000) * 0.000054;
        int len = snprintf(req, sizeof req,
                           "GET /v1/drivers/nearby?lat=%.6f&lng=%.6f&k=10&radius_m=1000 HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer %s\r\n\r\n", lat, lng, a->token);
        if (send(fd, req, len, MSG_NOSIGNAL) != len) { a->errors++; break; }
        // Read one response: head, then Content-Length bytes.
        int have = 0, head_end = -1, body_len = 0;
        for (;;) {
            int r = recv(fd, buf + have, sizeof buf - have - 1, 0);
            if (r <= 0) { a->errors++; close(fd); return NULL; }
            have += r;
            buf[have] = 0;
            if (head_end < 0) {
                char *e = strstr(buf, "\r\n\r\n");
                if (e) {
                    head_end = (int)(e - buf) + 4;
                    char *cl = strcasestr(buf, "content-length:");
                    body_len = cl ? atoi(cl + 15) : 0;
                }
            }
            if (head_end >= 0 && have >= head_end + body_len) break;
        }
        if (strncmp(buf, "HTTP/1.1 200", 12) != 0) a->errors++;
        a->requests++;
    }
    close(fd);
    return NULL;
}

// RESP client for Redis GEOSEARCH with the same points and concurrency as `nearby`.
static void *geosearch_worker(void *p) {
    struct nearby_args *a = p;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(a->port)};
    inet_pton(AF_INET, a->host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { a->errors++; return NULL; }
    char req[512], buf[65536], lat_s[32], lng_s[32];
    unsigned seed = 12345 + a->id;
    double start = now_s();
    while (now_s() - start < a->seconds) {
        double lat = atof(getenv("NEARBY_LAT0") ? getenv("NEARBY_LAT0") : "48.68") + (rand_r(&seed) % 10000) * 0.000036;
        double lng = atof(getenv("NEARBY_LNG0") ? getenv("NEARBY_LNG0") : "2.08") + (rand_r(&seed) % 10000) * 0.000054;
        snprintf(lat_s, sizeof lat_s, "%.6f", lat);
        snprintf(lng_s, sizeof lng_s, "%.6f", lng);
        int len = snprintf(req, sizeof req,
                           "*11\r\n$9\r\nGEOSEARCH\r\n$7\r\ndrivers\r\n$10\r\nFROMLONLAT\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n"
                           "$8\r\nBYRADIUS\r\n$4\r\n1000\r\n$1\r\nm\r\n$3\r\nASC\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n",
                           strlen(lng_s), lng_s, strlen(lat_s), lat_s);
        if (send(fd, req, len, MSG_NOSIGNAL) != len) { a->errors++; break; }
        // Reply: *N then N bulk strings ($len CRLF bytes CRLF), or an error line.
        int have = 0;
        for (;;) {
            int r = recv(fd, buf + have, sizeof buf - have - 1, 0);
            if (r <= 0) { a->errors++; close(fd); return NULL; }
            have += r;
            buf[have] = 0;
            if (buf[0] == '-') { a->errors++; break; }
            char *q = strstr(buf, "\r\n");
            if (!q) continue;
            int items = atoi(buf + 1), done = 1;
            q += 2;
            for (int i = 0; i < items; i++) {
                char *e = strstr(q, "\r\n");
                if (!e) { done = 0; break; }
                int bl = atoi(q + 1);
                q = e + 2;
                if (q + bl + 2 > buf + have) { done = 0; break; }
                q += bl + 2;
            }
            if (done) break;
        }
        a->requests++;
    }
    close(fd);
    return NULL;
}

static int nearby(const char *host, int port, double seconds, int conns, const char *token, int redis) {
    pthread_t th[256];
    struct nearby_args args[256];
    if (conns > 256) conns = 256;
    double start = now_s();
    for (int i = 0; i < conns; i++) {
        args[i] = (struct nearby_args){host, port, seconds, token, i, 0, 0};
        pthread_create(&th[i], NULL, redis ? geosearch_worker : nearby_worker, &args[i]);
    }
    uint64_t total = 0, errors = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        total += args[i].requests;
        errors += args[i].errors;
    }
    double elapsed = now_s() - start;
    printf("%s requests=%llu errors=%llu seconds=%.3f rate=%.0f\n", redis ? "geosearch" : "nearby", (unsigned long long)total,
           (unsigned long long)errors, elapsed, total / elapsed);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "drain") == 0) return drain(atoi(argv[2]), atof(argv[3]));
    if (argc >= 6 && strcmp(argv[1], "blast") == 0) return blast(argv[2], atoi(argv[3]), argv[4], atof(argv[5]));
    if (argc >= 7 && strcmp(argv[1], "nearby") == 0)
        return nearby(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]), argv[6], 0);
    if (argc >= 6 && strcmp(argv[1], "geosearch") == 0)
        return nearby(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]), "", 1);
    fprintf(stderr, "usage: %s drain PORT SECONDS | blast HOST PORT FILE SECONDS | nearby HOST PORT SECONDS CONNS TOKEN | geosearch HOST PORT SECONDS CONNS\n", argv[0]);
    return 2;
}
