//! A small load generator for `pharos serve` benchmarks (docs/BENCHMARKS.md).
//!
//! ```text
//! loadgen get    --addr 127.0.0.1:8080 --token T --rate 200 --seconds 30 --conns 8 PATH...
//! loadgen ingest --addr 127.0.0.1:8080 --token T --batch 5000 --conns 2 FILE.jsonl
//! ```
//!
//! `get` is open-loop: each connection sends on a fixed schedule (rate /
//! conns a second), and latency is measured from the scheduled send time, so
//! a slow answer counts against every request it delayed (no coordinated
//! omission). Paths are used in turn. It prints the count, errors and the
//! latency percentiles. `ingest` posts the file's lines in batches over
//! keep-alive connections (retrying after 503 + Retry-After) and prints the
//! posts stored and duplicated a second.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Conn {
    addr: String,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).unwrap();
        Conn {
            addr: addr.to_string(),
            r: BufReader::new(s),
        }
    }

    /// One request; returns (status, body).
    fn request(&mut self, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let s = self.r.get_mut();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut status = 0u16;
        let mut len = 0usize;
        let mut first = true;
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line).unwrap() == 0 {
                panic!("connection closed");
            }
            let l = line.trim_end();
            if first {
                status = l
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                first = false;
                continue;
            }
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut b = vec![0; len];
        self.r.read_exact(&mut b).unwrap();
        (status, b)
    }
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn positional(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < args.len() {
        if args[i].starts_with("--") {
            i += 2;
        } else {
            out.push(args[i].clone());
            i += 1;
        }
    }
    out
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    let addr = arg(&args, "--addr", "127.0.0.1:8080");
    let token = arg(&args, "--token", "");
    let conns: usize = arg(&args, "--conns", "8").parse().unwrap();
    match mode.as_str() {
        "get" => {
            let rate: f64 = arg(&args, "--rate", "200").parse().unwrap();
            let seconds: f64 = arg(&args, "--seconds", "30").parse().unwrap();
            let paths = Arc::new(positional(&args));
            assert!(!paths.is_empty(), "give PATH...");
            let start = Instant::now() + Duration::from_millis(200);
            let per_conn = rate / conns as f64;
            let n = (per_conn * seconds) as usize;
            let handles: Vec<_> = (0..conns)
                .map(|c| {
                    let (addr, token, paths) = (addr.clone(), token.clone(), paths.clone());
                    std::thread::spawn(move || {
                        let mut conn = Conn::open(&addr);
                        let mut lat = Vec::with_capacity(n);
                        let mut errors = 0usize;
                        let offset = c as f64 / rate;
                        for i in 0..n {
                            let due = start + Duration::from_secs_f64(offset + i as f64 / per_conn);
                            let now = Instant::now();
                            if due > now {
                                std::thread::sleep(due - now);
                            }
                            let path = &paths[(i * conns + c) % paths.len()];
                            let (status, _) = conn.request("GET", path, &token, b"");
                            if status != 200 {
                                errors += 1;
                            }
                            lat.push(due.elapsed().as_secs_f64() * 1000.0);
                        }
                        (lat, errors)
                    })
                })
                .collect();
            let mut all = Vec::new();
            let mut errors = 0;
            for h in handles {
                let (l, e) = h.join().unwrap();
                all.extend(l);
                errors += e;
            }
            all.sort_by(f64::total_cmp);
            let took = start.elapsed().as_secs_f64();
            println!(
                "requests {} in {:.1} s ({:.1}/s), non-200 {}, latency ms: p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
                all.len(),
                took,
                all.len() as f64 / took,
                errors,
                pct(&all, 50.0),
                pct(&all, 90.0),
                pct(&all, 99.0),
                all.last().copied().unwrap_or(0.0)
            );
        }
        "ingest" => {
            let batch: usize = arg(&args, "--batch", "5000").parse().unwrap();
            let file = positional(&args)
                .into_iter()
                .next()
                .expect("give FILE.jsonl");
            let mut text = String::new();
            std::fs::File::open(&file)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let batches: Arc<Vec<String>> =
                Arc::new(lines.chunks(batch).map(|c| c.join("\n") + "\n").collect());
            let next = Arc::new(AtomicUsize::new(0));
            let started = Instant::now();
            let handles: Vec<_> = (0..conns)
                .map(|_| {
                    let (addr, token, batches, next) =
                        (addr.clone(), token.clone(), batches.clone(), next.clone());
                    std::thread::spawn(move || {
                        let mut conn = Conn::open(&addr);
                        let (mut stored, mut dup, mut busy) = (0u64, 0u64, 0u64);
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(b) = batches.get(i) else { break };
                            loop {
                                let (status, body) =
                                    conn.request("POST", "/api/ingest", &token, b.as_bytes());
                                if status == 503 || status == 429 {
                                    busy += 1;
                                    std::thread::sleep(Duration::from_millis(50));
                                    continue;
                                }
                                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                                stored += v["stored"].as_u64().unwrap_or(0);
                                dup += v["duplicates"].as_u64().unwrap_or(0);
                                break;
                            }
                        }
                        (stored, dup, busy)
                    })
                })
                .collect();
            let (mut stored, mut dup, mut busy) = (0, 0, 0);
            for h in handles {
                let (s, d, b) = h.join().unwrap();
                stored += s;
                dup += d;
                busy += b;
            }
            let took = started.elapsed().as_secs_f64();
            println!(
                "posts {} (stored {stored}, duplicates {dup}) in {took:.2} s: {:.0} posts/s; {} batches of {batch}, {busy} answered busy (retried)",
                stored + dup,
                (stored + dup) as f64 / took,
                batches.len()
            );
        }
        _ => {
            eprintln!("usage: loadgen get|ingest ... (see the file's docs)");
            std::process::exit(2);
        }
    }
}
