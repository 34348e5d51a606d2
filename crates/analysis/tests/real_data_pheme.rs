//! PHEME (real data): how early rumour threads are flagged compared with
//! non-rumour threads.
//!
//! Every reply thread is one `conversation` entity (key = the thread id);
//! each tweet of the thread (source and replies, in time order, both
//! events interleaved as they happened) is one observation, its author the
//! actor, flagged suspicious when the account was younger than 150 days.
//! The detector runs with its defaults. For each thread: was an alert
//! opened on it, and how long after the source tweet. The figures asserted
//! here are those in `docs/early-warning.md`.
//!
//! `cargo test -p pharos-analysis --features real-data --test real_data_pheme -- --nocapture`
#![cfg(feature = "real-data")]

use pharos_analysis::bursts::{
    ActorFlags, AlertEvent, BurstConfig, BurstDetector, EntityKind, Observation,
};
use pharos_core::EventTime;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

fn reader(path: &Path) -> csv::Reader<std::fs::File> {
    let f =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    // Records end at LF only: some tweets hold a bare CR inside an unquoted field.
    csv::ReaderBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(f)
}

fn col(headers: &csv::StringRecord, name: &str, path: &Path) -> usize {
    headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{} has no column {name:?}", path.display()))
}

/// Tweet of a thread table.
struct Row {
    thread: String,
    user: String,
    created: i64,
    rumour: bool,
    young: bool,
}

fn read_threads(event: &str) -> Vec<Row> {
    let path = data_dir()
        .join("pheme/threads")
        .join(format!("{event}.csv"));
    let mut r = reader(&path);
    let h = r.headers().unwrap().clone();
    let (ct, cu, cc, cr, cuc) = (
        col(&h, "thread", &path),
        col(&h, "user_id", &path),
        col(&h, "created", &path),
        col(&h, "is_rumor", &path),
        col(&h, "user.created_at", &path),
    );
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let created = rec[cc].parse::<f64>().unwrap() as i64;
        let ucreated = rec[cuc].parse::<f64>().unwrap_or(0.0) as i64;
        rows.push(Row {
            thread: rec[ct].to_string(),
            user: rec[cu].to_string(),
            created,
            rumour: rec[cr].trim() == "1",
            young: ucreated > 0 && created - ucreated < 150 * 86_400_000,
        });
    }
    rows
}

/// The flat table (text, is_rumor, user.handle, created): checks it reads.
fn read_flat(event: &str) -> (usize, usize) {
    let path = data_dir().join("pheme").join(format!("{event}.csv"));
    let mut r = reader(&path);
    let h = r.headers().unwrap().clone();
    let (ct, cr, ch, cc) = (
        col(&h, "text", &path),
        col(&h, "is_rumor", &path),
        col(&h, "user.handle", &path),
        col(&h, "created", &path),
    );
    let (mut n, mut rumours) = (0, 0);
    for rec in r.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!rec[ch].is_empty());
        assert!(rec[cc].parse::<f64>().unwrap() > 1.4e12);
        let _ = &rec[ct];
        n += 1;
        rumours += (rec[cr].trim() == "1") as usize;
    }
    (n, rumours)
}

#[derive(Debug, Default)]
struct ClassFigures {
    threads: usize,
    alerted: usize,
    /// Minutes from the source tweet to the first alert, sorted.
    delays: Vec<f64>,
    /// For alerted threads: share of the thread's tweets posted after the alert, sorted.
    after: Vec<f64>,
}

impl ClassFigures {
    fn quantile(&self, q: f64) -> f64 {
        quantile(&self.delays, q)
    }
    fn share(&self) -> f64 {
        self.alerted as f64 / self.threads as f64
    }
}

fn quantile(d: &[f64], q: f64) -> f64 {
    {
        if d.is_empty() {
            return f64::NAN;
        }
        d[((d.len() - 1) as f64 * q).round() as usize]
    }
}

/// Runs the detector over both events; figures per class (rumour, non-rumour).
fn figures() -> BTreeMap<&'static str, ClassFigures> {
    let mut rows = Vec::new();
    for ev in ["germanwings-crash", "ottawashooting"] {
        rows.extend(read_threads(ev));
    }
    rows.sort_by(|a, b| a.created.cmp(&b.created).then(a.thread.cmp(&b.thread)));
    let mut start: BTreeMap<&str, (i64, bool)> = BTreeMap::new();
    for r in &rows {
        let e = start.entry(&r.thread).or_insert((r.created, r.rumour));
        e.0 = e.0.min(r.created);
    }
    let mut d = BurstDetector::new(BurstConfig::default());
    let mut out = Vec::new();
    for r in &rows {
        let o = Observation {
            kind: EntityKind::Conversation,
            key: r.thread.as_str().into(),
            time: EventTime(r.created),
            actor: &r.user,
            platform: "twitter",
            lang: None,
            flags: if r.young {
                ActorFlags::SUSPICIOUS
            } else {
                ActorFlags::NONE
            },
            post: &r.thread,
        };
        d.observe(&o, &mut out);
    }
    d.finish(&mut out);
    let mut first: BTreeMap<String, i64> = BTreeMap::new();
    for ev in &out {
        if let AlertEvent::Opened(a) = ev {
            first
                .entry(a.entity.clone())
                .or_insert(a.opened_at.millis());
        }
    }
    let mut times: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for r in &rows {
        times.entry(&r.thread).or_default().push(r.created);
    }
    let mut f: BTreeMap<&'static str, ClassFigures> = BTreeMap::new();
    for (thread, (t0, rumour)) in &start {
        let c = f
            .entry(if *rumour { "rumour" } else { "non-rumour" })
            .or_default();
        c.threads += 1;
        if let Some(t) = first.get(*thread) {
            c.alerted += 1;
            c.delays.push((t - t0) as f64 / 60_000.0);
            let ts = &times[*thread];
            c.after
                .push(ts.iter().filter(|&&x| x > *t).count() as f64 / ts.len() as f64);
        }
    }
    for c in f.values_mut() {
        c.delays.sort_by(|a, b| a.total_cmp(b));
        c.after.sort_by(|a, b| a.total_cmp(b));
    }
    f
}

#[test]
fn pheme_reads() {
    // (tweets, rumour tweets)
    assert_eq!(read_flat("germanwings-crash"), (4489, 2494));
    assert_eq!(read_flat("ottawashooting"), (12284, 6436));
    let g = read_threads("germanwings-crash");
    let o = read_threads("ottawashooting");
    assert_eq!(g.len(), 4489);
    assert_eq!(o.len(), 12284);
}

#[test]
fn rumour_threads_flagged_earlier_or_not() {
    let f = figures();
    for (class, c) in &f {
        println!(
            "{class}: {} threads, {} alerted ({:.1} %), minutes from source tweet to first alert: p25 {:.1}, median {:.1}, p75 {:.1}; share of the thread still to come at the alert: median {:.2}",
            c.threads,
            c.alerted,
            100.0 * c.share(),
            c.quantile(0.25),
            c.quantile(0.5),
            c.quantile(0.75),
            quantile(&c.after, 0.5)
        );
    }
    // The figures in docs/early-warning.md.
    let r = &f["rumour"];
    let n = &f["non-rumour"];
    assert_eq!((r.threads, r.alerted), (708, 134));
    assert_eq!((n.threads, n.alerted), (651, 117));
    let round = |x: f64| (x * 10.0).round() / 10.0;
    assert_eq!(
        [r.quantile(0.25), r.quantile(0.5), r.quantile(0.75)].map(round),
        [3.0, 5.0, 7.1]
    );
    assert_eq!(
        [n.quantile(0.25), n.quantile(0.5), n.quantile(0.75)].map(round),
        [2.9, 4.7, 8.4]
    );
    assert_eq!((quantile(&r.after, 0.5) * 100.0).round(), 60.0);
    assert_eq!((quantile(&n.after, 0.5) * 100.0).round(), 59.0);
}
