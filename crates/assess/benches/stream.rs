//! The whole early-warning stream path from memory (no store): language
//! id, normalisation, shingles, MinHash LSH, families, narratives, actor
//! signals, streaming coordination, bursts, claim watch, rules.
//!
//! ```text
//! cargo bench -p pharos-assess --bench stream -- [--posts 1000000] [--seed 1] [--days 7] [--no-coordination] [--segments 10] [--stream]
//! ```
//!
//! With `--stream` the simulator runs on its own thread and posts are
//! parsed and pushed as they come (nothing is held beyond one batch), so
//! the resident memory printed at each segment's end, and the peak, are the
//! pipeline's state: the way to see that memory stays bounded as the
//! stream grows. Its throughput shares the cores with the simulator and
//! the parser, so read speed from the default (in-memory) mode.
//!
//! Simulates a scenario into memory, then pushes it through
//! `AlertPipeline::push_batch` in batches of 16,384 posts (as `pharos
//! assess` does) and prints the throughput of each segment of the stream
//! with the number of live narratives at its end, so the cost per post can
//! be read against the engine's size. Wall time only counts the pipeline
//! (not the simulation). Run it under `/usr/bin/time -f "%e s %M KB"` for
//! the peak memory (which includes the posts held in memory).

use pharos_alerts::Rules;
use pharos_assess::stream::{AlertPipeline, StreamConfig};
use pharos_core::Post;
use pharos_sim::SimConfig;
use std::time::Instant;

/// The `pharos` binary's allocator (crates/cli/src/main.rs), so the bench
/// measures what `pharos assess` runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            // Fields 14 and 15 of stat(5), counted from the state (field 3).
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// Resident memory of this process now, MB (from /proc).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            l.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Whole JSONL lines, about a megabyte at a time, to a channel.
struct LineChunks {
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl std::io::Write for LineChunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 1 << 20
            && let Some(end) = self.buf.iter().rposition(|&b| b == b'\n')
        {
            let rest = self.buf.split_off(end + 1);
            let full = std::mem::replace(&mut self.buf, rest);
            self.tx
                .send(full)
                .map_err(|_| std::io::Error::other("receiver gone"))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineChunks {
    fn drop(&mut self) {
        let _ = self.tx.send(std::mem::take(&mut self.buf));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; nothing else of criterion's applies.
    let posts_n: u64 = arg(&args, "--posts", 1_000_000);
    let seed: u64 = arg(&args, "--seed", 1);
    let days: f64 = arg(&args, "--days", 7.0);
    let segments: usize = arg(&args, "--segments", 10).max(1);
    let coordination = !args.iter().any(|a| a == "--no-coordination");
    let streaming = args.iter().any(|a| a == "--stream");

    let t = Instant::now();
    if streaming {
        let mut scfg = StreamConfig::default();
        if !coordination {
            scfg.coordination = None;
        }
        let mut pipe = AlertPipeline::with_config(scfg, Rules::default(), false);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let sim = std::thread::spawn(move || {
            let mut cfg = SimConfig::new(posts_n, seed);
            cfg.days = Some(days);
            let mut w = LineChunks {
                tx,
                buf: Vec::new(),
            };
            pharos_sim::simulate(&cfg, &mut w, &mut |_| {}).expect("simulate");
        });
        let seg = (posts_n as usize).div_ceil(segments).max(1);
        let mut next_report = seg;
        let mut batch: Vec<Post> = Vec::with_capacity(16_384);
        println!(
            "| posts so far | live narratives | live families | live burst entities | RSS MB |"
        );
        println!("|---|---|---|---|---|");
        let report = |pipe: &AlertPipeline| {
            let s = pipe.narratives().stats();
            println!(
                "| {} | {} | {} | {} | {:.0} |",
                pipe.posts,
                s.live_narratives,
                s.live_families,
                pipe.stats().live_entities,
                rss_mb()
            );
        };
        for chunk in rx {
            for l in chunk.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                batch.push(serde_json::from_slice(l).expect("a simulated post"));
                if batch.len() == 16_384 {
                    pipe.push_batch(&batch).expect("no sink to fail");
                    batch.clear();
                    if pipe.posts as usize >= next_report {
                        report(&pipe);
                        next_report += seg;
                    }
                }
            }
        }
        pipe.push_batch(&batch).expect("no sink to fail");
        pipe.finish().expect("no sink to fail");
        report(&pipe);
        sim.join().expect("simulator thread");
        println!(
            "\n{} posts streamed in {:.1} s (simulation, parsing and pipeline together); {} alerts raised",
            pipe.posts,
            t.elapsed().as_secs_f64(),
            pipe.raised
        );
        return;
    }
    let mut cfg = SimConfig::new(posts_n, seed);
    cfg.days = Some(days);
    let mut buf = Vec::new();
    pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
    let posts: Vec<Post> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a simulated post"))
        .collect();
    drop(buf);
    eprintln!(
        "simulated {} posts (seed {seed}, {days} days) in {:.1} s",
        posts.len(),
        t.elapsed().as_secs_f64()
    );

    let mut scfg = StreamConfig::default();
    if !coordination {
        scfg.coordination = None;
    }
    let mut pipe = AlertPipeline::with_config(scfg, Rules::default(), true);
    let seg = posts.len().div_ceil(segments);
    // A digest of every assignment and every alert: equal digests, equal
    // results (for checking that a speed-up changed nothing).
    let mix = |h: u64, v: u64| (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    let started = Instant::now();
    let cpu0 = cpu_seconds();
    println!(
        "| posts so far | live narratives | live families | posts/s in segment | RSS MB (with the posts in memory) |"
    );
    println!("|---|---|---|---|---|");
    for part in posts.chunks(seg) {
        let t = Instant::now();
        for batch in part.chunks(16_384) {
            for a in pipe.push_batch_assigned(batch).expect("no sink to fail") {
                digest = mix(digest, a.family.unwrap_or(0));
                digest = mix(digest, a.narrative.unwrap_or(0));
            }
        }
        let s = pipe.narratives().stats();
        println!(
            "| {} | {} | {} | {:.0} | {:.0} |",
            pipe.posts,
            s.live_narratives,
            s.live_families,
            part.len() as f64 / t.elapsed().as_secs_f64(),
            rss_mb()
        );
    }
    pipe.finish().expect("no sink to fail");
    let ns = pipe.narratives().stats();
    eprintln!(
        "narratives: {} live, {} families, {} exemplars, {} LSH buckets; {:.1} bucket entries walked and {:.1} exact Jaccards a post",
        ns.live_narratives,
        ns.live_families,
        ns.exemplars,
        ns.lsh_buckets,
        ns.lsh_steps as f64 / ns.posts.max(1) as f64,
        ns.verifications as f64 / ns.posts.max(1) as f64
    );
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let st = pipe.stats();
    let tt = pipe.stage_times;
    let mut alerts: Vec<String> = pipe
        .alerts
        .values()
        .map(|n| serde_json::to_string(n).expect("a notification serialises"))
        .collect();
    alerts.sort();
    let alert_digest = alerts.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, a| {
        a.bytes().fold(h, |h, b| mix(h, u64::from(b)))
    });
    eprintln!(
        "digests: assignments {digest:016x}, alerts {alert_digest:016x} ({} alerts)",
        alerts.len()
    );
    eprintln!(
        "stage seconds (summed over chunks, each on its thread): read {:.1}, assign {:.1}, signals {:.1}",
        tt.read, tt.assign, tt.signals
    );
    println!(
        "\n{} posts in {wall:.2} s wall, {cpu:.1} CPU-s = {:.0} posts/s, {:.0} posts per CPU-second; {} alerts raised ({} notifications); coordination pairs {} ({} coordinated), accounts flagged {}; coordination {}",
        pipe.posts,
        pipe.posts as f64 / wall,
        pipe.posts as f64 / cpu,
        pipe.raised,
        pipe.written,
        st.pairs,
        st.coordinated_pairs,
        st.coordinated_accounts,
        if coordination { "on" } else { "off" }
    );
}
