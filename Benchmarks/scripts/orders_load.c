// orders_load: a closed-loop HTTP/1.1 load client for POST /v1/orders (and POST /v1/quotes).
//
// C clients connections over keep-alive sockets on one epoll loop; each sends a request, waits for the whole
// answer, counts it by status and sends the next, for the given number of seconds. Orders carry an
// Idempotency-Key unique per request (so the server does its full idempotent path). Prints one JSON line:
// requests, statuses, rate, latency percentiles in microseconds.
//
//   cc -O2 -o orders_load orders_load.c
//   orders_load PORT TOKEN SECONDS CONNECTIONS [orders|quotes]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    char out[2048];
    int out_len, out_off;
    char in[16384];
    int in_len;
    uint64_t sent_ns;
} conn_t;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *token;
static int quotes_mode;
static uint64_t seq;
static unsigned run_id;

static void build(conn_t *c) {
    char body[512];
    // Pick-ups spread over central Monaco so surge and routing see different points.
    uint64_t n = seq++;
    double plat = 43.7300 + (double)(n % 97) * 0.0001, plng = 7.4180 + (double)(n % 89) * 0.0001;
    double dlat = 43.7390 + (double)(n % 53) * 0.0001, dlng = 7.4250 + (double)(n % 61) * 0.0001;
    int blen = snprintf(body, sizeof body,
                        "{\"customer_id\":\"%llu\",\"pickup\":{\"lat\":%.5f,\"lng\":%.5f},\"dropoff\":{\"lat\":%.5f,\"lng\":%.5f}}",
                        (unsigned long long)(1000 + n % 5000), plat, plng, dlat, dlng);
    if (quotes_mode) {
        c->out_len = snprintf(c->out, sizeof c->out,
                              "POST /v1/quotes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                              "Content-Length: %d\r\n\r\n%s", token, blen, body);
    } else {
        c->out_len = snprintf(c->out, sizeof c->out,
                              "POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                              "Idempotency-Key: load-%u-%llu\r\nContent-Length: %d\r\n\r\n%s",
                              token, run_id, (unsigned long long)n, blen, body);
    }
    c->out_off = 0;
    c->in_len = 0;
}

static int open_conn(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) { perror("connect"); exit(1); }
    return fd;
}

// Returns the status when a whole response is buffered (and drops it from the buffer), else 0.
static int complete(conn_t *c) {
    c->in[c->in_len] = 0;
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) return 0;
    int header_len = (int)(end - c->in) + 4;
    char *cl = strcasestr(c->in, "content-length:");
    int body = cl && cl < end ? atoi(cl + 15) : 0;
    if (c->in_len < header_len + body) return 0;
    int status = atoi(c->in + 9);
    int rest = c->in_len - header_len - body;
    memmove(c->in, c->in + header_len + body, (size_t)rest);
    c->in_len = rest;
    return status;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s PORT TOKEN SECONDS CONNECTIONS [orders|quotes]\n", argv[0]); return 2; }
    int port = atoi(argv[1]);
    token = argv[2];
    double seconds = atof(argv[3]);
    int n = atoi(argv[4]);
    quotes_mode = argc > 5 && strcmp(argv[5], "quotes") == 0;
    run_id = (unsigned)time(NULL) ^ (unsigned)getpid();
    int ep = epoll_create1(0);
    conn_t *conns = calloc((size_t)n, sizeof(conn_t));
    size_t cap = 1 << 22, count = 0;
    uint64_t *lat = malloc(cap * sizeof(uint64_t));
    uint64_t statuses[600] = {0}, errors = 0;
    for (int i = 0; i < n; i++) {
        conns[i].fd = open_conn(port);
        build(&conns[i]);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
        conns[i].sent_ns = now_ns();
    }
    uint64_t start = now_ns(), stop = start + (uint64_t)(seconds * 1e9);
    struct epoll_event evs[256];
    int open = n;
    while (open > 0) {
        int k = epoll_wait(ep, evs, 256, 100);
        uint64_t t = now_ns();
        for (int e = 0; e < k; e++) {
            conn_t *c = evs[e].data.ptr;
            if ((evs[e].events & EPOLLOUT) && c->out_off < c->out_len) {
                ssize_t w = send(c->fd, c->out + c->out_off, (size_t)(c->out_len - c->out_off), MSG_NOSIGNAL);
                if (w > 0) c->out_off += (int)w;
                else if (w < 0 && errno != EAGAIN) { errors++; close(c->fd); c->fd = -1; open--; continue; }
                if (c->out_off == c->out_len) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - (size_t)c->in_len, 0);
                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN) continue;
                    errors++; close(c->fd); c->fd = -1; open--; continue;
                }
                c->in_len += (int)r;
                int status = complete(c);
                if (!status) continue;
                if (status > 0 && status < 600) statuses[status]++;
                if (count < cap) lat[count++] = t - c->sent_ns;
                if (t >= stop) { close(c->fd); c->fd = -1; open--; continue; }
                build(c);
                c->sent_ns = t;
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            }
        }
        if (now_ns() > stop + 10000000000ull) break;   // 10 s grace for the last answers
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    qsort(lat, count, sizeof(uint64_t), cmp_u64);
    uint64_t ok = statuses[200] + statuses[201];
    printf("{\"mode\":\"%s\",\"connections\":%d,\"seconds\":%.2f,\"responses\":%zu,\"ok\":%llu,\"ok_per_s\":%.0f,"
           "\"p50_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%.0f,\"errors\":%llu,\"statuses\":{",
           quotes_mode ? "quotes" : "orders", n, elapsed, count, (unsigned long long)ok, (double)ok / elapsed,
           count ? lat[count / 2] / 1e3 : 0.0, count ? lat[(size_t)((double)count * 0.99)] / 1e3 : 0.0,
           count ? lat[count - 1] / 1e3 : 0.0, (unsigned long long)errors);
    int first = 1;
    for (int s = 0; s < 600; s++) if (statuses[s]) { printf("%s\"%d\":%llu", first ? "" : ",", s, (unsigned long long)statuses[s]); first = 0; }
    printf("}}\n");
    return 0;
}
