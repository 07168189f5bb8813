// Shim over libuv (Debian libuv1-dev). Casts and macros Swift cannot express live here as hf_* helpers.
#ifndef HEXFLEET_CLIBUV_SHIM_H
#define HEXFLEET_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// Swift cannot upcast between C structs: libuv's "subclasses" all begin with uv_handle_t / uv_stream_t.
static inline uv_handle_t *hf_udp_as_handle(uv_udp_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *hf_tcp_as_handle(uv_tcp_t *h) { return (uv_handle_t *)h; }
static inline uv_stream_t *hf_tcp_as_stream(uv_tcp_t *h) { return (uv_stream_t *)h; }
static inline uv_handle_t *hf_stream_as_handle(uv_stream_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *hf_timer_as_handle(uv_timer_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *hf_async_as_handle(uv_async_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *hf_signal_as_handle(uv_signal_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *hf_idle_as_handle(uv_idle_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *hf_prepare_as_handle(uv_prepare_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *hf_check_as_handle(uv_check_t *h) { return (uv_handle_t *)h; }

// Requests are C "subclasses" of uv_req_t too; Swift reaches their data slot through these.
static inline void *hf_req_data(const uv_req_t *r) { return r->data; }

// sockaddr_in/sockaddr_in6/sockaddr_storage all start with the family; Swift needs a cast to pass them as sockaddr.
static inline const struct sockaddr *hf_storage_as_sockaddr(const struct sockaddr_storage *s) {
    return (const struct sockaddr *)s;
}
// The port of an IPv4 or IPv6 address in host byte order (0 for other families); ntohs is a macro.
static inline int hf_sockaddr_port(const struct sockaddr *a) {
    if (a->sa_family == AF_INET) return ntohs(((const struct sockaddr_in *)a)->sin_port);
    if (a->sa_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    return 0;
}
// The size of the concrete address behind a sockaddr, for copying it into storage.
static inline size_t hf_sockaddr_length(const struct sockaddr *a) {
    if (a->sa_family == AF_INET) return sizeof(struct sockaddr_in);
    if (a->sa_family == AF_INET6) return sizeof(struct sockaddr_in6);
    return sizeof(struct sockaddr);
}
// The textual address of an IPv4 or IPv6 address (uv_ip_name takes the family from the struct).
static inline int hf_sockaddr_name(const struct sockaddr *a, char *dst, size_t size) {
    return uv_ip_name(a, dst, size);
}

static inline uv_handle_t *hf_poll_as_handle(uv_poll_t *h) { return (uv_handle_t *)h; }

// ---- UDPReceiver: our own recvmmsg, because libuv 1.44 neither passes control messages (the UDP GRO segment
// size) nor reads more than 20 datagrams per call. recvmmsg and struct mmsghdr are declared by glibc only under
// _GNU_SOURCE, which broke Glibc's fd_set for Swift on a clean build; the raw syscall with the kernel's own
// layout avoids it. Can go when the minimum libuv passes cmsgs (or Swift imports _GNU_SOURCE headers cleanly).

struct hf_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };

/// One entry of a receive batch: a datagram, or with UDP GRO a train of same-size datagrams (`segment` bytes each,
/// the last one possibly shorter; 0 when not coalesced).
typedef struct {
    struct sockaddr_storage sender;
    int length;
    int segment;
    int truncated;
} hf_udp_entry;

#define HF_UDP_BATCH_MAX 64

/// A non-blocking, close-on-exec UDP socket bound to `address`; the descriptor, or -errno.
static inline int hf_udp_open_bound(const struct sockaddr *address, socklen_t length) {
    int fd = socket(address->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, address, length) != 0) { int e = errno; close(fd); return -e; }
    return fd;
}

/// The bound address of `fd`; 0 or -errno.
static inline int hf_socket_name(int fd, struct sockaddr_storage *out) {
    socklen_t length = sizeof *out;
    return getsockname(fd, (struct sockaddr *)out, &length) == 0 ? 0 : -errno;
}

/// Asks the kernel to hand over trains of same-flow datagrams in one buffer (UDP GRO, Linux ≥ 5.0); 0 or -errno.
static inline int hf_udp_enable_gro(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0 ? 0 : -errno;
}

/// Sets SO_RCVBUF; 0 or -errno.
static inline int hf_socket_set_rcvbuf(int fd, int bytes) {
    return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == 0 ? 0 : -errno;
}

/// SO_RCVBUF as the kernel reports it, or -errno.
static inline int hf_socket_rcvbuf(int fd) {
    int value = 0; socklen_t length = sizeof value;
    return getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0 ? value : -errno;
}

static inline int hf_close(int fd) { return close(fd) == 0 ? 0 : -errno; }

/// Receives up to `count` (≤ HF_UDP_BATCH_MAX) entries with one recvmmsg, entry i into `slab + i·slot_bytes`.
/// Returns how many arrived, 0 when none was waiting, or -errno.
static inline int hf_udp_recv_batch(int fd, char *slab, size_t slot_bytes, int count, hf_udp_entry *out) {
    struct hf_mmsghdr msgs[HF_UDP_BATCH_MAX];
    struct iovec iov[HF_UDP_BATCH_MAX];
    union { char bytes[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control[HF_UDP_BATCH_MAX];
    if (count > HF_UDP_BATCH_MAX) count = HF_UDP_BATCH_MAX;
    for (int i = 0; i < count; i++) {
        iov[i].iov_base = slab + (size_t)i * slot_bytes;
        iov[i].iov_len = slot_bytes;
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_name = &out[i].sender;
        msgs[i].msg_hdr.msg_namelen = sizeof out[i].sender;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = control[i].bytes;
        msgs[i].msg_hdr.msg_controllen = sizeof control[i].bytes;
    }
    int n = (int)syscall(SYS_recvmmsg, fd, msgs, (unsigned int)count, MSG_DONTWAIT, NULL);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        out[i].length = (int)msgs[i].msg_len;
        out[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        out[i].segment = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&out[i].segment, CMSG_DATA(c), sizeof(int));
        }
    }
    return n;
}

#endif
