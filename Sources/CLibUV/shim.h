// Shim over libuv (Debian libuv1-dev). Casts and macros Swift cannot express live here as hf_* helpers.
#ifndef HEXFLEET_CLIBUV_SHIM_H
#define HEXFLEET_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>

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

#endif
