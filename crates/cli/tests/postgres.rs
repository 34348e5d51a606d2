//! `--store postgres://…` (issue 16): the same commands over PostgreSQL give
//! what they give over SQLite, and two `pharos serve` replicas share one
//! database.
//!
//! Needs a PostgreSQL server at `PHAROS_PG_URL` (default
//! `postgres://root@127.0.0.1:5432/postgres`, trust authentication): each
//! test creates a database of its own (`pharos_test_<pid>_<n>`) and drops it
//! at the end. Without a server the tests fail, naming what is missing.
#![cfg(feature = "real-data")]

use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

// ------------------------------------------------------------ databases

fn pg_url() -> String {
    std::env::var("PHAROS_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string())
}

fn admin() -> postgres::Client {
    postgres::Client::connect(&pg_url(), postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "these tests (pharos-cli, feature real-data) need a PostgreSQL server at PHAROS_PG_URL \
             (now {}; default postgres://root@127.0.0.1:5432/postgres): {e}",
            pg_url()
        )
    })
}

/// A database of this test's own, dropped with the guard.
struct Db {
    name: String,
    url: String,
}

impl Db {
    fn fresh() -> Db {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "pharos_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut c = admin();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
        let base = pg_url();
        let (scheme, rest) = base
            .split_once("://")
            .expect("PHAROS_PG_URL is a postgres:// URL");
        let host = rest.split('/').next().unwrap_or(rest);
        Db {
            url: format!("{scheme}://{host}/{name}"),
            name,
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

// ------------------------------------------------------------ running pharos

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pharos"));
    cmd.args(args).current_dir(dir);
    for var in [
        "PHAROS_STORE",
        "PHAROS_LIBRARY",
        "PHAROS_EMBED_MODEL",
        "PHAROS_PSEUDONYM_KEY_FILE",
        "PHAROS_PRODUCER",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("PHAROS_OFFLINE", "1");
    cmd.env("PHAROS_DATA_DIR", dir.join("no-data-dir"));
    cmd
}

/// `pharos ARGS` in `dir`; fails the test unless it exits 0.
fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = command(dir, args).output().expect("run pharos");
    assert!(
        out.status.success(),
        "pharos {args:?} exited {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

/// A simulated scenario of `posts` posts in `dir/s.jsonl`.
fn scenario(dir: &Path, posts: u64) -> std::path::PathBuf {
    let out = dir.join("s.jsonl");
    ok(
        dir,
        &[
            "simulate",
            "--posts",
            &posts.to_string(),
            "--seed",
            "11",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ],
    );
    out
}

// ------------------------------------------------------------ same findings

/// A simulated scenario (planted campaigns) ingested into SQLite and into
/// PostgreSQL: `pharos assess` finds the same incidents and alerts (ids and
/// contents), and stats, export and coordination agree.
#[test]
fn same_findings_on_both_stores() {
    let db = Db::fresh();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let posts = scenario(dir, 20_000);
    let posts = posts.to_str().unwrap();
    let sqlite = dir.join("s.db");
    let sqlite = sqlite.to_str().unwrap();
    let pg = db.url.as_str();

    for store in [sqlite, pg] {
        let i = json(&ok(dir, &["ingest", posts, "--store", store, "--json"]));
        assert_eq!(i["stored"], 20_000, "{store}: {i}");
    }

    // Stats: every figure the same (they are counted by different SQL).
    let stats: Vec<Value> = [sqlite, pg]
        .iter()
        .map(|s| json(&ok(dir, &["stats", "--store", s, "--json", "--top", "20"])))
        .collect();
    assert_eq!(stats[0]["posts"], 20_000);
    assert_eq!(stats[0], stats[1]);

    // Export: the same canonical records in the same order.
    let exports: Vec<Vec<u8>> = [sqlite, pg]
        .iter()
        .map(|s| ok(dir, &["export", "--store", s]).stdout)
        .collect();
    assert_eq!(exports[0].iter().filter(|b| **b == b'\n').count(), 20_000);
    assert!(exports[0] == exports[1], "the exports differ");

    // Assess: the same incidents (ids, titles, evidence, everything) and
    // the same alerts, in the same order.
    for (store, out) in [(sqlite, "out-sqlite"), (pg, "out-pg")] {
        ok(
            dir,
            &["assess", "--store", store, "--out", out, "--json", "-q"],
        );
    }
    let incidents: Vec<Value> = ["out-sqlite", "out-pg"]
        .iter()
        .map(|o| read_json(&dir.join(o).join("incidents.json")))
        .collect();
    let list = incidents[0]
        .as_array()
        .or_else(|| incidents[0]["incidents"].as_array())
        .expect("incidents.json holds a list");
    assert!(
        list.len() >= 2,
        "the planted campaigns make incidents: {}",
        incidents[0]
    );
    assert_eq!(incidents[0], incidents[1], "incidents differ");
    let alerts: Vec<Vec<Value>> = ["out-sqlite", "out-pg"]
        .iter()
        .map(|o| jsonl(&dir.join(o).join("alerts.jsonl")))
        .collect();
    assert!(!alerts[0].is_empty(), "the scenario raises alerts");
    assert_eq!(alerts[0], alerts[1], "alerts differ");
    // Incidents saved in each store read back the same (pharos export stix
    // reads them from the store).
    let stix: Vec<Value> = [(sqlite, "stix-sqlite.json"), (pg, "stix-pg.json")]
        .iter()
        .map(|(s, f)| {
            ok(dir, &["export", "stix", "--store", s, "--out", f]);
            read_json(&dir.join(f))
        })
        .collect();
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&stix[0]), ids(&stix[1]), "STIX objects differ");

    // Coordination over each store: the same networks.
    let reports: Vec<Value> = [(sqlite, "c-sqlite.json"), (pg, "c-pg.json")]
        .iter()
        .map(|(s, f)| {
            ok(dir, &["coordination", "--store", s, "--json", f]);
            let mut v = read_json(&dir.join(f));
            // Where the posts came from is the one thing that differs.
            v["parameters"]["source"]["store"] = Value::Null;
            strip_timings(&mut v);
            v
        })
        .collect();
    assert!(
        reports[0]["summary"].is_object() || reports[0]["communities"].is_array(),
        "a coordination report: {}",
        reports[0]
    );
    assert_eq!(reports[0], reports[1], "coordination reports differ");
}

/// Drops fields that measure time taken (`elapsed_s`, `*_ms` of timing).
fn strip_timings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !(k.contains("elapsed") || k.ends_with("_seconds")));
            for x in m.values_mut() {
                strip_timings(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_timings),
        _ => {}
    }
}

// ------------------------------------------------------------ CLI smoke

/// The everyday commands on a PostgreSQL store: ingest (again: all
/// duplicates; bad records quarantined), stats, export round trip, tokens,
/// the audit log.
#[test]
fn cli_commands_on_postgres() {
    let db = Db::fresh();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let posts = scenario(dir, 3_000);
    let posts = posts.to_str().unwrap();
    let pg = db.url.as_str();

    let first = json(&ok(dir, &["ingest", posts, "--store", pg, "--json"]));
    assert_eq!(
        (first["stored"].as_u64(), first["duplicates"].as_u64()),
        (Some(3000), Some(0))
    );
    let again = json(&ok(dir, &["ingest", posts, "--store", pg, "--json"]));
    assert_eq!(
        (again["stored"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(3000))
    );

    // A bad record is quarantined: a PostgreSQL store has no file to sit
    // beside, so the quarantine is DB.quarantine.jsonl in the current
    // directory, and the summary names it.
    let bad = dir.join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"platform\":\"x\",\"id\":\"ok1\",\"actor\":{\"id\":\"a\"},\"time\":\"2025-01-01T00:00:00Z\",\"text\":\"fine\"}\n{not json\n",
    )
    .unwrap();
    let q = json(&ok(
        dir,
        &["ingest", bad.to_str().unwrap(), "--store", pg, "--json"],
    ));
    assert_eq!(q["stored"], 1, "{q}");
    assert_eq!(q["quarantined"], 1, "{q}");
    let qfile = format!("{}.quarantine.jsonl", db.name);
    assert_eq!(q["quarantine_file"], qfile.as_str(), "{q}");
    let rejected = jsonl(&dir.join(&qfile));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["line"], 2, "{}", rejected[0]);

    let stats = json(&ok(dir, &["stats", "--store", pg, "--json"]));
    assert_eq!(stats["posts"], 3001, "{stats}");
    assert_eq!(stats["quarantined"], 1, "{stats}");
    let text = String::from_utf8(ok(dir, &["stats", "--store", pg]).stdout).unwrap();
    assert!(text.contains("3001 posts"), "{text}");

    // Export round trip: what is exported, ingested into a second store,
    // exports the same.
    let exported = dir.join("out.jsonl");
    ok(
        dir,
        &["export", "--store", pg, "--out", exported.to_str().unwrap()],
    );
    let copy = Db::fresh();
    let c = json(&ok(
        dir,
        &[
            "ingest",
            exported.to_str().unwrap(),
            "--store",
            &copy.url,
            "--json",
        ],
    ));
    assert_eq!(c["stored"], 3001, "{c}");
    let back = ok(dir, &["export", "--store", &copy.url]).stdout;
    assert!(
        back == std::fs::read(&exported).unwrap(),
        "the export of the copy differs from the original's"
    );

    // Tokens and the audit log live in the database too.
    let made = ok(
        dir,
        &[
            "token", "create", "--role", "analyst", "--name", "ann", "--store", pg,
        ],
    );
    let token = String::from_utf8(made.stdout).unwrap();
    assert!(token.trim().starts_with("pharos_"), "{token}");
    let list = String::from_utf8(ok(dir, &["token", "list", "--store", pg]).stdout).unwrap();
    assert!(list.contains("analyst") && list.contains("ann"), "{list}");
    let verify = ok(dir, &["audit", "verify", "--store", pg]);
    let said = String::from_utf8_lossy(&verify.stderr).to_string()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(said.contains("chain whole"), "{said}");

    // An absent database is named (no store is created by readers).
    let missing = format!("{}_absent", db.url);
    let out = command(dir, &["stats", "--store", &missing])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("_absent"), "{err}");
}

// ------------------------------------------------------------ replicas

/// A running `pharos serve`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(dir: &Path, store: &str) -> Server {
        let mut child = command(dir, &["serve", "--store", store, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pharos serve");
        // The first line on stderr names the address it listens on.
        let mut err = child.stderr.take().unwrap();
        let mut seen = Vec::new();
        let started = Instant::now();
        let addr = loop {
            let mut b = [0u8; 1];
            match err.read(&mut b) {
                Ok(1) => seen.push(b[0]),
                _ => panic!(
                    "pharos serve stopped before listening: {}",
                    String::from_utf8_lossy(&seen)
                ),
            }
            let text = String::from_utf8_lossy(&seen);
            if let Some(rest) = text.split("http://").nth(1)
                && let Some(end) = rest.find('/')
            {
                break rest[..end].to_string();
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{text}");
        };
        // Keep reading stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = err.read_to_end(&mut sink);
        });
        Server { child, addr }
    }

    /// `METHOD path` with a bearer token; (status, body).
    fn http(&self, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, String) {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        let resp = String::from_utf8_lossy(&resp).to_string();
        let status = resp
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let (headers, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        let body = if headers
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, body)
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two `pharos serve` replicas on one PostgreSQL database: a post ingested
/// through one is found (by id and by full-text search) through the other.
#[test]
fn two_serve_replicas_share_one_database() {
    let db = Db::fresh();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pg = db.url.as_str();
    // Some posts before the servers start (the store must exist for serve).
    let posts = scenario(dir, 500);
    ok(dir, &["ingest", posts.to_str().unwrap(), "--store", pg]);
    let made = ok(
        dir,
        &[
            "token", "create", "--role", "analyst", "--name", "ann", "--store", pg,
        ],
    );
    let token = String::from_utf8(made.stdout).unwrap().trim().to_string();

    let a = Server::start(dir, pg);
    let b = Server::start(dir, pg);
    assert_ne!(a.addr, b.addr);

    let post = "{\"platform\":\"twitter\",\"id\":\"replica-1\",\"actor\":{\"id\":\"u-replica\"},\
                \"time\":\"2025-03-10T00:00:00Z\",\"text\":\"zanzibar lighthouse keepers gather\"}\n";
    let (status, body) = a.http("POST", "/api/ingest", &token, post.as_bytes());
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["stored"], 1, "{v}");

    // Through the other replica: by id at once (it is committed), by full
    // text once a writer indexed it (in the background).
    let (status, body) = b.http("GET", "/api/posts/twitter/replica-1", &token, b"");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("zanzibar lighthouse"), "{body}");
    let started = Instant::now();
    loop {
        let (status, body) = b.http("GET", "/api/posts?q=zanzibar", &token, b"");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let ids: Vec<&str> = v["posts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["id"].as_str())
            .collect();
        if ids == ["replica-1"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "replica B never found the post ingested through A: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Both replicas count it (their statistics read the one database).
    for r in [&a, &b] {
        let (status, body) = r.http("GET", "/api/stats", &token, b"");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["posts"], 501, "{}: {v}", r.addr);
    }
    drop(a);
    drop(b);
    // Both replicas wrote the one audit log, and its chain is whole.
    let verify = ok(dir, &["audit", "verify", "--store", pg]);
    let said = String::from_utf8_lossy(&verify.stderr).to_string()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(said.contains("chain whole"), "{said}");
}
