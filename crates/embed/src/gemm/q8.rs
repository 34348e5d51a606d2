//! Dense layers with 4-bit weights and int8 activations, for CPUs with
//! AVX2 but neither AMX nor AVX512-BF16 (AMD Zen 2 and 3, Intel before
//! Cooper Lake).
//!
//! The packed e5 file holds its dense weights as Q4_0 blocks (32 weights
//! along the input, one f16 scale `d`, each weight `(q − 8)·d` with `q` in
//! 0..15). They are kept so, one byte a weight: exact, and half the memory
//! of the bf16 panels. Each row of activations is quantised per block of
//! 32 values to int8 with its own scale (`max |x| / 127`, rounded to
//! nearest even), as the package's own engine does. A block's 32 products
//! are then whole numbers, summed exactly: `vpmaddubsw` multiplies 32
//! unsigned `q` by 32 signed activations and adds neighbours into 16-bit
//! lanes, which hold eight such steps without overflow (`16 · 15 · 127 <
//! 2^15`); `vpmaddwd` widens the sums to 32 bits, the `8·Σx` that the
//! offset of `q` adds is taken off, and the block's sum enters an f32
//! accumulator scaled by `d · s`. On a CPU without AVX2 the same
//! arithmetic runs in plain Rust, in the same order (the same bits).
//!
//! Layout: weights `[group of 8 columns][block][step of 4 inputs][column][4]`,
//! so that one 32-byte load is 8 columns × 4 inputs and one broadcast of
//! 4 activation bytes meets them; scales `[group][block][column]`.

/// Weights in one block (and activations sharing one scale).
const QK: usize = 32;
/// Bytes of one Q4_0 block: an f16 scale and 16 bytes of nibbles.
const BLOCK_BYTES: usize = 2 + QK / 2;
/// Columns of one group: one 256-bit register of i32 or f32.
const COLS: usize = 8;
/// Steps of 4 inputs in one block.
const STEPS: usize = QK / 4;
/// Rows computed together by the AVX2 kernel.
const MR: usize = 4;
/// Groups of columns computed together by the AVX2 kernel.
const NG: usize = 1;

/// The weights of a layer (`n × k`) as 4-bit values (one byte each, 0..15)
/// with a scale per 32.
pub(crate) struct Weights {
    n: usize,
    nb: usize,
    w: Vec<u8>,
    d: Vec<f32>,
}

impl Weights {
    /// Reorders the Q4_0 blocks of an `n × k` row-major matrix (`k` a
    /// multiple of 32; the packed reader checks both).
    pub(crate) fn new(blocks: &[u8], n: usize, k: usize) -> Self {
        assert!(k.is_multiple_of(QK), "4-bit rows are whole blocks");
        let nb = k / QK;
        assert_eq!(blocks.len(), n * nb * BLOCK_BYTES, "4-bit weight shape");
        let groups = n.div_ceil(COLS);
        // Padding columns: q = 8 (weight 0) and scale 0.
        let mut w = vec![8u8; groups * nb * QK * COLS];
        let mut d = vec![0f32; groups * nb * COLS];
        for (col, row) in blocks.chunks_exact(nb * BLOCK_BYTES).enumerate() {
            let (g, c) = (col / COLS, col % COLS);
            for (b, blk) in row.chunks_exact(BLOCK_BYTES).enumerate() {
                d[(g * nb + b) * COLS + c] = half::f16::from_le_bytes([blk[0], blk[1]]).to_f32();
                for (j, &q) in blk[2..].iter().enumerate() {
                    for (i, v) in [(j, q & 0x0f), (j + QK / 2, q >> 4)] {
                        let (s, t) = (i / 4, i % 4);
                        w[(((g * nb + b) * STEPS + s) * COLS + c) * 4 + t] = v;
                    }
                }
            }
        }
        Weights { n, nb, w, d }
    }

    /// Row `col` of the weight matrix in f32 (`(q − 8)·d`, exact).
    #[cfg(test)]
    pub(crate) fn row(&self, col: usize, out: &mut [f32]) {
        let (g, c) = (col / COLS, col % COLS);
        for (b, o) in out.chunks_exact_mut(QK).enumerate().take(self.nb) {
            let d = self.d[(g * self.nb + b) * COLS + c];
            for (i, o) in o.iter_mut().enumerate() {
                let (s, t) = (i / 4, i % 4);
                let q = self.w[(((g * self.nb + b) * STEPS + s) * COLS + c) * 4 + t];
                *o = (q as f32 - 8.0) * d;
            }
        }
    }

    /// `out[r] = x[r]·Wᵀ + bias` for the `rows` quantised rows of `a`;
    /// `out` is `rows × n`.
    pub(crate) fn forward(&self, a: &Activations, rows: usize, bias: &[f32], out: &mut [f32]) {
        assert_eq!(a.k, self.nb * QK, "activation width");
        assert!(a.q.len() >= rows * a.k && out.len() >= rows * self.n && bias.len() >= self.n);
        // The kernel reads each row's block scales and sums unchecked.
        assert!(a.scale.len() >= rows * self.nb && a.sum8.len() >= rows * self.nb);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA; the shapes were checked above.
            unsafe { avx2::forward(self, a, rows, bias, out) };
            return;
        }
        self.forward_plain(a, rows, bias, out);
    }

    /// The same sums in plain Rust, in the AVX2 kernel's order.
    pub(crate) fn forward_plain(
        &self,
        a: &Activations,
        rows: usize,
        bias: &[f32],
        out: &mut [f32],
    ) {
        let (nb, k) = (self.nb, a.k);
        for r in 0..rows {
            let x = &a.q[r * k..(r + 1) * k];
            for col in 0..self.n {
                let (g, c) = (col / COLS, col % COLS);
                let mut acc = 0f32;
                for b in 0..nb {
                    let mut sum = 0i32;
                    for (i, &xv) in x[b * QK..(b + 1) * QK].iter().enumerate() {
                        let (s, t) = (i / 4, i % 4);
                        let q = self.w[(((g * nb + b) * STEPS + s) * COLS + c) * 4 + t];
                        sum += q as i32 * xv as i32;
                    }
                    let sum = sum - a.sum8[r * nb + b];
                    let d = self.d[(g * nb + b) * COLS + c];
                    acc = (sum as f32 * d).mul_add(a.scale[r * nb + b], acc);
                }
                out[r * self.n + col] = acc + bias[col];
            }
        }
    }
}

/// Rows of activations quantised to int8 per block of 32, with each
/// block's scale and eight times its sum.
#[derive(Default)]
pub(crate) struct Activations {
    k: usize,
    q: Vec<i8>,
    scale: Vec<f32>,
    sum8: Vec<i32>,
}

impl Activations {
    /// Quantises the `rows × k` row-major matrix `x` (`k` a multiple of 32).
    pub(crate) fn quantise(&mut self, x: &[f32], rows: usize, k: usize) {
        assert!(
            k.is_multiple_of(QK) && x.len() >= rows * k,
            "activation shape"
        );
        self.k = k;
        let nb = k / QK;
        self.q.resize(rows * k, 0);
        self.scale.resize(rows * nb, 0.0);
        self.sum8.resize(rows * nb, 0);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA.
            unsafe { self.quantise_avx2(x, rows * nb) };
            return;
        }
        self.quantise_body(x, rows * nb);
    }

    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn quantise_avx2(&mut self, x: &[f32], blocks: usize) {
        use std::arch::x86_64::*;
        let chunks = x.chunks_exact(QK).zip(self.q.chunks_exact_mut(QK));
        for (((x, q), scale), sum8) in chunks.zip(&mut self.scale).zip(&mut self.sum8).take(blocks)
        {
            // SAFETY: 32 floats in `x`, 32 bytes in `q`; the CPU has AVX2.
            unsafe {
                let v: [__m256; 4] =
                    std::array::from_fn(|j| _mm256_loadu_ps(x.as_ptr().add(8 * j)));
                // |v| by clearing the sign; `max` keeps its second operand
                // for a NaN, as `f32::max` ignores one.
                let sign = _mm256_set1_ps(-0.0);
                let mut m = _mm256_setzero_ps();
                for v in &v {
                    m = _mm256_max_ps(_mm256_andnot_ps(sign, *v), m);
                }
                let m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
                let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
                let m1 = _mm_max_ss(m2, _mm_shuffle_ps(m2, m2, 1));
                let amax = _mm_cvtss_f32(m1);
                let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
                let (inv, lo, hi) = (
                    _mm256_set1_ps(inv),
                    _mm256_set1_ps(-127.0),
                    _mm256_set1_ps(127.0),
                );
                let r: [__m256i; 4] = std::array::from_fn(|j| {
                    let y = _mm256_mul_ps(v[j], inv);
                    // NaN becomes 0, then the clamp, then to nearest even
                    // (the rounding mode Rust leaves in MXCSR).
                    let y = _mm256_and_ps(y, _mm256_cmp_ps(y, y, _CMP_ORD_Q));
                    _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(y, lo), hi))
                });
                let w = _mm256_packs_epi16(
                    _mm256_packs_epi32(r[0], r[1]),
                    _mm256_packs_epi32(r[2], r[3]),
                );
                let w = _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
                _mm256_storeu_si256(q.as_mut_ptr().cast(), w);
                let t =
                    _mm256_add_epi32(_mm256_add_epi32(r[0], r[1]), _mm256_add_epi32(r[2], r[3]));
                let t = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
                let t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0b01_00_11_10));
                let t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0b10_11_00_01));
                *scale = amax / 127.0;
                *sum8 = 8 * _mm_cvtsi128_si32(t);
            }
        }
    }

    #[inline(always)]
    fn quantise_body(&mut self, x: &[f32], blocks: usize) {
        let chunks = x.chunks_exact(QK).zip(self.q.chunks_exact_mut(QK));
        for (((x, q), scale), sum8) in chunks.zip(&mut self.scale).zip(&mut self.sum8).take(blocks)
        {
            let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
            let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
            let mut sum = 0i32;
            for (q, &v) in q.iter_mut().zip(x) {
                // NaN becomes 0; the clamp keeps −128 out.
                // Adding 1.5·2^23 leaves no fraction bits: rounds to
                // nearest even in two vector operations (no library call).
                let y = (v * inv).clamp(-127.0, 127.0);
                let r = ((y + 12_582_912.0) - 12_582_912.0) as i8;
                *q = r;
                sum += r as i32;
            }
            *scale = amax / 127.0;
            *sum8 = 8 * sum;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Activations, COLS, MR, NG, QK, STEPS, Weights};
    use std::arch::x86_64::*;

    /// Blocks of `MR` rows × `NG` groups; the last rows use smaller
    /// instances of the same kernel.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `a` holds `rows` rows of the layer's
    /// width, `out` `rows × n` values and `bias` `n`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn forward(
        w: &Weights,
        a: &Activations,
        rows: usize,
        bias: &[f32],
        out: &mut [f32],
    ) {
        // One group of 8 columns at a time: 4 rows × 1 group keeps 4 f32
        // sums, 4 16-bit sums, the weights and an activation in 10 of the
        // 16 registers (4 × 2 spilled: 15 % slower, 2026-12-08).
        for g in 0..w.n.div_ceil(COLS) {
            let mut r = 0;
            while r < rows {
                let mr = (rows - r).min(MR);
                // SAFETY: rows r..r+mr and group g are in bounds.
                unsafe {
                    match mr {
                        4 => block::<4, NG>(w, a, r, g, bias, out),
                        3 => block::<3, NG>(w, a, r, g, bias, out),
                        2 => block::<2, NG>(w, a, r, g, bias, out),
                        _ => block::<1, NG>(w, a, r, g, bias, out),
                    }
                }
                r += mr;
            }
        }
    }

    /// `M` rows from `r` × `N` groups of columns from `g`, over the whole
    /// input.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn block<const M: usize, const N: usize>(
        w: &Weights,
        a: &Activations,
        r: usize,
        g: usize,
        bias: &[f32],
        out: &mut [f32],
    ) {
        let (nb, k, n) = (w.nb, a.k, w.n);
        debug_assert!((g + N) * nb * QK * COLS <= w.w.len());
        debug_assert!((r + M) * k <= a.q.len());
        debug_assert!((r + M) * nb <= a.sum8.len() && (r + M) * nb <= a.scale.len());
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_ps(); N]; M];
        let wp = w.w.as_ptr();
        let xp = a.q.as_ptr();
        for b in 0..nb {
            let mut s16 = [[_mm256_setzero_si256(); N]; M];
            for s in 0..STEPS {
                // SAFETY: groups g..g+N, block b, step s and rows r..r+M
                // are inside the weights and activations (checked above).
                unsafe {
                    let mut wv = [_mm256_setzero_si256(); N];
                    for (j, wv) in wv.iter_mut().enumerate() {
                        let at = (((g + j) * nb + b) * STEPS + s) * COLS * 4;
                        *wv = _mm256_loadu_si256(wp.add(at).cast());
                    }
                    for (i, s16) in s16.iter_mut().enumerate() {
                        let at = (r + i) * k + b * QK + s * 4;
                        let x = _mm256_set1_epi32(xp.add(at).cast::<i32>().read_unaligned());
                        for (s16, wv) in s16.iter_mut().zip(&wv) {
                            *s16 = _mm256_add_epi16(*s16, _mm256_maddubs_epi16(*wv, x));
                        }
                    }
                }
            }
            let mut d = [_mm256_setzero_ps(); N];
            for (j, d) in d.iter_mut().enumerate() {
                // SAFETY: the scales of groups g..g+N, block b.
                *d = unsafe { _mm256_loadu_ps(w.d.as_ptr().add(((g + j) * nb + b) * COLS)) };
            }
            for (i, (acc, s16)) in acc.iter_mut().zip(&s16).enumerate() {
                // SAFETY: rows r..r+M have `nb` blocks each (checked above).
                let (corr, sc) = unsafe {
                    (
                        _mm256_set1_epi32(*a.sum8.get_unchecked((r + i) * nb + b)),
                        _mm256_set1_ps(*a.scale.get_unchecked((r + i) * nb + b)),
                    )
                };
                for ((acc, s16), d) in acc.iter_mut().zip(s16).zip(&d) {
                    let sum = _mm256_sub_epi32(_mm256_madd_epi16(*s16, ones), corr);
                    let t = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), *d);
                    *acc = _mm256_fmadd_ps(t, sc, *acc);
                }
            }
        }
        for (j, _) in acc[0].iter().enumerate() {
            let col = (g + j) * COLS;
            if col >= n {
                continue;
            }
            let cols = (n - col).min(COLS);
            for (i, acc) in acc.iter().enumerate() {
                let o = &mut out[(r + i) * n + col..][..cols];
                if cols == COLS {
                    // SAFETY: 8 columns of bias and out from `col` are in bounds.
                    unsafe {
                        let b = _mm256_loadu_ps(bias.as_ptr().add(col));
                        _mm256_storeu_ps(o.as_mut_ptr(), _mm256_add_ps(acc[j], b));
                    }
                } else {
                    let mut v = [0f32; COLS];
                    // SAFETY: 8 floats into an 8-float array.
                    unsafe { _mm256_storeu_ps(v.as_mut_ptr(), acc[j]) };
                    for ((o, v), b) in o.iter_mut().zip(v).zip(&bias[col..]) {
                        *o = v + b;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::values;
    use super::*;

    /// Q4_0 blocks of an `n × k` matrix: scale from each block's largest
    /// value, nibbles from the values.
    fn q4(w: &[f32]) -> Vec<u8> {
        let mut out = Vec::new();
        for blk in w.chunks_exact(QK) {
            let amax = blk.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = half::f16::from_f32(amax / 8.0);
            let inv = if d.to_f32() > 0.0 {
                1.0 / d.to_f32()
            } else {
                0.0
            };
            out.extend(d.to_le_bytes());
            let q = |v: f32| ((v * inv).round() + 8.0).clamp(0.0, 15.0) as u8;
            for j in 0..QK / 2 {
                out.push(q(blk[j]) | q(blk[j + QK / 2]) << 4);
            }
        }
        out
    }

    fn dequantised(blocks: &[u8], n: usize, k: usize) -> Vec<f32> {
        let mut w = vec![0f32; n * k];
        crate::packed::dequantise(blocks, &mut w);
        w
    }

    /// The kernel against f64 sums of the dequantised weights and the
    /// quantised activations (the only rounding left is the f32 sums),
    /// and the AVX2 kernel against the plain loop (the same bits).
    #[test]
    fn int8_layer_matches_the_reference_on_ragged_shapes() {
        for (rows, n, k) in [
            (1, 1, 32),
            (5, 7, 32),
            (4, 16, 64),
            (9, 17, 96),
            (13, 384, 384),
            (33, 1536, 384),
            (7, 384, 1536),
        ] {
            let x = values(rows * k, 1 + rows as u64);
            let blocks = q4(&values(n * k, 2 + n as u64));
            let bias = values(n, 3);
            let w = Weights::new(&blocks, n, k);
            let mut a = Activations::default();
            a.quantise(&x, rows, k);
            let dense = dequantised(&blocks, n, k);
            let mut row = vec![0f32; k];
            for col in 0..n {
                w.row(col, &mut row);
                assert_eq!(row, dense[col * k..(col + 1) * k], "row {col}");
            }
            let mut fast = vec![0f32; rows * n];
            w.forward(&a, rows, &bias, &mut fast);
            let mut plain = vec![0f32; rows * n];
            w.forward_plain(&a, rows, &bias, &mut plain);
            let nb = k / QK;
            for r in 0..rows {
                for c in 0..n {
                    let mut want = bias[c] as f64;
                    let mut exact = bias[c] as f64;
                    for t in 0..k {
                        let s = a.scale[r * nb + t / QK] as f64;
                        want += a.q[r * k + t] as f64 * s * dense[c * k + t] as f64;
                        exact += x[r * k + t] as f64 * dense[c * k + t] as f64;
                    }
                    let got = fast[r * n + c];
                    assert_eq!(got.to_bits(), plain[r * n + c].to_bits(), "{rows}×{n}×{k}");
                    let tol = 1e-5 * (k as f64).sqrt();
                    assert!((got as f64 - want).abs() < tol, "{got} vs {want}");
                    // int8 activations: within 1/254 of each block's
                    // largest value, so the sum stays near the exact one.
                    assert!((got as f64 - exact).abs() < 0.02 * (k as f64).sqrt());
                }
            }
        }
    }

    /// The AVX2 quantiser gives the plain loop's bytes, scales and sums,
    /// ties, NaN, infinities and tiny values included.
    #[test]
    fn vector_quantiser_matches_the_plain_one() {
        let mut x = values(32 * 40, 5);
        for (i, v) in x.iter_mut().enumerate().take(32 * 20) {
            *v *= [1e-3, 1.0, 50.0, 1e30][i / 32 % 4];
        }
        // Ties at the block's largest value 127: v·127/127 = k + 0.5.
        for (j, v) in x[32 * 20..32 * 21].iter_mut().enumerate() {
            *v = j as f32 - 15.5;
        }
        x[32 * 20 + 31] = 127.0;
        x[32 * 21 + 3] = f32::NAN;
        x[32 * 22 + 7] = f32::INFINITY;
        x[32 * 23 + 1] = -1e-42;
        x[32 * 24..32 * 25].fill(0.0);
        x[32 * 25..32 * 26].fill(-0.0);
        let mut plain = Activations {
            k: 32,
            q: vec![0; x.len()],
            scale: vec![0.0; 40],
            sum8: vec![0; 40],
        };
        plain.quantise_body(&x, 40);
        let mut fast = Activations::default();
        fast.quantise(&x, 40, 32);
        assert_eq!(fast.q, plain.q);
        assert_eq!(fast.sum8, plain.sum8);
        let bits = |v: &[f32]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast.scale), bits(&plain.scale));
        // Ties went to even: -15.5 → -16, -14.5 → -14, 0.5 → 0.
        assert_eq!(&fast.q[32 * 20..32 * 20 + 2], &[-16, -14]);
        assert_eq!(fast.q[32 * 20 + 16], 0);
    }

    #[test]
    fn quantised_blocks_keep_scale_sum_and_odd_values() {
        let mut x: Vec<f32> = (0..64).map(|i| i as f32 - 20.0).collect();
        x[40] = f32::NAN;
        x[41] = 1e-42;
        let mut a = Activations::default();
        a.quantise(&x, 1, 64);
        assert_eq!(a.scale[0], 20.0 / 127.0);
        assert_eq!(a.q[0], -127);
        assert_eq!(a.q[20], 0);
        assert_eq!(
            a.sum8[0],
            8 * a.q[..32].iter().map(|&v| v as i32).sum::<i32>()
        );
        assert_eq!(a.q[40], 0, "NaN becomes 0");
        assert!(a.q[32..].iter().all(|&v| v >= -127));
        let zeros = vec![0f32; 32];
        a.quantise(&zeros, 1, 32);
        assert_eq!((a.scale[0], a.sum8[0]), (0.0, 0));
    }
}
