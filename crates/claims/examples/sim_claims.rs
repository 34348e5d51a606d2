//! Claim matching on a simulated scenario, for libraries of several sizes:
//! how many posts that repeat no claim are matched all the same (the
//! rejection of "nothing here"), and how many that repeat one are found.
//!
//! ```sh
//! cargo run --release -p pharos-claims --example sim_claims -- \
//!     [--posts 50000] [--seed 7] [--model FILE] [--sizes 14,100,1000,all] [--gate G] \
//!     [--thresholds 0.5,0.6,0.7,0.8] [--ranking-confidence | --compare]
//! ```
//!
//! `--ranking-confidence` gives each match the confidence of the model
//! that ranks it, as before the confidence was made independent of the
//! library (the figures before); `--compare` gives both.
//!
//! The scenario is `pharos demo`'s (50,000 posts, seed 7, its 14
//! fact-checks); the truth says which posts repeat which claim
//! (`claim_posts`: the planted campaign's posts, the organic posts that
//! recycle an older claim, and their reshares). The library is the
//! scenario's claims padded with CheckThat! 2021 claims as distractors
//! (`$PHAROS_DATA/claims/checkthat2021`, every n-th claim), each size from
//! the same posts. With `--model` the matcher runs as `pharos assess`
//! runs it (the stream's encoder gate, 3 claims a post); every post's
//! vector is computed once and reused for every size. Each line: the
//! threshold (0.5 keeps a match in the store's `claim_matches`, 0.6 in the
//! claim watch), the matches kept, their precision, the share of the posts
//! that repeat a claim found, and the share of the others matched.

#[path = "../tests/support/sim.rs"]
mod sim;

use pharos_claims::Claim;
use pharos_claims::retrieval::fusion::{Confidence, Fusion};
use pharos_claims::retrieval::{Matcher, eval};
use std::path::PathBuf;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("sim_claims: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |name: &str, default: u64| -> Result<u64, String> {
        arg(&args, name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{name} {v}: not a number"))
        })
    };
    let posts = num("--posts", 50_000)?;
    let seed = num("--seed", 7)?;
    let data = std::env::var_os("PHAROS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("claims/checkthat2021/CT2021-Task2A-EN-Verified_Claims.txt");
    let work = std::env::temp_dir().join(format!("pharos-sim-claims-{posts}-{seed}"));
    let t = Instant::now();
    let stream = sim::simulate(posts, seed, &work)?;
    let positives = stream.posts.iter().filter(|p| !p.claims.is_empty()).count();
    eprintln!(
        "scenario: {} posts ({positives} repeat a claim), {} claims, in {:.1?}",
        stream.posts.len(),
        stream.claims.len(),
        t.elapsed()
    );
    let (distractors, _) =
        eval::read_checkthat_claims(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let own = stream.claims.len();
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or_else(|| "14,100,1000,all".into())
        .split(',')
        .map(|s| match s {
            "all" => Ok(own + distractors.len()),
            n => n
                .parse()
                .map_err(|_| format!("--sizes: {n} is not a number")),
        })
        .collect::<Result<_, _>>()?;
    // The largest library takes every n-th distractor; the smaller ones a
    // prefix of its distractors, so that each is part of the largest (whose
    // claim vectors they borrow).
    let largest_pad = sizes
        .iter()
        .map(|s| s.saturating_sub(own))
        .max()
        .unwrap_or(0)
        .min(distractors.len());
    let padding: Vec<&Claim> = if largest_pad == 0 {
        Vec::new()
    } else {
        let step = distractors.len() as f64 / largest_pad as f64;
        (0..largest_pad)
            .map(|i| &distractors[(i as f64 * step) as usize])
            .collect()
    };
    let library = |size: usize| -> Vec<Claim> {
        let pad = size.saturating_sub(own).min(padding.len());
        let mut claims = stream.claims.clone();
        claims.extend(padding[..pad].iter().map(|&c| c.clone()));
        claims
    };
    let model = arg(&args, "--model").map(PathBuf::from);
    // The largest library embedded once (cached beside the scenario); the
    // smaller ones take its vectors.
    let full_claims = library(sizes.iter().copied().max().unwrap_or(own));
    let full = match &model {
        Some(m) => {
            let t = Instant::now();
            let mut full = Matcher::with_index_dir(&full_claims, &work.join("index"))
                .map_err(|e| e.to_string())?
                .with_model(m, &full_claims, "sim-claims")
                .map_err(|e| e.to_string())?;
            full.remember_post_vectors();
            eprintln!("claims embedded or loaded in {:.1?}", t.elapsed());
            Some(full)
        }
        None => None,
    };
    let thresholds =
        eval::thresholds(arg(&args, "--thresholds").as_deref(), &[0.5, 0.6, 0.7, 0.8])?;
    let gate: f64 = match arg(&args, "--gate") {
        Some(g) => g.parse().map_err(|_| format!("--gate {g}: not a number"))?,
        None => pharos_claims::retrieval::STREAM_GATE,
    };
    println!(
        "scenario {posts} posts seed {seed}: {positives} posts repeat a claim, {} do not; model {}",
        stream.posts.len() - positives,
        model
            .as_deref()
            .map_or("none".into(), |m| m.display().to_string())
    );
    for &size in &sizes {
        let claims = library(size);
        let mut m = Matcher::in_memory(&claims).map_err(|e| e.to_string())?;
        if let (Some(model), Some(full)) = (&model, &full) {
            let ords: std::collections::HashMap<&str, usize> = full_claims
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id.as_str(), i))
                .collect();
            let source: Vec<usize> = claims.iter().map(|c| ords[c.id.as_str()]).collect();
            m = m
                .with_vectors_of(model, full, &|i| source[i])
                .map_err(|e| e.to_string())?;
            m.gate = gate;
        }
        let own_conf = m.confidence_models().clone();
        let ranking = Confidence {
            lexical: Fusion::lexical(),
            full: if model.is_some() {
                Fusion::full_e5()
            } else {
                Fusion::full()
            },
            cross: Fusion::cross_e5(),
            cross_centred: Fusion::cross_centred_e5(),
        };
        // `--ranking-confidence`: as before issue 15's fix, the confidence
        // of the ranking models (their relative features included);
        // `--compare`: both (the post vectors computed once).
        let runs: Vec<(&str, &Confidence)> = if args.iter().any(|a| a == "--compare") {
            vec![("ranking", &ranking), ("own", &own_conf)]
        } else if args.iter().any(|a| a == "--ranking-confidence") {
            vec![("ranking", &ranking)]
        } else {
            vec![("own", &own_conf)]
        };
        for (name, conf) in runs {
            m.set_confidence(conf.clone());
            let t = Instant::now();
            let scores = eval::score_stream(&m, &stream.posts, 3, &thresholds);
            let secs = t.elapsed().as_secs_f64();
            for s in scores {
                println!(
                    "{name:>7} confidence, library {:>6} claims, threshold {:.2}: {:>6} matches, precision {:.3}, found {:.3} of the posts that repeat a claim, matched {:.4} of the others ({} posts) [{secs:.0} s]",
                    claims.len(),
                    s.threshold,
                    s.matches,
                    s.precision(),
                    s.recall(),
                    s.false_match_rate(),
                    s.matched_negatives
                );
            }
        }
    }
    Ok(())
}
