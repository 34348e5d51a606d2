//! A narrative's posts from the live analysis' members are those one pass
//! over the store finds (same posts, same order, same label), also after
//! live ingest; once posts arrive out of event-time order the server reads
//! the store instead.

use pharos_claims::respond::scan;
use pharos_core::{EventTime, Post};
use pharos_server::claims::{Found, narrative_posts};
use pharos_server::state::AppState;
use pharos_server::{Config, start};
use pharos_store::{SqliteStore, Store};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn max_rowid(s: &SqliteStore) -> i64 {
    s.conn()
        .query_row("SELECT COALESCE(MAX(rowid), 0) FROM posts", [], |r| {
            r.get(0)
        })
        .unwrap()
}

/// Waits until the live analysis has analysed and published every stored post.
fn caught_up(st: &AppState, s: &SqliteStore) {
    let max = max_rowid(s);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        {
            let snap = st.snapshot.read().unwrap();
            if snap.ready && snap.members.analysed_rowid >= max && snap.published_rowid >= max {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the analysis did not catch up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The narratives to compare: the largest, and some of two posts.
fn narratives(st: &AppState) -> Vec<u64> {
    let snap = st.snapshot.read().unwrap();
    let mut all: Vec<(u64, u64)> = snap
        .narratives
        .iter()
        .map(|n| (n.total_posts, n.id))
        .collect();
    all.sort_by(|a, b| b.cmp(a));
    let mut out: Vec<u64> = all.iter().take(8).map(|x| x.1).collect();
    out.extend(all.iter().rev().take(4).map(|x| x.1));
    out
}

fn keys(posts: &[Post]) -> Vec<(String, String)> {
    posts
        .iter()
        .map(|p| (p.platform.clone(), p.id.clone()))
        .collect()
}

/// Compares the server's answer for each narrative with one pass over the
/// store; returns how the server found them.
fn compare(st: &AppState, s: &SqliteStore, ns: &[u64]) -> Vec<Found> {
    let wanted: HashSet<u64> = ns.iter().copied().collect();
    let mut pass = scan::scan(s, &wanted, None, &mut |_| {}).unwrap();
    let mut how = Vec::new();
    for &n in ns {
        let (posts, label, found) = narrative_posts(st, s, n).unwrap();
        let want: Vec<Post> = pass
            .posts
            .remove(&n)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.post)
            .collect();
        assert!(!want.is_empty(), "narrative {n} has posts");
        assert_eq!(
            keys(&posts),
            keys(&want),
            "narrative {n}: posts ({found:?})"
        );
        assert_eq!(posts, want, "narrative {n}: records");
        assert_eq!(
            label,
            pass.summaries.get(&n).map(|s| s.label.text.clone()),
            "narrative {n}: label"
        );
        how.push(found);
    }
    how
}

#[test]
fn narrative_posts_from_the_live_analysis_equal_a_pass_over_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    let scenario = dir.path().join("scenario.jsonl");
    pharos_sim::write_scenario(
        &pharos_sim::SimConfig::new(3_000, 11),
        &scenario,
        &mut |_| {},
    )
    .unwrap();
    let buf = std::fs::read(&scenario).unwrap();
    let mut posts: Vec<Post> = buf
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    // Stored out of event-time order (the start-up read sorts them), the
    // last sixth held back for live ingest.
    posts.sort_by_key(|p| p.time);
    let later = posts.split_off(posts.len() * 5 / 6);
    posts.reverse();
    let mut store = SqliteStore::open(&path).unwrap();
    store.insert(&posts).unwrap();
    drop(store);
    let st = start(&path, Config::default()).unwrap();
    let reader = SqliteStore::open(&path).unwrap();
    caught_up(&st, &reader);
    let ns = narratives(&st);
    assert!(ns.len() >= 8, "the scenario has narratives");
    assert!(
        compare(&st, &reader, &ns).iter().all(|f| *f == Found::Live),
        "no pass over the store after start-up"
    );

    // Live: newer posts in three batches, beside the server.
    let mut writer = SqliteStore::open(&path).unwrap();
    for chunk in later.chunks(later.len() / 3 + 1) {
        writer.insert(chunk).unwrap();
        caught_up(&st, &reader);
    }
    let ns = narratives(&st);
    assert!(
        compare(&st, &reader, &ns).iter().all(|f| *f == Found::Live),
        "no pass over the store after live ingest in order"
    );

    // A post older than those analysed: the live order is no longer the
    // store's, so the server reads the store (and still answers the same).
    let mut old = later[0].clone();
    old.id = format!("{}-late", old.id);
    old.time = EventTime(posts.last().unwrap().time.millis() - 1);
    writer.insert(&[old]).unwrap();
    caught_up(&st, &reader);
    assert!(!st.snapshot.read().unwrap().members.in_store_order);
    let ns = narratives(&st);
    assert!(
        compare(&st, &reader, &ns[..3])
            .iter()
            .all(|f| *f == Found::Scan)
    );
}
