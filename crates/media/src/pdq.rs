//! PDQ, Meta's 256-bit perceptual hash, written for Pharos.
//!
//! The algorithm (Meta's 2017 PDQ paper; the reference is the C++ in
//! facebook/ThreatExchange, wrapped by the PyPI package `pdqhash`):
//!
//! 1. luma Y = 0.299 R + 0.587 G + 0.114 B (in `f64`, stored as `f32`, as the
//!    PyPI wrapper does), at full resolution;
//! 2. two passes of a Jarosz tent filter: a box filter along rows then along
//!    columns, twice, each box about 1/128 of the image side;
//! 3. decimation to 64×64 by sampling the blurred image at block centres;
//! 4. quality: the sum of the 64×64 image's vertical and horizontal gradients,
//!    each scaled to 0–100 and truncated toward zero, divided by 90, capped at 100;
//! 5. a 2-D DCT of which only the 16×16 low frequencies (1..=16 each way) are kept;
//! 6. bit `16 i + j` is set when coefficient (i, j) exceeds the median of the 256.
//!
//! Parity: every step is computed with the reference's arithmetic (`f32`
//! accumulations in the same order, the same window sizes, the same sample
//! positions), so hashes agree bit for bit on most images; the parity suite
//! measures it. The speed comes from doing less, not differently: the second
//! box pass along rows only divides at the 64 sampled columns, and the last
//! pass along columns only runs over those 64 columns.

use std::fmt;
use std::str::FromStr;

/// A 256-bit PDQ hash. Bit `k` (`k = 16 i + j` for DCT coefficient `(i, j)`)
/// is bit `k % 64` of `words[k / 64]`. Printed as 64 hex digits, most
/// significant first, as the reference prints it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash(pub [u64; 4]);

impl PdqHash {
    /// Hamming distance (0–256).
    #[inline]
    pub fn distance(&self, other: &PdqHash) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones()
            + (self.0[1] ^ other.0[1]).count_ones()
            + (self.0[2] ^ other.0[2]).count_ones()
            + (self.0[3] ^ other.0[3]).count_ones()
    }

    /// Whether bit `k` is set.
    pub fn bit(&self, k: usize) -> bool {
        self.0[k / 64] >> (k % 64) & 1 == 1
    }

    fn set_bit(&mut self, k: usize) {
        self.0[k / 64] |= 1 << (k % 64);
    }

    /// The 64-digit lowercase hex form.
    pub fn to_hex(&self) -> String {
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            self.0[3], self.0[2], self.0[1], self.0[0]
        )
    }

    /// The 16-bit chunk `c` (0–15) of the hash, for the index.
    #[inline]
    pub fn chunk16(&self, c: usize) -> u16 {
        (self.0[c / 4] >> ((c % 4) * 16)) as u16
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({})", self.to_hex())
    }
}

/// A string that is not 64 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("a PDQ hash is 64 hex digits; got {0:?}")]
pub struct ParseHashError(pub String);

impl FromStr for PdqHash {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseHashError(s.chars().take(80).collect());
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut words = [0u64; 4];
        for (w, word) in words.iter_mut().enumerate() {
            let start = (3 - w) * 16;
            *word = u64::from_str_radix(&s[start..start + 16], 16).map_err(|_| bad())?;
        }
        Ok(PdqHash(words))
    }
}

impl serde::Serialize for PdqHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for PdqHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The eight rotations and mirrors of an image (the dihedral group D4), each
/// obtained from the original's DCT coefficients without hashing again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dihedral {
    Original,
    /// Turned a quarter clockwise (as `image`'s `rotate90`).
    Rotate90,
    Rotate180,
    /// Turned a quarter counter-clockwise.
    Rotate270,
    /// Mirrored top to bottom (as `image`'s `flipv`).
    FlipVertical,
    /// Mirrored left to right (as `image`'s `fliph`).
    FlipHorizontal,
    /// Transposed (mirrored about the main diagonal).
    Transpose,
    /// Mirrored about the anti-diagonal.
    AntiTranspose,
}

impl Dihedral {
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipVertical,
        Dihedral::FlipHorizontal,
        Dihedral::Transpose,
        Dihedral::AntiTranspose,
    ];

    /// How the 16×16 coefficients of the transformed image follow from the
    /// original's: reversing an axis of length 64 multiplies DCT-II
    /// coefficient `u` along it by `(-1)^u`; we keep `u = 1..=16`, stored at
    /// index `u - 1`, so the even indices change sign. Returns (transpose,
    /// negate where the row index is even, negate where the column index is
    /// even), the indices being those of the original's coefficients.
    fn plan(self) -> (bool, bool, bool) {
        match self {
            Dihedral::Original => (false, false, false),
            Dihedral::FlipVertical => (false, true, false),
            Dihedral::FlipHorizontal => (false, false, true),
            Dihedral::Rotate180 => (false, true, true),
            Dihedral::Transpose => (true, false, false),
            Dihedral::AntiTranspose => (true, true, true),
            // Clockwise: new row r = old column, new column = 63 - old row.
            Dihedral::Rotate90 => (true, true, false),
            Dihedral::Rotate270 => (true, false, true),
        }
    }

    fn apply(self, dct: &[[f32; 16]; 16]) -> [[f32; 16]; 16] {
        let (transpose, neg_rows, neg_cols) = self.plan();
        let mut out = [[0f32; 16]; 16];
        for (i, row) in dct.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let negate = (neg_rows && i % 2 == 0) != (neg_cols && j % 2 == 0);
                let v = if negate { -v } else { v };
                if transpose {
                    out[j][i] = v;
                } else {
                    out[i][j] = v;
                }
            }
        }
        out
    }
}

/// A PDQ hash with its quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pdq {
    pub hash: PdqHash,
    /// 0–100; the reference advises distrusting hashes under 50 (flat images).
    pub quality: u8,
}

/// The smallest side the reference hashes; smaller images get the zero hash
/// and quality 0, as there.
pub const MIN_SIDE: usize = 5;

/// Luma from packed 8-bit RGB as the PyPI `pdqhash` reference computes it
/// (numpy: the weighted sum in `f64`, then rounded to `f32`).
pub fn luma_from_rgb(rgb: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.reserve(rgb.len() / 3);
    out.extend(
        rgb.chunks_exact(3)
            .map(|p| (p[0] as f64 * 0.299 + p[1] as f64 * 0.587 + p[2] as f64 * 0.114) as f32),
    );
}

/// The reference's box size for one pass when going from `old` samples to `new`.
fn window(old: usize, new: usize) -> usize {
    old.div_ceil(2 * new)
}

/// Where the 64 samples sit along a side of `len`: block centres.
fn sample_positions(len: usize) -> [usize; 64] {
    let mut out = [0usize; 64];
    for (k, o) in out.iter_mut().enumerate() {
        *o = (((k as f64 + 0.5) * len as f64) / 64.0) as usize;
    }
    out
}

/// The running-sum box filter along one line, as the reference computes it:
/// the window grows at the start and shrinks at the end, each output the
/// mean of the samples in the window. `emit(i, value)` receives output `i`;
/// `want(i)` says whether output `i` is needed (skipping the division when not).
#[inline(always)]
fn box_line(
    len: usize,
    win: usize,
    read: impl Fn(usize) -> f32,
    want: impl Fn(usize) -> bool,
    mut emit: impl FnMut(usize, f32),
) {
    let half = (win + 2) / 2;
    let mut sum = 0f32;
    let mut n = 0usize;
    let mut right = 0usize;
    let mut left = 0usize;
    let mut o = 0usize;
    for _ in 0..half - 1 {
        sum += read(right);
        n += 1;
        right += 1;
    }
    for _ in 0..win - half + 1 {
        sum += read(right);
        n += 1;
        right += 1;
        if want(o) {
            emit(o, sum / n as f32);
        }
        o += 1;
    }
    for _ in 0..len - win {
        sum += read(right);
        sum -= read(left);
        right += 1;
        left += 1;
        if want(o) {
            emit(o, sum / n as f32);
        }
        o += 1;
    }
    for _ in 0..half - 1 {
        sum -= read(left);
        n -= 1;
        left += 1;
        if want(o) {
            emit(o, sum / n as f32);
        }
        o += 1;
    }
}

/// Box filter along every column at once (row-major data): the running sums
/// of all columns advance together one row at a time, so memory is read in
/// order; each column's arithmetic is the reference's.
fn box_columns(input: &[f32], out: &mut [f32], rows: usize, cols: usize, win: usize) {
    let half = (win + 2) / 2;
    let mut sum = vec![0f32; cols];
    let row = |r: usize| &input[r * cols..(r + 1) * cols];
    let mut n = 0usize;
    let mut right = 0usize;
    let mut left = 0usize;
    let mut o = 0usize;
    for _ in 0..half - 1 {
        for (s, &v) in sum.iter_mut().zip(row(right)) {
            *s += v;
        }
        n += 1;
        right += 1;
    }
    let mut write = |o: usize, sum: &[f32], n: usize| {
        let d = n as f32;
        for (dst, &s) in out[o * cols..(o + 1) * cols].iter_mut().zip(sum) {
            *dst = s / d;
        }
    };
    for _ in 0..win - half + 1 {
        for (s, &v) in sum.iter_mut().zip(row(right)) {
            *s += v;
        }
        n += 1;
        right += 1;
        write(o, &sum, n);
        o += 1;
    }
    for _ in 0..rows - win {
        for ((s, &a), &b) in sum.iter_mut().zip(row(right)).zip(row(left)) {
            *s += a;
            *s -= b;
        }
        right += 1;
        left += 1;
        write(o, &sum, n);
        o += 1;
    }
    for _ in 0..half - 1 {
        for (s, &b) in sum.iter_mut().zip(row(left)) {
            *s -= b;
        }
        n -= 1;
        left += 1;
        write(o, &sum, n);
        o += 1;
    }
}

/// The 16×64 slice of the DCT-II matrix PDQ uses (frequencies 1..=16), with
/// the reference's rounding: scale and cosine in `f64`, stored as `f32`.
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    use std::sync::OnceLock;
    static M: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    M.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut m = [[0f32; 64]; 16];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let angle =
                    (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *v = (scale as f64 * angle.cos()) as f32;
            }
        }
        m
    })
}

/// Blur and decimate full-resolution luma (row-major, `rows × cols`) to 64×64.
/// `luma` is used as scratch.
fn downsample(luma: &mut [f32], rows: usize, cols: usize) -> Box<[[f32; 64]; 64]> {
    let mut small = Box::new([[0f32; 64]; 64]);
    if rows == 64 && cols == 64 {
        for (i, row) in small.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..(i + 1) * 64]);
        }
        return small;
    }
    let win_along_rows = window(cols, 64);
    let win_along_cols = window(rows, 64);
    let row_at = sample_positions(rows);
    let col_at = sample_positions(cols);
    let mut tmp = vec![0f32; rows * cols];

    // First tent pass: rows then columns, in full.
    for r in 0..rows {
        let src = &luma[r * cols..(r + 1) * cols];
        let dst = &mut tmp[r * cols..(r + 1) * cols];
        box_line(
            cols,
            win_along_rows,
            |i| src[i],
            |_| true,
            |i, v| dst[i] = v,
        );
    }
    box_columns(&tmp, luma, rows, cols, win_along_cols);

    // Second pass along rows: only the 64 sampled columns are ever read
    // afterwards, so only they are divided out and kept (rows × 64).
    let mut wanted = vec![u8::MAX; cols];
    for (k, &c) in col_at.iter().enumerate() {
        if wanted[c] == u8::MAX {
            wanted[c] = k as u8;
        }
    }
    let mut narrow = vec![0f32; rows * 64];
    for r in 0..rows {
        let src = &luma[r * cols..(r + 1) * cols];
        let dst = &mut narrow[r * 64..(r + 1) * 64];
        box_line(
            cols,
            win_along_rows,
            |i| src[i],
            |i| wanted[i] != u8::MAX,
            |i, v| {
                // Several samples can share a column on narrow images.
                for (k, &c) in col_at.iter().enumerate().skip(wanted[i] as usize) {
                    if c != i {
                        break;
                    }
                    dst[k] = v;
                }
            },
        );
    }
    // Second pass along columns, over the 64 kept columns.
    let mut blurred = vec![0f32; rows * 64];
    box_columns(&narrow, &mut blurred, rows, 64, win_along_cols);
    for (i, &r) in row_at.iter().enumerate() {
        small[i].copy_from_slice(&blurred[r * 64..(r + 1) * 64]);
    }
    small
}

/// PDQ's quality: the sum of gradients between neighbours of the 64×64
/// image, each as a percentage of 255 truncated toward zero.
fn quality(small: &[[f32; 64]; 64]) -> u8 {
    let mut sum: i64 = 0;
    for pair in small.windows(2) {
        for (&u, &v) in pair[0].iter().zip(pair[1].iter()) {
            let d = ((u - v) * 100f32) / 255f32;
            sum += (d as i32).abs() as i64;
        }
    }
    for row in small.iter() {
        for j in 0..63 {
            let d = ((row[j] - row[j + 1]) * 100f32) / 255f32;
            sum += (d as i32).abs() as i64;
        }
    }
    (sum / 90).min(100) as u8
}

/// The 16×16 low-frequency DCT of the 64×64 image, `D A Dᵀ`, each sum
/// accumulated in order in `f32` as the reference does.
fn dct16(small: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    // T = D A (16 × 64): row i of T accumulates d[i][k] * row k of A.
    let mut t = [[0f32; 64]; 16];
    for (ti, di) in t.iter_mut().zip(d.iter()) {
        for (k, ak) in small.iter().enumerate() {
            let c = di[k];
            for (x, &a) in ti.iter_mut().zip(ak.iter()) {
                *x += c * a;
            }
        }
    }
    // B = T Dᵀ (16 × 16).
    let mut b = [[0f32; 16]; 16];
    for (bi, ti) in b.iter_mut().zip(t.iter()) {
        for (bij, dj) in bi.iter_mut().zip(d.iter()) {
            let mut s = 0f32;
            for k in 0..64 {
                s += ti[k] * dj[k];
            }
            *bij = s;
        }
    }
    b
}

/// Bits from coefficients: set where a coefficient exceeds the median (the
/// 128th smallest of the 256).
fn bits(dct: &[[f32; 16]; 16]) -> PdqHash {
    let mut values: Vec<f32> = dct.iter().flatten().copied().collect();
    let (_, median, _) = values.select_nth_unstable_by(127, f32::total_cmp);
    let median = *median;
    let mut h = PdqHash::default();
    for (i, row) in dct.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if v > median {
                h.set_bit(i * 16 + j);
            }
        }
    }
    h
}

fn coefficients(luma: &mut [f32], rows: usize, cols: usize) -> ([[f32; 16]; 16], u8) {
    let small = downsample(luma, rows, cols);
    (dct16(&small), quality(&small))
}

/// PDQ of a luma image (row-major, `rows × cols`, values 0–255). `luma` is
/// overwritten (it serves as scratch).
pub fn hash_luma(luma: &mut [f32], rows: usize, cols: usize) -> Pdq {
    assert_eq!(luma.len(), rows * cols, "luma buffer size");
    if rows < MIN_SIDE || cols < MIN_SIDE {
        return Pdq {
            hash: PdqHash::default(),
            quality: 0,
        };
    }
    let (dct, quality) = coefficients(luma, rows, cols);
    Pdq {
        hash: bits(&dct),
        quality,
    }
}

/// The hashes of all eight rotations and mirrors (in [`Dihedral::ALL`]
/// order) from one pass over the image, and the quality.
pub fn hash_luma_dihedral(luma: &mut [f32], rows: usize, cols: usize) -> ([PdqHash; 8], u8) {
    assert_eq!(luma.len(), rows * cols, "luma buffer size");
    if rows < MIN_SIDE || cols < MIN_SIDE {
        return ([PdqHash::default(); 8], 0);
    }
    let (dct, quality) = coefficients(luma, rows, cols);
    let mut out = [PdqHash::default(); 8];
    for (o, d) in out.iter_mut().zip(Dihedral::ALL) {
        *o = bits(&d.apply(&dct));
    }
    (out, quality)
}

/// PDQ of packed 8-bit RGB pixels.
pub fn hash_rgb(rgb: &[u8], width: usize, height: usize) -> Pdq {
    let mut luma = Vec::new();
    luma_from_rgb(rgb, &mut luma);
    hash_luma(&mut luma, height, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_keeps_bit_order() {
        let mut h = PdqHash::default();
        h.set_bit(0);
        h.set_bit(255);
        let hex = h.to_hex();
        assert_eq!(&hex[..1], "8");
        assert_eq!(&hex[63..], "1");
        assert_eq!(hex.parse::<PdqHash>().unwrap(), h);
        assert!("xyz".parse::<PdqHash>().is_err());
        assert!("g".repeat(64).parse::<PdqHash>().is_err());
    }

    #[test]
    fn box_line_matches_a_direct_mean() {
        let data: Vec<f32> = (0..40).map(|i| ((i * 37) % 11) as f32).collect();
        for win in 1..9 {
            let mut got = [0f32; 40];
            box_line(40, win, |i| data[i], |_| true, |i, v| got[i] = v);
            let half = (win + 2) / 2;
            for (o, g) in got.iter().enumerate() {
                // Output o averages inputs [o - (win - half), o + half - 1] clipped.
                let lo = o.saturating_sub(win - half);
                let hi = (o + half - 1).min(39);
                let mean: f32 = data[lo..=hi].iter().sum::<f32>() / (hi - lo + 1) as f32;
                assert!((g - mean).abs() < 1e-4, "win {win} o {o}: {g} vs {mean}");
            }
        }
    }

    #[test]
    fn column_pass_equals_line_pass_on_each_column() {
        let (rows, cols) = (37, 5);
        let data: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919) % 255) as f32)
            .collect();
        let mut out = vec![0f32; rows * cols];
        box_columns(&data, &mut out, rows, cols, 3);
        for c in 0..cols {
            let mut col = vec![0f32; rows];
            box_line(rows, 3, |i| data[i * cols + c], |_| true, |i, v| col[i] = v);
            for r in 0..rows {
                assert_eq!(out[r * cols + c], col[r]);
            }
        }
    }

    #[test]
    fn tiny_images_get_the_zero_hash() {
        let mut luma = vec![10f32; 4 * 100];
        let p = hash_luma(&mut luma, 4, 100);
        assert_eq!(p.hash, PdqHash::default());
        assert_eq!(p.quality, 0);
    }

    #[test]
    fn flat_images_have_quality_zero_and_textured_ones_more() {
        let mut flat = vec![128f32; 200 * 300];
        assert_eq!(hash_luma(&mut flat, 200, 300).quality, 0);
        let mut tex: Vec<f32> = (0..200 * 300)
            .map(|i| {
                if (i / 300 / 10 + i % 300 / 10) % 2 == 0 {
                    0.0
                } else {
                    255.0
                }
            })
            .collect();
        assert!(hash_luma(&mut tex, 200, 300).quality > 50);
    }

    #[test]
    fn half_the_bits_are_set() {
        let mut luma: Vec<f32> = (0..128 * 96)
            .map(|i| ((i % 128) as f32 * 1.7 + (i / 128) as f32 * 0.9).sin() * 100.0 + 128.0)
            .collect();
        let h = hash_luma(&mut luma, 96, 128).hash;
        let ones: u32 = h.0.iter().map(|w| w.count_ones()).sum();
        assert!((120..=128).contains(&ones), "{ones} bits set");
    }
}
