//! CheckThat! 2021 Task 2A English: MAP@5 of each stage, and refitting the
//! fusion models.
//!
//! ```sh
//! cargo run --release -p pharos-claims --example checkthat                 # BM25 and lexical fusion, test split
//! cargo run --release -p pharos-claims --example checkthat -- \
//!     --model target/models/all-MiniLM-L6-v2                               # + semantic re-ranking
//! cargo run --release -p pharos-claims --example checkthat -- \
//!     --model target/models/all-MiniLM-L6-v2 --fit                         # refit on train, report dev
//! cargo run --release -p pharos-claims --example checkthat -- \
//!     --model DIR --fit --confidence-only                                  # the confidence models only
//! cargo run --release -p pharos-claims --example checkthat -- \
//!     [--model DIR] --split dev --calibration [--thresholds 0.5,0.6]       # precision and recall of the confidence
//! cargo run --release -p pharos-claims --example checkthat -- \
//!     --model target/models/all-MiniLM-L6-v2 --gate-sweep                  # choose the encoder gate (dev, train)
//! cargo run --release -p pharos-claims --example checkthat -- \
//!     --model DIR --crosslingual                                           # the dev tweets in 7 languages
//! cargo run --release -p pharos-claims --example checkthat -- \
//!     --model DIR --crosslingual --prime FILE                              # + language means from FILE's posts
//! ```
//!
//! Data: `$PHAROS_DATA/claims/checkthat2021` (default `../shared/data`
//! beside the checkout). `--fit` fits on the train queries only and reports
//! dev; the test split is only ever scored, never fitted on.

use pharos_claims::retrieval::Matcher;
use pharos_claims::retrieval::eval::{self, Qrels};
use pharos_claims::retrieval::fusion::Fusion;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("checkthat: {e}");
        std::process::exit(1);
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = arg(&args, "--data").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("PHAROS_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
            })
            .join("claims/checkthat2021")
    });
    let split = arg(&args, "--split").unwrap_or_else(|| "test".into());
    let fit = args.iter().any(|a| a == "--fit");
    // The thresholds `--calibration` (and `--fit`) report.
    let thresholds = eval::thresholds(
        arg(&args, "--thresholds").as_deref(),
        &[0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    )?;
    let crosslingual_too = args.iter().any(|a| a == "--crosslingual");
    let read = |name: &str| data.join(name);
    let (claims, _) = eval::read_checkthat_claims(&read("CT2021-Task2A-EN-Verified_Claims.txt"))
        .map_err(|e| {
            format!(
                "{}: {e}",
                read("CT2021-Task2A-EN-Verified_Claims.txt").display()
            )
        })?;
    let (qrels, _) = eval::read_qrels(&read("EN-all_QRELs.txt"))
        .map_err(|e| format!("{}: {e}", read("EN-all_QRELs.txt").display()))?;
    let queries = |s: &str| -> Result<Vec<(String, String)>, String> {
        let p = read(&format!("EN_{s}_queries.tsv"));
        eval::read_queries(&p)
            .map(|q| q.queries)
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let t = Instant::now();
    let index_dir = arg(&args, "--index-dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // One cache of claim vectors per model.
            let model = arg(&args, "--model").map(PathBuf::from);
            let name = model
                .as_deref()
                .and_then(|m| m.file_name())
                .map(|n| format!("-{}", n.to_string_lossy()))
                .unwrap_or_default();
            std::env::temp_dir().join(format!("pharos-checkthat-index{name}"))
        });
    let mut matcher = Matcher::with_index_dir(&claims, &index_dir).map_err(|e| e.to_string())?;
    if let Some(n) = arg(&args, "--candidates") {
        matcher.candidates = n
            .parse()
            .map_err(|_| format!("--candidates {n}: not a number"))?;
    }
    if let Some(n) = arg(&args, "--dense") {
        matcher.dense = n
            .parse()
            .map_err(|_| format!("--dense {n}: not a number"))?;
    }
    matcher.encoder_author = !args.iter().any(|a| a == "--encoder-body");
    eprintln!("index: {} claims in {:.1?}", matcher.len(), t.elapsed());
    if let Some(model) = arg(&args, "--model") {
        {
            let t = Instant::now();
            matcher = matcher
                .with_model(&PathBuf::from(&model), &claims, "checkthat2021")
                .map_err(|e| e.to_string())?;
            eprintln!(
                "model {model}: claims embedded or loaded in {:.1?}",
                t.elapsed()
            );
        }
    }
    if args.iter().any(|a| a == "--ranking-confidence") {
        // As before issue 15's fix: each match's confidence from the model
        // that ranks it (the figures before).
        let ranking = pharos_claims::retrieval::fusion::Confidence {
            lexical: Fusion::lexical(),
            full: if family(&args) == "CE5" {
                Fusion::full_e5()
            } else {
                Fusion::full()
            },
            cross: Fusion::cross_e5(),
            cross_centred: Fusion::cross_centred_e5(),
        };
        matcher.set_confidence(ranking);
    }
    if let Some(g) = arg(&args, "--gate") {
        matcher.gate = g.parse().map_err(|_| format!("--gate {g}: not a number"))?;
    }
    if args.iter().any(|a| a == "--gate-sweep") {
        if !matcher.has_model() {
            return Err("--gate-sweep needs --model".into());
        }
        for s in ["dev", "train"] {
            gate_sweep(&matcher, s, &queries(s)?, &qrels);
        }
        return Ok(());
    }
    if fit {
        let train = queries("train")?;
        let dev = queries("dev")?;
        let l2: f32 = arg(&args, "--l2")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.001);
        // Each train query is embedded once for the several fits.
        matcher.remember_post_vectors();
        // With --confidence-only the ranking models stay as they are.
        if !args.iter().any(|a| a == "--confidence-only") {
            let t = Instant::now();
            let (lexical, full) = eval::fit_fusion(&matcher, &train, &qrels, l2);
            eprintln!(
                "fitted on {} train queries in {:.1?}",
                train.len(),
                t.elapsed()
            );
            println!("// lexical\n{}", lexical.to_rust("LEX"));
            if let Some(f) = &full {
                println!("// full\n{}", f.to_rust("FULL"));
            }
            if let Some(c) = eval::fit_cross_fusion(&matcher, &train, &qrels, l2) {
                println!("// cross-language\n{}", c.to_rust("CROSS"));
                matcher.set_cross_fusion(c);
            }
            if let Some(c) = eval::fit_cross_centred_fusion(&mut matcher, &train, &qrels, l2) {
                println!("// cross-language, centred\n{}", c.to_rust("XC"));
                matcher.set_cross_centred_fusion(c);
            }
            // The confidence is fitted on the first candidates of the
            // ranking just fitted.
            let full_or_current = full.unwrap_or_else(Fusion::full);
            matcher.set_fusion(lexical, full_or_current);
        }
        let conf = eval::fit_confidence(&mut matcher, &train, &qrels, l2);
        println!("// confidence\n{}", conf.to_rust(family(&args)));
        matcher.set_confidence(conf);
        let _ = report(&matcher, "dev", &dev, &qrels);
        for c in eval::calibration(&matcher, &dev, &qrels, &thresholds) {
            println!(
                "dev threshold {:.2}: precision {:.3} recall {:.3} false-match rate {:.3}",
                c.threshold, c.precision, c.recall, c.false_match_rate
            );
        }
        if !crosslingual_too {
            return Ok(());
        }
    }
    if crosslingual_too {
        return crosslingual(&mut matcher, &args, &queries("dev")?, &qrels);
    }
    let qs = queries(&split)?;
    let _ = report(&matcher, &split, &qs, &qrels);
    if args.iter().any(|a| a == "--calibration") {
        for c in eval::calibration(&matcher, &qs, &qrels, &thresholds) {
            println!(
                "{split} threshold {:.2}: precision {:.3} recall {:.3} false-match rate {:.3}",
                c.threshold, c.precision, c.recall, c.false_match_rate
            );
        }
    }
    Ok(())
}

/// The cross-lingual set (`--crosslingual`): each language without
/// centring, then centred on means from posts other than the evaluated
/// ones.
fn crosslingual(
    matcher: &mut Matcher,
    args: &[String],
    dev: &[(String, String)],
    qrels: &Qrels,
) -> Result<(), String> {
    let dir = arg(args, "--crosslingual-dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crosslingual")
        });
    // Reference posts for the running language means (`--prime FILE`:
    // one `text` per line, `LANG<TAB>text` to restrict it to one
    // language of the set); none of the evaluated tweets.
    let prime: Vec<(Option<String>, String)> = match arg(args, "--prime") {
        Some(p) => std::fs::read_to_string(&p)
            .map_err(|e| format!("{p}: {e}"))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match l.split_once('\t') {
                Some((lang, t)) if lang.len() <= 3 => (Some(lang.to_string()), t.to_string()),
                _ => (None, l.to_string()),
            })
            .collect(),
        None => Vec::new(),
    };
    matcher.centred_dense = !args.iter().any(|a| a == "--no-centred-dense");
    let mut all = (0.0, 0.0, 0.0, 0usize);
    let (mut fused, mut folds, mut primed) = (0.0, 0.0, 0.0);
    matcher.centring = false;
    let _ = report(matcher, "en", dev, qrels);
    for lang in eval::CROSSLINGUAL {
        let q = eval::read_crosslingual(&dir, lang, dev).map_err(|e| format!("{lang}: {e}"))?;
        if let Some(e) = q.errors.first() {
            return Err(format!("{}:{}: {}", e.path, e.line, e.message));
        }
        // Without centring (the figure before it).
        matcher.centring = false;
        let a = report(matcher, lang, &q.queries, qrels);
        all.0 += a.bm25;
        all.1 += a.lexical;
        all.2 += a.semantic.unwrap_or(0.0);
        all.3 += 1;
        fused += a.fused.unwrap_or(0.0);
        if !matcher.has_model() {
            continue;
        }
        // Centred, the language's mean from the other half of the set
        // (odd ids for the even ones and back): never from the evaluated
        // tweets.
        matcher.centring = true;
        let m = eval::map_centred_held_out(matcher, &q.queries, qrels, 5);
        println!("{lang} MAP@5 centred (mean of the other half): {m:.4}");
        folds += m;
        // Centred, the means from the reference posts only (their
        // language as labelled in the file, else detected).
        let mine: Vec<(&str, Option<&str>)> = prime
            .iter()
            .filter(|(l, _)| l.as_deref().is_none_or(|l| l == lang))
            .map(|(l, t)| (t.as_str(), l.as_deref()))
            .collect();
        if !mine.is_empty() {
            matcher.reset_lang_means();
            for chunk in mine.chunks(256) {
                let _ = matcher.score_batch(chunk, 1);
            }
            let seen = matcher.lang_mean_posts();
            let m = eval::map_at_k(&eval::fused_run(matcher, &q.queries, 5), qrels, 5);
            println!(
                "{lang} MAP@5 centred (means of {} reference posts: {seen:?}): {m:.4}",
                mine.len()
            );
            primed += m;
        }
        matcher.reset_lang_means();
    }
    let n = all.3 as f64;
    println!(
        "all 7 languages MAP@5: BM25 {:.4}, cosine {:.4}, fused {:.4}",
        all.0 / n,
        all.2 / n,
        fused / n
    );
    if matcher.has_model() {
        println!(
            "all 7 languages MAP@5 centred (mean of the other half): {:.4}",
            folds / n
        );
        if !prime.is_empty() {
            println!(
                "all 7 languages MAP@5 centred (reference posts): {:.4}",
                primed / n
            );
        }
    }
    Ok(())
}

/// The prefix of the full confidence model's constants for `--model`.
fn family(args: &[String]) -> &'static str {
    match arg(args, "--model") {
        Some(m) if m.contains("e5") => "CE5",
        _ => "CML",
    }
}

fn report(
    matcher: &Matcher,
    split: &str,
    qs: &[(String, String)],
    qrels: &Qrels,
) -> eval::Ablation {
    let t = Instant::now();
    let a = eval::ablation(matcher, qs, qrels, 5);
    let secs = t.elapsed().as_secs_f64();
    println!("{split}: {} queries, {:.1} s", a.queries, secs);
    println!("{split} MAP@5 BM25 only:          {:.4}", a.bm25);
    println!("{split} MAP@5 lexical fusion:     {:.4}", a.lexical);
    if let Some(s) = a.semantic {
        println!("{split} MAP@5 cosine only:        {s:.4}");
    }
    if let Some(f) = a.fused {
        println!("{split} MAP@5 fused (BM25+cosine): {f:.4}");
    }
    a
}

/// The encoder gate's effect on a split, for a range of gates: each query
/// against the full library and against the library without its claims
/// (as in the calibration), embedded once; a query whose best lexical
/// confidence is below the gate keeps its lexical ranking.
fn gate_sweep(matcher: &Matcher, split: &str, qs: &[(String, String)], qrels: &Qrels) {
    let ords = eval::claim_ords(matcher);
    // Per query and protocol: gate score, (full run, lexical run), fused
    // top (confidence, relevant).
    struct Q {
        gate: f64,
        full: Vec<(String, f64)>,
        lex: Vec<(String, f64)>,
        top: Option<(f64, bool)>,
    }
    let mut with: Vec<(String, Q)> = Vec::new();
    let mut without: Vec<Q> = Vec::new();
    for chunk in qs.chunks(256) {
        let eval::TwoWay { lists, rels } = eval::two_way(matcher, chunk, qrels, &ords);
        for (i, ((qid, _), rel)) in chunk.iter().zip(&rels).enumerate() {
            for (j, list) in [&lists[2 * i], &lists[2 * i + 1]].into_iter().enumerate() {
                let run = |sem: bool| -> Vec<(String, f64)> {
                    matcher
                        .rank(list.clone(), sem, 5)
                        .into_iter()
                        .map(|m| (m.claim_id, m.score))
                        .collect()
                };
                let top = matcher
                    .rank(list.clone(), true, 1)
                    .first()
                    .map(|m| (m.confidence, rel.contains(&ords[m.claim_id.as_str()])));
                let q = Q {
                    gate: matcher.gate_score(list),
                    full: run(true),
                    lex: run(false),
                    top,
                };
                if j == 0 {
                    with.push((qid.clone(), q));
                } else {
                    without.push(q);
                }
            }
        }
    }
    let matched: Vec<f64> = with
        .iter()
        .filter(|(_, q)| q.top.is_some_and(|t| t.0 >= 0.5))
        .map(|(_, q)| q.gate)
        .collect();
    println!(
        "{split}: {} queries; {} matched at 0.5 with re-ranking; lowest gate score among them {:.4}",
        with.len(),
        matched.len(),
        matched.iter().cloned().fold(f64::INFINITY, f64::min)
    );
    for g in [
        0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.065, 0.07, 0.075, 0.08, 0.1, 0.15, 0.2, 0.3,
    ] {
        let run: eval::Run = with
            .iter()
            .map(|(qid, q)| {
                let docs = if q.gate >= g { &q.full } else { &q.lex };
                (qid.clone(), docs.clone())
            })
            .collect();
        let map = eval::map_at_k(&run, qrels, 5);
        let lost = |qs: &mut dyn Iterator<Item = &Q>| {
            let (mut all, mut right) = (0, 0);
            for q in qs {
                if q.gate < g
                    && let Some((c, ok)) = q.top
                    && c >= 0.5
                {
                    all += 1;
                    right += ok as usize;
                }
            }
            (all, right)
        };
        let (lw, lwr) = lost(&mut with.iter().map(|(_, q)| q));
        let (lo, _) = lost(&mut without.iter());
        let gated = with.iter().filter(|(_, q)| q.gate < g).count()
            + without.iter().filter(|q| q.gate < g).count();
        println!(
            "{split} gate {g:.3}: MAP@5 {map:.4}; gated out {gated} of {}; matches lost (>= 0.5): {lw} ({lwr} right) with the claims, {lo} without",
            2 * with.len()
        );
    }
}
