//! CPU time of a bulk load into a new PostgreSQL store, on both sides of
//! the connection: this process (encoding the copy) and the server
//! process that serves its connection (from `/proc/PID/stat`), so the
//! figure holds on a machine shared with other work, where wall time does
//! not (docs/BENCHMARKS.md, "PostgreSQL store").
//!
//!     cargo run --release -p pharos-store --example pg_cpu -- [POSTS]
//!
//! Needs PostgreSQL on this machine at `PHAROS_PG_URL` (default
//! `postgres://root@127.0.0.1:5432/postgres`); uses a new database
//! `pharos_pg_cpu_PID`, dropped at the end. Linux only (`/proc`).

use pharos_core::Post;
use pharos_sim::{SimConfig, simulate};
use pharos_store::{EncodedPosts, PgStore, PostFilter, SqliteStore, Store};
use std::ops::ControlFlow;
use std::time::Instant;

/// User + system CPU seconds of process `pid` (`self` for this one).
fn cpu(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc");
    // Fields after the command name (which may hold spaces), 1-based 14 and 15.
    let rest = &stat[stat.rfind(')').expect("stat") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("POSTS"))
        .unwrap_or(100_000);
    let mut jsonl = Vec::new();
    simulate(&SimConfig::new(n, 1), &mut jsonl, &mut |_| {}).expect("simulate");
    let posts: Vec<Post> = jsonl
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("post"))
        .collect();
    let batches: Vec<EncodedPosts> = posts
        .chunks(16_384)
        .map(|c| {
            let mut b = EncodedPosts::new();
            b.extend(c).expect("encode");
            b
        })
        .collect();
    let base = std::env::var("PHAROS_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into());
    let (scheme, rest) = base.split_once("://").expect("URL");
    let host = rest.split('/').next().unwrap_or(rest);
    let db = format!("pharos_pg_cpu_{}", std::process::id());
    let url = format!("{scheme}://{host}/{db}");

    // SQLite, for comparison: this process does all the work.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lite = SqliteStore::open(dir.path().join("s.db")).expect("sqlite");
    let (t, c) = (Instant::now(), cpu("self"));
    lite.begin_bulk().expect("begin");
    for b in &batches {
        lite.insert_encoded(b).expect("insert");
    }
    lite.end_bulk().expect("end");
    let (wall, lcpu) = (t.elapsed().as_secs_f64(), cpu("self") - c);
    println!(
        "sqlite:   {} posts, {wall:.2} s wall, {lcpu:.2} CPU-s: {:.0} posts per CPU-second",
        posts.len(),
        posts.len() as f64 / lcpu
    );

    let mut pg = PgStore::connect(&url).expect("postgres");
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).expect("admin");
    let backend: i32 = admin
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db],
        )
        .expect("the store's server process")
        .get(0);
    let backend = backend.to_string();
    let (t, c, s) = (Instant::now(), cpu("self"), cpu(&backend));
    pg.begin_bulk().expect("begin");
    for b in &batches {
        pg.insert_encoded(b).expect("insert");
    }
    let s1 = cpu(&backend);
    pg.end_bulk().expect("end");
    let wall = t.elapsed().as_secs_f64();
    let (client, server) = (cpu("self") - c, cpu(&backend) - s);
    println!(
        "postgres: of which end_bulk (index builds, ANALYZE): {:.2} CPU-s in the server",
        cpu(&backend) - s1
    );
    println!(
        "postgres: {} posts, {wall:.2} s wall, {client:.2} CPU-s here + {server:.2} CPU-s in the server: {:.0} posts per CPU-second",
        posts.len(),
        posts.len() as f64 / (client + server)
    );
    let (t, c, s) = (Instant::now(), cpu("self"), cpu(&backend));
    let mut k = 0u64;
    pg.scan(&PostFilter::default(), &mut |_| {
        k += 1;
        ControlFlow::Continue(())
    })
    .expect("scan");
    let wall = t.elapsed().as_secs_f64();
    let (client, server) = (cpu("self") - c, cpu(&backend) - s);
    println!(
        "postgres scan: {k} posts, {wall:.2} s wall, {client:.2} + {server:.2} CPU-s: {:.0} posts per CPU-second",
        k as f64 / (client + server)
    );
    drop(pg);
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
}
