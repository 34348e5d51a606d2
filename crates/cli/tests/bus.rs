//! The scale-out acceptance tests (issue 16): `pharos ingest --bus` and
//! `pharos worker` against a real NATS JetStream and PostgreSQL.
//!
//! They need NATS with JetStream at `PHAROS_NATS_URL` (default
//! nats://127.0.0.1:4222) and PostgreSQL at `PHAROS_PG_URL` (default
//! postgres://root@127.0.0.1:5432/postgres), and fail naming what is
//! missing. Each run uses namespaces and databases of its own (named
//! `pharos_bus_t<pid>_...`), deleted afterwards.
#![cfg(feature = "real-data")]

use pharos_analysis::coordination::{
    Coordination, CoortweetParams, ObjectRule, ShareTable, Subgraph, write_edges,
};
use pharos_bus::{Bus, BusUrl, Status};
use pharos_core::Post;
use pharos_store::{PgStore, PostFilter, SqliteStore, Store};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PHAROS: &str = env!("CARGO_BIN_EXE_pharos");
/// Posts in the simulated scenario (the issue asks for at least 100k).
const POSTS: usize = 100_000;

fn nats_base() -> String {
    let url = std::env::var("PHAROS_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let hostport = url
        .trim_start_matches("nats://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    if std::net::TcpStream::connect(&hostport).is_err() {
        panic!(
            "the bus tests (feature real-data) need NATS with JetStream at PHAROS_NATS_URL \
             (now {url}; default nats://127.0.0.1:4222): nothing answers at {hostport}; \
             start `nats-server -js`"
        );
    }
    format!("nats://{hostport}")
}

fn pg_url() -> String {
    std::env::var("PHAROS_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string())
}

/// A database of its own, dropped afterwards.
struct Db {
    name: String,
    url: String,
}

impl Db {
    fn new(name: &str) -> Db {
        let base = pg_url();
        if let Err(e) = postgres::Client::connect(&base, postgres::NoTls) {
            panic!(
                "the bus tests (feature real-data) need PostgreSQL at PHAROS_PG_URL \
                 (now {base}; default postgres://root@127.0.0.1:5432/postgres): {e}"
            );
        }
        let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
        let host = rest.split('/').next().unwrap_or(rest);
        Db {
            name: name.to_string(),
            url: format!("{scheme}://{host}/{name}"),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn unique(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "pharos_bus_t{}_{what}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A namespace of its own, deleted afterwards.
struct Ns {
    url: String,
    bus: BusUrl,
}

impl Ns {
    fn new(what: &str) -> Ns {
        let url = format!("{}/{}", nats_base(), unique(what));
        Ns {
            bus: BusUrl::parse(&url).unwrap(),
            url,
        }
    }

    fn status(&self) -> Status {
        rt().block_on(async { Bus::connect(&self.bus).await?.status().await })
            .expect("bus status")
    }

    fn alerts(&self) -> Vec<String> {
        rt().block_on(async { Bus::connect(&self.bus).await?.alerts().await })
            .expect("alerts")
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = rt().block_on(async { Bus::connect(&self.bus).await?.delete_namespace().await });
    }
}

/// Worker processes, killed when dropped.
struct Workers(Vec<(String, Child)>);

impl Workers {
    fn start(&mut self, ns: &Ns, store: &str, name: &str, dir: &Path) {
        let child = Command::new(PHAROS)
            .args([
                "-q",
                "worker",
                "--bus",
                &ns.url,
                "--store",
                store,
                "--name",
                name,
                "--ack-wait",
                "3",
                "--lease",
                "2",
            ])
            .arg("--quarantine")
            .arg(dir.join(format!("{name}.quarantine.jsonl")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start pharos worker");
        self.0.push((name.to_string(), child));
    }

    /// SIGKILL, as `kill -9`.
    fn kill9(&mut self, name: &str) {
        let i = self
            .0
            .iter()
            .position(|(n, _)| n == name)
            .expect("a worker of that name");
        let (_, mut c) = self.0.remove(i);
        c.kill().expect("SIGKILL");
        c.wait().unwrap();
    }

    fn all_alive(&mut self) -> bool {
        self.0
            .iter_mut()
            .all(|(_, c)| c.try_wait().unwrap().is_none())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn ingest_to_bus(file: &Path, ns: &Ns) {
    let out = Command::new(PHAROS)
        .args(["-q", "ingest"])
        .arg(file)
        .args(["--bus", &ns.url, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["stored"], POSTS as u64, "{s}");
}

/// Waits until every message is stored and the leader has analysed them all.
fn wait_done(ns: &Ns, workers: &mut Workers, what: &str) -> Status {
    let started = Instant::now();
    loop {
        let s = ns.status();
        if s.stored_all() && s.analysed_all() {
            return s;
        }
        assert!(workers.all_alive(), "{what}: a worker died: {s:?}");
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "{what}: not done after 15 minutes: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// What a run leaves: the stored posts (canonical JSON, sorted), the
/// alerts the leader published (in order), the coordination edges of the
/// stored posts (CSV).
struct Outcome {
    posts: Vec<String>,
    alerts: Vec<String>,
    edges: String,
}

fn outcome(ns: &Ns, db: &Db) -> Outcome {
    let store = PgStore::connect(&db.url).unwrap();
    let mut posts: Vec<Post> = Vec::new();
    store
        .scan(&PostFilter::default(), &mut |p| {
            posts.push(p);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(store.count().unwrap(), posts.len() as u64);
    posts.sort_by(|a, b| (a.time, &a.platform, &a.id).cmp(&(b.time, &b.platform, &b.id)));
    let mut table = ShareTable::new();
    for p in &posts {
        table.push_post(p, ObjectRule::Auto);
    }
    let params = CoortweetParams {
        time_window: 10,
        min_participation: 2,
        fast_window: None,
        max_pairs_per_object: None,
    };
    let edges = Coordination::new(&table, &params)
        .unwrap()
        .run(None)
        .unwrap()
        .network(0.5, Subgraph::Full)
        .unwrap();
    let mut csv = Vec::new();
    write_edges(&mut csv, &table, &edges).unwrap();
    let mut json: Vec<String> = posts
        .iter()
        .map(|p| serde_json::to_string(p).unwrap())
        .collect();
    json.sort();
    Outcome {
        posts: json,
        alerts: ns.alerts(),
        edges: String::from_utf8(csv).unwrap(),
    }
}

fn simulate(dir: &Path) -> PathBuf {
    let file = dir.join("scenario.jsonl");
    let out = Command::new(PHAROS)
        .args([
            "-q",
            "simulate",
            "--posts",
            &POSTS.to_string(),
            "--seed",
            "16",
            "--out",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    file
}

/// 1 worker, 3 workers, and 2 workers of which the leader is killed with
/// SIGKILL mid-stream and replaced: the same posts stored once each, the
/// same alerts (none missing, none doubled), the same coordination edges.
#[test]
fn one_three_and_killed_workers_agree() {
    nats_base();
    let dir = tempfile::tempdir().unwrap();
    let file = simulate(dir.path());
    let run = |n: usize| {
        let ns = Ns::new(&format!("w{n}"));
        let db = Db::new(&unique(&format!("w{n}")));
        ingest_to_bus(&file, &ns);
        let mut w = Workers(Vec::new());
        for i in 0..n {
            w.start(&ns, &db.url, &format!("w{n}-{i}"), dir.path());
        }
        wait_done(&ns, &mut w, &format!("{n} workers"));
        drop(w);
        (outcome(&ns, &db), ns, db)
    };
    let killed = || {
        let ns = Ns::new("kill");
        let db = Db::new(&unique("kill"));
        let mut w = Workers(Vec::new());
        w.start(&ns, &db.url, "k-a", dir.path());
        w.start(&ns, &db.url, "k-b", dir.path());
        // Mid-stream: posts arrive while the workers store and analyse.
        let mut ingest = Command::new(PHAROS)
            .args(["-q", "ingest"])
            .arg(&file)
            .args(["--bus", &ns.url])
            .spawn()
            .unwrap();
        let wait_for = |what: &str, cond: &dyn Fn(&Status) -> bool| {
            let started = Instant::now();
            loop {
                let s = ns.status();
                if cond(&s) {
                    return s;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(600),
                    "{what}: {s:?}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        // First a worker that is storing, not leading, while storage is
        // under way: its unacknowledged messages go to the others.
        let storing = wait_for("storage under way", &|s| {
            s.ack_floor >= 10 && s.leader.is_some()
        });
        let leader = storing.leader.clone().unwrap().worker;
        let follower = if leader == "k-a" { "k-b" } else { "k-a" };
        w.kill9(follower);
        w.start(&ns, &db.url, "k-c", dir.path());
        // Then the leader, once it has published alerts, mid-stream.
        let at = wait_for("alerts published", &|s| {
            s.leader
                .as_ref()
                .is_some_and(|l| l.alerts > 0 && l.worker == leader)
        });
        w.kill9(&leader);
        let l = at.leader.clone().unwrap();
        assert!(
            l.processed < at.last_seq.max(1),
            "killed after the end: {at:?}"
        );
        w.start(&ns, &db.url, "k-d", dir.path());
        assert!(ingest.wait().unwrap().success());
        let done = wait_done(&ns, &mut w, "after the kills");
        assert_ne!(done.leader.as_ref().unwrap().worker, leader);
        drop(w);
        (outcome(&ns, &db), storing, at)
    };
    let (one, three, (kill, storing, at)) = std::thread::scope(|s| {
        let one = s.spawn(|| run(1));
        let three = s.spawn(|| run(3));
        let kill = s.spawn(killed);
        (
            one.join().unwrap(),
            three.join().unwrap(),
            kill.join().unwrap(),
        )
    });
    let (one, _ns1, _db1) = one;
    let (three, _ns3, _db3) = three;
    assert_eq!(one.posts.len(), POSTS, "every post stored once");
    let mut dedup = one.posts.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), POSTS);
    assert!(!one.alerts.is_empty(), "the scenario raises alerts");
    assert!(
        one.edges.lines().count() > 1,
        "the scenario has coordination edges"
    );
    assert!(
        three.posts == one.posts,
        "3 workers stored other posts than 1"
    );
    assert_eq!(
        three.alerts, one.alerts,
        "3 workers raised other alerts than 1"
    );
    assert_eq!(three.edges, one.edges);
    assert!(
        kill.posts == one.posts,
        "after kill -9: other posts than 1 worker"
    );
    assert_eq!(
        kill.alerts.len(),
        one.alerts.len(),
        "after kill -9 of the leader (at {at:?}): alerts missing or doubled"
    );
    assert_eq!(kill.alerts, one.alerts);
    assert_eq!(kill.edges, one.edges);
    eprintln!(
        "{} posts, {} alerts, {} edges; a storing worker was killed with {} of {} messages stored, \
         the leader at message {} of {} ({} alerts published)",
        one.posts.len(),
        one.alerts.len(),
        one.edges.lines().count() - 1,
        storing.ack_floor,
        storing.last_seq,
        at.leader.as_ref().unwrap().processed,
        at.last_seq,
        at.leader.as_ref().unwrap().alerts,
    );
}

/// Messages that are no posts (bad JSON, not UTF-8, posts missing their
/// fields, a large blob) are quarantined with their reason and terminated:
/// never redelivered, and the worker goes on storing what comes next.
#[test]
fn hostile_messages_are_quarantined_and_terminated() {
    let ns = Ns::new("hostile");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.db");
    let good = |id: &str| {
        format!(
            r#"{{"platform":"x","id":"{id}","actor":{{"id":"a{id}"}},"time":"2024-05-01T00:00:0{id}Z","text":"post {id}"}}"#
        )
    };
    let blob = vec![b'{'; 900 * 1024];
    let messages: Vec<Vec<u8>> = vec![
        b"not json at all".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        br#"{"platform":"x","text":"no id, no actor, no time"}"#.to_vec(),
        blob,
        format!("{}\n{{broken\n", good("1")).into_bytes(),
    ];
    let subject = ns.bus.names().posts_subject(0);
    let publish = |msgs: Vec<Vec<u8>>| {
        rt().block_on(async {
            let bus = Bus::connect(&ns.bus).await.unwrap();
            bus.posts_stream().await.unwrap();
            for m in msgs {
                bus.js
                    .publish(subject.clone(), m.into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
        })
    };
    publish(messages);
    // Larger than a message may be: the bus itself refuses it.
    let refused = rt().block_on(async {
        let bus = Bus::connect(&ns.bus).await.unwrap();
        match bus
            .js
            .publish(subject.clone(), vec![b'x'; 2 << 20].into())
            .await
        {
            Ok(ack) => ack.await.is_err(),
            Err(_) => true,
        }
    });
    assert!(refused, "a 2 MiB message was accepted");
    let mut w = Workers(Vec::new());
    w.start(&ns, store.to_str().unwrap(), "h", dir.path());
    let started = Instant::now();
    while !ns.status().stored_all() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{:?}",
            ns.status()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Past the ack wait (3 s): nothing comes back.
    std::thread::sleep(Duration::from_secs(5));
    let s = ns.status();
    assert!(s.stored_all(), "redelivered: {s:?}");
    assert!(w.all_alive(), "the worker stopped");
    // It goes on: a good post after the hostile ones is stored.
    publish(vec![good("2").into_bytes()]);
    let started = Instant::now();
    loop {
        let n = SqliteStore::open_existing(&store).unwrap().count().unwrap();
        if n == 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{n} posts stored"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // A post dated 9999 is stored, but the pipeline leaves it out: it would
    // move the pipeline's clock past every other post.
    publish(vec![
        r#"{"platform":"x","id":"9","actor":{"id":"a9"},"time":"9999-12-31T00:00:00Z","text":"from the future"}"#
            .as_bytes()
            .to_vec(),
    ]);
    let started = Instant::now();
    let s = loop {
        let s = ns.status();
        let n = SqliteStore::open_existing(&store).unwrap().count().unwrap();
        if n == 3 && s.analysed_all() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{n} posts stored, {s:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(s.leader.as_ref().unwrap().future_skipped, 1, "{s:?}");
    drop(w);
    let q = std::fs::read_to_string(dir.path().join("h.quarantine.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = q
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Bad JSON, not UTF-8, missing fields, the blob, the broken line.
    assert!(lines.len() >= 5, "{q}");
    for l in &lines {
        let file = l["file"].as_str().unwrap();
        assert!(
            file.starts_with(&format!("nats:{}#", ns.bus.names().posts_stream)),
            "{l}"
        );
        assert!(!l["reason"].as_str().unwrap().is_empty(), "{l}");
    }
    let broken = lines
        .iter()
        .find(|l| l["file"].as_str().unwrap().ends_with("#5"))
        .unwrap();
    assert_eq!(
        broken["line"], 2,
        "the bad line of a mixed message is named: {broken}"
    );
}

/// A `pharos serve` process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pharos serve --bus BUS` with `[bus] ingest = INGEST` (`bus` or `store`).
fn serve(store: &Path, bus: &str, ingest: &str, dir: &Path) -> Server {
    use std::io::BufRead;
    let config = dir.join(format!("serve-{}.toml", unique("cfg")));
    std::fs::write(&config, format!("[bus]\ningest = \"{ingest}\"\n")).unwrap();
    if !store.to_string_lossy().starts_with("postgres://") {
        drop(SqliteStore::open(store).unwrap());
    }
    let out = Command::new(PHAROS)
        .args([
            "token", "create", "--role", "admin", "--name", "t", "--json", "--store",
        ])
        .arg(store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = t["token"].as_str().unwrap().to_string();
    let mut child = Command::new(PHAROS)
        .args(["serve", "--listen", "127.0.0.1:0", "--bus", bus, "--config"])
        .arg(&config)
        .arg("--store")
        .arg(store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("pharos serve ended before it listened")
            .unwrap();
        if let Some(rest) = line.strip_prefix("pharos serve: http://") {
            break format!("http://{}", rest.split('/').next().unwrap());
        }
    };
    // Keep reading its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, base, token }
}

/// Reads a replica's live stream; sends each alert's id.
fn listen(s: &Server, ids: std::sync::mpsc::Sender<String>, ready: std::sync::mpsc::Sender<()>) {
    use std::io::BufRead;
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap();
    let resp = client
        .get(format!("{}/api/alerts/stream", s.base))
        .bearer_auth(&s.token)
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in std::io::BufReader::new(resp).lines() {
            let Ok(line) = line else { break };
            if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
                if event == "ready" {
                    let _ = ready.send(());
                }
            } else if let Some(d) = line.strip_prefix("data:")
                && event == "alert"
            {
                let v: serde_json::Value = serde_json::from_str(d.trim()).unwrap();
                if ids.send(v["id"].as_str().unwrap().to_string()).is_err() {
                    break;
                }
            }
        }
    });
}

/// Two `pharos serve --bus` replicas: an alert raised from posts ingested
/// through one reaches the SSE clients of both. Each replica has an SQLite
/// store of its own here and stores what it is sent (`[bus] ingest =
/// "store"`), so the second can only learn of the alert through the bus.
#[test]
fn replicas_share_live_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let ns = Ns::new("serve");
    replicas(
        &ns,
        &dir.path().join("a.db"),
        &dir.path().join("b.db"),
        "store",
        dir.path(),
    );
}

/// The deployment docs/deploy.md describes: two replicas over one
/// PostgreSQL store publish what they are sent to the bus (`[bus] ingest`
/// = "bus", the default), and a worker stores it. Posts ingested through
/// one replica are searchable through the other, and an alert raised from
/// them reaches the SSE clients of both (each replica analyses every post;
/// the fan-out gives each client the alert once).
#[test]
fn replicas_over_postgres_share_live_alerts() {
    let db = Db::new(&unique("serve"));
    drop(PgStore::connect(&db.url).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let ns = Ns::new("serve");
    let mut w = Workers(Vec::new());
    w.start(&ns, &db.url, "w1", dir.path());
    let url = PathBuf::from(&db.url);
    replicas(&ns, &url, &url, "bus", dir.path());
    assert!(w.all_alive(), "the worker died");
}

/// `POST /api/ingest` on a bus replica answers 503 with `Retry-After` when
/// the bus refuses the posts, here a stream that is full (created before
/// the replica with room for one message, refusing new ones) and a bus
/// that does not answer; what the bus took is not lost, and nothing is
/// stored by the replica itself.
#[test]
fn bus_ingest_answers_503_only_when_the_bus_refuses() {
    use pharos_bus::async_nats::jetstream::stream::{Config, DiscardPolicy};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let ns = Ns::new("full");
    rt().block_on(async {
        let bus = Bus::connect(&ns.bus).await.unwrap();
        bus.js
            .create_stream(Config {
                name: bus.names.posts_stream.clone(),
                subjects: vec![bus.names.posts_subjects.clone()],
                max_messages: 1,
                discard: DiscardPolicy::New,
                ..Default::default()
            })
            .await
            .unwrap();
    });
    let store = dir.path().join("s.db");
    let s = serve(&store, &ns.url, "bus", dir.path());
    let client = reqwest::blocking::Client::new();
    let post = |base: &str, token: &str, i: usize| {
        client
            .post(format!("{base}/api/ingest"))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(format!(
                "{{\"platform\":\"twitter\",\"id\":\"b{i}\",\"actor\":{{\"id\":\"u{i}\"}},\"time\":\"2024-05-01T10:00:00Z\",\"text\":\"post {i}\"}}\nnot json\n"
            ))
            .send()
            .unwrap()
    };
    let first = post(&s.base, &s.token, 1);
    assert_eq!(first.status().as_u16(), 202);
    let a: serde_json::Value = serde_json::from_slice(&first.bytes().unwrap()).unwrap();
    assert_eq!(
        (a["queued"].as_u64(), a["stored"].as_u64()),
        (Some(1), Some(0)),
        "{a}"
    );
    assert_eq!(a["rejected"], 1, "{a}");
    // The same body again: the bus drops it as a duplicate, it does not refuse it.
    let again: serde_json::Value =
        serde_json::from_slice(&post(&s.base, &s.token, 1).bytes().unwrap()).unwrap();
    assert_eq!(
        (again["queued"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(1)),
        "{again}"
    );
    // Another post: the stream is full and refuses it.
    let full = post(&s.base, &s.token, 2);
    assert_eq!(full.status().as_u16(), 503);
    assert!(full.headers().contains_key("retry-after"));
    let e: serde_json::Value = serde_json::from_slice(&full.bytes().unwrap()).unwrap();
    assert_eq!(e["error"], "overloaded", "{e}");
    assert!(e["message"].as_str().unwrap_or("").contains("bus"), "{e}");
    assert_eq!(
        ns.status().messages,
        1,
        "the post the bus took is still there"
    );
    drop(s);
    assert_eq!(
        SqliteStore::open(&store).unwrap().count().unwrap(),
        0,
        "the replica stored posts itself"
    );

    // A bus nobody answers at.
    let gone = dir.path().join("gone.db");
    let s = serve(&gone, "nats://127.0.0.1:9/nobody", "bus", dir.path());
    let r = post(&s.base, &s.token, 3);
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().contains_key("retry-after"));
}

fn replicas(ns: &Ns, store_a: &Path, store_b: &Path, ingest: &str, dir: &Path) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let a = serve(store_a, &ns.url, ingest, dir);
    let b = serve(store_b, &ns.url, ingest, dir);
    let (a_tx, a_ids) = std::sync::mpsc::channel();
    let (b_tx, b_ids) = std::sync::mpsc::channel();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    listen(&a, a_tx, ready_tx.clone());
    listen(&b, b_tx, ready_tx);
    for _ in 0..2 {
        ready
            .recv_timeout(Duration::from_secs(30))
            .expect("SSE ready");
    }
    let file = dir.join("s.jsonl");
    let out = Command::new(PHAROS)
        .args([
            "-q", "simulate", "--posts", "20000", "--days", "2", "--seed", "3", "--out",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let client = reqwest::blocking::Client::new();
    for chunk in lines.chunks(2000) {
        let r = client
            .post(format!("{}/api/ingest", a.base))
            .bearer_auth(&a.token)
            .header("content-type", "application/x-ndjson")
            .body(chunk.join("\n"))
            .send()
            .unwrap();
        let expected = if ingest == "bus" { 202 } else { 200 };
        assert_eq!(r.status().as_u16(), expected, "ingest");
    }
    // A post sent to replica a can be read through replica b (on the bus:
    // once a worker stored it).
    let last: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    let (platform, id) = (
        last["platform"].as_str().unwrap(),
        last["id"].as_str().unwrap(),
    );
    if store_a == store_b {
        let started = Instant::now();
        loop {
            let r = client
                .get(format!("{}/api/posts/{platform}/{id}", b.base))
                .bearer_auth(&b.token)
                .send()
                .unwrap();
            if r.status().is_success() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "post {platform}/{id} sent to replica a is not readable through b: {}",
                r.status()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let first = a_ids
        .recv_timeout(Duration::from_secs(120))
        .expect("no alert on the replica that took the posts");
    let started = Instant::now();
    loop {
        let left = Duration::from_secs(60).saturating_sub(started.elapsed());
        match b_ids.recv_timeout(left) {
            Ok(id) if id == first => break,
            Ok(_) => continue,
            Err(_) => panic!("alert {first} never reached the other replica's SSE clients"),
        }
    }
}
