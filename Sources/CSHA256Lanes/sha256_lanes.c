// Single and two-way SHA-256 block functions; see CSHA256Lanes.h for why.
//
// Register layout as the SHA extensions define it: one 128-bit register holds the working variables A, B, E, F,
// another C, D, G, H; SHA256RNDS2 runs two rounds with two message-plus-constant words, and SHA256MSG1/MSG2 compute
// the message schedule four words at a time (Intel, "New Instructions Supporting the Secure Hash Algorithm on
// Intel Architecture Processors", 2013).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "CSHA256Lanes.h"

#include <cpuid.h>
#include <immintrin.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <string.h>

// FIPS 180-4, 4.2.2.
static const uint32_t K[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// Up to this many chains advance together; each step below loops over them, so the compiler interleaves the
// independent instruction streams.
#define MAX_LANES 2

typedef struct {
    __m128i abef, cdgh;      // working variables
    __m128i savedAbef, savedCdgh;
    __m128i w[4];            // the last sixteen message words, four per register
} Lane;

SHA_TARGET static inline void lanes_begin(Lane *l, int n, uint32_t *const states[], const uint8_t *const blocks[]) {
    // Big-endian message words to little-endian lanes.
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    for (int i = 0; i < n; i++) {
        __m128i abcd = _mm_loadu_si128((const __m128i *)states[i]);
        __m128i efgh = _mm_loadu_si128((const __m128i *)(states[i] + 4));
        abcd = _mm_shuffle_epi32(abcd, 0xB1);            // B A D C
        efgh = _mm_shuffle_epi32(efgh, 0x1B);            // H G F E
        l[i].abef = _mm_alignr_epi8(abcd, efgh, 8);      // A B E F, high lane to low, as SHA256RNDS2 takes them
        l[i].cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);
        l[i].savedAbef = l[i].abef;
        l[i].savedCdgh = l[i].cdgh;
        for (int j = 0; j < 4; j++)
            l[i].w[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks[i] + 16 * j)), swap);
    }
}

// Four rounds (4g … 4g+3) on every lane; from g = 4 on, first computes their message words from the previous
// sixteen: W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16].
SHA_TARGET static inline void lanes_rounds(Lane *l, int n, int g) {
    const int s = g & 3;
    const __m128i k = _mm_load_si128((const __m128i *)(K + 4 * g));
#pragma clang loop unroll(full)
    for (int i = 0; i < n; i++) {
        if (g >= 4) {
            __m128i w = _mm_sha256msg1_epu32(l[i].w[s], l[i].w[(s + 1) & 3]);
            w = _mm_add_epi32(w, _mm_alignr_epi8(l[i].w[(s + 3) & 3], l[i].w[(s + 2) & 3], 4));
            l[i].w[s] = _mm_sha256msg2_epu32(w, l[i].w[(s + 3) & 3]);
        }
        __m128i wk = _mm_add_epi32(l[i].w[s], k);
        l[i].cdgh = _mm_sha256rnds2_epu32(l[i].cdgh, l[i].abef, wk);
        l[i].abef = _mm_sha256rnds2_epu32(l[i].abef, l[i].cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    // After two rounds the old A B E F are the new C D G H: the two registers swap roles each time, so the pair
    // above leaves `abef` and `cdgh` in their own roles again.
}

SHA_TARGET static inline void lanes_end(Lane *l, int n, uint32_t *const states[]) {
    for (int i = 0; i < n; i++) {
        __m128i abef = _mm_add_epi32(l[i].abef, l[i].savedAbef);
        __m128i cdgh = _mm_add_epi32(l[i].cdgh, l[i].savedCdgh);
        __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
        __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        _mm_storeu_si128((__m128i *)states[i], _mm_blend_epi16(feba, dchg, 0xF0));        // A B C D
        _mm_storeu_si128((__m128i *)(states[i] + 4), _mm_alignr_epi8(dchg, feba, 8));   // E F G H
    }
}

SHA_TARGET static inline void lanes_compress(int n, uint32_t *const states[], const uint8_t *const blocks[]) {
    Lane l[MAX_LANES];
    lanes_begin(l, n, states, blocks);
#pragma clang loop unroll(full)
    for (int g = 0; g < 16; g++) lanes_rounds(l, n, g);
    lanes_end(l, n, states);
}

SHA_TARGET static void block1_accelerated(uint32_t state[8], const uint8_t *block) {
    uint32_t *const states[1] = {state};
    const uint8_t *const blocks[1] = {block};
    lanes_compress(1, states, blocks);
}

SHA_TARGET static void block2_accelerated(uint32_t a[8], const uint8_t *blockA, uint32_t b[8], const uint8_t *blockB) {
    uint32_t *const states[2] = {a, b};
    const uint8_t *const blocks[2] = {blockA, blockB};
    lanes_compress(2, states, blocks);
}

static void block1_openssl(uint32_t state[8], const uint8_t *block) {
    SHA256_CTX c;
    memcpy(c.h, state, 32);
    SHA256_Transform(&c, block);
    memcpy(state, c.h, 32);
}

static int cpu_has_sha_extensions(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return ssse3 && sse41 && ((b >> 29) & 1);
}

// -1 until decided, then for the rest of the process 1 (extensions) or 0 (fallback). Decided once, by the first
// block or query (the CPU's answer) or by `hf_sha256_use_fallback` before that: a compare-and-swap from -1, so
// threads deciding at once agree and a decision is never undone while another thread hashes. Reads are relaxed
// atomic loads, a plain `mov` on x86: the hot path costs what the plain int did.
static _Atomic int accelerated = -1;

static int decide(int value) {
    int expected = -1;
    if (atomic_compare_exchange_strong(&accelerated, &expected, value)) return value;
    return expected;
}

static inline int use_extensions(void) {
    int mode = atomic_load_explicit(&accelerated, memory_order_relaxed);
    if (__builtin_expect(mode < 0, 0)) mode = decide(cpu_has_sha_extensions());
    return mode;
}

void hf_sha256_block(uint32_t state[8], const uint8_t *block) {
    if (use_extensions()) block1_accelerated(state, block);
    else block1_openssl(state, block);
}

void hf_sha256_block2(uint32_t a[8], const uint8_t *blockA, uint32_t b[8], const uint8_t *blockB) {
    if (use_extensions()) {
        block2_accelerated(a, blockA, b, blockB);
    } else {
        block1_openssl(a, blockA);
        block1_openssl(b, blockB);
    }
}

int hf_sha256_accelerated(void) { return use_extensions(); }

int hf_sha256_use_fallback(void) { return decide(0) == 0; }
