//! Evaluation files and measures: query TSVs, TREC qrels and run files, and
//! MAP@k computed as the CheckThat! 2021 Task 2 scorer does.
//!
//! The lab's scorer hands the run and qrels to trectools' `get_map(depth)`,
//! which (1) orders each query's lines by score, descending, ties by docid
//! descending (as trec_eval), ignoring the rank column; (2) keeps the first
//! `depth`; (3) sums, over the relevant claims among them, the precision at
//! their rank; (4) divides by the number of relevant claims of the query in
//! the qrels (not capped at `depth`); and (5) averages over the queries that
//! are in both the run and the qrels. [`map_at_k`] does exactly that.

use super::fusion::{self, Features, Fusion};
use super::{Matcher, Scored};
use crate::Claim;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::Path;

/// A problem with one line of an input file (the rest is still read).
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Queries read from an `id<TAB>text` file.
#[derive(Debug, Clone, Default)]
pub struct Queries {
    pub queries: Vec<(String, String)>,
    pub errors: Vec<LineError>,
}

const HEADER_IDS: &[&str] = &["id", "qid", "tweet_id", "query_id", "iclaim_id", "post_id"];

/// Reads `id<TAB>text` lines. A first line whose id column is a column
/// name (`id`, `qid`, `tweet_id` ...) is a header and skipped; a line
/// without a tab, or with an empty id or text, is reported and skipped;
/// tabs after the first belong to the text. A repeated id is reported and
/// its later lines skipped.
pub fn read_queries(path: &Path) -> std::io::Result<Queries> {
    let file = std::fs::File::open(path)?;
    let mut out = Queries::default();
    let mut seen = HashSet::new();
    let name = path.display().to_string();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let lineno = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                out.errors.push(LineError {
                    path: name.clone(),
                    line: lineno,
                    message: format!("unreadable line ({e})"),
                });
                continue;
            }
        };
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            continue;
        }
        let Some((id, text)) = line.split_once('\t') else {
            out.errors.push(LineError {
                path: name.clone(),
                line: lineno,
                message: "expected id<TAB>text, found no tab".into(),
            });
            continue;
        };
        let id = id.trim();
        if lineno == 1 && HEADER_IDS.contains(&id.to_ascii_lowercase().as_str()) {
            continue;
        }
        let text = text.trim();
        // A CSV-quoted field: one quote each end, doubled quotes inside.
        let text = if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
            text[1..text.len() - 1].replace("\"\"", "\"")
        } else {
            text.to_string()
        };
        if id.is_empty() || text.trim().is_empty() {
            out.errors.push(LineError {
                path: name.clone(),
                line: lineno,
                message: if id.is_empty() {
                    "empty id".into()
                } else {
                    format!("query {id} has no text")
                },
            });
            continue;
        }
        if !seen.insert(id.to_string()) {
            out.errors.push(LineError {
                path: name.clone(),
                line: lineno,
                message: format!("query id {id} repeated (first one kept)"),
            });
            continue;
        }
        out.queries.push((id.to_string(), text));
    }
    Ok(out)
}

/// The languages of the cross-lingual test set
/// (`crates/claims/tests/fixtures/crosslingual`, see its README).
pub const CROSSLINGUAL: [&str; 7] = ["ru", "uk", "pl", "de", "fr", "es", "ar"];

/// The embedded-tweet signature of a tweet (`— Name (@handle) Month D,
/// YYYY`, from its last ` — `), or "" when it has none.
pub fn signature(tweet: &str) -> &str {
    match tweet.rfind(" \u{2014} ") {
        Some(i) => &tweet[i + 1..],
        None => "",
    }
}

/// The queries of one language of the cross-lingual set: each translated
/// body (`dir/LANG.tsv`) with the signature of its English original
/// (`english`, the CheckThat! dev queries) appended, as a translated
/// repost keeps its author line. Lines whose id is not among `english`
/// are reported as errors.
pub fn read_crosslingual(
    dir: &Path,
    lang: &str,
    english: &[(String, String)],
) -> std::io::Result<Queries> {
    let path = dir.join(format!("{lang}.tsv"));
    let mut q = read_queries(&path)?;
    let by_id: HashMap<&str, &str> = english
        .iter()
        .map(|(id, t)| (id.as_str(), t.as_str()))
        .collect();
    let mut kept = Vec::with_capacity(q.queries.len());
    for (id, body) in std::mem::take(&mut q.queries) {
        match by_id.get(id.as_str()) {
            Some(en) => {
                let sig = signature(en);
                let text = if sig.is_empty() {
                    body
                } else {
                    format!("{body} {sig}")
                };
                kept.push((id, text));
            }
            None => q.errors.push(LineError {
                path: path.display().to_string(),
                line: 0,
                message: format!("query {id} is not an English dev query"),
            }),
        }
    }
    q.queries = kept;
    Ok(q)
}

/// Relevant documents per query, from a TREC qrels file (`qid 0 docid rel`).
pub type Qrels = HashMap<String, HashSet<String>>;

/// Reads a qrels file; lines with relevance > 0 count. Malformed lines are
/// returned as errors.
pub fn read_qrels(path: &Path) -> std::io::Result<(Qrels, Vec<LineError>)> {
    let text = std::fs::read_to_string(path)?;
    let mut qrels = Qrels::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let rel = if f.len() == 4 {
            f[3].parse::<f64>().ok()
        } else {
            None
        };
        match rel {
            Some(r) => {
                let entry = qrels.entry(f[0].to_string()).or_default();
                if r > 0.0 {
                    entry.insert(f[2].to_string());
                }
            }
            None => errors.push(LineError {
                path: path.display().to_string(),
                line: i + 1,
                message: "expected `qid 0 docid relevance`".into(),
            }),
        }
    }
    Ok((qrels, errors))
}

/// A run: per query, (docid, score) lines.
pub type Run = Vec<(String, Vec<(String, f64)>)>;

/// Writes a TREC run (`qid Q0 docid rank score pharos`), lines in the
/// given order per query (best first).
pub fn write_run(out: &mut dyn Write, run: &Run) -> std::io::Result<()> {
    for (qid, docs) in run {
        for (rank, (doc, score)) in docs.iter().enumerate() {
            writeln!(out, "{qid}\tQ0\t{doc}\t{}\t{score:.6}\tpharos", rank + 1)?;
        }
    }
    Ok(())
}

/// MAP@k as the CheckThat! 2021 scorer computes it (see the module doc).
pub fn map_at_k(run: &Run, qrels: &Qrels, k: usize) -> f64 {
    let aps = average_precisions(run, qrels, k);
    if aps.is_empty() {
        return 0.0;
    }
    aps.iter().map(|(_, ap)| ap).sum::<f64>() / aps.len() as f64
}

/// Average precision at `k` of each query in both the run and the qrels.
pub fn average_precisions(run: &Run, qrels: &Qrels, k: usize) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for (qid, docs) in run {
        let Some(rel) = qrels.get(qid) else { continue };
        let mut sorted: Vec<&(String, f64)> = docs.iter().collect();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
        let mut hits = 0usize;
        let mut sum = 0.0;
        for (i, (doc, _)) in sorted.iter().take(k).enumerate() {
            if rel.contains(doc) {
                hits += 1;
                sum += hits as f64 / (i + 1) as f64;
            }
        }
        let ap = if rel.is_empty() {
            0.0
        } else {
            sum / rel.len() as f64
        };
        out.push((qid.clone(), ap));
    }
    out
}

/// Reads a CheckThat! verified-claims file (`vclaim_id<TAB>vclaim<TAB>title`,
/// header line) as English claims, for evaluations. The library's own
/// importer (`pharos claims import --format checkthat`) is the way to build
/// a library; this reader exists so that the evaluation does not depend on it.
pub fn read_checkthat_claims(path: &Path) -> std::io::Result<(Vec<Claim>, Vec<LineError>)> {
    let text = std::fs::read_to_string(path)?;
    let mut claims = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 && line.starts_with("vclaim_id") {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 2 || f[0].trim().is_empty() {
            if !line.trim().is_empty() {
                errors.push(LineError {
                    path: path.display().to_string(),
                    line: i + 1,
                    message: "expected vclaim_id<TAB>vclaim<TAB>title".into(),
                });
            }
            continue;
        }
        let title = f.get(2).map(|t| t.trim()).filter(|t| !t.is_empty());
        claims.push(Claim {
            id: f[0].trim().to_string(),
            text: f[1].trim().to_string(),
            title: title.map(str::to_string),
            lang: Some("en".into()),
            ..Claim::default()
        });
    }
    Ok((claims, errors))
}

/// MAP@k of each way of ranking the same candidates (an ablation).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Ablation {
    /// BM25 order alone.
    pub bm25: f64,
    /// Ranked by the lexical fusion (BM25 and term overlap features); the
    /// matcher itself keeps BM25 order without a model and uses this model
    /// for the confidence only.
    pub lexical: f64,
    /// Cosine order alone (max of text and title), when a model is loaded.
    pub semantic: Option<f64>,
    /// The full fusion, when a model is loaded.
    pub fused: Option<f64>,
    /// Queries scored.
    pub queries: usize,
}

/// Candidates and features of every query (embedding in batches).
pub fn score_queries(
    matcher: &Matcher,
    queries: &[(String, String)],
    n: usize,
) -> Vec<Vec<Scored>> {
    let mut out = Vec::with_capacity(queries.len());
    for chunk in queries.chunks(256) {
        let posts: Vec<(&str, Option<&str>)> =
            chunk.iter().map(|(_, t)| (t.as_str(), None)).collect();
        out.extend(matcher.score_batch(&posts, n));
    }
    out
}

/// Scores `queries` once and ranks their candidates each way.
pub fn ablation(
    matcher: &Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    k: usize,
) -> Ablation {
    let scored = score_queries(matcher, queries, matcher.candidates.max(k));
    let semantic = matcher.has_model();
    let by = |f: &dyn Fn(&Scored) -> f64| -> Run {
        queries
            .iter()
            .zip(&scored)
            .map(|((qid, _), cands)| {
                let docs = cands
                    .iter()
                    .map(|c| (matcher.claim_id(c.ord).to_string(), f(c)))
                    .collect();
                (qid.clone(), docs)
            })
            .collect()
    };
    let fused_run = |sem: bool| -> Run {
        queries
            .iter()
            .zip(&scored)
            .map(|((qid, _), cands)| {
                let docs = matcher
                    .rank(cands.clone(), sem, k)
                    .into_iter()
                    .map(|m| (m.claim_id, m.score))
                    .collect();
                (qid.clone(), docs)
            })
            .collect()
    };
    Ablation {
        bm25: map_at_k(&by(&|c| c.bm25 as f64), qrels, k),
        lexical: map_at_k(
            &by(&|c| matcher.lexical_model().logit(&c.features) as f64),
            qrels,
            k,
        ),
        semantic: semantic
            .then(|| map_at_k(&by(&|c| c.features[6].max(c.features[7]) as f64), qrels, k)),
        fused: semantic.then(|| map_at_k(&fused_run(true), qrels, k)),
        queries: queries
            .iter()
            .filter(|(q, _)| qrels.contains_key(q))
            .count(),
    }
}

/// The top `k` of each query by the fused ranking (as the matcher
/// answers).
pub fn fused_run(matcher: &Matcher, queries: &[(String, String)], k: usize) -> Run {
    let scored = score_queries(matcher, queries, matcher.candidates.max(k));
    let semantic = matcher.has_model();
    queries
        .iter()
        .zip(scored)
        .map(|((qid, _), cands)| {
            let docs = matcher
                .rank(cands, semantic, k)
                .into_iter()
                .map(|m| (m.claim_id, m.score))
                .collect();
            (qid.clone(), docs)
        })
        .collect()
}

/// MAP@`k` of posts of one language with the running language means
/// ([`super::centre`]) learnt from the other half of the set only: the
/// matcher's means are forgotten, the posts with odd ids (the number after
/// the last `-`) are matched to learn their language's mean, the even ones
/// scored; then the other way round. No post is ever centred on a mean it
/// contributed to. The means are forgotten again at the end.
pub fn map_centred_held_out(
    matcher: &Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    k: usize,
) -> f64 {
    let odd = |id: &str| {
        id.rsplit('-')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n % 2 == 1)
    };
    let (o, e): (Vec<_>, Vec<_>) = queries.iter().cloned().partition(|(id, _)| odd(id));
    let mut run = Run::new();
    for (from, to) in [(&o, &e), (&e, &o)] {
        matcher.reset_lang_means();
        let _ = score_queries(matcher, from, 1);
        run.extend(fused_run(matcher, to, k));
    }
    matcher.reset_lang_means();
    map_at_k(&run, qrels, k)
}

/// Each query of `chunk` run two ways, as the calibration sees posts:
/// against the whole library (`lists[2i]`) and against the library without
/// its relevant claims (`lists[2i + 1]`: what an unmatched post looks
/// like), with the semantic features filled when a model is loaded.
/// `rels[i]` holds the ordinals of query `i`'s relevant claims.
pub struct TwoWay {
    pub lists: Vec<Vec<Scored>>,
    pub rels: Vec<HashSet<u32>>,
}

/// Each claim id's ordinal in `matcher`.
pub fn claim_ords(matcher: &Matcher) -> HashMap<&str, u32> {
    (0..matcher.len() as u32)
        .map(|o| (matcher.claim_id(o), o))
        .collect()
}

/// See [`TwoWay`].
pub fn two_way(
    matcher: &Matcher,
    chunk: &[(String, String)],
    qrels: &Qrels,
    ords: &HashMap<&str, u32>,
) -> TwoWay {
    let n = matcher.candidates;
    let mut raws = Vec::with_capacity(chunk.len() * 2);
    let mut excl = Vec::with_capacity(chunk.len() * 2);
    let mut rels = Vec::with_capacity(chunk.len());
    for (qid, raw) in chunk {
        let rel: HashSet<u32> = qrels
            .get(qid)
            .map(|r| {
                r.iter()
                    .filter_map(|d| ords.get(d.as_str()).copied())
                    .collect()
            })
            .unwrap_or_default();
        raws.push(raw.as_str());
        excl.push(Vec::new());
        raws.push(raw.as_str());
        excl.push(rel.iter().copied().collect());
        rels.push(rel);
    }
    let lists = matcher.score_excluding(&raws, n, &excl);
    TwoWay { lists, rels }
}

/// Fits the fusion models on labelled queries: each query's candidates
/// against the whole library, and again against the library without its
/// relevant claims (what an unmatched post looks like). Returns the lexical
/// model and, when a model is loaded, the full one.
pub fn fit_fusion(
    matcher: &Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    l2: f32,
) -> (Fusion, Option<Fusion>) {
    let (xs, ys) = training_set(matcher, queries, qrels, false, &|_| true);
    let lexical = Fusion::fit(fusion::LEXICAL, &xs, &ys, l2, 400);
    let full = matcher
        .has_model()
        .then(|| Fusion::fit(fusion::FULL, &xs, &ys, l2, 400));
    (lexical, full)
}

/// Every candidate of every query as a training example: its features
/// (the word-level ones set to zero with `cosine_only`) and whether it is
/// relevant.
fn training_set(
    matcher: &Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    cosine_only: bool,
    keep: &dyn Fn(&Scored) -> bool,
) -> (Vec<Features>, Vec<bool>) {
    let pick = |s: &Scored| keep(s).then(|| s.clone());
    top_training_set(matcher, queries, qrels, cosine_only, &pick, None)
}

/// [`training_set`] over the candidates `pick` keeps (as it gives them
/// back) with, when `top` is given, only those that the matcher ranks
/// among the first `top` of their list (with the model when the list has
/// the semantic features, else by BM25).
fn top_training_set(
    matcher: &Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    cosine_only: bool,
    pick: &dyn Fn(&Scored) -> Option<Scored>,
    top: Option<usize>,
) -> (Vec<Features>, Vec<bool>) {
    let ords = claim_ords(matcher);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for chunk in queries.chunks(256) {
        let TwoWay { lists, rels } = two_way(matcher, chunk, qrels, &ords);
        for (pair, rel) in lists.chunks(2).zip(&rels) {
            for list in pair {
                let list: Vec<Scored> = list.iter().filter_map(pick).collect();
                let first: Option<HashSet<u32>> = top.map(|k| {
                    let semantic = list.first().is_some_and(|c| c.semantic);
                    matcher
                        .rank(list.clone(), semantic, k)
                        .iter()
                        .map(|m| ords[m.claim_id.as_str()])
                        .collect()
                });
                for s in list
                    .iter()
                    .filter(|s| first.as_ref().is_none_or(|f| f.contains(&s.ord)))
                {
                    let mut f = s.features;
                    if cosine_only {
                        f[..fusion::LEXICAL].fill(0.0);
                    }
                    xs.push(f);
                    ys.push(rel.contains(&s.ord));
                }
            }
        }
    }
    (xs, ys)
}

/// The cross-language fusion ([`Fusion::cross_e5`]): fitted like the full
/// one on labelled queries, but on the cosine features only (the
/// word-level ones are set to zero, so their weights stay zero). `None`
/// without a model.
pub fn fit_cross_fusion(
    matcher: &Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    l2: f32,
) -> Option<Fusion> {
    if !matcher.has_model() {
        return None;
    }
    let (xs, ys) = training_set(matcher, queries, qrels, true, &|_| true);
    Some(cosine_only(Fusion::fit(fusion::FULL, &xs, &ys, l2, 400)))
}

fn cosine_only(mut m: Fusion) -> Fusion {
    for i in 0..fusion::LEXICAL {
        m.weights[i] = 0.0;
        m.mean[i] = 0.0;
        m.scale[i] = 1.0;
    }
    m
}

/// The centred cross-language fusion ([`Fusion::cross_centred_e5`]): the
/// queries (one language, English for CheckThat!) are embedded once to
/// give their language's running mean, then fitted like
/// [`fit_cross_fusion`] with every candidate centred
/// ([`Matcher::centre_all`]); candidates that could not be centred (a
/// post whose detected language has too few posts) are left out. The
/// matcher's post means are forgotten before and after. `None` without a
/// model.
pub fn fit_cross_centred_fusion(
    matcher: &mut Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    l2: f32,
) -> Option<Fusion> {
    if !matcher.has_model() {
        return None;
    }
    matcher.reset_lang_means();
    let _ = score_queries(matcher, queries, 1);
    matcher.centre_all = true;
    let (xs, ys) = training_set(matcher, queries, qrels, true, &|s| s.centred);
    matcher.centre_all = false;
    matcher.reset_lang_means();
    (!xs.is_empty()).then(|| cosine_only(Fusion::fit(fusion::FULL, &xs, &ys, l2, 400)))
}

/// Candidates per list the confidence models are fitted on: the first
/// three the matcher ranks (the stream keeps three a post). The decision a
/// confidence takes is about a post's best candidates; fitted on every
/// candidate (120 a post, one right at most) its probabilities were low
/// everywhere (dev recall 0.36 at 0.5).
pub const CONFIDENCE_TOP: usize = 3;

/// Fits the confidence models ([`fusion::Confidence`]) on labelled
/// queries: each query against the whole library and against the library
/// without its relevant claims, the first [`CONFIDENCE_TOP`] candidates of
/// each an example, each model on the features of the post and the claim alone
/// ([`fusion::OWN`]): the lexical one on BM25's candidates, the full one on
/// every candidate with the model's cosines, the cross-language ones on the
/// cosines only, raw and language-centred (as
/// [`fit_cross_centred_fusion`]). Without a model only the lexical one is
/// fitted; the others are the matcher's.
pub fn fit_confidence(
    matcher: &mut Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    l2: f32,
) -> fusion::Confidence {
    let mut c = matcher.confidence_models().clone();
    let top = Some(CONFIDENCE_TOP);
    // BM25's candidates as the matcher without a model sees them.
    let lexical = |s: &Scored| {
        (s.bm25 > 0.0).then(|| Scored {
            semantic: false,
            ..s.clone()
        })
    };
    let (xs, ys) = top_training_set(matcher, queries, qrels, false, &lexical, top);
    c.lexical = Fusion::fit_only(&fusion::OWN_WORDS, &xs, &ys, l2, 400);
    if !matcher.has_model() {
        return c;
    }
    let (xs, ys) = top_training_set(matcher, queries, qrels, false, &|s| Some(s.clone()), top);
    c.full = Fusion::fit_only(&fusion::OWN, &xs, &ys, l2, 400);
    c.cross = Fusion::fit_only(&fusion::OWN_COSINES, &xs, &ys, l2, 400);
    matcher.reset_lang_means();
    let _ = score_queries(matcher, queries, 1);
    matcher.centre_all = true;
    let centred = |s: &Scored| s.centred.then(|| s.clone());
    let (xs, ys) = top_training_set(matcher, queries, qrels, true, &centred, top);
    matcher.centre_all = false;
    matcher.reset_lang_means();
    if !xs.is_empty() {
        c.cross_centred = Fusion::fit_only(&fusion::OWN_COSINES, &xs, &ys, l2, 400);
    }
    c
}

/// Precision and recall of "confidence >= threshold" on the top candidate
/// of each query (the decision a stream makes per post), over queries run
/// against the full library and against the library without their claims.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Calibration {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    /// Of the posts whose claims were removed, the share still (wrongly) matched.
    pub false_match_rate: f64,
}

/// The thresholds an evaluation reports: `list` as given on a command line
/// (`0.5,0.6,0.7`), else `default`.
pub fn thresholds(list: Option<&str>, default: &[f64]) -> Result<Vec<f64>, String> {
    match list {
        Some(t) => t
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .map_err(|_| format!("--thresholds: {x} is not a number"))
            })
            .collect(),
        None => Ok(default.to_vec()),
    }
}

/// See [`Calibration`].
pub fn calibration(
    matcher: &Matcher,
    queries: &[(String, String)],
    qrels: &Qrels,
    thresholds: &[f64],
) -> Vec<Calibration> {
    let ords = claim_ords(matcher);
    let semantic = matcher.has_model();
    // (top confidence, top is relevant) with and without the claims.
    let mut with = Vec::new();
    let mut without = Vec::new();
    for chunk in queries.chunks(256) {
        let TwoWay { lists, rels } = two_way(matcher, chunk, qrels, &ords);
        for (i, rel) in rels.iter().enumerate() {
            let top = |list: &Vec<Scored>| {
                let ranked = matcher.rank(list.clone(), semantic, 1);
                ranked.first().map(|m| {
                    let ord = ords[m.claim_id.as_str()];
                    (m.confidence, rel.contains(&ord))
                })
            };
            with.push(top(&lists[2 * i]));
            without.push(top(&lists[2 * i + 1]));
        }
    }
    thresholds
        .iter()
        .map(|&t| {
            let mut tp = 0usize;
            let mut fp = 0usize;
            for (c, ok) in with.iter().chain(&without).flatten() {
                if *c >= t {
                    if *ok {
                        tp += 1;
                    } else {
                        fp += 1;
                    }
                }
            }
            let false_matches = without.iter().flatten().filter(|(c, _)| *c >= t).count();
            Calibration {
                threshold: t,
                precision: if tp + fp == 0 {
                    1.0
                } else {
                    tp as f64 / (tp + fp) as f64
                },
                recall: tp as f64 / with.len().max(1) as f64,
                false_match_rate: false_matches as f64 / without.len().max(1) as f64,
            }
        })
        .collect()
}

/// A post of a labelled stream: its text and language, and the ids of the
/// library's claims it repeats (none for most posts).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledPost {
    pub id: String,
    pub text: String,
    pub lang: Option<String>,
    pub claims: Vec<String>,
}

/// The matches a stream keeps at one threshold: each post's `k` best
/// candidates at or above it, as the store's annotation and the claim
/// watch keep them.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StreamScore {
    pub threshold: f64,
    /// Posts that repeat a claim of the library, and the others.
    pub positives: usize,
    pub negatives: usize,
    /// (post, claim) matches kept, and of them those whose post repeats
    /// that claim.
    pub matches: usize,
    pub right: usize,
    /// Posts that repeat a claim with at least one right match.
    pub found: usize,
    /// Posts that repeat no claim with at least one match.
    pub matched_negatives: usize,
}

impl StreamScore {
    /// Right matches among the matches kept (1 when none is kept).
    pub fn precision(&self) -> f64 {
        if self.matches == 0 {
            1.0
        } else {
            self.right as f64 / self.matches as f64
        }
    }

    /// Posts that repeat a claim and were matched to it.
    pub fn recall(&self) -> f64 {
        self.found as f64 / self.positives.max(1) as f64
    }

    /// Posts that repeat no claim and were matched all the same.
    pub fn false_match_rate(&self) -> f64 {
        self.matched_negatives as f64 / self.negatives.max(1) as f64
    }
}

/// Matches `posts` (in batches, in order) keeping `k` per post, and scores
/// the matches at each threshold.
pub fn score_stream(
    matcher: &Matcher,
    posts: &[LabelledPost],
    k: usize,
    thresholds: &[f64],
) -> Vec<StreamScore> {
    let mut out: Vec<StreamScore> = thresholds
        .iter()
        .map(|&t| StreamScore {
            threshold: t,
            ..Default::default()
        })
        .collect();
    for chunk in posts.chunks(512) {
        let queries: Vec<(&str, Option<&str>)> = chunk
            .iter()
            .map(|p| (p.text.as_str(), p.lang.as_deref()))
            .collect();
        let found = matcher.match_batch(&queries, k);
        for (post, matches) in chunk.iter().zip(found) {
            let positive = !post.claims.is_empty();
            for s in &mut out {
                let kept: Vec<&super::Match> = matches
                    .iter()
                    .filter(|m| m.confidence >= s.threshold)
                    .collect();
                let right = kept
                    .iter()
                    .filter(|m| post.claims.contains(&m.claim_id))
                    .count();
                s.matches += kept.len();
                s.right += right;
                if positive {
                    s.positives += 1;
                    s.found += (right > 0) as usize;
                } else {
                    s.negatives += 1;
                    s.matched_negatives += !kept.is_empty() as usize;
                }
            }
        }
    }
    out
}

/// Semantic re-ranking for a matcher over `synthetic_library(base, _)`:
/// copy `i` gets the vectors of source claim `i % base.len()`, which are
/// embedded once (or read back) through an index directory under the
/// temporary directory. For benchmarks: embedding a 100k-claim library
/// would take long, and the copies are near-duplicates of their source.
pub fn with_source_vectors(
    matcher: Matcher,
    base: &[Claim],
    model: &Path,
) -> Result<Matcher, super::MatchError> {
    let cache = std::env::temp_dir().join("pharos-bench-checkthat-index");
    let source = Matcher::with_index_dir(base, &cache)?.with_model(model, base, "checkthat2021")?;
    let n = base.len();
    matcher.with_vectors_of(model, &source, &|i| i % n)
}

/// A synthetic library of `n` claims made from `base` (benchmarks and the
/// memory measurement): copy `j` of a claim drops one word, swaps two and
/// appends a word of another claim, so copies are near-duplicates with their
/// own terms, as re-worded fact-checks of one claim are. Ids are
/// `{id}~{j}`; copy 0 is the claim itself. Deterministic.
pub fn synthetic_library(base: &[Claim], n: usize) -> Vec<Claim> {
    let mut out = Vec::with_capacity(n);
    if base.is_empty() {
        return out;
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut i = 0usize;
    while out.len() < n {
        let c = &base[i % base.len()];
        let copy = i / base.len();
        if copy == 0 {
            out.push(c.clone());
        } else {
            let mut words: Vec<&str> = c.text.split_whitespace().collect();
            if words.len() > 3 {
                let drop = (next() % words.len() as u64) as usize;
                words.remove(drop);
                let a = (next() % words.len() as u64) as usize;
                let b = (next() % words.len() as u64) as usize;
                words.swap(a, b);
            }
            let other = &base[(next() % base.len() as u64) as usize].text;
            let extra: Vec<&str> = other.split_whitespace().collect();
            let mut text = words.join(" ");
            if !extra.is_empty() {
                text.push(' ');
                text.push_str(extra[(next() % extra.len() as u64) as usize]);
            }
            out.push(Claim {
                id: format!("{}~{copy}", c.id),
                text,
                title: c.title.clone(),
                lang: c.lang.clone(),
                ..Claim::default()
            });
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qrels(pairs: &[(&str, &str)]) -> Qrels {
        let mut q = Qrels::new();
        for (a, b) in pairs {
            q.entry(a.to_string()).or_default().insert(b.to_string());
        }
        q
    }

    #[test]
    fn thresholds_are_read_from_a_list_or_defaulted_and_a_bad_one_is_named() {
        assert_eq!(thresholds(Some("0.5, 0.75"), &[0.1]), Ok(vec![0.5, 0.75]));
        assert_eq!(thresholds(None, &[0.1, 0.2]), Ok(vec![0.1, 0.2]));
        let e = thresholds(Some("0.5,high"), &[]).unwrap_err();
        assert!(e.contains("high"), "{e}");
    }

    #[test]
    fn map_follows_the_lab_scorer() {
        let qrels = qrels(&[("q1", "a"), ("q2", "b"), ("q2", "c"), ("q3", "z")]);
        let run: Run = vec![
            // relevant at rank 2: AP = 1/2
            ("q1".into(), vec![("x".into(), 3.0), ("a".into(), 2.0)]),
            // two relevant, ranks 1 and 3: (1 + 2/3) / 2
            (
                "q2".into(),
                vec![("b".into(), 9.0), ("x".into(), 8.0), ("c".into(), 7.0)],
            ),
            // not in the qrels: not counted
            ("q9".into(), vec![("a".into(), 1.0)]),
        ];
        let m = map_at_k(&run, &qrels, 5);
        let want = (0.5 + (1.0 + 2.0 / 3.0) / 2.0) / 2.0;
        assert!((m - want).abs() < 1e-12, "{m} vs {want}");
        // Depth cuts: at k = 1 q1 scores 0; q2 scores 1/2 (denominator 2).
        assert!((map_at_k(&run, &qrels, 1) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn map_orders_by_score_then_docid_descending() {
        let qrels = qrels(&[("q", "a")]);
        // Equal scores: trec_eval order puts "b" before "a".
        let run: Run = vec![("q".into(), vec![("a".into(), 1.0), ("b".into(), 1.0)])];
        assert!((map_at_k(&run, &qrels, 5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn queries_skip_header_and_report_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("q.tsv");
        std::fs::write(&p, "tweet_id\ttweet_text\nq1\thello world\nbroken line\n\tno id\nq1\tagain\nq2\t\"quoted \"\"text\"\"\"\n").unwrap();
        let q = read_queries(&p).unwrap();
        assert_eq!(
            q.queries,
            vec![
                ("q1".to_string(), "hello world".to_string()),
                ("q2".to_string(), "quoted \"text\"".to_string())
            ]
        );
        let lines: Vec<usize> = q.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(
            q.errors[0]
                .to_string()
                .contains("q.tsv:3: expected id<TAB>text")
        );
    }
}
