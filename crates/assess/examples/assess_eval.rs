//! Incidents against planted campaigns: precision and recall of campaign
//! accounts and posts on simulated scenarios.
//!
//! ```text
//! cargo run --release -p pharos-assess --example assess_eval -- [--posts 20000] [--seeds 1,2,3] [--days 7] [--out DIR] [--json]
//! ```
//!
//! For each seed: simulate (`pharos_sim`, default campaigns), assess the
//! posts in memory (no claim matches: the claims engine is not run here),
//! score the incidents against the truth (`pharos_assess::eval`). With
//! `--out DIR` the reports of the first seed are written to DIR.

use pharos_assess::eval::{TruthFile, evaluate};
use pharos_assess::{AssessOptions, assess_posts};
use pharos_core::Post;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut posts = 20_000u64;
    let mut seeds = vec![1u64, 2, 3];
    let mut days: Option<f64> = None;
    let mut out: Option<String> = None;
    let mut json = false;
    let mut i = 0;
    let usage = "usage: assess_eval [--posts N] [--seeds 1,2,3] [--days D] [--out DIR] [--json]";
    while i < args.len() {
        let value = |i: usize| -> &str {
            args.get(i + 1).map(String::as_str).unwrap_or_else(|| {
                eprintln!("{usage}");
                std::process::exit(2)
            })
        };
        match args[i].as_str() {
            "--posts" => posts = value(i).parse().unwrap_or_else(|_| bad(usage)),
            "--seeds" => {
                seeds = value(i)
                    .split(',')
                    .map(|s| s.trim().parse().unwrap_or_else(|_| bad(usage)))
                    .collect()
            }
            "--days" => days = Some(value(i).parse().unwrap_or_else(|_| bad(usage))),
            "--out" => out = Some(value(i).to_string()),
            "--json" => {
                json = true;
                i += 1;
                continue;
            }
            _ => bad(usage),
        }
        i += 2;
    }
    println!(
        "| seed | posts | incidents | campaigns found | accounts P / R | posts P / R | per campaign: posts R / P (accounts R / P) | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (k, &seed) in seeds.iter().enumerate() {
        let mut cfg = pharos_sim::SimConfig::new(posts, seed);
        cfg.days = days.or(cfg.days);
        let mut buf = Vec::new();
        let truth = pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
        let truth: TruthFile =
            serde_json::from_value(serde_json::to_value(&truth).expect("truth json"))
                .expect("truth");
        let list: Vec<Post> = buf
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("simulated post"))
            .collect();
        let t0 = Instant::now();
        let a = assess_posts(list, Vec::new(), &AssessOptions::default()).expect("assess");
        let secs = t0.elapsed().as_secs_f64();
        let e = evaluate(&a.incidents, &truth);
        if json {
            println!("{}", serde_json::to_string(&e).expect("json"));
        }
        let per: Vec<String> = e
            .per_campaign
            .iter()
            .map(|c| {
                format!(
                    "{} {:.2} / {:.2} ({:.2} / {:.2})",
                    c.kind,
                    c.posts.recall,
                    c.posts.precision,
                    c.accounts.recall,
                    c.accounts.precision
                )
            })
            .collect();
        println!(
            "| {seed} | {posts} | {} | {} of {} | {:.3} / {:.3} | {:.3} / {:.3} | {} | {secs:.1} |",
            e.incidents,
            e.campaigns_found,
            e.campaigns,
            e.accounts.precision,
            e.accounts.recall,
            e.posts.precision,
            e.posts.recall,
            per.join("; ")
        );
        if std::env::var_os("ASSESS_EVAL_VERBOSE").is_some() {
            for inc in &a.incidents {
                eprintln!(
                    "  {} {} | posts {} accounts {} sev {:.2} conf {:.2} | {}",
                    inc.id,
                    inc.title,
                    inc.posts.len(),
                    inc.actors.len(),
                    inc.severity.value,
                    inc.confidence.value,
                    inc.summary
                );
            }
        }
        if k == 0
            && let Some(dir) = &out
        {
            let written = pharos_assess::report::write_outputs(std::path::Path::new(dir), &a)
                .expect("write reports");
            eprint!("{}", pharos_assess::report::summary_text(&a, &written));
        }
    }
}

fn bad<T>(usage: &str) -> T {
    eprintln!("{usage}");
    std::process::exit(2)
}
