// SHA-256's block function (FIPS 180-4, 6.2.2) on one or two independent chains at once.
//
// With the x86 SHA extensions the rounds of one chain form a single dependency chain: each two-round
// instruction waits for the previous one. Two unrelated chains interleaved keep the unit busy in those waits, so
// two blocks cost little more than one. OpenSSL exposes only the one-chain block function; the UDP ingest has many
// independent short HMACs per receive window (tag checks and key derivations), so it pairs them up here.
// Without the SHA extensions both calls fall back to OpenSSL's SHA256_Transform, one block after the other.
#ifndef HEXFLEET_CSHA256LANES_H
#define HEXFLEET_CSHA256LANES_H

#include <stdint.h>

/// Runs the block function over the 64-byte block at `block`, updating the eight chaining words `state`.
void hf_sha256_block(uint32_t state[8], const uint8_t *block);

/// Runs the block function over one block for each of two independent chains (`a` with `blockA`, `b` with
/// `blockB`); the same result as two `hf_sha256_block` calls. `a` and `b` must not overlap.
void hf_sha256_block2(uint32_t a[8], const uint8_t *blockA, uint32_t b[8], const uint8_t *blockB);

/// 1 when the SHA extensions are in use, 0 when the OpenSSL fallback is. The choice is made once per process, by
/// the first block or call here (the CPU decides) unless `hf_sha256_use_fallback` ran before.
int hf_sha256_accelerated(void);

/// Chooses the OpenSSL fallback for the rest of the process if nothing was hashed or asked yet; returns 1 when the
/// fallback is in use, 0 when the extensions were already chosen. It never switches a running process back and
/// forth (other threads may be hashing): tests call it first thing in a child process of their own (an exit test).
int hf_sha256_use_fallback(void);

#endif
