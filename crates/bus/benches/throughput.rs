//! The bus end to end (`cargo bench -p pharos-bus --bench throughput`):
//!
//! 1. **publish**: simulated posts, in memory, published in batches with
//!    bounded in-flight acknowledgements (what `pharos ingest --bus` does
//!    after parsing), posts/s;
//! 2. **store**: 1, 2 and 4 workers (threads of this process, each with a
//!    PostgreSQL connection of its own, as separate `pharos worker`
//!    processes would have) store the stream into a new database; posts/s
//!    and CPU per post, split between this process (decode, encode,
//!    client), PostgreSQL and nats-server;
//! 3. **pipeline**: the leader alone (one worker, storing off) runs the
//!    pipeline over the stream; posts/s and CPU per post.
//!
//! Needs NATS with JetStream at `PHAROS_NATS_URL` (default
//! nats://127.0.0.1:4222) and PostgreSQL at `PHAROS_PG_URL` (default
//! postgres://root@127.0.0.1:5432/postgres); each step uses a namespace
//! and a database of its own, deleted afterwards. `BUS_POSTS` sets the
//! number of posts (default 200,000).

use pharos_bus::publish::{Batch, Publisher};
use pharos_bus::worker::{self, WorkerConfig};
use pharos_bus::{Bus, BusUrl, Setup};
use pharos_core::Post;
use pharos_sim::{SimConfig, simulate};
use pharos_store::{PgStore, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn posts(n: u64) -> Vec<Post> {
    let mut jsonl = Vec::new();
    simulate(&SimConfig::new(n, 1), &mut jsonl, &mut |_| {}).expect("simulate");
    jsonl
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("simulated post"))
        .collect()
}

fn pg_url() -> String {
    std::env::var("PHAROS_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string())
}

fn nats() -> String {
    std::env::var("PHAROS_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

fn unique(what: &str) -> String {
    format!("pharos_bus_bench_{what}_{}", std::process::id())
}

fn db_url(name: &str) -> String {
    let base = pg_url();
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}/{name}")
}

fn drop_db(name: &str) {
    if let Ok(mut c) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}

/// CPU seconds (user + system) of this process, and of every process
/// named `postgres` and `nats-server`.
fn cpu() -> (f64, f64, f64) {
    let tick = 100.0;
    let read = |pid: &str| -> Option<(String, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let name = stat[open + 1..close].to_string();
        let f: Vec<&str> = stat[close + 2..].split(' ').collect();
        let t = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        Some((name, t / tick))
    };
    let me = read("self").map(|(_, t)| t).unwrap_or(0.0);
    let (mut pg, mut nats) = (0.0, 0.0);
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !pid.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if let Some((name, t)) = read(&pid) {
                if name == "postgres" {
                    pg += t;
                } else if name == "nats-server" {
                    nats += t;
                }
            }
        }
    }
    (me, pg, nats)
}

fn publish(rt: &tokio::runtime::Runtime, bus: &Bus, posts: &[Post]) -> f64 {
    let t = Instant::now();
    rt.block_on(async {
        let mut p = Publisher::new(bus, pharos_bus::publish::IN_FLIGHT)
            .await
            .unwrap();
        let mut b = Batch::default();
        for post in posts {
            b.push(post).unwrap();
            if b.is_full() {
                p.send(&mut b).await.unwrap();
            }
        }
        p.send(&mut b).await.unwrap();
        let done = p.finish().await.unwrap();
        assert_eq!(done.posts, posts.len() as u64);
    });
    t.elapsed().as_secs_f64()
}

fn main() {
    let n: u64 = std::env::var("BUS_POSTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let posts = posts(n);
    println!("{n} simulated posts");
    // BUS_STEPS=lead (say) runs only that step: publish, store, lead.
    let steps = std::env::var("BUS_STEPS").unwrap_or_else(|_| "publish,store,lead".into());
    if steps.contains("publish") {
        // 1. publish
        let ns = BusUrl::parse(&format!("{}/{}", nats(), unique("publish"))).unwrap();
        let bus = rt.block_on(Bus::connect(&ns)).unwrap();
        let c0 = cpu();
        let s = publish(&rt, &bus, &posts);
        let c1 = cpu();
        println!(
            "publish: {:.0} posts/s ({:.2} s; CPU µs/post: pharos {:.2}, nats-server {:.2})",
            n as f64 / s,
            s,
            (c1.0 - c0.0) / n as f64 * 1e6,
            (c1.2 - c0.2) / n as f64 * 1e6
        );
        // The same file again: every batch a duplicate.
        let s2 = publish_dup(&rt, &bus, &posts);
        println!("republish (all duplicates): {:.0} posts/s", n as f64 / s2);
        rt.block_on(bus.delete_namespace()).unwrap();
    }

    // 2. store with 1, 2, 4 workers
    let counts: &[usize] = if steps.contains("store") {
        &[1, 2, 4]
    } else {
        &[]
    };
    for &workers in counts {
        let what = format!("store{workers}");
        let ns = BusUrl::parse(&format!("{}/{}", nats(), unique(&what))).unwrap();
        let bus = rt.block_on(Bus::connect(&ns)).unwrap();
        publish(&rt, &bus, &posts);
        let db = unique(&what);
        drop(PgStore::connect(&db_url(&db)).unwrap());
        let stop = AtomicBool::new(false);
        let c0 = cpu();
        let t = Instant::now();
        let stored = std::thread::scope(|s| {
            let mut hs = Vec::new();
            for i in 0..workers {
                let (bus, stop, rt, db) = (&bus, &stop, &rt, &db);
                hs.push(s.spawn(move || {
                    let mut store = PgStore::connect(&db_url(db)).unwrap();
                    let mut cfg = WorkerConfig::new(format!("b{i}"), "/dev/null");
                    cfg.pipeline = false;
                    cfg.setup = Setup::default();
                    worker::run(rt.handle(), bus, &mut store, &cfg, stop).unwrap()
                }));
            }
            loop {
                let st = rt.block_on(bus.status()).unwrap();
                if st.stored_all() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            stop.store(true, Ordering::Relaxed);
            hs.into_iter()
                .map(|h| h.join().unwrap().stored)
                .sum::<u64>()
        });
        let secs = t.elapsed().as_secs_f64();
        let c1 = cpu();
        assert_eq!(stored, n);
        assert_eq!(PgStore::connect(&db_url(&db)).unwrap().count().unwrap(), n);
        println!(
            "store, {workers} worker(s): {:.0} posts/s ({secs:.2} s; CPU µs/post: workers {:.1}, postgres {:.1}, nats-server {:.1})",
            n as f64 / secs,
            (c1.0 - c0.0) / n as f64 * 1e6,
            (c1.1 - c0.1) / n as f64 * 1e6,
            (c1.2 - c0.2) / n as f64 * 1e6
        );
        rt.block_on(bus.delete_namespace()).unwrap();
        drop_db(&db);
    }

    // 3. the pipeline leader
    if !steps.contains("lead") {
        return;
    }
    let ns = BusUrl::parse(&format!("{}/{}", nats(), unique("lead"))).unwrap();
    let bus = rt.block_on(Bus::connect(&ns)).unwrap();
    publish(&rt, &bus, &posts);
    let db = unique("lead");
    let stop = AtomicBool::new(false);
    let c0 = cpu();
    let t = Instant::now();
    let lease = std::thread::scope(|s| {
        let h = s.spawn(|| {
            // Storing into a throw-away SQLite file; the figure is the leader's.
            let dir = tempfile::tempdir().unwrap();
            let mut store = pharos_store::SqliteStore::open(dir.path().join("x.db")).unwrap();
            let mut cfg = WorkerConfig::new("leader", "/dev/null");
            cfg.setup = Setup {
                lease_ttl: Duration::from_secs(30),
                ..Setup::default()
            };
            worker::run(rt.handle(), &bus, &mut store, &cfg, &stop).unwrap()
        });
        let lease = loop {
            let st = rt.block_on(bus.status()).unwrap();
            if st.analysed_all() {
                break st.leader;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
        lease
    });
    let secs = t.elapsed().as_secs_f64();
    let c1 = cpu();
    let st = rt.block_on(bus.status()).unwrap();
    println!(
        "pipeline leader (with one worker storing into SQLite beside it): {:.0} posts/s ({secs:.2} s; {} alerts; CPU µs/post {:.1})",
        n as f64 / secs,
        st.alerts,
        (c1.0 - c0.0) / n as f64 * 1e6
    );
    if let Some(l) = &lease {
        println!(
            "  leader's time (s): waiting for and decoding messages {:.2}, pipeline read {:.2} (all cores), assign {:.2}, signals {:.2}, publishing alerts {:.2}",
            l.decode_s, l.read_s, l.assign_s, l.signals_s, l.publish_s
        );
    }
    rt.block_on(bus.delete_namespace()).unwrap();
    drop_db(&db);
}

fn publish_dup(rt: &tokio::runtime::Runtime, bus: &Bus, posts: &[Post]) -> f64 {
    let t = Instant::now();
    rt.block_on(async {
        let mut p = Publisher::new(bus, pharos_bus::publish::IN_FLIGHT)
            .await
            .unwrap();
        let mut b = Batch::default();
        for post in posts {
            b.push(post).unwrap();
            if b.is_full() {
                p.send(&mut b).await.unwrap();
            }
        }
        p.send(&mut b).await.unwrap();
        let done = p.finish().await.unwrap();
        assert_eq!(done.duplicate_posts, posts.len() as u64);
    });
    t.elapsed().as_secs_f64()
}
