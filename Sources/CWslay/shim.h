// Shim over wslay (Debian libwslay-dev, no pkg-config file): RFC 6455 framing and the event-based API.
#ifndef HEXFLEET_CWSLAY_SHIM_H
#define HEXFLEET_CWSLAY_SHIM_H
#include <sys/types.h>
#include <wslay/wslay.h>
#endif
