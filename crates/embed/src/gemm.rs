//! Dense layers in bfloat16 with f32 accumulation.
//!
//! A BERT encoder spends most of its time in `y = x·Wᵀ + b`. Here the
//! weights are rounded to bfloat16 once, at load, and packed in panels of
//! 16 output columns; the activations are rounded to bfloat16 per call. A
//! product of two bfloat16 is exact in f32, so the only rounding besides
//! the inputs' is in the f32 sums. Three kernels compute it, the fastest
//! the CPU has:
//!
//! - **AMX** (Intel Sapphire Rapids and later): one `tdpbf16ps` multiplies
//!   a 16×32 by a 32×16 bf16 tile into 16×16 f32 sums (8,192 products);
//! - **AVX512-BF16** (Cooper Lake, Sapphire Rapids, AMD Zen 4 and later):
//!   one `vdpbf16ps` adds 32 products into 16 sums;
//! - a **portable** loop, the same products and sums in plain Rust, in the
//!   order `vdpbf16ps` adds them (the two agree to the last bit but for
//!   subnormal numbers, which the instruction flushes to zero).
//!
//! A fourth, **int8** ([`q8`]), is for CPUs with AVX2 but no bf16
//! instructions (AMD Zen 2 and 3): it reads a packed model's 4-bit weights
//! as they are and quantises the activations to int8, as the model's own
//! engine does. It is the default there for a packed (4-bit) model, being
//! faster than the portable loop; a model with other weights (MiniLM) runs
//! the portable loop.
//!
//! `PHAROS_EMBED_KERNEL=amx|avx512|int8|portable` picks one (tests compare
//! them; a kernel the CPU lacks falls back to the next).
//!
//! Layout: a bf16 pair (elements `2p` and `2p+1` along the input dimension)
//! is one `u32`, low half first, as both instructions read it. A packed
//! weight matrix is `[panel][pair][16 columns]` (an AMX tile's "VNNI"
//! layout); an activation matrix is `[row][pair]`. Both are padded with
//! zeros to whole tiles: pairs to a multiple of 16 ([`stride`]), rows to a
//! multiple of 32 ([`padded_rows`]), panels to an even number.

mod q8;

/// Columns in one panel (one 512-bit register of f32, one AMX tile).
const PANEL: usize = 16;
/// Pairs in one AMX tile row (64 bytes).
const TILE_PAIRS: usize = 16;
/// Rows the AMX kernel computes together (two tiles).
const ROW_BLOCK: usize = 32;
/// Rows of the output computed together by the AVX512 kernel.
const MR: usize = 6;
/// Panels computed together by the AVX512 kernel (6 × 4 = 24 accumulators).
const NR: usize = 4;

/// Rounds an f32 to bfloat16 (to nearest, ties to even), as
/// `vcvtne2ps2bf16` does: subnormal inputs become zero of the same sign,
/// NaN stays a (quiet) NaN.
#[inline(always)]
pub(crate) fn bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    if b & 0x7f80_0000 == 0 {
        return ((b >> 16) & 0x8000) as u16;
    }
    let round = 0x7fff + ((b >> 16) & 1);
    (b.wrapping_add(round) >> 16) as u16
}

/// The f32 value of a bfloat16.
#[inline(always)]
pub(crate) fn f32_of(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// Pairs a row of `k` values takes in the packed layouts: `k/2` rounded up
/// to whole tile rows (the padding is zero).
pub(crate) fn stride(k: usize) -> usize {
    k.div_ceil(2).next_multiple_of(TILE_PAIRS)
}

/// Rows an activation matrix of `rows` rows takes (the padding is zero).
pub(crate) fn padded_rows(rows: usize) -> usize {
    rows.next_multiple_of(ROW_BLOCK)
}

/// Rounds the `rows × k` row-major matrix `src` to bf16 pairs in `dst`
/// (`padded_rows(rows) × stride(k)`). The padding columns are zero; the
/// padding rows hold anything (their products are computed and dropped).
pub(crate) fn to_pairs(src: &[f32], rows: usize, k: usize, dst: &mut Vec<u32>) {
    let kp = stride(k);
    dst.resize(padded_rows(rows) * kp, 0);
    #[cfg(target_arch = "x86_64")]
    if k.is_multiple_of(32) && Kernel::Avx512.available() {
        // SAFETY: the CPU has AVX512-BF16; shapes as documented.
        unsafe { avx512::to_pairs(src, rows, k, dst) };
        return;
    }
    to_pairs_portable(src, rows, k, dst);
}

fn to_pairs_portable(src: &[f32], rows: usize, k: usize, dst: &mut [u32]) {
    let kp = stride(k);
    for (row, out) in src.chunks_exact(k).take(rows).zip(dst.chunks_exact_mut(kp)) {
        let mut chunks = row.chunks_exact(2);
        for (o, c) in out.iter_mut().zip(&mut chunks) {
            *o = bf16(c[0]) as u32 | (bf16(c[1]) as u32) << 16;
        }
        let mut used = k / 2;
        if let [last] = chunks.remainder() {
            out[used] = bf16(*last) as u32;
            used += 1;
        }
        out[used..].fill(0);
    }
}

/// A dense layer `y = x·Wᵀ + b` with `W` (`n × k`, row-major, as PyTorch
/// stores `nn.Linear`) packed in bf16 panels.
pub(crate) struct Linear {
    n: usize,
    k: usize,
    /// The bf16 panels; for a layer read from 4-bit blocks, made from them
    /// the first time a bf16 kernel runs (the int8 kernel never needs them).
    panels: std::sync::OnceLock<Vec<u32>>,
    /// The 4-bit weights as the packed file holds them (Q4_0 blocks, 18
    /// bytes a 32): the source of the panels or of `q8`, whichever kernel
    /// runs first. Only the forms used take memory.
    q4: Option<Vec<u8>>,
    /// The same weights laid out for the int8 kernel (one byte a weight),
    /// made the first time it runs.
    q8: std::sync::OnceLock<q8::Weights>,
    bias: Vec<f32>,
}

impl Linear {
    /// Packs `weight` (`n × k`, row-major) and `bias` (`n`).
    pub(crate) fn new(weight: &[f32], bias: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(weight.len(), n * k, "weight shape");
        assert_eq!(bias.len(), n, "bias shape");
        let mut layer = Self::from_rows(n, k, |col, out| {
            out.copy_from_slice(&weight[col * k..(col + 1) * k])
        });
        layer.bias = bias.to_vec();
        layer
    }

    /// A layer whose weights (`n × k`, row-major) are Q4_0 blocks (the
    /// packed e5 file's: 32 weights a block along `k`, [`crate::packed`]).
    /// The int8 kernel reads them as they are (exactly); the bf16 kernels
    /// get panels of their dequantised values when first used.
    pub(crate) fn from_q4(blocks: Vec<u8>, bias: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(bias.len(), n, "bias shape");
        assert!(k.is_multiple_of(32), "4-bit rows are whole blocks");
        assert_eq!(
            blocks.len(),
            n * crate::packed::q4_row_bytes(k),
            "4-bit shape"
        );
        Linear {
            n,
            k,
            panels: std::sync::OnceLock::new(),
            q4: Some(blocks),
            q8: std::sync::OnceLock::new(),
            bias: bias.to_vec(),
        }
    }

    /// The bf16 panels (made from the 4-bit blocks on first use).
    fn panels(&self) -> &[u32] {
        self.panels.get_or_init(|| {
            let q = self
                .q4
                .as_ref()
                .expect("a layer has panels or 4-bit weights");
            let rb = crate::packed::q4_row_bytes(self.k);
            Self::pack(self.n, self.k, |col, out| {
                crate::packed::dequantise(&q[col * rb..(col + 1) * rb], out)
            })
        })
    }

    /// The weights in the int8 kernel's layout (made from the 4-bit blocks
    /// on first use), if they are 4-bit.
    fn q8(&self) -> Option<&q8::Weights> {
        let q = self.q4.as_ref()?;
        Some(self.q8.get_or_init(|| q8::Weights::new(q, self.n, self.k)))
    }

    /// Whether the int8 kernel can run this layer (its weights are 4-bit).
    pub(crate) fn has_q4(&self) -> bool {
        self.q4.is_some()
    }

    /// Packs the `n` rows of a weight matrix (`k` values each) that
    /// `row(i, out)` writes, one at a time, with a zero bias.
    pub(crate) fn from_rows(n: usize, k: usize, row: impl Fn(usize, &mut [f32])) -> Self {
        Linear {
            n,
            k,
            panels: Self::pack(n, k, row).into(),
            q4: None,
            q8: std::sync::OnceLock::new(),
            bias: vec![0.0; n],
        }
    }

    fn pack(n: usize, k: usize, row: impl Fn(usize, &mut [f32])) -> Vec<u32> {
        let kp = stride(k);
        let np = n.div_ceil(PANEL).next_multiple_of(2);
        let mut panels = vec![0u32; np * kp * PANEL];
        let mut buf = vec![0f32; k];
        for col in 0..n {
            let (panel, lane) = (col / PANEL, col % PANEL);
            row(col, &mut buf);
            for (p, c) in buf.chunks(2).enumerate() {
                let lo = bf16(c[0]) as u32;
                let hi = c.get(1).map_or(0, |&x| bf16(x) as u32);
                panels[(panel * kp + p) * PANEL + lane] = lo | hi << 16;
            }
        }
        panels
    }

    /// Output width.
    pub(crate) fn n(&self) -> usize {
        self.n
    }

    /// `out[r] = a[r]·Wᵀ + b` for the `rows` rows of `a` (bf16 pairs from
    /// [`to_pairs`] with this layer's `k`); `out` is `rows × n`. A kernel
    /// the CPU lacks computes with the portable loop.
    pub(crate) fn forward(&self, kernel: Kernel, a: &[u32], rows: usize, out: &mut Vec<f32>) {
        let kernel = kernel.for_bf16();
        assert_eq!(
            a.len(),
            padded_rows(rows) * stride(self.k),
            "activation shape"
        );
        // Every element is written below: no need to zero what is kept.
        out.resize(rows * self.n, 0.0);
        match kernel {
            // SAFETY: the CPU (and, for AMX, the OS) runs the kernel
            // (checked above); the shapes were checked above.
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => unsafe { amx::forward(self, a, rows, out) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { avx512::forward(self, a, rows, out) },
            _ => self.forward_portable(a, rows, out),
        }
    }

    /// `out[r] = x[r]·Wᵀ + b` for the `rows` rows of `x` (`rows × k`, f32)
    /// on `kernel`: the int8 kernel when it is asked for, the CPU has it and
    /// the weights are 4-bit; else the bf16 kernels. `input` holds the
    /// rounded or quantised copy of `x` (reused from call to call).
    pub(crate) fn apply(
        &self,
        kernel: Kernel,
        x: &[f32],
        rows: usize,
        input: &mut Input,
        out: &mut Vec<f32>,
    ) {
        if kernel == Kernel::Int8
            && kernel.available()
            && let Some(q) = self.q8()
        {
            input.q.quantise(x, rows, self.k);
            out.resize(rows * self.n, 0.0);
            q.forward(&input.q, rows, &self.bias, out);
            return;
        }
        to_pairs(x, rows, self.k, &mut input.pairs);
        self.forward(kernel, &input.pairs, rows, out);
    }

    /// The same products and sums as the AVX512 kernel, in plain Rust:
    /// four rows × one panel at a time, so that each weight pair is widened
    /// to f32 once for four rows. On a CPU with AVX2 and FMA the same code
    /// is compiled for them (a product of two bfloat16 is exact, so a fused
    /// multiply-add rounds as a multiply then an add would).
    fn forward_portable(&self, a: &[u32], rows: usize, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the copy is compiled for.
            unsafe { self.portable_avx2(a, rows, out) };
            return;
        }
        self.portable_body::<false>(a, rows, out);
    }

    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn portable_avx2(&self, a: &[u32], rows: usize, out: &mut [f32]) {
        self.portable_body::<true>(a, rows, out);
    }

    #[inline(always)]
    fn portable_body<const FUSED: bool>(&self, a: &[u32], rows: usize, out: &mut [f32]) {
        const RB: usize = 4;
        let kp = stride(self.k);
        let panels = self.panels();
        let add = |s: f32, x: f32, w: f32| if FUSED { x.mul_add(w, s) } else { s + x * w };
        // The block's activations widened to f32 once (odd, even per
        // pair), so that the inner loop broadcasts them straight from memory.
        let mut xs = vec![[0f32; 2]; RB * kp];
        // Rows past `rows` (up to the padded count) are in `a`; their sums
        // are dropped.
        for r0 in (0..rows).step_by(RB) {
            for (x, &v) in xs.iter_mut().zip(&a[r0 * kp..(r0 + RB) * kp]) {
                *x = [f32_of((v >> 16) as u16), f32_of(v as u16)];
            }
            for panel in 0..self.n.div_ceil(PANEL) {
                let w = &panels[panel * kp * PANEL..(panel + 1) * kp * PANEL];
                let cols = (self.n - panel * PANEL).min(PANEL);
                let mut acc = [[0f32; PANEL]; RB];
                for (p, wp) in w.chunks_exact(PANEL).enumerate() {
                    let mut lo = [0f32; PANEL];
                    let mut hi = [0f32; PANEL];
                    for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(wp) {
                        *l = f32_of(v as u16);
                        *h = f32_of((v >> 16) as u16);
                    }
                    for (i, acc) in acc.iter_mut().enumerate() {
                        let [x1, x0] = xs[i * kp + p];
                        // `vdpbf16ps` adds the odd product first.
                        for ((s, &l), &h) in acc.iter_mut().zip(&lo).zip(&hi) {
                            *s = add(add(*s, x1, h), x0, l);
                        }
                    }
                }
                for (i, acc) in acc.iter().enumerate().take(rows - r0) {
                    let o = &mut out[(r0 + i) * self.n + panel * PANEL..][..cols];
                    for ((o, s), b) in o.iter_mut().zip(acc).zip(&self.bias[panel * PANEL..]) {
                        *o = s + b;
                    }
                }
            }
        }
    }
}

/// A layer's input in the form its kernel reads, reused from call to call.
#[derive(Default)]
pub(crate) struct Input {
    pairs: Vec<u32>,
    q: q8::Activations,
}

/// A way to compute a dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    Amx,
    Avx512,
    /// 4-bit weights × int8 activations on AVX2 ([`q8`]); layers with
    /// other weights run the portable loop.
    Int8,
    Portable,
}

impl Kernel {
    /// Whether this CPU (and OS) runs the kernel.
    pub(crate) fn available(self) -> bool {
        match self {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => amx::usable(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512bf16")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Int8 => {
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
            }
            Kernel::Portable => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The kernel that runs a layer of bf16 panels when `self` is asked
    /// for: itself if the CPU has it and it is a bf16 kernel, else the
    /// portable loop.
    pub(crate) fn for_bf16(self) -> Kernel {
        match self {
            Kernel::Int8 => Kernel::Portable,
            k if k.available() => k,
            _ => Kernel::Portable,
        }
    }

    /// The kernel named `name` (`amx`, `avx512-bf16` or `avx512`, `int8`,
    /// `portable`).
    pub(crate) fn parse(name: &str) -> Option<Kernel> {
        match name.trim() {
            "amx" => Some(Kernel::Amx),
            "avx512" | "avx512-bf16" => Some(Kernel::Avx512),
            "int8" => Some(Kernel::Int8),
            "portable" => Some(Kernel::Portable),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kernel::Amx => "amx",
            Kernel::Avx512 => "avx512-bf16",
            Kernel::Int8 => "int8",
            Kernel::Portable => "portable",
        }
    }
}

/// The kernel an encoder starts with: `PHAROS_EMBED_KERNEL` if set (or
/// the next one down if the CPU lacks it), else the fastest the CPU has.
pub(crate) fn default_kernel() -> Kernel {
    let wanted = std::env::var("PHAROS_EMBED_KERNEL").unwrap_or_default();
    // Int8 before the portable loop: on AVX2 it is the faster of the two
    // (docs/BENCHMARKS.md); a model without 4-bit weights runs the
    // portable loop instead (`Bert::kernel_for`).
    let all = [Kernel::Amx, Kernel::Avx512, Kernel::Int8, Kernel::Portable];
    let start = Kernel::parse(&wanted)
        .and_then(|k| all.iter().position(|&a| a == k))
        .unwrap_or(0);
    all[start..]
        .iter()
        .copied()
        .find(|k| k.available())
        .unwrap_or(Kernel::Portable)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod amx {
    use super::{Linear, PANEL, ROW_BLOCK, TILE_PAIRS, padded_rows, stride};
    use std::arch::asm;
    use std::sync::OnceLock;

    /// The tile configuration `ldtilecfg` reads (palette 1).
    #[repr(C, align(64))]
    struct TileConfig {
        palette: u8,
        start_row: u8,
        reserved: [u8; 14],
        colsb: [u16; 16],
        rows: [u8; 16],
    }

    /// Whether the CPU has AMX-BF16 and the kernel lets this process use
    /// the tile registers (Linux asks each process to request them).
    pub(super) fn usable() -> bool {
        static USABLE: OnceLock<bool> = OnceLock::new();
        *USABLE.get_or_init(|| {
            // cpuid leaf 7 exists on every CPU that has AVX512 (checked
            // first): EDX bit 22 is AMX-BF16, bit 24 AMX-TILE.
            let cpu = std::is_x86_feature_detected!("avx512f") && {
                let leaf = std::arch::x86_64::__cpuid_count(7, 0);
                leaf.edx & (1 << 22) != 0 && leaf.edx & (1 << 24) != 0
            };
            if !cpu {
                return false;
            }
            const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
            const XFEATURE_XTILEDATA: libc::c_long = 18;
            // SAFETY: arch_prctl(ARCH_REQ_XCOMP_PERM) only asks the kernel
            // for permission to use the AMX state; it fails cleanly where
            // the kernel does not offer it.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_arch_prctl,
                    ARCH_REQ_XCOMP_PERM,
                    XFEATURE_XTILEDATA,
                )
            };
            r == 0
        })
    }

    /// Blocks of 32 rows × 32 columns: two A tiles, two B tiles, four
    /// accumulator tiles, over the whole input in steps of 32 values.
    ///
    /// # Safety
    /// [`usable`] returned true; `a` is `padded_rows(rows) × stride(k)` and
    /// `out` `rows × n`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn forward(l: &Linear, a: &[u32], rows: usize, out: &mut [f32]) {
        let kp = stride(l.k);
        let np = l.n.div_ceil(PANEL).next_multiple_of(2);
        let steps = kp / TILE_PAIRS;
        let mut config = TileConfig {
            palette: 1,
            start_row: 0,
            reserved: [0; 14],
            colsb: [0; 16],
            rows: [0; 16],
        };
        for t in 0..8 {
            config.colsb[t] = 64;
            config.rows[t] = 16;
        }
        // Four 16×16 f32 tiles, stored to be added to the bias and copied.
        #[repr(C, align(64))]
        struct Acc([f32; 4 * 256]);
        let mut acc = Acc([0.0; 4 * 256]);
        let a_stride = kp * 4;
        let b_stride = PANEL * 4;
        let panels = l.panels();
        // SAFETY: the tiles read are inside `a` (rows padded to 32, pairs
        // to 16) and the packed panels (padded to an even count); the
        // caller vouches for the CPU and the OS permission.
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) &config, options(nostack, readonly));
            // Rows outer: a block of 32 rows stays in the L1/L2 cache while
            // the weights (at most a few MB) stream past it.
            for r in (0..padded_rows(rows)).step_by(ROW_BLOCK) {
                let a0 = a.as_ptr().add(r * kp);
                let a1 = a0.add(16 * kp);
                for panel in (0..np).step_by(2) {
                    let b0 = panels.as_ptr().add(panel * kp * PANEL);
                    let b1 = b0.add(kp * PANEL);
                    asm!(
                        "tilezero tmm0",
                        "tilezero tmm1",
                        "tilezero tmm2",
                        "tilezero tmm3",
                        options(nostack, nomem)
                    );
                    for s in 0..steps {
                        asm!(
                            "tileloadd tmm4, [{a0} + {sa}*1]",
                            "tileloadd tmm5, [{a1} + {sa}*1]",
                            "tileloadd tmm6, [{b0} + {sb}*1]",
                            "tileloadd tmm7, [{b1} + {sb}*1]",
                            "tdpbf16ps tmm0, tmm4, tmm6",
                            "tdpbf16ps tmm1, tmm4, tmm7",
                            "tdpbf16ps tmm2, tmm5, tmm6",
                            "tdpbf16ps tmm3, tmm5, tmm7",
                            a0 = in(reg) a0.add(s * TILE_PAIRS),
                            a1 = in(reg) a1.add(s * TILE_PAIRS),
                            b0 = in(reg) b0.add(s * TILE_PAIRS * PANEL),
                            b1 = in(reg) b1.add(s * TILE_PAIRS * PANEL),
                            sa = in(reg) a_stride,
                            sb = in(reg) b_stride,
                            options(nostack, readonly)
                        );
                    }
                    let c = acc.0.as_mut_ptr();
                    asm!(
                        "tilestored [{c0} + {s}*1], tmm0",
                        "tilestored [{c1} + {s}*1], tmm1",
                        "tilestored [{c2} + {s}*1], tmm2",
                        "tilestored [{c3} + {s}*1], tmm3",
                        c0 = in(reg) c,
                        c1 = in(reg) c.add(256),
                        c2 = in(reg) c.add(512),
                        c3 = in(reg) c.add(768),
                        s = in(reg) 64usize,
                        options(nostack)
                    );
                    // Tile t = 2·(row half) + (panel half).
                    for t in 0..4 {
                        let (half, pj) = (t / 2, t % 2);
                        let col = (panel + pj) * PANEL;
                        if col >= l.n {
                            continue;
                        }
                        let cols = (l.n - col).min(PANEL);
                        let first = r + 16 * half;
                        for i in 0..16.min(rows.saturating_sub(first)) {
                            let src = &acc.0[t * 256 + i * 16..][..cols];
                            let dst = &mut out[(first + i) * l.n + col..][..cols];
                            for ((d, s), b) in dst.iter_mut().zip(src).zip(&l.bias[col..]) {
                                *d = s + b;
                            }
                        }
                    }
                }
            }
            asm!("tilerelease", options(nostack, nomem));
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Linear, MR, NR, PANEL, stride};
    use std::arch::x86_64::*;

    /// The same 512 bits seen as 32 bfloat16.
    #[inline(always)]
    fn bh(x: __m512i) -> __m512bh {
        // SAFETY: both are 64-byte plain vectors; every bit pattern is valid.
        unsafe { std::mem::transmute::<__m512i, __m512bh>(x) }
    }

    /// [`super::to_pairs`] for `k` a multiple of 32: `vcvtne2ps2bf16`
    /// rounds 32 values to nearest even in one instruction.
    ///
    /// # Safety
    /// The CPU has AVX512F and AVX512-BF16; `src` holds `rows × k` values
    /// and `dst` `padded_rows(rows) × stride(k)`.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn to_pairs(src: &[f32], rows: usize, k: usize, dst: &mut [u32]) {
        let kp = stride(k);
        debug_assert!(k.is_multiple_of(32) && src.len() >= rows * k && dst.len() >= rows * kp);
        for (row, out) in src.chunks_exact(k).take(rows).zip(dst.chunks_exact_mut(kp)) {
            for (c, o) in row.chunks_exact(32).zip(out.chunks_exact_mut(16)) {
                // SAFETY: 32 floats in, 16 pairs out, both in bounds.
                unsafe {
                    let lo = _mm512_loadu_ps(c.as_ptr());
                    let hi = _mm512_loadu_ps(c.as_ptr().add(16));
                    let v = std::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(hi, lo));
                    _mm512_storeu_si512(o.as_mut_ptr().cast(), v);
                }
            }
            out[k / 2..].fill(0);
        }
    }

    /// Blocks of `MR` rows × `NR` panels; the ragged edges use smaller
    /// instances of the same kernel.
    ///
    /// # Safety
    /// The CPU has AVX512F and AVX512-BF16; `a` is `padded_rows(rows) ×
    /// stride(k)` and `out` `rows × n`.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn forward(l: &Linear, a: &[u32], rows: usize, out: &mut [f32]) {
        let kp = stride(l.k);
        let np = l.n.div_ceil(PANEL);
        let mut panel = 0;
        while panel < np {
            let nr = (np - panel).min(NR);
            let mut r = 0;
            while r < rows {
                let mr = (rows - r).min(MR);
                // SAFETY: rows r..r+mr and panels panel..panel+nr are in
                // bounds; the caller vouches for the CPU.
                unsafe {
                    match (mr, nr) {
                        (6, 4) => block::<6, 4>(l, a, kp, r, panel, out),
                        (m, 4) => edge::<4>(m, l, a, kp, r, panel, out),
                        (m, 3) => edge::<3>(m, l, a, kp, r, panel, out),
                        (m, 2) => edge::<2>(m, l, a, kp, r, panel, out),
                        (m, _) => edge::<1>(m, l, a, kp, r, panel, out),
                    }
                }
                r += mr;
            }
            panel += nr;
        }
    }

    #[target_feature(enable = "avx512f,avx512bf16")]
    #[inline]
    unsafe fn edge<const N: usize>(
        mr: usize,
        l: &Linear,
        a: &[u32],
        kp: usize,
        r: usize,
        panel: usize,
        out: &mut [f32],
    ) {
        // SAFETY: forwarded from `forward`.
        unsafe {
            match mr {
                6 => block::<6, N>(l, a, kp, r, panel, out),
                5 => block::<5, N>(l, a, kp, r, panel, out),
                4 => block::<4, N>(l, a, kp, r, panel, out),
                3 => block::<3, N>(l, a, kp, r, panel, out),
                2 => block::<2, N>(l, a, kp, r, panel, out),
                _ => block::<1, N>(l, a, kp, r, panel, out),
            }
        }
    }

    /// `M` rows from `r` × `N` panels from `panel`, over the whole input.
    #[target_feature(enable = "avx512f,avx512bf16")]
    #[inline]
    unsafe fn block<const M: usize, const N: usize>(
        l: &Linear,
        a: &[u32],
        kp: usize,
        r: usize,
        panel: usize,
        out: &mut [f32],
    ) {
        debug_assert!((r + M) * kp <= a.len());
        let panels = l.panels();
        debug_assert!((panel + N) * kp * PANEL <= panels.len());
        let mut acc = [[_mm512_setzero_ps(); N]; M];
        let ap = a.as_ptr().wrapping_add(r * kp);
        let wp = panels.as_ptr().wrapping_add(panel * kp * PANEL);
        for p in 0..kp {
            // SAFETY: p < kp, rows r..r+M and panels panel..panel+N are in
            // bounds (checked by the caller's loop bounds).
            unsafe {
                let mut w = [_mm512_setzero_si512(); N];
                for (j, w) in w.iter_mut().enumerate() {
                    *w = _mm512_loadu_si512(wp.add((j * kp + p) * PANEL).cast());
                }
                for (i, acc) in acc.iter_mut().enumerate() {
                    let x = bh(_mm512_set1_epi32(*ap.add(i * kp + p) as i32));
                    for (s, w) in acc.iter_mut().zip(&w) {
                        *s = _mm512_dpbf16_ps(*s, x, bh(*w));
                    }
                }
            }
        }
        for (j, _) in acc[0].iter().enumerate() {
            let col = (panel + j) * PANEL;
            let cols = (l.n - col).min(PANEL);
            let mask: __mmask16 = if cols == PANEL {
                0xffff
            } else {
                (1u16 << cols) - 1
            };
            // SAFETY: the masked lanes are columns < n of bias and out.
            unsafe {
                let b = _mm512_maskz_loadu_ps(mask, l.bias.as_ptr().add(col));
                for (i, acc) in acc.iter().enumerate() {
                    let o = out.as_mut_ptr().add((r + i) * l.n + col);
                    _mm512_mask_storeu_ps(o, mask, _mm512_add_ps(acc[j], b));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no dependency for the tests).
    pub(super) fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn bf16_rounds_to_nearest_even() {
        assert_eq!(bf16(1.0), 0x3f80);
        assert_eq!(f32_of(bf16(1.0)), 1.0);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to even (1).
        assert_eq!(f32_of(bf16(1.0 + 1.0 / 256.0)), 1.0);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: even is the upper.
        assert_eq!(f32_of(bf16(1.0 + 3.0 / 256.0)), 1.0 + 1.0 / 64.0);
        assert_eq!(f32_of(bf16(-2.5)), -2.5);
        assert_eq!(bf16(1e-40), 0);
        assert_eq!(bf16(-1e-40), 0x8000);
        assert!(f32_of(bf16(f32::NAN)).is_nan());
        assert_eq!(f32_of(bf16(f32::INFINITY)), f32::INFINITY);
        let x = 0.123_456_79f32;
        assert!((f32_of(bf16(x)) - x).abs() <= x * (1.0 / 256.0));
    }

    /// `a·Wᵀ + b` in f64 from the bf16-rounded inputs.
    fn reference(a: &[f32], w: &[f32], b: &[f32], rows: usize, n: usize, k: usize) -> Vec<f64> {
        let r = |x: f32| f32_of(bf16(x)) as f64;
        let mut out = vec![0f64; rows * n];
        for i in 0..rows {
            for j in 0..n {
                let s: f64 = (0..k).map(|t| r(a[i * k + t]) * r(w[j * k + t])).sum();
                out[i * n + j] = s + b[j] as f64;
            }
        }
        out
    }

    fn check(rows: usize, n: usize, k: usize) {
        let a = values(rows * k, 1 + rows as u64);
        let w = values(n * k, 2 + n as u64);
        let b = values(n, 3);
        let lin = Linear::new(&w, &b, n, k);
        assert_eq!(lin.n(), n);
        let mut pa = Vec::new();
        to_pairs(&a, rows, k, &mut pa);
        let want = reference(&a, &w, &b, rows, n, k);
        let mut portable = Vec::new();
        lin.forward(Kernel::Portable, &pa, rows, &mut portable);
        let tol = 1e-5 * (k as f64).sqrt() + 1e-6;
        for (i, (p, w)) in portable.iter().zip(&want).enumerate() {
            assert!(
                (*p as f64 - w).abs() < tol,
                "{rows}×{n}×{k} [{i}]: {p} vs {w}"
            );
        }
        // The plain build of the portable loop (no FMA) gives the same bits.
        let mut plain = vec![0f32; rows * n];
        lin.portable_body::<false>(&pa, rows, &mut plain);
        for (i, (p, q)) in portable.iter().zip(&plain).enumerate() {
            assert_eq!(p.to_bits(), q.to_bits(), "{rows}×{n}×{k} [{i}]");
        }
        for kernel in [Kernel::Avx512, Kernel::Amx] {
            if !kernel.available() {
                eprintln!("{} kernel: not on this CPU, not tested", kernel.name());
                continue;
            }
            let mut fast = Vec::new();
            lin.forward(kernel, &pa, rows, &mut fast);
            assert_eq!(fast.len(), rows * n);
            for (i, ((f, p), w)) in fast.iter().zip(&portable).zip(&want).enumerate() {
                assert!(
                    (*f as f64 - w).abs() < tol,
                    "{} {rows}×{n}×{k} [{i}]: {f} vs {w}",
                    kernel.name()
                );
                if kernel == Kernel::Avx512 {
                    // Same products added in the same order: the same bits.
                    assert_eq!(f.to_bits(), p.to_bits(), "{rows}×{n}×{k} [{i}]");
                }
            }
        }
    }

    #[test]
    fn dense_layer_matches_the_reference_on_ragged_shapes() {
        for (rows, n, k) in [
            (1, 1, 1),
            (6, 64, 32),
            (7, 65, 33),
            (13, 384, 384),
            (5, 100, 17),
            (12, 48, 2),
            (31, 129, 250),
            (33, 1536, 384),
            (70, 384, 1536),
        ] {
            check(rows, n, k);
        }
    }

    #[test]
    fn vector_rounding_matches_the_scalar_rounding() {
        let mut x = values(64 * 5, 9);
        // Ties, tiny, huge, signed zero, infinities.
        x[..10].copy_from_slice(&[
            1.0 + 1.0 / 256.0,
            1.0 + 3.0 / 256.0,
            -1.0 - 1.0 / 256.0,
            1e-30,
            -0.0,
            3.0e38,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            65504.0,
        ]);
        let mut fast = vec![7u32; 3];
        to_pairs(&x, 5, 64, &mut fast);
        let mut slow = vec![0u32; padded_rows(5) * stride(64)];
        to_pairs_portable(&x, 5, 64, &mut slow);
        assert_eq!(fast[..5 * 32], slow[..5 * 32]);
    }

    #[test]
    fn pairs_pad_rows_and_columns_with_zero() {
        let mut out = Vec::new();
        to_pairs(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3, &mut out);
        assert_eq!(out.len(), 32 * 16);
        assert_eq!(f32_of(out[0] as u16), 1.0);
        assert_eq!(f32_of((out[0] >> 16) as u16), 2.0);
        assert_eq!(out[1], bf16(3.0) as u32);
        assert_eq!(f32_of(out[16] as u16), 4.0);
        assert_eq!(out[17], bf16(6.0) as u32);
        let nonzero = out.iter().filter(|&&x| x != 0).count();
        assert_eq!(nonzero, 4);
        // A buffer reused from a wider layer gets its padding cleared.
        let mut reused = vec![u32::MAX; 40 * 16];
        to_pairs(&[1.0, 2.0, 3.0], 1, 3, &mut reused);
        assert_eq!(reused.len(), 32 * 16);
        assert_eq!(reused[..16].iter().filter(|&&x| x != 0).count(), 2);
    }
}
