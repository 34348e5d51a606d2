//! Directed (QUT-style) coordination network of a QUT CSV, for benchmarks.
//!
//! ```text
//! cargo run --release -p pharos-analysis --example directed -- \
//!     INPUT.csv[.gz] [KIND=co-retweet] [WINDOW_SECS=60] [MIN_EDGE_WEIGHT=2] [EDGES_OUT=edges.csv]
//! ```
//!
//! Reads the table (`message_id,user_id,username,repost_id,reply_id,message,
//! timestamp,urls`), computes the network and writes `user_1,user_2,weight`;
//! timings go to stderr.

use pharos_analysis::coordination::directed::{
    DirectedParams, Kind, directed_network, read_qut_csv,
};
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(input) = args.first() else {
        eprintln!("usage: directed INPUT.csv [KIND] [WINDOW_SECS] [MIN_EDGE_WEIGHT] [EDGES_OUT]");
        std::process::exit(2);
    };
    let kind = Kind::parse(args.get(1).map_or("co-retweet", String::as_str))?;
    let window: i64 = args.get(2).map_or(Ok(60), |s| s.parse())?;
    let min: f64 = args.get(3).map_or(Ok(2.0), |s| s.parse())?;
    let out = PathBuf::from(args.get(4).map_or("edges.csv", String::as_str));

    let start = Instant::now();
    let table = read_qut_csv(input.as_ref(), kind)?;
    let read = start.elapsed();
    let net = directed_network(&table, &DirectedParams::new(window, min));
    let computed = start.elapsed();
    net.write_csv(BufWriter::new(std::fs::File::create(&out)?))?;
    let total = start.elapsed();
    eprintln!(
        "{kind}: {} messages, {} users -> {} edges, {} users; read {:.3} s, network {:.3} s, write {:.3} s, total {:.3} s",
        table.len(),
        table.user_count(),
        net.edges.len(),
        net.users.len(),
        read.as_secs_f64(),
        (computed - read).as_secs_f64(),
        (total - computed).as_secs_f64(),
        total.as_secs_f64()
    );
    Ok(())
}
