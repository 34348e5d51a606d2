//! Semantic features: cosine similarity between a post and each candidate
//! claim's text and title, from a sentence encoder ([`pharos_embed`]).
//!
//! Claims are embedded once and kept in half precision (IEEE f16: 11
//! significant bits, so a cosine moves by about 1e-4 at most; half the
//! memory of f32, 1.5 GB for a million claims' texts and titles). With an
//! index directory the vectors are kept in `embeddings` there (a one-line
//! JSON header naming the encoder, the model, the library generation and
//! the shape, then little-endian f16s) and reused
//! while they and the encoder are unchanged: embedding the 14k CheckThat!
//! claims (text and title) takes about 40 s on two busy cores, reading
//! them back milliseconds.

use super::{EncoderPlan, MatchError, Scored, centre};
use crate::Claim;
use half::f16;
use half::slice::HalfFloatSliceExt;
use pharos_embed::{Embedder, NearestIndex};
use std::io::{Read, Write};
use std::path::Path;

pub(crate) struct Semantic {
    embedder: Embedder,
    dim: usize,
    text: Vec<f16>,
    title: Vec<f16>,
    has_title: Vec<bool>,
    /// The dense candidate stage: every claim's text vector and, after
    /// them, the title vectors of the claims that have one.
    dense: NearestIndex,
    /// The claim of each dense row.
    dense_claim: Vec<u32>,
    /// Post vectors by text, kept for evaluations that match the same
    /// posts against many libraries (shared by [`Semantic::remapped`]
    /// copies); `None` in production.
    memo: Option<PostMemo>,
}

/// Post vectors by text (see [`Semantic::remember_posts`]).
type PostMemo = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<f32>>>>;

/// The dense index over the claims' text and title vectors.
fn dense_index(
    dim: usize,
    text: &[f16],
    title: &[f16],
    has_title: &[bool],
) -> (NearestIndex, Vec<u32>) {
    let n = has_title.len();
    let mut rows: Vec<(bool, u32)> = (0..n as u32).map(|i| (false, i)).collect();
    rows.extend(
        has_title
            .iter()
            .enumerate()
            .filter(|(_, h)| **h)
            .map(|(i, _)| (true, i as u32)),
    );
    let index = NearestIndex::from_rows(rows.len(), dim, |r, out| {
        let (is_title, c) = rows[r];
        let c = c as usize;
        let src = if is_title { title } else { text };
        src[c * dim..(c + 1) * dim].convert_to_f32_slice(out);
    });
    (index, rows.into_iter().map(|(_, c)| c).collect())
}

fn stamp(model_dir: &Path, model_id: &str, generation: &str, n: usize, dim: usize) -> String {
    let name = std::fs::canonicalize(model_dir)
        .unwrap_or_else(|_| model_dir.to_path_buf())
        .display()
        .to_string();
    serde_json::json!({
        "format": 2,
        "dtype": "f16",
        "encoder": pharos_embed::ENCODER,
        "model": name,
        "model_id": model_id,
        "generation": generation,
        "claims": n,
        "dim": dim,
    })
    .to_string()
}

impl Semantic {
    pub(crate) fn load(
        model_dir: &Path,
        claims: &[Claim],
        cache: Option<&Path>,
        generation: &str,
    ) -> Result<Self, MatchError> {
        let embedder = Embedder::open(model_dir).map_err(|e| MatchError::Model(e.to_string()))?;
        let dim = embedder.dim();
        let n = claims.len();
        let want = stamp(model_dir, embedder.model_id(), generation, n, dim);
        if let Some(path) = cache
            && let Some((text, title, has_title)) = read_cache(path, &want, n, dim)
        {
            return Ok(Self::assemble(embedder, dim, text, title, has_title));
        }
        let texts: Vec<&str> = claims.iter().map(|c| c.text.as_str()).collect();
        let text = flatten(
            embedder
                .embed(&texts)
                .map_err(|e| MatchError::Model(e.to_string()))?,
            dim,
        );
        let has_title: Vec<bool> = claims
            .iter()
            .map(|c| c.title.as_deref().is_some_and(|t| !t.trim().is_empty()))
            .collect();
        let titled: Vec<&str> = claims
            .iter()
            .filter_map(|c| c.title.as_deref().filter(|t| !t.trim().is_empty()))
            .collect();
        let titled_vecs = embedder
            .embed(&titled)
            .map_err(|e| MatchError::Model(e.to_string()))?;
        let mut title = vec![f16::ZERO; n * dim];
        let mut it = titled_vecs.into_iter();
        for (i, &h) in has_title.iter().enumerate() {
            if h && let Some(v) = it.next() {
                title[i * dim..(i + 1) * dim].convert_from_f32_slice(&v);
            }
        }
        if let Some(path) = cache
            && let Err(e) = write_cache(path, &want, &text, &title, &has_title)
        {
            tracing::warn!("cannot cache claim embeddings in {}: {e}", path.display());
        }
        Ok(Self::assemble(embedder, dim, text, title, has_title))
    }

    fn assemble(
        embedder: Embedder,
        dim: usize,
        text: Vec<f16>,
        title: Vec<f16>,
        has_title: Vec<bool>,
    ) -> Self {
        let (dense, dense_claim) = dense_index(dim, &text, &title, &has_title);
        Semantic {
            embedder,
            dim,
            text,
            title,
            has_title,
            dense,
            dense_claim,
            memo: None,
        }
    }

    /// Keeps every post vector computed from now on, by text, and reuses
    /// it (evaluation: the same posts against many libraries).
    pub(crate) fn remember_posts(&mut self) {
        self.memo.get_or_insert_with(Default::default);
    }

    /// The vectors' length.
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// Names the model and encoder arithmetic whose vectors the running
    /// language means ([`centre::LangMeans`]) average.
    pub(crate) fn means_key(&self) -> String {
        format!("{} {}", pharos_embed::ENCODER, self.embedder.model_id())
    }

    /// Whether the model marks texts by role (the e5 family): the fusion
    /// fitted for it is used.
    pub(crate) fn is_e5(&self) -> bool {
        self.embedder.has_roles()
    }

    /// See `Matcher::encoder_kernel`.
    pub(crate) fn kernel(&self) -> &'static str {
        self.embedder.kernel()
    }

    /// A copy whose claim `i` has the vectors of claim `source(i)` of `self`
    /// (benchmarks: a large synthetic library of near-duplicates).
    pub(crate) fn remapped(
        &self,
        model_dir: &Path,
        n: usize,
        source: &dyn Fn(usize) -> usize,
    ) -> Result<Self, MatchError> {
        let embedder = Embedder::open(model_dir).map_err(|e| MatchError::Model(e.to_string()))?;
        let d = self.dim;
        let mut text = Vec::with_capacity(n * d);
        let mut title = Vec::with_capacity(n * d);
        let mut has_title = Vec::with_capacity(n);
        for i in 0..n {
            let s = source(i);
            text.extend_from_slice(&self.text[s * d..(s + 1) * d]);
            title.extend_from_slice(&self.title[s * d..(s + 1) * d]);
            has_title.push(self.has_title[s]);
        }
        let mut copy = Self::assemble(embedder, d, text, title, has_title);
        copy.memo = self.memo.clone();
        Ok(copy)
    }

    /// The vectors of the planned texts (each distinct text once); `None`
    /// (and a warning) when the encoder fails, so that the batch is
    /// matched as without a model.
    pub(crate) fn embed(&self, plan: &EncoderPlan<'_>) -> Option<Vec<Vec<f32>>> {
        if plan.texts.is_empty() {
            return Some(Vec::new());
        }
        if let Some(memo) = &self.memo {
            let mut m = memo.lock().unwrap_or_else(|e| e.into_inner());
            let mut missing: Vec<&str> = Vec::new();
            for t in &plan.texts {
                if !m.contains_key(*t) {
                    missing.push(t);
                }
            }
            if !missing.is_empty() {
                let vecs = self.embedder.embed(&missing).ok()?;
                for (t, v) in missing.into_iter().zip(vecs) {
                    m.insert(t.to_string(), v);
                }
            }
            return plan.texts.iter().map(|t| m.get(*t).cloned()).collect();
        }
        match self.embedder.embed(&plan.texts) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!("embedding posts failed, BM25 only for this batch: {e}");
                None
            }
        }
    }

    /// The dense candidate stage: for each vector, the `k` claims whose text
    /// or title vector is nearest (distinct claims, best first).
    pub(crate) fn nearest(&self, vecs: &[Vec<f32>], k: usize) -> Vec<Vec<u32>> {
        if k == 0 {
            return vec![Vec::new(); vecs.len()];
        }
        // A claim can come twice (text and title): ask for twice as many rows.
        self.dense
            .nearest(vecs, 2 * k)
            .into_iter()
            .map(|hits| {
                let mut out: Vec<u32> = Vec::with_capacity(k);
                for (row, _) in hits {
                    let c = self.dense_claim[row as usize];
                    if !out.contains(&c) {
                        out.push(c);
                        if out.len() == k {
                            break;
                        }
                    }
                }
                out
            })
            .collect()
    }

    /// Fills features 6–9 of a post's candidates from the post's vector `q`.
    /// With `centring` (the post's language mean, and each claim's language
    /// mean by ordinal), a candidate in another language ([`Scored::cross`])
    /// whose claim has a mean gets the cosines of the centred vectors instead
    /// (see [`super::centre`]), its rank features among those candidates,
    /// and is marked [`Scored::centred`]; the others keep the raw cosines.
    pub(crate) fn fill_features<'m, F: Fn(u32) -> Option<&'m [f32]>>(
        &self,
        q: &[f32],
        list: &mut [Scored],
        centring: Option<(&[f32], F)>,
    ) {
        let d = self.dim;
        let mut claim = vec![0f32; d];
        let mut cosine = |v: &[f16]| {
            v.convert_to_f32_slice(&mut claim);
            pharos_embed::cosine(q, &claim)
        };
        let mut maxes = Vec::with_capacity(list.len());
        for c in list.iter_mut() {
            let o = c.ord as usize;
            let ct = cosine(&self.text[o * d..(o + 1) * d]);
            let cl = if self.has_title[o] {
                cosine(&self.title[o * d..(o + 1) * d])
            } else {
                ct
            };
            c.features[6] = ct;
            c.features[7] = cl;
            c.semantic = true;
            c.centred = false;
            maxes.push(ct.max(cl));
        }
        let all: Vec<usize> = (0..list.len()).collect();
        rank_features(list, &maxes, &all);
        let Some((post_mean, claim_mean)) = centring else {
            return;
        };
        let qc = centre::centred(q, post_mean);
        let mut group = Vec::new();
        for (j, c) in list.iter_mut().enumerate() {
            if !c.cross {
                continue;
            }
            let Some(cm) = claim_mean(c.ord) else {
                continue;
            };
            let o = c.ord as usize;
            let mut cos = |v: &[f16]| {
                v.convert_to_f32_slice(&mut claim);
                pharos_embed::cosine(&qc, &centre::centred(&claim, cm))
            };
            let ct = cos(&self.text[o * d..(o + 1) * d]);
            let cl = if self.has_title[o] {
                cos(&self.title[o * d..(o + 1) * d])
            } else {
                ct
            };
            c.features[6] = ct;
            c.features[7] = cl;
            c.centred = true;
            maxes[j] = ct.max(cl);
            group.push(j);
        }
        if !group.is_empty() {
            // Raw and centred cosines are on different scales: each group
            // is ranked among itself.
            rank_features(list, &maxes, &group);
            let rest: Vec<usize> = (0..list.len()).filter(|&j| !list[j].centred).collect();
            rank_features(list, &maxes, &rest);
        }
    }

    /// The mean text vector of the claims of each language (`of[i]`: claim
    /// `i`'s language index, `codes` of them), for languages with at least
    /// `min` claims; and the mean over all claims.
    pub(crate) fn text_means(
        &self,
        of: &[u16],
        codes: usize,
        min: usize,
    ) -> (Vec<Option<Vec<f32>>>, Option<Vec<f32>>) {
        let d = self.dim;
        let mut sums = vec![vec![0f64; d]; codes];
        let mut counts = vec![0usize; codes];
        let mut total = vec![0f64; d];
        let mut row = vec![0f32; d];
        for (r, &l) in self.text.chunks_exact(d).zip(of) {
            r.convert_to_f32_slice(&mut row);
            let l = l as usize;
            if l < codes {
                counts[l] += 1;
                for (s, &x) in sums[l].iter_mut().zip(&row) {
                    *s += x as f64;
                }
            }
            for (s, &x) in total.iter_mut().zip(&row) {
                *s += x as f64;
            }
        }
        let mean =
            |s: &[f64], n: usize| -> Vec<f32> { s.iter().map(|x| (x / n as f64) as f32).collect() };
        let n = self.text.len() / d.max(1);
        let per = sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| (c >= min.max(1)).then(|| mean(s, c)))
            .collect();
        (per, (n > 0).then(|| mean(&total, n)))
    }
}

/// Features 8 (cosine minus the best) and 9 (reciprocal rank by cosine) of
/// the candidates `group` of `list`, among themselves.
fn rank_features(list: &mut [Scored], maxes: &[f32], group: &[usize]) {
    let best = group.iter().map(|&j| maxes[j]).fold(f32::MIN, f32::max);
    let mut order = group.to_vec();
    order.sort_by(|&a, &b| maxes[b].total_cmp(&maxes[a]));
    for (r, &j) in order.iter().enumerate() {
        list[j].features[8] = maxes[j] - best;
        list[j].features[9] = 1.0 / (r as f32 + 1.0);
    }
}

/// The vectors one after another, in half precision.
fn flatten(v: Vec<Vec<f32>>, dim: usize) -> Vec<f16> {
    let mut out = vec![f16::ZERO; v.len() * dim];
    for (x, o) in v.iter().zip(out.chunks_exact_mut(dim)) {
        o.convert_from_f32_slice(x);
    }
    out
}

type Vectors = (Vec<f16>, Vec<f16>, Vec<bool>);

fn read_cache(path: &Path, want: &str, n: usize, dim: usize) -> Option<Vectors> {
    let mut f = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let mut header = Vec::new();
    loop {
        let mut b = [0u8; 1];
        f.read_exact(&mut b).ok()?;
        if b[0] == b'\n' {
            break;
        }
        header.push(b[0]);
        if header.len() > 4096 {
            return None;
        }
    }
    if header != want.as_bytes() {
        return None;
    }
    let mut read_f16s = |len: usize| -> Option<Vec<f16>> {
        let mut bytes = vec![0u8; len * 2];
        f.read_exact(&mut bytes).ok()?;
        Some(
            bytes
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]))
                .collect(),
        )
    };
    let text = read_f16s(n * dim)?;
    let title = read_f16s(n * dim)?;
    let mut flags = vec![0u8; n];
    f.read_exact(&mut flags).ok()?;
    Some((text, title, flags.into_iter().map(|b| b == 1).collect()))
}

fn write_cache(
    path: &Path,
    header: &str,
    text: &[f16],
    title: &[f16],
    has_title: &[bool],
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // One temporary file per writer: two matchers of one library (two
    // threads or processes) never write into the same file.
    static WRITER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp-{}-{n}", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        f.write_all(header.as_bytes())?;
        f.write_all(b"\n")?;
        for x in text.iter().chain(title) {
            f.write_all(&x.to_le_bytes())?;
        }
        let flags: Vec<u8> = has_title.iter().map(|&b| b as u8).collect();
        f.write_all(&flags)?;
        f.flush()?;
    }
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_gives_back_what_was_written_under_the_same_stamp_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index").join("embeddings");
        let (n, dim) = (3, 4);
        let vectors = vec![
            vec![0.5, -0.25, 1e-5, 0.0],
            vec![0.1, 0.2, 0.3, 0.4],
            vec![-1.0, 1.0, 0.333, 0.7],
        ];
        let text = flatten(vectors.clone(), dim);
        let mut title = vec![f16::ZERO; n * dim];
        title[dim..2 * dim].convert_from_f32_slice(&[0.9, 0.0, -0.9, 0.1]);
        let has_title = vec![false, true, false];
        write_cache(&path, "stamp-a", &text, &title, &has_title).unwrap();
        let (t, ti, h) = read_cache(&path, "stamp-a", n, dim).expect("cache");
        assert_eq!((t.clone(), ti, h), (text, title, has_title));
        // Half precision: each value within 2^-11 of the f32 it came from.
        for (v, back) in vectors.concat().iter().zip(&t) {
            assert!(
                (v - back.to_f32()).abs() <= v.abs() / 2048.0 + 1e-7,
                "{v} {back}"
            );
        }
        assert!(read_cache(&path, "stamp-b", n, dim).is_none());
        assert!(read_cache(&path, "stamp-a", n + 1, dim).is_none());
    }
}
