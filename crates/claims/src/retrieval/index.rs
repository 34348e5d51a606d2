//! The BM25 index of the library's claims: in memory, built from the
//! claims when a matcher opens.
//!
//! Each claim is analysed with tantivy's analysers ([`super::text`]) into
//! the fields of its language (`text` and `title` of `en`, of `ru` ... or
//! of the generic `xx`) and into the transliterated `key` field, where
//! `Зеленский` meets `Zelensky`. A post is analysed once per language the
//! library holds, so each claim is scored against the post analysed the way
//! the claim was (English stems for English claims, Russian for Russian),
//! plus the key field.
//!
//! Scoring is tantivy's BM25 (k1 = 1.2, b = 0.75, its idf, its one-byte
//! field-length code), summed over the query's distinct terms and fields
//! with the [`FieldWeights`] as boosts: the same scores tantivy gave when it
//! searched this index (up to float rounding), computed here over compact
//! in-memory posting lists (a claim id and a 16-bit quantised term-frequency
//! factor per posting) into a per-thread score accumulator, with MaxScore
//! pruning. Against 100,000 claims that is about ten times faster than the
//! tantivy `BooleanQuery` of ~50 boosted term clauses it replaced (the
//! profiles are in docs/BENCHMARKS.md), and needs no files: building the
//! index of 100,000 claims takes seconds.

use super::text::{GENERIC, STEMMED, analyser, analyser_code, key_analyser, key_text};
use crate::Claim;
use pharos_analysis::similarity::translit::detect_language;
use rayon::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::tokenizer::TextAnalyzer;

/// Field weights of the BM25 query, chosen on the CheckThat! 2021 train
/// queries (see docs/claim-retrieval.md).
#[derive(Debug, Clone, Copy)]
pub struct FieldWeights {
    pub text: f32,
    pub title: f32,
    pub key: f32,
}

impl Default for FieldWeights {
    fn default() -> Self {
        FieldWeights {
            text: 1.0,
            title: 0.6,
            key: 0.2,
        }
    }
}

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Scale of the quantised term-frequency factor (which lies in (0, 1)).
const Q: f32 = 65535.0;

/// A claim found by BM25: its position in the library and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub ord: u32,
    pub score: f32,
}

/// One field's posting lists, in compressed-row form: list `l` holds
/// postings `offsets[l]..offsets[l + 1]`, claim ids ascending.
#[derive(Default)]
struct Postings {
    offsets: Vec<u32>,
    docs: Vec<u32>,
    /// tf / (tf + k1 (1 - b + b len / avglen)), times [`Q`].
    factors: Vec<u16>,
    /// The largest factor of each list (its score bound).
    max: Vec<u16>,
}

impl Postings {
    fn list(&self, l: u32) -> (&[u32], &[u16]) {
        let (a, b) = (
            self.offsets[l as usize] as usize,
            self.offsets[l as usize + 1] as usize,
        );
        (&self.docs[a..b], &self.factors[a..b])
    }

    /// How many claims list `l` holds: 0 for an id past the last list (the
    /// text and title fields share a dictionary, and a field's lists end at
    /// the last term it has: a term only in texts has no title list).
    fn df(&self, l: u32) -> usize {
        match (
            self.offsets.get(l as usize),
            self.offsets.get(l as usize + 1),
        ) {
            (Some(&a), Some(&b)) => (b - a) as usize,
            _ => 0,
        }
    }

    fn bytes(&self) -> usize {
        self.offsets.len() * 4 + self.docs.len() * 4 + self.factors.len() * 2 + self.max.len() * 2
    }
}

/// Builds one field's postings from (claim, term id, tf) triples and the
/// claims' token counts.
struct FieldBuilder {
    /// Per term id, (claim, tf) in claim order.
    lists: Vec<Vec<(u32, u16)>>,
    /// Token count (tantivy's field norm) of each claim.
    lens: Vec<u32>,
}

impl FieldBuilder {
    fn new(n: usize) -> Self {
        FieldBuilder {
            lists: Vec::new(),
            lens: vec![0; n],
        }
    }

    fn add(&mut self, doc: u32, term: u32, tf: u32) {
        let t = term as usize;
        if self.lists.len() <= t {
            self.lists.resize_with(t + 1, Vec::new);
        }
        self.lists[t].push((doc, tf.min(u16::MAX as u32) as u16));
    }

    fn finish(self, n: usize) -> (Postings, f32) {
        let total: u64 = self.lens.iter().map(|&l| l as u64).sum();
        let avg = if n == 0 {
            1.0
        } else {
            (total as f32 / n as f32).max(f32::MIN_POSITIVE)
        };
        // tantivy's length normalisation, by its one-byte field-norm code.
        let mut norm = [0f32; 256];
        for (id, v) in norm.iter_mut().enumerate() {
            let len = FieldNormReader::id_to_fieldnorm(id as u8);
            *v = K1 * (1.0 - B + B * len as f32 / avg);
        }
        let size: usize = self.lists.iter().map(Vec::len).sum();
        let mut p = Postings {
            offsets: Vec::with_capacity(self.lists.len() + 1),
            docs: Vec::with_capacity(size),
            factors: Vec::with_capacity(size),
            max: Vec::with_capacity(self.lists.len()),
        };
        p.offsets.push(0);
        for list in self.lists {
            let mut max = 0u16;
            for (doc, tf) in list {
                let id = FieldNormReader::fieldnorm_to_id(self.lens[doc as usize]);
                let tf = tf as f32;
                let f = ((tf / (tf + norm[id as usize])) * Q).round().clamp(1.0, Q) as u16;
                p.docs.push(doc);
                p.factors.push(f);
                max = max.max(f);
            }
            p.offsets.push(p.docs.len() as u32);
            p.max.push(max);
        }
        (p, avg)
    }
}

/// The fields of one language: a shared dictionary, `text` and `title`.
struct LangIndex {
    code: &'static str,
    analyser: TextAnalyzer,
    dict: HashMap<Box<str>, u32>,
    text: Postings,
    title: Postings,
}

/// How many of the first claims touched give the lower bound of the k-th
/// best score when [`ClaimIndex`] prunes (see `top_k`).
const KTH_SAMPLE: usize = 4096;

/// The BM25 index.
pub struct ClaimIndex {
    n: usize,
    langs: Vec<LangIndex>,
    key_dict: HashMap<Box<str>, u32>,
    key: Postings,
    key_analyser: TextAnalyzer,
    /// Language (index into `langs`) of each claim.
    claim_lang: Vec<u8>,
    /// Hashed analysed terms of each claim (text and title), sorted.
    claim_terms: Vec<Box<[u64]>>,
    pub weights: FieldWeights,
}

impl std::fmt::Debug for ClaimIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimIndex").field("docs", &self.n).finish()
    }
}

/// The analyser code a claim is indexed under: its language, or the one
/// detected from its text.
pub fn claim_code(claim: &Claim) -> &'static str {
    match claim.lang.as_deref() {
        Some(l) => analyser_code(Some(l)),
        None => analyser_code(detect_language(&claim.text)),
    }
}

/// The hash of an analysed term (claim and post term sets).
pub fn hash_term(t: &str) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

/// Sorted distinct hashes of `terms`.
pub fn term_set<S: AsRef<str>>(terms: &[S]) -> Box<[u64]> {
    let mut v: Vec<u64> = terms.iter().map(|t| hash_term(t.as_ref())).collect();
    v.sort_unstable();
    v.dedup();
    v.into_boxed_slice()
}

/// Terms of `text` under `analyser`, in order (with repeats).
fn analysed(analyser: &mut TextAnalyzer, text: &str) -> Vec<String> {
    super::text::terms(analyser, text)
}

/// Distinct terms with their counts, in first-seen order.
fn counted(terms: Vec<String>) -> (Vec<(String, u32)>, u32) {
    let len = terms.len() as u32;
    let mut out: Vec<(String, u32)> = Vec::with_capacity(terms.len());
    for t in terms {
        match out.iter_mut().find(|(s, _)| *s == t) {
            Some((_, c)) => *c += 1,
            None => out.push((t, 1)),
        }
    }
    (out, len)
}

/// One claim analysed.
struct Analysed {
    lang: u8,
    text: (Vec<(String, u32)>, u32),
    title: (Vec<(String, u32)>, u32),
    key: (Vec<(String, u32)>, u32),
    set: Box<[u64]>,
}

fn intern(dict: &mut HashMap<Box<str>, u32>, t: String) -> u32 {
    let next = dict.len() as u32;
    *dict.entry(t.into_boxed_str()).or_insert(next)
}

thread_local! {
    /// Per-thread score accumulator and the claims it touched.
    static ACC: RefCell<(Vec<f32>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

#[derive(PartialEq)]
struct Ranked(f32, u32);
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ranked {
    /// Better first: higher score, then lower claim position.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}

impl ClaimIndex {
    /// Removes the tantivy index older versions kept in `dir` (the index
    /// now lives in memory and builds from the library in seconds).
    pub fn remove_legacy(dir: &Path) {
        if dir.join("meta.json").is_file() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Builds the index of `claims` (in memory).
    pub fn build(claims: &[Claim]) -> Self {
        let n = claims.len();
        let codes: Vec<&'static str> = STEMMED
            .iter()
            .map(|(c, _)| *c)
            .chain(std::iter::once(GENERIC))
            .collect();
        let code_of: Vec<u8> = claims
            .par_iter()
            .map(|c| {
                let code = claim_code(c);
                codes.iter().position(|x| *x == code).unwrap_or(0) as u8
            })
            .collect();
        // Only the languages present get fields.
        let mut present: Vec<u8> = code_of.clone();
        present.sort_unstable();
        present.dedup();
        let mut langs: Vec<LangIndex> = present
            .iter()
            .map(|&i| LangIndex {
                code: codes[i as usize],
                analyser: analyser(codes[i as usize]),
                dict: HashMap::new(),
                text: Postings::default(),
                title: Postings::default(),
            })
            .collect();
        let slot: HashMap<u8, u8> = present
            .iter()
            .enumerate()
            .map(|(s, &i)| (i, s as u8))
            .collect();
        let mut builders: Vec<(FieldBuilder, FieldBuilder)> = (0..langs.len())
            .map(|_| (FieldBuilder::new(n), FieldBuilder::new(n)))
            .collect();
        let mut key_b = FieldBuilder::new(n);
        let mut key_dict = HashMap::new();
        let mut claim_lang = Vec::with_capacity(n);
        let mut claim_terms = Vec::with_capacity(n);
        let analysers: Vec<TextAnalyzer> = langs.iter().map(|l| l.analyser.clone()).collect();
        let key_an = key_analyser();
        // Analyse in parallel chunks, intern and post in order.
        for (c, chunk) in claims.chunks(16_384).enumerate() {
            let base = c * 16_384;
            let done: Vec<Analysed> = chunk
                .par_iter()
                .enumerate()
                .map_init(
                    || (analysers.clone(), key_an.clone()),
                    |(ans, key), (i, claim)| {
                        let lang = slot[&code_of[base + i]];
                        let an = &mut ans[lang as usize];
                        let text = analysed(an, &claim.text);
                        let title = claim
                            .title
                            .as_deref()
                            .map(|t| analysed(an, t))
                            .unwrap_or_default();
                        let mut both: Vec<&String> = text.iter().chain(&title).collect();
                        both.sort_unstable();
                        both.dedup();
                        let set = term_set(&both);
                        let mut keyed = key_text(&claim.text);
                        if let Some(t) = claim.title.as_deref() {
                            keyed.push(' ');
                            keyed.push_str(&key_text(t));
                        }
                        Analysed {
                            lang,
                            text: counted(text),
                            title: counted(title),
                            key: counted(analysed(key, &keyed)),
                            set,
                        }
                    },
                )
                .collect();
            for (i, a) in done.into_iter().enumerate() {
                let doc = (base + i) as u32;
                let l = a.lang as usize;
                let (tb, lb) = &mut builders[l];
                tb.lens[doc as usize] = a.text.1;
                for (t, tf) in a.text.0 {
                    let id = intern(&mut langs[l].dict, t);
                    tb.add(doc, id, tf);
                }
                lb.lens[doc as usize] = a.title.1;
                for (t, tf) in a.title.0 {
                    let id = intern(&mut langs[l].dict, t);
                    lb.add(doc, id, tf);
                }
                key_b.lens[doc as usize] = a.key.1;
                for (t, tf) in a.key.0 {
                    let id = intern(&mut key_dict, t);
                    key_b.add(doc, id, tf);
                }
                claim_lang.push(a.lang);
                claim_terms.push(a.set);
            }
        }
        for (l, (tb, lb)) in langs.iter_mut().zip(builders) {
            l.text = tb.finish(n).0;
            l.title = lb.finish(n).0;
        }
        let key = key_b.finish(n).0;
        for l in &mut langs {
            l.dict.shrink_to_fit();
        }
        key_dict.shrink_to_fit();
        ClaimIndex {
            n,
            langs,
            key_dict,
            key,
            key_analyser: key_an,
            claim_lang,
            claim_terms,
            weights: FieldWeights::default(),
        }
    }

    /// Number of claims indexed.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when no claim is indexed.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Bytes held by the posting lists (not counting dictionaries).
    pub fn posting_bytes(&self) -> usize {
        self.key.bytes()
            + self
                .langs
                .iter()
                .map(|l| l.text.bytes() + l.title.bytes())
                .sum::<usize>()
    }

    /// The analyser code of claim `ord` (`en`, `ru`, `xx` ...).
    pub fn claim_code_of(&self, ord: u32) -> &'static str {
        self.langs[self.claim_lang[ord as usize] as usize].code
    }

    /// Sorted hashes of claim `ord`'s analysed terms (text and title).
    pub fn claim_terms(&self, ord: u32) -> &[u64] {
        &self.claim_terms[ord as usize]
    }

    /// Language slot of claim `ord` (see [`ClaimIndex::query_sets`]).
    pub fn claim_slot(&self, ord: u32) -> usize {
        self.claim_lang[ord as usize] as usize
    }

    /// Analyses `text` with the analyser of `code` (`en`, `ru`, `xx` ...).
    pub fn analyse(&self, code: &str, text: &str) -> Vec<String> {
        match self.langs.iter().find(|l| l.code == code) {
            Some(l) => analysed(&mut l.analyser.clone(), text),
            None => analysed(&mut analyser(code), text),
        }
    }

    fn idf(&self, df: usize) -> f32 {
        let x = ((self.n - df) as f32 + 0.5) / (df as f32 + 0.5);
        (1.0 + x).ln()
    }

    /// The `k` best claims for `text` by BM25, best first, and the post's
    /// analysed term set per language slot (for the overlap features).
    pub fn search_with_terms(&self, text: &str, k: usize) -> (Vec<Candidate>, Vec<Box<[u64]>>) {
        let w = self.weights;
        // The lists to add: (postings, list, weight).
        let mut lists: Vec<(&Postings, u32, f32)> = Vec::new();
        let mut sets = Vec::with_capacity(self.langs.len());
        // Tokens are looked up as they stream (no String per token);
        // distinct term ids are distinct terms.
        let mut ids: Vec<u32> = Vec::new();
        for l in &self.langs {
            let mut an = l.analyser.clone();
            let mut stream = an.token_stream(text);
            let mut hashes = Vec::new();
            ids.clear();
            while stream.advance() {
                let t = stream.token().text.as_str();
                hashes.push(hash_term(t));
                if let Some(&id) = l.dict.get(t) {
                    ids.push(id);
                }
            }
            hashes.sort_unstable();
            hashes.dedup();
            sets.push(hashes.into_boxed_slice());
            ids.sort_unstable();
            ids.dedup();
            for &id in &ids {
                for (p, boost) in [(&l.text, w.text), (&l.title, w.title)] {
                    let df = p.df(id);
                    if boost > 0.0 && df > 0 {
                        lists.push((p, id, boost * self.idf(df) * (1.0 + K1) / Q));
                    }
                }
            }
        }
        if w.key > 0.0 {
            let keyed = key_text(text);
            let mut an = self.key_analyser.clone();
            let mut stream = an.token_stream(&keyed);
            ids.clear();
            while stream.advance() {
                if let Some(&id) = self.key_dict.get(stream.token().text.as_str()) {
                    ids.push(id);
                }
            }
            ids.sort_unstable();
            ids.dedup();
            for &id in &ids {
                let df = self.key.df(id);
                if df > 0 {
                    lists.push((&self.key, id, w.key * self.idf(df) * (1.0 + K1) / Q));
                }
            }
        }
        if k == 0 || lists.is_empty() {
            return (Vec::new(), sets);
        }
        let hits = ACC.with(|acc| {
            let mut acc = acc.borrow_mut();
            let (scores, touched) = &mut *acc;
            self.top_k(&mut lists, k, scores, touched)
        });
        (
            hits.into_iter()
                .map(|Ranked(score, ord)| Candidate { ord, score })
                .collect(),
            sets,
        )
    }

    /// Adds the lists into the accumulator and keeps the best `k`
    /// (MaxScore): lists go in order of their score bound, largest first;
    /// once the bounds of the lists left sum to less than the k-th best
    /// score so far, no claim they alone touch can reach the top `k`, so
    /// they are only looked up (binary search) for the claims that still
    /// can, instead of being read whole. Exact: the same `k` claims and
    /// scores as adding every list.
    fn top_k(
        &self,
        lists: &mut [(&Postings, u32, f32)],
        k: usize,
        scores: &mut Vec<f32>,
        touched: &mut Vec<u32>,
    ) -> Vec<Ranked> {
        if scores.len() != self.n {
            *scores = vec![0f32; self.n];
        }
        touched.clear();
        let bound = |&(p, id, w): &(&Postings, u32, f32)| w * p.max[id as usize] as f32;
        lists.sort_by(|a, b| bound(b).total_cmp(&bound(a)));
        let mut rest: f32 = lists.iter().map(bound).sum();
        // Long lists are where skipping pays; check before each of them.
        let long = (self.n / 64).max(256);
        let mut pruned: Option<Vec<u32>> = None;
        // The best score so far bounds the k-th: no use looking for the
        // k-th while the lists left could add more than the best has.
        let mut best = 0f32;
        let mut tries = 0;
        let mut i = 0;
        while i < lists.len() {
            let (p, id, weight) = lists[i];
            let (docs, factors) = p.list(id);
            if docs.len() >= long && touched.len() >= k && rest < best && tries < 4 {
                tries += 1;
                // The k-th best score among the claims touched first (by
                // the lists of the rarest, best-scoring terms) is a lower
                // bound of the k-th best of all touched (scores only
                // grow), so pruning with it stays exact, and it costs a
                // selection over at most KTH_SAMPLE claims instead of all
                // those touched (often most of the library).
                let sample = &touched[..touched.len().min(KTH_SAMPLE.max(k))];
                let mut top: Vec<f32> = sample.iter().map(|&d| scores[d as usize]).collect();
                let kth = *top.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a)).1;
                // A margin for float rounding: keep ties and near-ties.
                let theta = kth - kth.abs() * 1e-5;
                if rest < theta {
                    let cands: Vec<u32> = touched
                        .iter()
                        .copied()
                        .filter(|&d| scores[d as usize] + rest >= theta)
                        .collect();
                    // Worth it only when few claims are left in the race.
                    if cands.len() * 4 < touched.len() {
                        pruned = Some(cands);
                        break;
                    }
                }
            }
            for (&d, &f) in docs.iter().zip(factors) {
                let s = &mut scores[d as usize];
                if *s == 0.0 {
                    touched.push(d);
                }
                *s += weight * f as f32;
                best = best.max(*s);
            }
            rest -= bound(&lists[i]);
            i += 1;
        }
        if let Some(cands) = &mut pruned {
            cands.sort_unstable();
            for &(p, id, weight) in &lists[i..] {
                let (docs, factors) = p.list(id);
                if cands.len() * 16 < docs.len() {
                    // Few claims, a long list: binary search forward.
                    let mut from = 0;
                    for &d in cands.iter() {
                        match docs[from..].binary_search(&d) {
                            Ok(j) => {
                                scores[d as usize] += weight * factors[from + j] as f32;
                                from += j + 1;
                            }
                            Err(j) => from += j,
                        }
                        if from >= docs.len() {
                            break;
                        }
                    }
                } else {
                    // Merge.
                    let mut j = 0;
                    for &d in cands.iter() {
                        while j < docs.len() && docs[j] < d {
                            j += 1;
                        }
                        if j == docs.len() {
                            break;
                        }
                        if docs[j] == d {
                            scores[d as usize] += weight * factors[j] as f32;
                        }
                    }
                }
            }
        }
        let from: &[u32] = pruned.as_deref().unwrap_or(touched);
        // Top k by a bounded heap (worst on top).
        let mut heap: std::collections::BinaryHeap<Ranked> =
            std::collections::BinaryHeap::with_capacity(k + 1);
        for &d in from {
            let s = scores[d as usize];
            if heap.len() < k {
                heap.push(Ranked(s, d));
            } else if let Some(worst) = heap.peek()
                && Ranked(s, d) < *worst
            {
                heap.pop();
                heap.push(Ranked(s, d));
            }
        }
        for &d in touched.iter() {
            scores[d as usize] = 0.0;
        }
        let mut v = heap.into_vec();
        v.sort_unstable();
        v
    }

    /// The `k` best claims for `text` by BM25, best first.
    pub fn search(&self, text: &str, k: usize) -> Vec<Candidate> {
        self.search_with_terms(text, k).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(id: &str, text: &str, title: Option<&str>, lang: &str) -> Claim {
        Claim {
            id: id.into(),
            text: text.into(),
            title: title.map(Into::into),
            lang: Some(lang.into()),
            ..Claim::default()
        }
    }

    #[test]
    fn scores_are_tantivys_bm25() {
        let idx = ClaimIndex::build(&[
            claim("a", "vaccines kill people", None, "en"),
            claim("b", "people walk dogs", None, "en"),
        ]);
        // idf = ln 2 in both fields; every length is the average, so the
        // tf factor is 1 / (1 + k1) and each field adds boost × idf.
        let hits = idx.search("Vaccines!", 10);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].ord, 0);
        let want = (1.0 + 0.2) * 2f32.ln();
        assert!((hits[0].score - want).abs() < 1e-3, "{}", hits[0].score);
        // Two matching claims: better first, ties by position.
        let hits = idx.search("people", 10);
        assert_eq!(hits.iter().map(|h| h.ord).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(hits[0].score, hits[1].score);
        assert!(idx.search("nothing here", 10).is_empty());
        assert!(idx.search("people", 0).is_empty());
    }

    #[test]
    fn terms_without_a_title_list_are_not_looked_up_there() {
        // Issue 14, finding 11: a library whose titles hold fewer terms than
        // its texts (CheckThat! imported without --lang: no titles, claims
        // in several detected languages) made `top_k` index `max` past its
        // end. Every query term of every language must be safe.
        let claims = vec![
            claim("en1", "alpha beta gamma vaccines", Some("alpha"), "en"),
            claim("en2", "delta vaccines epsilon", None, "en"),
            claim("ru1", "вакцины убивают людей", None, "ru"),
            claim("de1", "Impfstoffe töten Menschen", Some("Impfstoffe"), "de"),
            claim("xx1", "zzz qqq", None, "xx"),
        ];
        let idx = ClaimIndex::build(&claims);
        for q in [
            "beta",
            "gamma vaccines",
            "epsilon",
            "вакцины людей",
            "Menschen töten",
            "qqq",
            "alpha beta gamma delta epsilon vaccines вакцины Impfstoffe Menschen zzz qqq",
        ] {
            let hits = idx.search(q, 3);
            assert!(!hits.is_empty(), "{q}");
        }
        assert_eq!(idx.search("epsilon", 1)[0].ord, 1);
        assert_eq!(idx.search("вакцины", 1)[0].ord, 2);
        // A library without any title at all.
        let untitled: Vec<Claim> = claims
            .iter()
            .cloned()
            .map(|mut c| {
                c.title = None;
                c
            })
            .collect();
        let idx = ClaimIndex::build(&untitled);
        assert_eq!(idx.search("delta", 1)[0].ord, 1);
    }

    #[test]
    fn top_k_keeps_the_best_and_scripts_meet() {
        let claims: Vec<Claim> = (0..50)
            .map(|i| claim(&i.to_string(), &format!("filler {i} words"), None, "en"))
            .chain([
                claim("zel", "Зеленский сбежал", Some("Зеленский"), "ru"),
                claim("both", "Zelensky fled the country", Some("fled"), "en"),
            ])
            .collect();
        let idx = ClaimIndex::build(&claims);
        let hits = idx.search("Zelensky fled", 2);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].ord, 51);
        assert_eq!(hits[1].ord, 50, "the Russian claim meets by its key");
        assert!(hits[0].score > hits[1].score);
        assert_eq!(idx.claim_code_of(50), "ru");
        assert!(!idx.claim_terms(51).is_empty());
    }

    #[test]
    fn pruning_gives_the_same_best_claims_as_reading_every_list() {
        // 40,000 claims over a skewed vocabulary: common words have lists
        // long enough (> n / 64) for MaxScore to prune, rare ones decide.
        let words: Vec<String> = (0..3000).map(|i| format!("w{i}x")).collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let pick = |next: &mut dyn FnMut() -> u64| {
            // Roughly Zipf: the square of a uniform index favours the start.
            let u = (next() % 10_000) as f64 / 10_000.0;
            words[((u * u) * words.len() as f64) as usize].clone()
        };
        let claims: Vec<Claim> = (0..40_000)
            .map(|i| {
                let n = 6 + (next() % 10) as usize;
                let text: Vec<String> = (0..n).map(|_| pick(&mut next)).collect();
                claim(&i.to_string(), &text.join(" "), None, "en")
            })
            .collect();
        let idx = ClaimIndex::build(&claims);
        let mut pruned_some = false;
        for q in 0..60 {
            let n = 5 + q % 20;
            let query: Vec<String> = (0..n).map(|_| pick(&mut next)).collect();
            let query = query.join(" ");
            for k in [1, 5, 50, 100] {
                let fast = idx.search(&query, k);
                // k = every claim: the pruning never starts.
                let all = idx.search(&query, claims.len());
                let want: Vec<(u32, f32)> = all.iter().take(k).map(|c| (c.ord, c.score)).collect();
                let got: Vec<(u32, f32)> = fast.iter().map(|c| (c.ord, c.score)).collect();
                assert_eq!(got, want, "query {query:?}, k {k}");
                pruned_some |= all.len() > 4 * k;
            }
        }
        assert!(pruned_some, "no query touched enough claims to prune");
    }
}
