// Shim over libuv (Debian libuv1-dev). Casts and macros Swift cannot express live here as hf_* helpers.
#ifndef HEXFLEET_CLIBUV_SHIM_H
#define HEXFLEET_CLIBUV_SHIM_H
#include <uv.h>

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

#endif
