// Shim over OpenSSL's libcrypto (Debian libssl-dev), for SHA-256 on a caller-owned context only: the UDP tag check
// resumes SHA-256 from precomputed HMAC chaining values on a stack context, which swift-crypto's API cannot do
// without a heap context per message. OpenSSL 3 marks these functions deprecated in favour of EVP, whose contexts
// live on the heap; they remain supported and SHA-NI accelerated.
#ifndef HEXFLEET_CLIBCRYPTO_SHIM_H
#define HEXFLEET_CLIBCRYPTO_SHIM_H
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#endif
