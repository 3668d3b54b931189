//! SHA-256 compression of two states at once: the one place in the crate with `unsafe`.
//!
//! An upload hashes every byte twice, into the linear SHA-256 that signs the request
//! (`x-amz-content-sha256`) and into the tree hash (`x-amz-sha256-tree-hash`; API
//! Reference, "Computing Checksums"). One SHA-256 stream on SHA-NI is bound by the
//! latency of `sha256rnds2`, each round waiting for the last, so a core hashing one
//! stream leaves most of its SHA unit idle. Two states fed the same blocks, with their
//! rounds interleaved, share the message schedule and fill that idle time: measured on the
//! project's machine (Intel Xeon, SHA-NI), the two hashes of one byte cost 0.73 of two
//! separate passes (`cargo bench --bench treehash`, `part_hash` against
//! `linear_and_tree_separately`). That is the measured hot path the `unsafe_code` exception in
//! Cargo.toml is for: the intrinsics in `std::arch` are `unsafe` to call.
//!
//! The same interleaving serves two separate messages side by side (two 1 MiB tree-hash
//! leaves, `compress_two`), each with its own message schedule: every whole pair of
//! chunks a `TreeHasher` is fed goes that way, so `glacier tree-hash` and every
//! whole-buffer tree hash gain too (measured on the same machine: about 1.2x one stream).
//!
//! This module owns the block function only: buffering, padding and the tree are the
//! caller's (`super::LinearTreeHasher`). It must not grow anything else: every line here is
//! checked against `sha2` by the tests below and the `treehash_streaming` fuzz target.
//!
//! On aarch64 the Armv8 SHA-256 instructions get the same two kernels (`armv8`), detected
//! at run time like SHA-NI. That matters more there: `sha2` 0.10 uses them only with its
//! `asm` feature (a C build this crate does not take), so on a Graviton host every hash
//! ran in software before. They are checked against `sha2`'s software code by the tests
//! below, cross-built and run under `qemu-aarch64-static` (which has the instructions),
//! and by CI's aarch64 round trip; no speed is claimed, since emulation says nothing of
//! real hardware.
//!
//! Without either (an older x86_64, an Arm core without the extension) the portable
//! kernel hands each state to `sha2::compress256` in turn, which is what two `sha2`
//! hashers did before.
#![allow(unsafe_code)]

use sha2::digest::generic_array::{GenericArray, typenum::U64};

/// The eight working words of one SHA-256 computation.
pub(crate) type State = [u32; 8];

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
pub(crate) const H0: State = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256's round constants (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Which block function this CPU runs, chosen by [`Kernel::detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// `sha2`'s own block function, one state after the other.
    Portable,
    /// x86_64 SHA extensions with the two states' rounds interleaved. Only
    /// [`Kernel::fastest`] makes this value, after the CPU said it has them.
    #[cfg(target_arch = "x86_64")]
    ShaNi(ShaNiToken),
    /// The Armv8 SHA-256 instructions with the two states' rounds interleaved. Only
    /// [`Kernel::fastest`] makes this value, after the CPU said it has them.
    #[cfg(target_arch = "aarch64")]
    Armv8(Armv8Token),
}

/// Proof that the CPU has the Armv8 SHA-256 instructions (`sha2`): made only by
/// [`Kernel::fastest`], as [`ShaNiToken`] is on x86_64.
#[cfg(target_arch = "aarch64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Armv8Token(());

/// Proof that the CPU has SHA-NI, SSSE3 and SSE4.1: it can only be made by
/// [`Kernel::fastest`], so holding a [`Kernel::ShaNi`] is what makes calling the
/// `target_feature` functions below sound.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShaNiToken(());

impl Kernel {
    /// The kernel to hash with: [`Kernel::fastest`], except in an unoptimized build
    /// (`debug_assertions` on, not a fuzzing build), where the intrinsics stay function
    /// calls and the interleaved kernel runs about 20 times slower than `sha2`'s own code
    /// (which the dev profile optimizes): the tests there hash hundreds of MiB. The tests
    /// below and the fuzz targets run the fast kernel all the same.
    pub(crate) fn detect() -> Kernel {
        if cfg!(debug_assertions) && !cfg!(fuzzing) {
            return Kernel::Portable;
        }
        Kernel::fastest()
    }

    /// The fastest kernel this CPU can run.
    pub(crate) fn fastest() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("sse4.1")
        {
            return Kernel::ShaNi(ShaNiToken(()));
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("sha2") {
            return Kernel::Armv8(Armv8Token(()));
        }
        Kernel::Portable
    }

    /// Compresses `blocks` (a whole number of 64-byte blocks) into `state`.
    pub(crate) fn compress(self, state: &mut State, blocks: &[u8]) {
        assert_eq!(blocks.len() % 64, 0, "whole blocks only");
        match self {
            Kernel::Portable => sha2::compress256(state, as_blocks(blocks)),
            // SAFETY: the token exists only when the CPU has the features enabled.
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi(_) => unsafe { shani::compress(state, blocks) },
            // SAFETY: the token exists only when the CPU has the feature enabled.
            #[cfg(target_arch = "aarch64")]
            Kernel::Armv8(_) => unsafe { armv8::compress(state, blocks) },
        }
    }

    /// Compresses the same `blocks` into both `a` and `b`: what `compress(a, blocks)`
    /// then `compress(b, blocks)` would give, in one pass over the bytes.
    pub(crate) fn compress_same(self, a: &mut State, b: &mut State, blocks: &[u8]) {
        assert_eq!(blocks.len() % 64, 0, "whole blocks only");
        match self {
            Kernel::Portable => {
                // A piece small enough to still be in the core's cache for the second
                // state (a 1 MiB piece came back from L3 or memory).
                for piece in blocks.chunks(64 << 10) {
                    sha2::compress256(a, as_blocks(piece));
                    sha2::compress256(b, as_blocks(piece));
                }
            }
            // SAFETY: the token exists only when the CPU has the features enabled.
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi(_) => unsafe { shani::compress_same(a, b, blocks) },
            // SAFETY: the token exists only when the CPU has the feature enabled.
            #[cfg(target_arch = "aarch64")]
            Kernel::Armv8(_) => unsafe { armv8::compress_same(a, b, blocks) },
        }
    }

    /// Compresses `a_blocks` into `a` and `b_blocks` (as many) into `b`: two separate
    /// messages side by side, such as two tree-hash leaves.
    pub(crate) fn compress_two(
        self,
        a: &mut State,
        a_blocks: &[u8],
        b: &mut State,
        b_blocks: &[u8],
    ) {
        assert_eq!(a_blocks.len() % 64, 0, "whole blocks only");
        assert_eq!(
            a_blocks.len(),
            b_blocks.len(),
            "as many blocks on both sides"
        );
        match self {
            Kernel::Portable => {
                sha2::compress256(a, as_blocks(a_blocks));
                sha2::compress256(b, as_blocks(b_blocks));
            }
            // SAFETY: the token exists only when the CPU has the features enabled.
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi(_) => unsafe { shani::compress_two(a, a_blocks, b, b_blocks) },
            // SAFETY: the token exists only when the CPU has the feature enabled.
            #[cfg(target_arch = "aarch64")]
            Kernel::Armv8(_) => unsafe { armv8::compress_two(a, a_blocks, b, b_blocks) },
        }
    }
}

/// `bytes` (a whole number of blocks) as the block slice `sha2::compress256` takes.
fn as_blocks(bytes: &[u8]) -> &[GenericArray<u8, U64>] {
    debug_assert_eq!(bytes.len() % 64, 0);
    // SAFETY: `GenericArray<u8, U64>` is `#[repr(transparent)]` over its array type, nested
    // `#[repr(C)]` structs of 64 `u8` in all (size 64, alignment 1), so `len / 64` of them cover exactly the bytes of `bytes`, borrowed for
    // the same lifetime. `sha2::compress256` makes the same cast the other way.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), bytes.len() / 64) }
}

/// The SHA-NI block functions (Intel, "Intel SHA Extensions", 2013: the state is kept
/// as the two registers ABEF and CDGH that `sha256rnds2` takes; each call does two rounds).
#[cfg(target_arch = "x86_64")]
mod shani {
    use std::arch::x86_64::*;

    use super::{K, State};

    /// `state` (a..h) as the registers ABEF and CDGH, each with its first letter in the
    /// highest lane.
    #[inline(always)]
    unsafe fn load(state: &State) -> (__m128i, __m128i) {
        // SAFETY (all intrinsics here): callers run with sse2/ssse3/sse4.1 enabled; the
        // loads read the 32 bytes of `state`.
        unsafe {
            let abcd = _mm_loadu_si128(state.as_ptr().cast());
            let efgh = _mm_loadu_si128(state.as_ptr().add(4).cast());
            let badc = _mm_shuffle_epi32(abcd, 0xB1);
            let hgfe = _mm_shuffle_epi32(efgh, 0x1B);
            (
                _mm_alignr_epi8(badc, hgfe, 8),
                _mm_blend_epi16(hgfe, badc, 0xF0),
            )
        }
    }

    /// The inverse of [`load`].
    #[inline(always)]
    unsafe fn store(state: &mut State, abef: __m128i, cdgh: __m128i) {
        // SAFETY: as in `load`; the stores write the 32 bytes of `state`.
        unsafe {
            let feba = _mm_shuffle_epi32(abef, 0x1B);
            let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
            _mm_storeu_si128(state.as_mut_ptr().cast(), _mm_blend_epi16(feba, dchg, 0xF0));
            _mm_storeu_si128(
                state.as_mut_ptr().add(4).cast(),
                _mm_alignr_epi8(dchg, feba, 8),
            );
        }
    }

    /// The first 16 message words of `block` (64 bytes), big-endian, four to a register.
    #[inline(always)]
    unsafe fn words(block: &[u8]) -> [__m128i; 4] {
        debug_assert_eq!(block.len(), 64);
        // SAFETY: `block` holds 64 bytes, the four unaligned loads read them.
        unsafe {
            let swap = _mm_set_epi64x(0x0c0d0e0f_08090a0b, 0x04050607_00010203);
            let p: *const __m128i = block.as_ptr().cast();
            [
                _mm_shuffle_epi8(_mm_loadu_si128(p), swap),
                _mm_shuffle_epi8(_mm_loadu_si128(p.add(1)), swap),
                _mm_shuffle_epi8(_mm_loadu_si128(p.add(2)), swap),
                _mm_shuffle_epi8(_mm_loadu_si128(p.add(3)), swap),
            ]
        }
    }

    /// Message words 4g..4g+3 plus their round constants, for group `g` (0..16) of four
    /// rounds. `w` holds the last four groups' words, group g-4 in slot `g % 4`, which is
    /// overwritten with group g's (FIPS 180-4, 6.2.2 step 1: W_t from W_{t-16}, W_{t-15},
    /// W_{t-7} and W_{t-2}).
    #[inline(always)]
    unsafe fn schedule(w: &mut [__m128i; 4], g: usize) -> __m128i {
        // SAFETY: sha/sse2/ssse3 are enabled in every caller; the K load reads 16 of its
        // 256 bytes (g < 16).
        unsafe {
            if g >= 4 {
                let t = _mm_add_epi32(
                    _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]),
                    _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4),
                );
                w[g & 3] = _mm_sha256msg2_epu32(t, w[(g + 3) & 3]);
            }
            _mm_add_epi32(w[g & 3], _mm_loadu_si128(K.as_ptr().add(4 * g).cast()))
        }
    }

    /// One state over `blocks` (whole blocks).
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn compress(state: &mut State, blocks: &[u8]) {
        // SAFETY: this function's features are enabled; the helpers' reads stay within
        // `state`, each 64-byte block and `K`.
        unsafe {
            let (mut abef, mut cdgh) = load(state);
            for block in blocks.chunks_exact(64) {
                let (abef0, cdgh0) = (abef, cdgh);
                let mut w = words(block);
                for g in 0..16 {
                    let m = schedule(&mut w, g);
                    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
                    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0E));
                }
                abef = _mm_add_epi32(abef, abef0);
                cdgh = _mm_add_epi32(cdgh, cdgh0);
            }
            store(state, abef, cdgh);
        }
    }

    /// Two states over the same `blocks`: one message schedule, the rounds interleaved.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn compress_same(a: &mut State, b: &mut State, blocks: &[u8]) {
        // SAFETY: as in `compress`.
        unsafe {
            let (mut a_abef, mut a_cdgh) = load(a);
            let (mut b_abef, mut b_cdgh) = load(b);
            for block in blocks.chunks_exact(64) {
                let saved = [a_abef, a_cdgh, b_abef, b_cdgh];
                let mut w = words(block);
                for g in 0..16 {
                    let m = schedule(&mut w, g);
                    let m_high = _mm_shuffle_epi32(m, 0x0E);
                    a_cdgh = _mm_sha256rnds2_epu32(a_cdgh, a_abef, m);
                    b_cdgh = _mm_sha256rnds2_epu32(b_cdgh, b_abef, m);
                    a_abef = _mm_sha256rnds2_epu32(a_abef, a_cdgh, m_high);
                    b_abef = _mm_sha256rnds2_epu32(b_abef, b_cdgh, m_high);
                }
                a_abef = _mm_add_epi32(a_abef, saved[0]);
                a_cdgh = _mm_add_epi32(a_cdgh, saved[1]);
                b_abef = _mm_add_epi32(b_abef, saved[2]);
                b_cdgh = _mm_add_epi32(b_cdgh, saved[3]);
            }
            store(a, a_abef, a_cdgh);
            store(b, b_abef, b_cdgh);
        }
    }
    /// Two states over two runs of blocks of the same length: two message schedules,
    /// the rounds interleaved.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn compress_two(
        a: &mut State,
        a_blocks: &[u8],
        b: &mut State,
        b_blocks: &[u8],
    ) {
        // SAFETY: as in `compress`; the caller passes runs of equal length.
        unsafe {
            let (mut a_abef, mut a_cdgh) = load(a);
            let (mut b_abef, mut b_cdgh) = load(b);
            for (a_block, b_block) in a_blocks.chunks_exact(64).zip(b_blocks.chunks_exact(64)) {
                let saved = [a_abef, a_cdgh, b_abef, b_cdgh];
                let mut a_w = words(a_block);
                let mut b_w = words(b_block);
                for g in 0..16 {
                    let a_m = schedule(&mut a_w, g);
                    let b_m = schedule(&mut b_w, g);
                    a_cdgh = _mm_sha256rnds2_epu32(a_cdgh, a_abef, a_m);
                    b_cdgh = _mm_sha256rnds2_epu32(b_cdgh, b_abef, b_m);
                    a_abef = _mm_sha256rnds2_epu32(a_abef, a_cdgh, _mm_shuffle_epi32(a_m, 0x0E));
                    b_abef = _mm_sha256rnds2_epu32(b_abef, b_cdgh, _mm_shuffle_epi32(b_m, 0x0E));
                }
                a_abef = _mm_add_epi32(a_abef, saved[0]);
                a_cdgh = _mm_add_epi32(a_cdgh, saved[1]);
                b_abef = _mm_add_epi32(b_abef, saved[2]);
                b_cdgh = _mm_add_epi32(b_cdgh, saved[3]);
            }
            store(a, a_abef, a_cdgh);
            store(b, b_abef, b_cdgh);
        }
    }
}

/// The Armv8 block functions (Arm Architecture Reference Manual, SHA256H, SHA256H2,
/// SHA256SU0, SHA256SU1): the state is kept as the registers ABCD and EFGH; each
/// `vsha256hq_u32`/`vsha256h2q_u32` pair does four rounds.
#[cfg(target_arch = "aarch64")]
mod armv8 {
    use std::arch::aarch64::*;

    use super::{K, State};

    /// The first 16 message words of `block` (64 bytes), big-endian, four to a register.
    #[inline(always)]
    unsafe fn words(block: &[u8]) -> [uint32x4_t; 4] {
        debug_assert_eq!(block.len(), 64);
        // SAFETY: `block` holds 64 bytes, the four loads read them; neon is always on.
        unsafe {
            let p = block.as_ptr();
            [
                vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p))),
                vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(16)))),
                vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(32)))),
                vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(48)))),
            ]
        }
    }

    /// Message words 4g..4g+3 plus their round constants, for group `g` (0..16); `w`
    /// as in the x86_64 `schedule` (group g-4 in slot `g % 4`, overwritten with group g).
    /// It carries the feature itself: Arm's intrinsics are `inline(always)` and would
    /// stay calls in a helper without it.
    #[target_feature(enable = "sha2")]
    #[inline]
    unsafe fn schedule(w: &mut [uint32x4_t; 4], g: usize) -> uint32x4_t {
        // SAFETY: sha2 is enabled in every caller; the K load reads 16 of its 256 bytes.
        unsafe {
            if g >= 4 {
                w[g & 3] = vsha256su1q_u32(
                    vsha256su0q_u32(w[g & 3], w[(g + 1) & 3]),
                    w[(g + 2) & 3],
                    w[(g + 3) & 3],
                );
            }
            vaddq_u32(w[g & 3], vld1q_u32(K.as_ptr().add(4 * g)))
        }
    }

    /// One state over `blocks` (whole blocks).
    #[target_feature(enable = "sha2")]
    pub(super) unsafe fn compress(state: &mut State, blocks: &[u8]) {
        // SAFETY: this function's feature is enabled; the loads and stores stay within
        // `state`, each 64-byte block and `K`.
        unsafe {
            let mut abcd = vld1q_u32(state.as_ptr());
            let mut efgh = vld1q_u32(state.as_ptr().add(4));
            for block in blocks.chunks_exact(64) {
                let (abcd0, efgh0) = (abcd, efgh);
                let mut w = words(block);
                for g in 0..16 {
                    let wk = schedule(&mut w, g);
                    let prev = abcd;
                    abcd = vsha256hq_u32(abcd, efgh, wk);
                    efgh = vsha256h2q_u32(efgh, prev, wk);
                }
                abcd = vaddq_u32(abcd, abcd0);
                efgh = vaddq_u32(efgh, efgh0);
            }
            vst1q_u32(state.as_mut_ptr(), abcd);
            vst1q_u32(state.as_mut_ptr().add(4), efgh);
        }
    }

    /// Two states over the same `blocks`: one message schedule, the rounds interleaved.
    #[target_feature(enable = "sha2")]
    pub(super) unsafe fn compress_same(a: &mut State, b: &mut State, blocks: &[u8]) {
        // SAFETY: as in `compress`.
        unsafe {
            let (mut a_abcd, mut a_efgh) = (vld1q_u32(a.as_ptr()), vld1q_u32(a.as_ptr().add(4)));
            let (mut b_abcd, mut b_efgh) = (vld1q_u32(b.as_ptr()), vld1q_u32(b.as_ptr().add(4)));
            for block in blocks.chunks_exact(64) {
                let saved = [a_abcd, a_efgh, b_abcd, b_efgh];
                let mut w = words(block);
                for g in 0..16 {
                    let wk = schedule(&mut w, g);
                    let (a_prev, b_prev) = (a_abcd, b_abcd);
                    a_abcd = vsha256hq_u32(a_abcd, a_efgh, wk);
                    b_abcd = vsha256hq_u32(b_abcd, b_efgh, wk);
                    a_efgh = vsha256h2q_u32(a_efgh, a_prev, wk);
                    b_efgh = vsha256h2q_u32(b_efgh, b_prev, wk);
                }
                a_abcd = vaddq_u32(a_abcd, saved[0]);
                a_efgh = vaddq_u32(a_efgh, saved[1]);
                b_abcd = vaddq_u32(b_abcd, saved[2]);
                b_efgh = vaddq_u32(b_efgh, saved[3]);
            }
            vst1q_u32(a.as_mut_ptr(), a_abcd);
            vst1q_u32(a.as_mut_ptr().add(4), a_efgh);
            vst1q_u32(b.as_mut_ptr(), b_abcd);
            vst1q_u32(b.as_mut_ptr().add(4), b_efgh);
        }
    }

    /// Two states over two runs of blocks of the same length: two message schedules,
    /// the rounds interleaved.
    #[target_feature(enable = "sha2")]
    pub(super) unsafe fn compress_two(
        a: &mut State,
        a_blocks: &[u8],
        b: &mut State,
        b_blocks: &[u8],
    ) {
        // SAFETY: as in `compress`; the caller passes runs of equal length.
        unsafe {
            let (mut a_abcd, mut a_efgh) = (vld1q_u32(a.as_ptr()), vld1q_u32(a.as_ptr().add(4)));
            let (mut b_abcd, mut b_efgh) = (vld1q_u32(b.as_ptr()), vld1q_u32(b.as_ptr().add(4)));
            for (a_block, b_block) in a_blocks.chunks_exact(64).zip(b_blocks.chunks_exact(64)) {
                let saved = [a_abcd, a_efgh, b_abcd, b_efgh];
                let mut a_w = words(a_block);
                let mut b_w = words(b_block);
                for g in 0..16 {
                    let a_wk = schedule(&mut a_w, g);
                    let b_wk = schedule(&mut b_w, g);
                    let (a_prev, b_prev) = (a_abcd, b_abcd);
                    a_abcd = vsha256hq_u32(a_abcd, a_efgh, a_wk);
                    b_abcd = vsha256hq_u32(b_abcd, b_efgh, b_wk);
                    a_efgh = vsha256h2q_u32(a_efgh, a_prev, a_wk);
                    b_efgh = vsha256h2q_u32(b_efgh, b_prev, b_wk);
                }
                a_abcd = vaddq_u32(a_abcd, saved[0]);
                a_efgh = vaddq_u32(a_efgh, saved[1]);
                b_abcd = vaddq_u32(b_abcd, saved[2]);
                b_efgh = vaddq_u32(b_efgh, saved[3]);
            }
            vst1q_u32(a.as_mut_ptr(), a_abcd);
            vst1q_u32(a.as_mut_ptr().add(4), a_efgh);
            vst1q_u32(b.as_mut_ptr(), b_abcd);
            vst1q_u32(b.as_mut_ptr().add(4), b_efgh);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::treehash::tests::pattern as bytes;

    fn reference(state: &State, blocks: &[u8]) -> State {
        let mut s = *state;
        for block in blocks.chunks_exact(64) {
            sha2::compress256(&mut s, &[*GenericArray::from_slice(block)]);
        }
        s
    }

    /// Both kernels this machine can run (the portable one always).
    fn kernels() -> Vec<Kernel> {
        let mut all = vec![Kernel::Portable];
        if Kernel::fastest() != Kernel::Portable {
            all.push(Kernel::fastest());
        }
        all
    }

    #[test]
    fn every_kernel_matches_sha2_block_by_block() {
        let data = bytes(64 * 300, 7);
        let other = [1, 2, 3, 4, 5, 6, 7, 0xffff_ffff];
        for k in kernels() {
            for blocks in [0, 1, 2, 3, 17, 300] {
                let part = &data[..64 * blocks];
                let mut one = H0;
                k.compress(&mut one, part);
                assert_eq!(
                    one,
                    reference(&H0, part),
                    "{k:?} compress of {blocks} blocks"
                );
                let (mut a, mut b) = (H0, other);
                k.compress_same(&mut a, &mut b, part);
                assert_eq!(
                    a,
                    reference(&H0, part),
                    "{k:?} first state, {blocks} blocks"
                );
                assert_eq!(
                    b,
                    reference(&other, part),
                    "{k:?} second state, {blocks} blocks"
                );
            }
        }
    }

    #[test]
    fn the_kernels_agree_on_a_large_input_from_random_states() {
        let data = bytes(3 << 20, 11);
        let kernels = kernels();
        for seed in 0..4u32 {
            let start: State =
                std::array::from_fn(|i| (i as u32 + 1).wrapping_mul(0x9e37_79b9) ^ seed);
            let outs: Vec<_> = kernels
                .iter()
                .map(|k| {
                    let (mut a, mut b) = (start, H0);
                    k.compress_same(&mut a, &mut b, &data);
                    (a, b)
                })
                .collect();
            assert!(outs.windows(2).all(|w| w[0] == w[1]), "{outs:?}");
            assert_eq!(outs[0].1, reference(&H0, &data));
        }
    }

    #[test]
    fn this_machine_runs_the_kernel_it_has() {
        // The project's machines have SHA-NI: if detection stops finding it, the
        // interleaved kernel is no longer what the benchmarks measure.
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse4.1")
        {
            assert!(matches!(Kernel::fastest(), Kernel::ShaNi(_)));
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("sha2") {
            assert!(matches!(Kernel::fastest(), Kernel::Armv8(_)));
        }
    }

    #[test]
    fn no_other_module_allows_unsafe_code() {
        // Cargo.toml can only deny unsafe_code (a forbid could not be lifted here); this
        // keeps the exception to this one file.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![src];
        let mut seen = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("treehash/sha256x2.rs")
                {
                    seen += 1;
                    let text = std::fs::read_to_string(&path).expect("read source");
                    assert!(
                        !text.contains("allow(unsafe_code)"),
                        "{} allows unsafe code",
                        path.display()
                    );
                }
            }
        }
        assert!(seen > 50, "only {seen} source files found");
    }

    #[test]
    #[should_panic(expected = "whole blocks only")]
    fn a_partial_block_is_refused() {
        Kernel::fastest().compress(&mut H0.clone(), &[0; 65]);
    }
}
