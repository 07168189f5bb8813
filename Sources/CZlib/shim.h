// Shim over zlib (Debian zlib1g-dev): OSM PBF blobs are zlib streams.
#ifndef HEXFLEET_CZLIB_SHIM_H
#define HEXFLEET_CZLIB_SHIM_H
#include <zlib.h>
// inflateInit is a macro Swift cannot call; pass the version and struct size explicitly.
static inline int hf_inflate_init(z_stream *s) { return inflateInit_(s, ZLIB_VERSION, (int)sizeof(z_stream)); }
#endif
