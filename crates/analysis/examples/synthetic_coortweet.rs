//! Writes a synthetic co-retweet table in CooRTweet's CSV layout.
//!
//! `cargo run --release -p pharos-analysis --example synthetic_coortweet -- ROWS OUT.csv [SEED]`
use std::io::Write;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: synthetic_coortweet ROWS OUT.csv [SEED]");
        std::process::exit(2);
    }
    let n: usize = args[1].parse().expect("ROWS is a number");
    let seed: u64 = args
        .get(3)
        .map_or(42, |s| s.parse().expect("SEED is a number"));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[2])?);
    writeln!(out, "object_id,account_id,content_id,timestamp_share")?;
    let mut err = Ok(());
    pharos_analysis::coordination::synthetic::co_retweet(n, seed, |o, a, c, t| {
        if err.is_ok() {
            err = writeln!(out, "o{o},u{a},r{c},{t}");
        }
    });
    err?;
    out.flush()
}
