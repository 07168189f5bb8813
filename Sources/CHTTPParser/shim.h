// Shim over http-parser (Debian libhttp-parser-dev, no pkg-config file).
#ifndef HEXFLEET_CHTTPPARSER_SHIM_H
#define HEXFLEET_CHTTPPARSER_SHIM_H
#include <http_parser.h>

// http_parser packs these into bitfields, which Swift imports awkwardly; read them through functions.
static inline unsigned int hf_http_method(const http_parser *p) { return p->method; }
static inline unsigned int hf_http_errno(const http_parser *p) { return p->http_errno; }
static inline unsigned int hf_http_upgrade(const http_parser *p) { return p->upgrade; }
#endif
