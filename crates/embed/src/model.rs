//! A BERT encoder's forward pass on the CPU, written for sentence
//! embeddings: no padding (the tokens of a batch are one matrix and each
//! text attends only to its own tokens), dense layers in bfloat16 with f32
//! sums ([`crate::gemm`]), everything else in f32.

use crate::gemm::{Input, Kernel, Linear};

/// What `config.json` says about the network (the fields Pharos reads).
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Config {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default = "absolute")]
    pub position_embedding_type: String,
    #[serde(default)]
    pub model_type: Option<String>,
    /// RoBERTa and XLM-R number positions from `pad_token_id + 1`.
    #[serde(default)]
    pub pad_token_id: Option<usize>,
}

fn two() -> usize {
    2
}
fn eps() -> f64 {
    1e-12
}
fn gelu() -> String {
    "gelu".into()
}
fn absolute() -> String {
    "absolute".into()
}

/// The activation of the feed-forward layers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    /// `x·Φ(x)` with the exact (erf) normal CDF: BERT's "gelu".
    Gelu,
    /// The tanh approximation ("gelu_new", "gelu_pytorch_tanh").
    GeluTanh,
    Relu,
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    /// Query, key and value in one product (`3h × h`).
    qkv: Linear,
    attn_out: Linear,
    norm1: Norm,
    up: Linear,
    down: Linear,
    norm2: Norm,
}

/// The token embedding table: f32 rows, or 4-bit rows dequantised when
/// read (the packed e5 file: 250k rows, 54 MB instead of 384 MB).
enum WordTable {
    F32(Vec<f32>),
    Q4 { blocks: Vec<u8>, row_bytes: usize },
}

impl WordTable {
    /// Adds row `id` to `out`.
    #[inline(always)]
    fn add_row(&self, id: usize, out: &mut [f32], tmp: &mut [f32]) {
        match self {
            WordTable::F32(w) => add(out, &w[id * out.len()..(id + 1) * out.len()]),
            WordTable::Q4 { blocks, row_bytes } => {
                crate::packed::dequantise(&blocks[id * row_bytes..(id + 1) * row_bytes], tmp);
                add(out, tmp);
            }
        }
    }
}

/// The weights of a BERT encoder.
pub(crate) struct Bert {
    hidden: usize,
    heads: usize,
    eps: f32,
    act: Act,
    vocab: usize,
    types: usize,
    /// Usable positions (after `position_offset`).
    positions: usize,
    /// Row of the position table that position 0 reads: 0 for BERT,
    /// `padding_idx + 1` for RoBERTa-shaped checkpoints (XLM-R).
    position_offset: usize,
    word: WordTable,
    position: Vec<f32>,
    token_type: Vec<f32>,
    norm: Norm,
    layers: Vec<Layer>,
}

/// Buffers reused from batch to batch (one per thread), and the kernel
/// of the dense layers.
pub(crate) struct Scratch {
    kernel: Kernel,
    x: Vec<f32>,
    input: Input,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    tmp: Vec<f32>,
    up: Vec<f32>,
    scores: Vec<f32>,
    keys: Vec<f32>,
    values: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(kernel: Kernel) -> Self {
        Scratch {
            kernel,
            x: Vec::new(),
            input: Input::default(),
            qkv: Vec::new(),
            ctx: Vec::new(),
            tmp: Vec::new(),
            up: Vec::new(),
            scores: Vec::new(),
            keys: Vec::new(),
            values: Vec::new(),
        }
    }
}

/// One text's tokens.
pub(crate) struct Tokens<'a> {
    pub ids: &'a [u32],
    pub types: &'a [u32],
}

/// The named tensors of a safetensors file, as f32.
struct Tensors<'a> {
    st: safetensors::SafeTensors<'a>,
    prefix: &'static str,
}

impl Tensors<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let full = format!("{}{name}", self.prefix);
        let t = self
            .st
            .tensor(&full)
            .map_err(|_| format!("no tensor {full}"))?;
        if t.shape() != shape {
            return Err(format!(
                "tensor {full} has shape {:?}, config.json implies {shape:?}",
                t.shape()
            ));
        }
        let b = t.data();
        use safetensors::Dtype;
        Ok(match t.dtype() {
            Dtype::F32 => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => b
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => b
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => return Err(format!("tensor {full} is {other:?}, not a float type")),
        })
    }

    /// A layer norm, under either name PyTorch checkpoints use.
    fn norm(&self, base: &str, h: usize) -> Result<Norm, String> {
        let weight = self
            .get(&format!("{base}.weight"), &[h])
            .or_else(|e| self.get(&format!("{base}.gamma"), &[h]).map_err(|_| e))?;
        let bias = self
            .get(&format!("{base}.bias"), &[h])
            .or_else(|e| self.get(&format!("{base}.beta"), &[h]).map_err(|_| e))?;
        Ok(Norm { weight, bias })
    }

    fn linear(&self, base: &str, n: usize, k: usize) -> Result<Linear, String> {
        let w = self.get(&format!("{base}.weight"), &[n, k])?;
        let b = self.get(&format!("{base}.bias"), &[n])?;
        Ok(Linear::new(&w, &b, n, k))
    }
}

impl Bert {
    /// Builds the encoder from `config` and the bytes of `model.safetensors`.
    pub(crate) fn load(config: &Config, weights: &[u8]) -> Result<Self, String> {
        let act = match config.hidden_act.as_str() {
            "gelu" => Act::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Act::GeluTanh,
            "relu" => Act::Relu,
            other => return Err(format!("hidden_act {other:?} is not supported")),
        };
        // RoBERTa and XLM-R share BERT's tensor names but number their
        // positions from `padding_idx + 1` (2): their first rows are never read.
        let position_offset = match config.model_type.as_deref().unwrap_or("bert") {
            "bert" => 0,
            "roberta" | "xlm-roberta" | "camembert" => config.pad_token_id.unwrap_or(1) + 1,
            t => {
                return Err(format!(
                    "model_type {t:?} is not supported (BERT, RoBERTa and XLM-R only)"
                ));
            }
        };
        if position_offset >= config.max_position_embeddings {
            return Err(format!(
                "pad_token_id {:?} leaves no positions of {}",
                config.pad_token_id, config.max_position_embeddings
            ));
        }
        if config.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type {:?} is not supported (only absolute)",
                config.position_embedding_type
            ));
        }
        let (h, heads) = (config.hidden_size, config.num_attention_heads);
        if h == 0 || heads == 0 || h % heads != 0 {
            return Err(format!(
                "hidden_size {h} is not a multiple of num_attention_heads {heads}"
            ));
        }
        let st = safetensors::SafeTensors::deserialize(weights).map_err(|e| e.to_string())?;
        let prefix = if st.tensor("bert.embeddings.word_embeddings.weight").is_ok() {
            "bert."
        } else if st
            .tensor("roberta.embeddings.word_embeddings.weight")
            .is_ok()
        {
            "roberta."
        } else {
            ""
        };
        let t = Tensors { st, prefix };
        let word = t.get("embeddings.word_embeddings.weight", &[config.vocab_size, h])?;
        let position = t.get(
            "embeddings.position_embeddings.weight",
            &[config.max_position_embeddings, h],
        )?;
        let token_type = t.get(
            "embeddings.token_type_embeddings.weight",
            &[config.type_vocab_size, h],
        )?;
        let norm = t.norm("embeddings.LayerNorm", h)?;
        let i = config.intermediate_size;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let mut w = Vec::with_capacity(3 * h * h);
            let mut b = Vec::with_capacity(3 * h);
            for part in ["query", "key", "value"] {
                w.extend(t.get(&format!("{p}.attention.self.{part}.weight"), &[h, h])?);
                b.extend(t.get(&format!("{p}.attention.self.{part}.bias"), &[h])?);
            }
            layers.push(Layer {
                qkv: Linear::new(&w, &b, 3 * h, h),
                attn_out: t.linear(&format!("{p}.attention.output.dense"), h, h)?,
                norm1: t.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                up: t.linear(&format!("{p}.intermediate.dense"), i, h)?,
                down: t.linear(&format!("{p}.output.dense"), h, i)?,
                norm2: t.norm(&format!("{p}.output.LayerNorm"), h)?,
            });
        }
        Ok(Bert {
            hidden: h,
            heads,
            eps: config.layer_norm_eps as f32,
            act,
            vocab: config.vocab_size,
            types: config.type_vocab_size,
            positions: config.max_position_embeddings - position_offset,
            position_offset,
            word: WordTable::F32(word),
            position,
            token_type,
            norm,
            layers,
        })
    }

    /// Builds the encoder from a packed 4-bit e5 file: the dense layers keep
    /// their 4-bit blocks, from which the first kernel to run makes the
    /// form it reads (bf16 panels, or the int8 kernel's layout); the token
    /// table stays 4-bit and is dequantised a row at a time.
    pub(crate) fn load_packed(p: &crate::packed::Packed<'_>) -> Result<Self, String> {
        let s = p.shape;
        let (h, i) = (s.hidden, s.ff);
        let norm = |base: &str| -> Result<Norm, String> {
            Ok(Norm {
                weight: p.f32s(&format!("{base}.w"), h)?,
                bias: p.f32s(&format!("{base}.b"), h)?,
            })
        };
        // 4-bit weights stay 4-bit (for the int8 kernel); f32 ones are
        // packed for the bf16 kernels.
        let linear = |bases: &[String], n: usize, k: usize| -> Result<Linear, String> {
            let mut b = Vec::with_capacity(bases.len() * n);
            for base in bases {
                b.extend(p.f32s(&format!("{base}.b"), n)?);
            }
            let n_all = bases.len() * n;
            let q4: Result<Vec<u8>, String> = bases
                .iter()
                .map(|base| p.q4(&format!("{base}.w"), n * k))
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.concat());
            if let Ok(blocks) = q4 {
                return Ok(Linear::from_q4(blocks, &b, n_all, k));
            }
            let mut w = Vec::with_capacity(n_all * k);
            for base in bases {
                w.extend(p.f32s(&format!("{base}.w"), n * k)?);
            }
            Ok(Linear::new(&w, &b, n_all, k))
        };
        let mut layers = Vec::with_capacity(s.layers);
        for l in 0..s.layers {
            let qkv: Vec<String> = ["q", "k", "v"]
                .iter()
                .map(|x| format!("l{l}.{x}"))
                .collect();
            let one = |x: &str| [format!("l{l}.{x}")];
            layers.push(Layer {
                qkv: linear(&qkv, h, h)?,
                attn_out: linear(&one("ao"), h, h)?,
                norm1: norm(&format!("l{l}.aln"))?,
                up: linear(&one("fi"), i, h)?,
                down: linear(&one("fo"), h, i)?,
                norm2: norm(&format!("l{l}.oln"))?,
            });
        }
        Ok(Bert {
            hidden: h,
            heads: s.heads,
            eps: s.eps,
            act: Act::Gelu,
            vocab: s.vocab,
            types: s.types.max(1),
            positions: s.positions,
            position_offset: 0,
            word: WordTable::Q4 {
                blocks: p.q4("emb.word", s.vocab * h)?,
                row_bytes: crate::packed::q4_row_bytes(h),
            },
            position: p.f32s("emb.pos", s.positions * h)?,
            token_type: p.f32s("emb.type", s.types.max(1) * h)?,
            norm: norm("emb.ln")?,
            layers,
        })
    }

    /// Whether the dense layers hold 4-bit weights (what the int8 kernel
    /// reads).
    pub(crate) fn is_q4(&self) -> bool {
        self.layers
            .iter()
            .all(|l| l.qkv.has_q4() && l.attn_out.has_q4() && l.up.has_q4() && l.down.has_q4())
    }

    /// The kernel that runs this model when `k` is asked for: the int8
    /// kernel only for 4-bit weights (else the portable loop).
    pub(crate) fn kernel_for(&self, k: Kernel) -> Kernel {
        if k == Kernel::Int8 && !self.is_q4() {
            Kernel::Portable
        } else {
            k
        }
    }

    /// Positions the model has (the most tokens a text may have).
    pub(crate) fn positions(&self) -> usize {
        self.positions
    }

    /// The mean of each text's last hidden states, scaled to unit length
    /// (a text without tokens gets the zero vector).
    pub(crate) fn embed(
        &self,
        texts: &[Tokens<'_>],
        s: &mut Scratch,
    ) -> Result<Vec<Vec<f32>>, String> {
        #[cfg(target_arch = "x86_64")]
        if avx512_elementwise() {
            // SAFETY: the CPU has the features the copy is compiled for.
            return unsafe { self.embed_avx512(texts, s) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the copy is compiled for.
            return unsafe { self.embed_avx2(texts, s) };
        }
        self.embed_inline(texts, s)
    }

    /// [`Self::embed`] with the element-wise loops compiled for AVX2 and
    /// FMA (AMD Zen 2 and 3 have no AVX512).
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn embed_avx2(
        &self,
        texts: &[Tokens<'_>],
        s: &mut Scratch,
    ) -> Result<Vec<Vec<f32>>, String> {
        self.embed_inline(texts, s)
    }

    /// [`Self::embed`] with the element-wise loops (layer norm, attention,
    /// activation) compiled for AVX512.
    ///
    /// # Safety
    /// [`avx512_elementwise`] is true.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    unsafe fn embed_avx512(
        &self,
        texts: &[Tokens<'_>],
        s: &mut Scratch,
    ) -> Result<Vec<Vec<f32>>, String> {
        self.embed_inline(texts, s)
    }

    #[inline(always)]
    fn embed_inline(&self, texts: &[Tokens<'_>], s: &mut Scratch) -> Result<Vec<Vec<f32>>, String> {
        let h = self.hidden;
        let mut offsets = Vec::with_capacity(texts.len() + 1);
        offsets.push(0usize);
        for t in texts {
            if t.ids.len() > self.positions {
                return Err(format!(
                    "a text has {} tokens, the model {} positions",
                    t.ids.len(),
                    self.positions
                ));
            }
            offsets.push(offsets[offsets.len() - 1] + t.ids.len());
        }
        let rows = offsets[texts.len()];

        // Embeddings: word + position + token type, then a layer norm.
        s.x.resize(rows * h, 0.0);
        s.tmp.resize(h, 0.0);
        for (t, &o) in texts.iter().zip(&offsets) {
            for (pos, (&id, &ty)) in t.ids.iter().zip(t.types).enumerate() {
                let (id, ty) = (id as usize, ty as usize);
                if id >= self.vocab || ty >= self.types {
                    return Err(format!(
                        "token {id} (type {ty}) is outside the model's vocabulary of {} ({} types): tokenizer.json and model.safetensors do not belong together",
                        self.vocab, self.types
                    ));
                }
                let row = &mut s.x[(o + pos) * h..(o + pos + 1) * h];
                let p = pos + self.position_offset;
                let p = &self.position[p * h..(p + 1) * h];
                let y = &self.token_type[ty * h..(ty + 1) * h];
                for ((x, p), y) in row.iter_mut().zip(p).zip(y) {
                    *x = p + y;
                }
                self.word.add_row(id, row, &mut s.tmp[..h]);
            }
        }
        layer_norm(&mut s.x, h, &self.norm, self.eps);

        for layer in &self.layers {
            let k = s.kernel;
            layer.qkv.apply(k, &s.x, rows, &mut s.input, &mut s.qkv);
            self.attention(&offsets, s);
            layer
                .attn_out
                .apply(k, &s.ctx, rows, &mut s.input, &mut s.tmp);
            add(&mut s.x, &s.tmp);
            layer_norm(&mut s.x, h, &layer.norm1, self.eps);

            layer.up.apply(k, &s.x, rows, &mut s.input, &mut s.up);
            activate(&mut s.up, self.act);
            layer.down.apply(k, &s.up, rows, &mut s.input, &mut s.tmp);
            add(&mut s.x, &s.tmp);
            layer_norm(&mut s.x, h, &layer.norm2, self.eps);
        }

        // Mean pooling and L2 normalisation.
        Ok(offsets
            .windows(2)
            .map(|w| {
                let mut v = vec![0f32; h];
                for r in w[0]..w[1] {
                    add(&mut v, &s.x[r * h..(r + 1) * h]);
                }
                let n = (w[1] - w[0]).max(1) as f32;
                v.iter_mut().for_each(|x| *x /= n);
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect())
    }

    /// Multi-head self-attention of each text over its own tokens: reads
    /// `s.qkv` (`rows × 3h`), writes `s.ctx` (`rows × h`). For each text
    /// and head the keys are copied transposed and the values contiguous,
    /// so that the scores of one query are one vector loop per dimension
    /// and its output sums stay in registers.
    #[inline(always)]
    fn attention(&self, offsets: &[usize], s: &mut Scratch) {
        let h = self.hidden;
        let d = h / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        let rows = offsets[offsets.len() - 1];
        s.ctx.resize(rows * h, 0.0);
        let qkv = &s.qkv;
        for w in offsets.windows(2) {
            let (o, len) = (w[0], w[1] - w[0]);
            // Keys transposed (`d × lp`), padded with zeros to whole
            // vectors of 16; the padding's scores are never read.
            let lp = len.next_multiple_of(16);
            s.scores.resize(lp, 0.0);
            s.keys.clear();
            s.keys.resize(d * lp, 0.0);
            s.values.resize(len * d, 0.0);
            for head in 0..self.heads {
                let col = head * d;
                for j in 0..len {
                    let row = &qkv[(o + j) * 3 * h..][..3 * h];
                    for (c, &k) in row[h + col..][..d].iter().enumerate() {
                        s.keys[c * lp + j] = k;
                    }
                    s.values[j * d..(j + 1) * d].copy_from_slice(&row[2 * h + col..][..d]);
                }
                for i in 0..len {
                    let q = &qkv[(o + i) * 3 * h + col..][..d];
                    // Sixteen scores at a time, summed in a register.
                    for (jb, out) in s.scores.chunks_exact_mut(16).enumerate() {
                        let mut acc = [0f32; 16];
                        for (c, &qc) in q.iter().enumerate() {
                            if let Some(k) = s.keys[c * lp + jb * 16..].first_chunk::<16>() {
                                for (a, k) in acc.iter_mut().zip(k) {
                                    *a += qc * k;
                                }
                            }
                        }
                        for (o, a) in out.iter_mut().zip(&acc) {
                            *o = a * scale;
                        }
                    }
                    let scores = &mut s.scores[..len];
                    let max = lanes(scores, f32::MIN, f32::max);
                    for sc in scores.iter_mut() {
                        *sc = exp(*sc - max);
                    }
                    let sum = lanes(scores, 0.0, |a, b| a + b);
                    let inv = 1.0 / sum;
                    let out = &mut s.ctx[(o + i) * h + col..][..d];
                    for (cc, out) in out.chunks_mut(16).enumerate() {
                        let mut acc = [0f32; 16];
                        for (j, &p) in s.scores[..len].iter().enumerate() {
                            let v = &s.values[j * d + cc * 16..(j * d + cc * 16 + out.len())];
                            if let Some(v) = v.first_chunk::<16>() {
                                for (a, v) in acc.iter_mut().zip(v) {
                                    *a += p * v;
                                }
                            } else {
                                for (a, v) in acc.iter_mut().zip(v) {
                                    *a += p * v;
                                }
                            }
                        }
                        for (o, a) in out.iter_mut().zip(&acc) {
                            *o = a * inv;
                        }
                    }
                }
            }
        }
    }
}

/// `e^x` in f32 for x ≤ 0 (softmax after the maximum is taken off),
/// relative error below 3e-7: `e^x = 2^n · e^f` with `n = round(x/ln 2)`
/// (the exponent bits) and `f = x − n·ln 2`, |f| ≤ ln 2 / 2, computed with
/// ln 2 in two parts so that no precision is lost, then `e^f` by its
/// Taylor polynomial. No branches or library calls: a loop over it
/// vectorises.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.max(-87.0);
    // Round to nearest: adding 1.5·2^23 leaves no fraction bits.
    let n = (x * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    // ln 2 = 0.693359375 (exact in 9 bits) − 2.121944400e-4.
    let f = (x - n * 0.693_359_4) + n * 2.121_944_4e-4;
    let mut p = 1.0 / 5040.0;
    p = p * f + 1.0 / 720.0;
    p = p * f + 1.0 / 120.0;
    p = p * f + 1.0 / 24.0;
    p = p * f + 1.0 / 6.0;
    p = p * f + 0.5;
    p = p * f + 1.0;
    p = p * f + 1.0;
    f32::from_bits(p.to_bits().wrapping_add(((n as i32) << 23) as u32))
}

/// Whether the CPU has every feature `Bert::embed_avx512` is compiled for
/// (a Xeon Phi has AVX512F without BW, DQ or VL).
#[cfg(target_arch = "x86_64")]
fn avx512_elementwise() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
}

/// Folds `x` with `f` in sixteen interleaved lanes (so that the loop
/// vectorises), then folds the lanes.
#[inline(always)]
fn lanes(x: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 16];
    let chunks = x.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = f(*a, v);
        }
    }
    let mut r = tail.iter().fold(init, |a, &v| f(a, v));
    for a in acc {
        r = f(r, a);
    }
    r
}

#[inline(always)]
fn add(x: &mut [f32], y: &[f32]) {
    for (x, y) in x.iter_mut().zip(y) {
        *x += y;
    }
}

/// Layer norm of each row of `x` (width `h`), in place.
#[inline(always)]
fn layer_norm(x: &mut [f32], h: usize, n: &Norm, eps: f32) {
    for row in x.chunks_exact_mut(h) {
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(&n.weight).zip(&n.bias) {
            *v = (*v - mean) * inv * w + b;
        }
    }
}

#[inline(always)]
fn activate(x: &mut [f32], act: Act) {
    match act {
        Act::Gelu => x
            .iter_mut()
            .for_each(|v| *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2))),
        Act::GeluTanh => x.iter_mut().for_each(|v| {
            let c = (2.0 / std::f32::consts::PI).sqrt();
            *v = 0.5 * *v * (1.0 + (c * (*v + 0.044_715 * *v * *v * *v)).tanh());
        }),
        Act::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
    }
}

/// The error function in f32 (absolute error below 2e-7): an odd rational
/// function of x on [-4, 4], ±1 beyond (where erf is 1 to within 2e-8).
/// No branches or library calls, so a loop over it vectorises.
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 + -2.101_024e-6;
    p = p * x2 + -5.692_506_4e-5;
    p = p * x2 + -7.349_906e-4;
    p = p * x2 + -2.954_600_2e-3;
    p = p * x2 + -1.609_603_3e-2;
    let mut q = -1.456_607_2e-5f32;
    q = q * x2 + -2.133_740_6e-4;
    q = q * x2 + -1.682_827e-3;
    q = q * x2 + -7.373_329e-3;
    q = q * x2 + -1.426_474e-2;
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf in f64 by its Taylor series (exact enough for |x| ≤ 4).
    fn erf64(x: f64) -> f64 {
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_accurate_everywhere() {
        let mut worst = 0f64;
        for i in -6000..=6000 {
            let x = i as f64 / 1000.0;
            let want = if x.abs() <= 4.0 { erf64(x) } else { x.signum() };
            let got = erf(x as f32) as f64;
            worst = worst.max((got - want).abs());
        }
        assert!(worst < 5e-7, "worst error {worst}");
        assert_eq!(erf(0.0), 0.0);
        assert!(erf(-1.0) < 0.0 && (erf(-1.0) + erf(1.0)).abs() < 1e-7);
    }

    #[test]
    fn exp_is_accurate_where_softmax_uses_it() {
        let mut worst = 0f64;
        for i in 0..=87_000 {
            let x = -(i as f32) / 1000.0;
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-200.0) < 1e-37);
    }

    #[test]
    fn layer_norm_centres_and_scales() {
        let n = Norm {
            weight: vec![1.0; 4],
            bias: vec![0.5; 4],
        };
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 7.0, 7.0, 7.0, 7.0];
        layer_norm(&mut x, 4, &n, 1e-12);
        let mean: f32 = x[..4].iter().sum::<f32>() / 4.0;
        let var: f32 = x[..4].iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
        assert!((mean - 0.5).abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert!(x[4..].iter().all(|&v| (v - 0.5).abs() < 1e-6));
    }

    /// A tiny BERT in safetensors: `(name, shape, values)`, values from a
    /// fixed pseudo-random sequence.
    fn tiny_weights(positions: usize, shift: usize) -> Vec<u8> {
        let (h, i, v) = (32usize, 64usize, 20usize);
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.4
        };
        let mut t: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
        let mut add = |name: &str, shape: Vec<usize>, next: &mut dyn FnMut() -> f32| {
            let n = shape.iter().product();
            t.push((name.to_string(), shape, (0..n).map(|_| next()).collect()));
        };
        add("embeddings.word_embeddings.weight", vec![v, h], &mut next);
        add(
            "embeddings.position_embeddings.weight",
            vec![16, h],
            &mut next,
        );
        add(
            "embeddings.token_type_embeddings.weight",
            vec![1, h],
            &mut next,
        );
        for n in ["weight", "bias"] {
            add(&format!("embeddings.LayerNorm.{n}"), vec![h], &mut next);
        }
        let p = "encoder.layer.0";
        for part in ["query", "key", "value"] {
            add(
                &format!("{p}.attention.self.{part}.weight"),
                vec![h, h],
                &mut next,
            );
            add(
                &format!("{p}.attention.self.{part}.bias"),
                vec![h],
                &mut next,
            );
        }
        for (name, n, k) in [
            ("attention.output.dense", h, h),
            ("intermediate.dense", i, h),
            ("output.dense", h, i),
        ] {
            add(&format!("{p}.{name}.weight"), vec![n, k], &mut next);
            add(&format!("{p}.{name}.bias"), vec![n], &mut next);
        }
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
            for n in ["weight", "bias"] {
                add(&format!("{p}.{ln}.{n}"), vec![h], &mut next);
            }
        }
        // The position table: `shift` unused rows first, then the 16 rows.
        let pos = t.iter_mut().find(|x| x.0.contains("position")).unwrap();
        let mut rows = vec![9.0f32; shift * h];
        rows.extend_from_slice(&pos.2[..(positions - shift).min(16) * h]);
        pos.1 = vec![positions, h];
        pos.2 = rows;
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = t
            .into_iter()
            .map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
            .iter()
            .map(|(n, s, b)| {
                let view =
                    safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b);
                (n.clone(), view.unwrap())
            })
            .collect();
        safetensors::serialize(views, None).unwrap()
    }

    fn tiny_config(model_type: &str, positions: usize) -> Config {
        serde_json::from_value(serde_json::json!({
            "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 64, "max_position_embeddings": positions,
            "vocab_size": 20, "type_vocab_size": 1, "model_type": model_type,
            "pad_token_id": 1,
        }))
        .unwrap()
    }

    /// XLM-R numbers positions from padding_idx + 1: the same weights with
    /// two unused rows in front give the BERT vectors, and those rows
    /// (filled with 9s) are never read.
    #[test]
    fn roberta_positions_start_after_the_padding_index() {
        let ids = [0u32, 5, 7, 19, 2];
        let types = [0u32; 5];
        let tokens = [Tokens {
            ids: &ids,
            types: &types,
        }];
        let kernel = crate::gemm::Kernel::parse("portable").unwrap();
        let run = |model_type: &str, positions: usize, shift: usize| {
            let b = Bert::load(
                &tiny_config(model_type, positions),
                &tiny_weights(positions, shift),
            )
            .unwrap();
            b.embed(&tokens, &mut Scratch::new(kernel)).unwrap()
        };
        let bert = run("bert", 16, 0);
        let xlmr = run("xlm-roberta", 18, 2);
        let d: f32 = bert[0]
            .iter()
            .zip(&xlmr[0])
            .map(|(a, b)| (a - b).abs())
            .sum();
        assert!(d < 1e-5, "{d}");
        // Read as BERT, the shifted table gives other vectors.
        let wrong = run("bert", 18, 2);
        let d: f32 = bert[0]
            .iter()
            .zip(&wrong[0])
            .map(|(a, b)| (a - b).abs())
            .sum();
        assert!(d > 0.1, "{d}");
        let b = Bert::load(&tiny_config("roberta", 18), &tiny_weights(18, 2)).unwrap();
        assert_eq!(b.positions(), 16);
        assert!(Bert::load(&tiny_config("t5", 16), &tiny_weights(16, 0)).is_err());
    }

    #[test]
    fn lanes_fold_every_value() {
        let x: Vec<f32> = (0..37).map(|i| i as f32).collect();
        assert_eq!(lanes(&x, 0.0, |a, b| a + b), (0..37).sum::<i32>() as f32);
        assert_eq!(lanes(&x, f32::MIN, f32::max), 36.0);
        assert_eq!(lanes(&x[..3], f32::MIN, f32::max), 2.0);
        assert_eq!(lanes(&[], 0.0, |a, b| a + b), 0.0);
    }
}
