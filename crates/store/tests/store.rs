//! The store test suite, run on SQLite and on PostgreSQL (see
//! `backend/mod.rs`). Tests of one backend's own format (old SQLite files,
//! SQLite's bulk-load indexes) are in `sqlite.rs` and `compat.rs`.

mod backend;

use backend::{Backend, raw_count, raw_sql};
use pharos_core::{Actor, EventTime, Post};
use pharos_store::taxii::NewObject;
use pharos_store::*;
use std::ops::ControlFlow;

both!(
    insert_is_idempotent_and_scan_is_time_ordered,
    filters_by_time_and_platform,
    open_existing_refuses_missing_store,
    newer_schema_is_refused_not_damaged,
    encoded_insert_is_idempotent_and_keeps_records_exactly,
    batches_in_one_transaction_count_each_batch,
    batches_give_each_stored_post_its_rowid_and_duplicates_zero,
    duplicates_within_a_batch_keep_the_first,
    interrupted_encoded_bulk_load_is_resumable,
    a_bulk_load_stores_posts_repeated_across_batches_once,
    the_post_log_follows_storage_and_event_time_order,
    a_scan_visitor_may_write_to_the_same_store,
    ties_in_event_time_come_in_insertion_order_across_pages,
    an_unreadable_stored_post_is_skipped_and_counted,
    hostile_text_and_ids_are_stored_and_read_back,
    ids_links_and_tags_at_the_ingest_caps_are_stored_and_found,
    actor_summary_counts_an_accounts_posts,
    full_text_search_finds_words_prefixes_and_phrases,
    search_filters_and_pages_newest_first,
    claim_matches_are_replaced_per_post,
    incidents_are_saved_and_replaced,
    responses_are_logged,
    the_disarm_catalogue_counts_what_changed,
    stix_objects_keep_the_newer_version,
    tokens_are_found_by_hash_until_revoked,
    markings_are_set_and_replaced,
    taxii_objects_are_added_once_with_increasing_times,
    the_audit_log_only_grows,
    the_audit_log_is_a_hash_chain_and_tampering_is_found,
    a_batch_and_its_audit_row_are_stored_together_or_not_at_all,
    other_changes_and_their_audit_rows_are_stored_together_or_not_at_all,
    media_records_are_replaced_by_reference_and_attached_to_posts,
);

fn post(id: &str, t: i64, actor: &str, tags: &[&str], link: Option<&str>) -> Post {
    let mut p = Post {
        platform: "twitter".into(),
        id: id.into(),
        actor: Actor {
            id: actor.into(),
            handle: Some(format!("h_{actor}")),
            ..Default::default()
        },
        time: EventTime(t),
        text: format!("post {id}"),
        lang: Some("en".into()),
        hashtags: tags.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    if let Some(l) = link {
        p.add_link(l);
        p.refresh_domains();
    }
    p
}

fn all<S: Backend>(s: &S) -> Vec<Post> {
    let mut seen = vec![];
    s.scan(&PostFilter::default(), &mut |p| {
        seen.push(p);
        ControlFlow::Continue(())
    })
    .unwrap();
    seen
}

fn link_and_tag_rows<S: Backend>(location: &str) -> (i64, i64) {
    (
        raw_count::<S>(location, "SELECT COUNT(*) FROM post_links"),
        raw_count::<S>(location, "SELECT COUNT(*) FROM post_hashtags"),
    )
}

fn insert_is_idempotent_and_scan_is_time_ordered<S: Backend>() {
    let fx = S::fresh();
    let backend::Fixture {
        mut store,
        location,
        guard,
    } = fx;
    assert!(store.version() >= 1);
    let batch = vec![
        post(
            "2",
            2_000,
            "a",
            &["x"],
            Some("https://www.ex.com/a?utm_source=t"),
        ),
        post("1", 1_000, "b", &["x", "y"], None),
        post("1", 1_000, "b", &[], None), // duplicate inside the batch
    ];
    let r = store.insert(&batch).unwrap();
    assert_eq!((r.stored, r.duplicates), (2, 1));
    let r = store.insert(&batch).unwrap();
    assert_eq!((r.stored, r.duplicates), (0, 3));
    assert_eq!(store.count().unwrap(), 2);

    let seen = all(&store);
    assert_eq!(
        seen.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["1", "2"]
    );
    assert_eq!(seen[1], batch[0], "records come back exactly as stored");

    let got = store.get("twitter", "2").unwrap().unwrap();
    assert_eq!(got.links[0].url, "https://www.ex.com/a");
    assert_eq!(store.get("twitter", "3").unwrap(), None);
    assert_eq!(store.platforms_with_id("1").unwrap(), ["twitter"]);

    let st = store.stats(10).unwrap();
    assert_eq!(st.posts, 2);
    assert_eq!(st.actors, 2);
    assert_eq!(st.top_hashtags[0].key, "x");
    assert_eq!(st.top_hashtags[0].count, 2);
    assert_eq!(st.top_domains[0].key, "ex.com");
    assert_eq!(st.by_day[0].key, "1970-01-01");
    assert_eq!(st.by_platform[0].key, "twitter");
    assert_eq!(st.by_language[0].key, "en");
    assert_eq!(st.first.as_deref(), Some("1970-01-01T00:00:01.000Z"));
    assert!(st.top_actors[0].key.starts_with("twitter:"));
    assert!(st.top_actors.iter().any(|c| c.key == "twitter:a (@h_a)"));

    store
        .record_run(&RunRecord {
            command: "ingest".into(),
            sources: vec!["f.jsonl".into()],
            stored: 2,
            duplicates: 1,
            quarantined: 4,
            started_ms: 1,
            finished_ms: 2,
        })
        .unwrap();
    assert_eq!(store.stats(1).unwrap().quarantined, 4);
    let (posts_stamp, runs_stamp) = store.write_stamp().unwrap();
    assert_eq!((posts_stamp, runs_stamp), (2, 1));

    // Re-opening keeps everything and does not re-run migrations.
    drop(store);
    let s = S::open_existing_at(&location).unwrap();
    assert_eq!(s.count().unwrap(), 2);
    drop(s);
    drop(guard);
}

fn filters_by_time_and_platform<S: Backend>() {
    let mut s = S::fresh();
    let mut posts: Vec<Post> = (0..10)
        .map(|i| post(&i.to_string(), i * 1000, "a", &[], None))
        .collect();
    posts[9].platform = "telegram".into();
    s.insert(&posts).unwrap();
    let mut n = 0;
    let f = PostFilter {
        since: Some(EventTime(2000)),
        until: Some(EventTime(5000)),
        platform: None,
    };
    s.scan(&f, &mut |_| {
        n += 1;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(n, 3, "since inclusive, until exclusive");
    let f = PostFilter {
        platform: Some("telegram".into()),
        ..Default::default()
    };
    let mut ids = vec![];
    s.scan(&f, &mut |p| {
        ids.push(p.id);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(ids, ["9"]);
    // A visitor that stops is not called again.
    let mut calls = 0;
    s.scan(&PostFilter::default(), &mut |_| {
        calls += 1;
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(calls, 1);
}

fn open_existing_refuses_missing_store<S: Backend>() {
    let fx = S::fresh();
    let err = S::open_existing_at(&S::missing(&fx)).err().unwrap();
    assert!(
        err.to_string().contains("no store here") || err.to_string().contains("no database"),
        "{err}"
    );
}

fn newer_schema_is_refused_not_damaged<S: Backend>() {
    let backend::Fixture {
        store,
        location,
        guard,
    } = S::fresh();
    drop(store);
    let bump = if S::NAME == "sqlite" {
        "PRAGMA user_version = 99"
    } else {
        "UPDATE components SET version = 99 WHERE name = 'posts'"
    };
    if S::NAME == "sqlite" {
        let c = rusqlite::Connection::open(&location).unwrap();
        c.execute_batch(bump).unwrap();
    } else {
        raw_sql::<S>(&location, bump).unwrap();
    }
    let err = S::open_at(&location).err().unwrap();
    assert!(err.to_string().contains("newer"), "{err}");
    drop(guard);
}

fn encoded_insert_is_idempotent_and_keeps_records_exactly<S: Backend>() {
    let mut s = S::fresh();
    let mut p2 = post("2", 20, "b", &["x", "y"], Some("https://e.com/a"));
    p2.reply_to = Some("1".into());
    p2.text = "«ünïcödé» \"quoted\" \\ tab\t".into();
    let posts = vec![post("1", 10, "a", &[], None), p2];
    let mut batch = EncodedPosts::new();
    batch.extend(&posts).unwrap();
    let first = s.insert_encoded(&batch).unwrap();
    assert_eq!((first.stored, first.duplicates), (2, 0));
    let again = s.insert_encoded(&batch).unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 2));
    assert_eq!(s.count().unwrap(), 2);
    // Links and hashtags of the ignored duplicates were not added again.
    assert_eq!(link_and_tag_rows::<S>(&s.location), (1, 2));
    for p in &posts {
        assert_eq!(s.get(&p.platform, &p.id).unwrap().as_ref(), Some(p));
    }
    // An empty batch is no transaction's business.
    let none = s.insert_encoded(&EncodedPosts::new()).unwrap();
    assert_eq!(none, Inserted::default());
}

fn batches_in_one_transaction_count_each_batch<S: Backend>() {
    let mut s = S::fresh();
    let mut a = EncodedPosts::new();
    a.extend(&[
        post("1", 10, "a", &["x"], None),
        post("2", 20, "b", &[], None),
    ])
    .unwrap();
    let mut b = EncodedPosts::new();
    // "2" is already in the first batch: a duplicate of the second.
    b.extend(&[
        post("2", 20, "b", &[], None),
        post("3", 30, "c", &[], Some("https://e.com/")),
    ])
    .unwrap();
    let done = s.batches(&[&a, &b], &[]).unwrap();
    assert_eq!(
        done.iter()
            .map(|(d, _)| (d.stored, d.duplicates))
            .collect::<Vec<_>>(),
        vec![(2, 0), (1, 1)]
    );
    assert_eq!(s.count().unwrap(), 3);
    assert_eq!(link_and_tag_rows::<S>(&s.location), (1, 1));
    let again = s.batches(&[&b], &[]).unwrap();
    assert_eq!((again[0].0.stored, again[0].0.duplicates), (0, 2));
}

fn batches_give_each_stored_post_its_rowid_and_duplicates_zero<S: Backend>() {
    let mut s = S::fresh();
    let mut a = EncodedPosts::new();
    a.extend(&[post("1", 10, "a", &[], None), post("2", 20, "b", &[], None)])
        .unwrap();
    let mut b = EncodedPosts::new();
    b.extend(&[post("2", 20, "b", &[], None), post("3", 30, "c", &[], None)])
        .unwrap();
    let done = s.batches(&[&a, &b], &[]).unwrap();
    assert_eq!(done[0].1, vec![1, 2]);
    assert_eq!(done[1].1, vec![0, 3], "the duplicate gets 0");
    assert_eq!((done[1].0.stored, done[1].0.duplicates), (1, 1));
    // They are the sequence numbers reads by storage order use.
    let log: Vec<(i64, String)> = s
        .posts_after_rowid(0, 10)
        .unwrap()
        .into_iter()
        .map(|(r, p)| (r, p.id))
        .collect();
    assert_eq!(log, vec![(1, "1".into()), (2, "2".into()), (3, "3".into())]);
}

fn duplicates_within_a_batch_keep_the_first<S: Backend>() {
    let mut s = S::fresh();
    let a = post("1", 10, "a", &["first"], Some("https://one.example/"));
    let mut b = post("1", 99, "z", &["second"], Some("https://two.example/"));
    b.text = "the later copy".into();
    let c = post("2", 11, "a", &[], None);
    let r = s.insert(&[a.clone(), b, c]).unwrap();
    assert_eq!((r.stored, r.duplicates), (2, 1));
    assert_eq!(s.get("twitter", "1").unwrap(), Some(a));
    assert_eq!(link_and_tag_rows::<S>(&s.location), (1, 1));
    let st = s.stats(5).unwrap();
    assert_eq!(st.top_hashtags[0].key, "first");
    assert_eq!(st.top_domains[0].key, "one.example");
}

fn interrupted_encoded_bulk_load_is_resumable<S: Backend>() {
    let backend::Fixture {
        mut store,
        location,
        guard,
    } = S::fresh();
    let posts: Vec<Post> = (0..100)
        .map(|i| {
            let link = format!("https://d{}.example/{i}", i % 3);
            post(
                &i.to_string(),
                i,
                &format!("a{}", i % 7),
                &["t"],
                Some(&link),
            )
        })
        .collect();
    store.begin_bulk().unwrap();
    let mut batch = EncodedPosts::new();
    batch.extend(&posts[..60]).unwrap();
    store.insert_encoded(&batch).unwrap();
    drop(store); // interrupted after the first batch: no end_bulk
    let mut s = S::open_at(&location).unwrap();
    assert_eq!(s.count().unwrap(), 60);
    // Re-running the whole load stores only what is missing.
    s.begin_bulk().unwrap();
    batch.clear();
    batch.extend(&posts).unwrap();
    let r = s.insert_encoded(&batch).unwrap();
    assert_eq!((r.stored, r.duplicates), (40, 60));
    s.end_bulk().unwrap();
    assert_eq!(s.count().unwrap(), 100);
    assert_eq!(link_and_tag_rows::<S>(&location), (100, 100));
    assert_eq!(all(&s), posts);
    drop(s);
    drop(guard);
}

/// A bulk load into a new store (PostgreSQL copies such batches straight
/// into its table) where batches repeat posts of earlier batches and of
/// themselves: each post is stored once, rowids follow the order posts
/// were first given, and the links and hashtags of duplicates are not
/// added.
fn a_bulk_load_stores_posts_repeated_across_batches_once<S: Backend>() {
    let mut s = S::fresh();
    let p = |i: i64| post(&i.to_string(), 100 - i, "a", &["t"], Some("https://e.com/"));
    let batch = |ids: &[i64]| {
        let mut b = EncodedPosts::new();
        b.extend(&ids.iter().map(|&i| p(i)).collect::<Vec<_>>())
            .unwrap();
        b
    };
    s.begin_bulk().unwrap();
    let a = batch(&[1, 2, 2, 3]);
    let b = batch(&[4, 3, 5, 1]);
    let c = batch(&[6, 7]);
    let done = s.batches(&[&a, &b], &[]).unwrap();
    assert_eq!(done[0].1, [1, 2, 0, 3]);
    assert_eq!(done[1].1, [4, 0, 5, 0]);
    assert_eq!((done[1].0.stored, done[1].0.duplicates), (2, 2));
    let done = s.batches(&[&c], &[]).unwrap();
    assert_eq!(done[0].1, [6, 7]);
    s.end_bulk().unwrap();
    assert_eq!(s.count().unwrap(), 7);
    assert_eq!(link_and_tag_rows::<S>(&s.location), (7, 7));
    // Writes after the load go on numbering after it.
    let done = s.batches(&[&batch(&[8, 1])], &[]).unwrap();
    assert_eq!(done[0].1, [8, 0]);
    let ids: Vec<String> = all(&*s).into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ["8", "7", "6", "5", "4", "3", "2", "1"]);
}

fn the_post_log_follows_storage_and_event_time_order<S: Backend>() {
    let mut s = S::fresh();
    assert_eq!(s.max_rowid().unwrap(), 0);
    assert_eq!(s.newest_time_ms(i64::MAX).unwrap(), None);
    // Stored out of event-time order.
    let posts = [
        post("a", 30, "x", &[], Some("https://s.example/1")),
        post("b", 10, "x", &[], None),
        post("c", 20, "y", &[], None),
        post("d", 10, "y", &[], None),
    ];
    s.insert(&posts).unwrap();
    let mut reshare = post("e", 5, "z", &[], None);
    reshare.reshare_of = Some("b".into());
    s.insert(std::slice::from_ref(&reshare)).unwrap();
    assert_eq!(s.max_rowid().unwrap(), 5);
    assert_eq!(
        s.newest_time_ms(i64::MAX).unwrap(),
        Some(posts[0].time.millis()),
        "the newest post by event time, not the last stored"
    );
    assert_eq!(
        s.newest_time_ms(posts[2].time.millis()).unwrap(),
        Some(posts[2].time.millis()),
        "the newest at or before a time"
    );
    assert_eq!(s.newest_time_ms(i64::MIN).unwrap(), None);
    let ids = |v: Vec<(i64, Post)>| {
        v.into_iter()
            .map(|(r, p)| format!("{r}{}", p.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(s.posts_after_rowid(2, 2).unwrap()), ["3c", "4d"]);
    assert_eq!(
        ids(s.posts_in_time_order(4, (i64::MIN, 0), 10).unwrap()),
        ["2b", "4d", "3c", "1a"],
        "rowid 5 is past `upto`; ties by sequence number"
    );
    assert_eq!(
        ids(s.posts_in_time_order(5, (10, 2), 2).unwrap()),
        ["4d", "3c"]
    );
    assert_eq!(ids(s.posts_by_rowid(&[4, 99, 1]).unwrap()), ["4d", "1a"]);
    let mut shares = vec![];
    s.scan_shares(&mut |p| {
        shares.push(p.id);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(shares, ["e", "a"]);
}

/// A scan's visitor may write to the store it scans (claim matching writes
/// matches while reading posts); the scan visits the posts stored when it
/// began, and pages of a scan larger than one read hold together.
fn a_scan_visitor_may_write_to_the_same_store<S: Backend>() {
    let mut s = S::fresh();
    let posts: Vec<Post> = (0..10_000)
        .map(|i| post(&i.to_string(), (i * 7919) % 5000, "a", &[], None))
        .collect();
    s.insert(&posts).unwrap();
    let mut seen = 0;
    let mut last = (i64::MIN, 0u64);
    s.scan(&PostFilter::default(), &mut |p| {
        assert!(p.time.millis() >= last.0);
        last = (p.time.millis(), seen);
        seen += 1;
        if seen % 1000 == 0 {
            s.replace_matches(&[PostMatches {
                platform: p.platform.clone(),
                post_id: p.id.clone(),
                matches: vec![("claim-1".into(), 0.9, 0.8)],
            }])
            .unwrap();
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(seen, 10_000);
    assert_eq!(s.matches_of_claim("claim-1").unwrap().len(), 10);
}

fn ties_in_event_time_come_in_insertion_order_across_pages<S: Backend>() {
    let mut s = S::fresh();
    // More posts at one instant than a page of a scan holds.
    let posts: Vec<Post> = (0..9_000)
        .map(|i| post(&format!("p{i:05}"), 7, "a", &[], None))
        .rev()
        .collect();
    s.insert(&posts).unwrap();
    let ids: Vec<String> = all(&*s).into_iter().map(|p| p.id).collect();
    let want: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids, want);
}

fn an_unreadable_stored_post_is_skipped_and_counted<S: Backend>() {
    let mut s = S::fresh();
    s.insert(&[
        post("1", 1, "a", &[], None),
        post("2", 2, "a", &[], None),
        post("3", 3, "a", &[], None),
    ])
    .unwrap();
    raw_sql::<S>(
        &s.location,
        "UPDATE posts SET record = '{not json' WHERE id = '2'",
    )
    .unwrap();
    let ids: Vec<String> = all(&*s).into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ["1", "3"]);
    assert_eq!(s.skipped(), 1);
    assert_eq!(s.get("twitter", "2").unwrap(), None);
    assert_eq!(s.posts_after_rowid(0, 10).unwrap().len(), 2);
    assert!(s.skipped() >= 3);
    // Search pages go on past it.
    s.index_text(100).unwrap();
    let page = s
        .search_posts(&PostSearch {
            words: Some("post".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.posts.len(), 2);
}

/// Hostile input: NUL characters (which PostgreSQL text cannot hold),
/// replacement characters, quotes and backslashes, very long fields and
/// odd ids never fail a batch, and records come back exactly. (Lone
/// surrogates cannot reach a store: a `Post` holds Rust strings, and the
/// importers' JSON reader refuses `\ud800` without its pair, quarantining
/// the record.)
fn hostile_text_and_ids_are_stored_and_read_back<S: Backend>() {
    assert!(serde_json::from_str::<String>(r#""a\ud800b""#).is_err());
    let mut s = S::fresh();
    let mut nul = post(
        "nul\0id",
        1,
        "act\0or",
        &["t\0ag"],
        Some("https://e.com/\0x"),
    );
    nul.text = "before\0after \u{FFFD} \\0 \"q\" 'x'".into();
    nul.lang = Some("e\0n".into());
    nul.reply_to = Some("r\0".into());
    let mut huge = post(&"i".repeat(10_000), 2, &"a".repeat(5_000), &[], None);
    huge.text = "word ".repeat(300_000) + &"x".repeat(100_000);
    let weird = post("'; DROP TABLE posts; --", 3, "$1", &["%", "_"], None);
    let emoji = post("🦀\u{200B}\u{FEFF}", 4, "🙂", &["ünï"], None);
    let batch = [nul.clone(), huge.clone(), weird.clone(), emoji.clone()];
    let r = s.insert(&batch).unwrap();
    assert_eq!((r.stored, r.duplicates), (4, 0));
    let r = s.insert(&batch).unwrap();
    assert_eq!(
        (r.stored, r.duplicates),
        (0, 4),
        "idempotent on odd ids too"
    );
    assert_eq!(all(&*s), batch);
    for p in &batch {
        assert_eq!(s.get(&p.platform, &p.id).unwrap().as_ref(), Some(p));
    }
    let st = s.stats(10).unwrap();
    assert_eq!(st.posts, 4);
    // The full-text index takes them all.
    let mut indexed = 0;
    loop {
        let (n, _, _) = s.index_text(2).unwrap();
        if n == 0 {
            break;
        }
        indexed += n;
    }
    assert_eq!(indexed, 4);
    let found = s
        .search_posts(&PostSearch {
            words: Some("after".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.posts, [nul.clone()]);
    let found = s
        .search_posts(&PostSearch {
            words: Some("word".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.posts.len(), 1);
    // Filters with the same hostile values.
    let found = s
        .search_posts(&PostSearch {
            hashtag: Some("t\0ag".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.posts, [nul.clone()]);
    assert_eq!(
        s.actor_summary("twitter", "act\0or").unwrap().posts,
        1,
        "look-ups by a NUL-holding actor"
    );
    // Repositories keep hostile strings too.
    s.set_marking(
        "post",
        "a\0b",
        &MarkingRecord {
            tlp: "amber".into(),
            orgs: vec!["o\0".into()],
            people: vec![],
        },
    )
    .unwrap();
    assert!(s.marking("post", "a\0b").unwrap().is_some());
}

/// Text that does not compress: `n` bytes of pseudo-random letters and digits.
fn noise(seed: u64, n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            CHARS[(x >> 33) as usize % CHARS.len()] as char
        })
        .collect()
}

/// Ids, platforms, languages, links and hashtags as long as the importers
/// let through (4 KiB: docs/limits.md), and not compressible: stored,
/// idempotent, and found by every look-up (PostgreSQL refuses index
/// entries over 2,704 bytes, so its indexes must not hold such values
/// whole).
fn ids_links_and_tags_at_the_ingest_caps_are_stored_and_found<S: Backend>() {
    let mut s = S::fresh();
    let id = noise(1, 4096);
    let platform = noise(2, 4096);
    let tag = noise(3, 4000);
    let link = format!("https://{}.example/{}", noise(4, 60), noise(5, 4000));
    let mut p = post(&id, 1, &noise(6, 4096), &[&tag], Some(&link));
    p.platform = platform.clone();
    p.lang = Some(noise(7, 4096));
    p.reply_to = Some(noise(8, 4096));
    let q = post(&noise(9, 4096), 2, "a", &[&tag], None);
    let r = s.insert(&[p.clone(), q.clone()]).unwrap();
    assert_eq!((r.stored, r.duplicates), (2, 0));
    let r = s.insert(&[p.clone(), q.clone()]).unwrap();
    assert_eq!((r.stored, r.duplicates), (0, 2));
    assert_eq!(s.get(&platform, &id).unwrap().as_ref(), Some(&p));
    assert_eq!(s.platforms_with_id(&id).unwrap(), vec![platform.clone()]);
    let search = |f: PostSearch| -> Vec<String> {
        s.search_posts(&PostSearch { limit: 10, ..f })
            .unwrap()
            .posts
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(
        search(PostSearch {
            hashtag: Some(tag.clone()),
            ..Default::default()
        }),
        vec![q.id.clone(), id.clone()]
    );
    assert_eq!(
        search(PostSearch {
            link: Some(p.links[0].url.clone()),
            ..Default::default()
        }),
        vec![id.clone()]
    );
    assert_eq!(
        search(PostSearch {
            domain: Some(p.links[0].domain.clone()),
            ..Default::default()
        }),
        vec![id.clone()]
    );
    assert_eq!(
        search(PostSearch {
            platform: Some(platform.clone()),
            lang: p.lang.clone(),
            ..Default::default()
        }),
        vec![id.clone()]
    );
    assert_eq!(s.actor_summary(&platform, &p.actor.id).unwrap().posts, 1);
    // Repositories keyed by such ids.
    let claim = noise(10, 4096);
    s.replace_matches(&[PostMatches {
        platform: platform.clone(),
        post_id: id.clone(),
        matches: vec![(claim.clone(), 0.9, 0.8), (claim.clone(), 0.9, 0.7)],
    }])
    .unwrap();
    assert_eq!(s.matches_of_post(&platform, &id).unwrap().len(), 1);
    assert_eq!(s.matches_of_claim(&claim).unwrap()[0].post_id, id);
    let m = MarkingRecord {
        tlp: "amber".into(),
        ..Default::default()
    };
    s.set_marking("post", &id, &m).unwrap();
    s.set_marking("post", &id, &m).unwrap();
    assert_eq!(s.marking("post", &id).unwrap(), Some(m));
    assert_eq!(s.markings_of_kind("post").unwrap().len(), 1);
}

fn actor_summary_counts_an_accounts_posts<S: Backend>() {
    let mut s = S::fresh();
    let mut de = post("3", 300, "a", &[], None);
    de.lang = Some("de".into());
    let mut und = post("4", 400, "a", &[], None);
    und.lang = None;
    s.insert(&[
        post("1", 100, "a", &[], None),
        post("2", 200, "a", &[], None),
        de,
        und,
        post("5", 50, "b", &[], None),
    ])
    .unwrap();
    let a = s.actor_summary("twitter", "a").unwrap();
    assert_eq!(a.posts, 4);
    assert_eq!((a.first_ms, a.last_ms), (Some(100), Some(400)));
    assert_eq!(a.languages[0], ("en".to_string(), 2));
    assert_eq!(a.languages.len(), 3);
    let none = s.actor_summary("twitter", "nobody").unwrap();
    assert_eq!(none, ActorSummary::default());
}

fn text_post(id: &str, t: i64, text: &str) -> Post {
    let mut p = post(id, t, "a", &[], None);
    p.text = text.into();
    p
}

fn search_ids<S: Backend>(s: &S, q: &PostSearch) -> Vec<String> {
    s.search_posts(q)
        .unwrap()
        .posts
        .into_iter()
        .map(|p| p.id)
        .collect()
}

fn words(w: &str) -> PostSearch {
    PostSearch {
        words: Some(w.into()),
        limit: 50,
        ..Default::default()
    }
}

fn full_text_search_finds_words_prefixes_and_phrases<S: Backend>() {
    let mut s = S::fresh();
    s.insert(&[
        text_post("1", 10, "The Café opened in Zürich"),
        text_post("2", 20, "a cafe in ZURICH, naïvely"),
        text_post("3", 30, "don't panic: e.g. towels"),
        text_post("4", 40, "dont panic at the cafeteria"),
        text_post("5", 50, "Вакцина опасна! 疫苗 #Health"),
    ])
    .unwrap();
    // Nothing is found before the index catches up.
    assert!(search_ids(&*s, &words("cafe")).is_empty());
    let (n, upto, max) = s.index_text(1000).unwrap();
    assert_eq!((n, upto, max), (5, 5, 5));
    assert_eq!(s.indexed_rowid().unwrap(), 5);
    assert_eq!(s.index_text(1000).unwrap(), (0, 5, 5));
    // Case and diacritics fold; newest stored first.
    assert_eq!(search_ids(&*s, &words("CAFÉ")), ["2", "1"]);
    assert_eq!(search_ids(&*s, &words("zurich cafe")), ["2", "1"]);
    assert_eq!(search_ids(&*s, &words("cafe*")), ["4", "2", "1"]);
    assert_eq!(search_ids(&*s, &words("naive*")), ["2"]);
    // A word of several tokens is a phrase.
    assert_eq!(search_ids(&*s, &words("don't")), ["3"]);
    assert_eq!(search_ids(&*s, &words("e.g")), ["3"]);
    assert_eq!(search_ids(&*s, &words("panic")), ["4", "3"]);
    assert_eq!(search_ids(&*s, &words("вакцина")), ["5"]);
    assert_eq!(search_ids(&*s, &words("health")), ["5"]);
    assert!(search_ids(&*s, &words("cafe towels")).is_empty());
    // Query syntax is never an error.
    for q in ["\"", "a AND (", "'; --", "*", "NEAR(a b)", "x:*", "&|!"] {
        s.search_posts(&words(q)).unwrap();
    }
    // Pages by storage order, with a cursor.
    let mut q = words("cafe*");
    q.limit = 2;
    let p1 = s.search_posts(&q).unwrap();
    assert_eq!(
        p1.posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["4", "2"]
    );
    assert_eq!(p1.next, Some(SearchCursor::Stored(2)));
    assert_eq!((p1.indexed, p1.stored), (5, 5));
    q.cursor = p1.next;
    let p2 = s.search_posts(&q).unwrap();
    assert_eq!(
        p2.posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["1"]
    );
    assert_eq!(p2.next, None);
    // A cursor of the other kind is the caller's mistake.
    q.cursor = Some(SearchCursor::Time(1, 1));
    assert!(matches!(s.search_posts(&q), Err(StoreError::Invalid(_))));
}

fn search_filters_and_pages_newest_first<S: Backend>() {
    let mut s = S::fresh();
    let mut posts = Vec::new();
    for i in 0..30i64 {
        let tags: &[&str] = if i % 2 == 0 { &["even"] } else { &["odd"] };
        let link = format!("https://d{}.example/{i}", i % 3);
        let mut p = post(
            &i.to_string(),
            1000 + (i / 2) * 10,
            &format!("a{}", i % 4),
            tags,
            Some(&link),
        );
        if i % 5 == 0 {
            p.lang = None;
            p.platform = "telegram".into();
        }
        p.text = format!("number {i} {}", if i % 2 == 0 { "apple" } else { "pear" });
        posts.push(p);
    }
    // Two links to one domain: the post comes once.
    posts[4].add_link("https://d1.example/again");
    posts[4].refresh_domains();
    s.insert(&posts).unwrap();
    s.index_text(1000).unwrap();
    let q = |f: PostSearch| search_ids(&*s, &f);
    let expect = |pred: &dyn Fn(&Post) -> bool| -> Vec<String> {
        let mut v: Vec<(i64, usize, String)> = posts
            .iter()
            .enumerate()
            .filter(|(_, p)| pred(p))
            .map(|(i, p)| (p.time.millis(), i, p.id.clone()))
            .collect();
        v.sort();
        v.reverse();
        v.into_iter().map(|(_, _, id)| id).collect()
    };
    let base = PostSearch {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(q(base.clone()), expect(&|_| true));
    assert_eq!(
        q(PostSearch {
            hashtag: Some("even".into()),
            ..base.clone()
        }),
        expect(&|p| p.hashtags == ["even"])
    );
    assert_eq!(
        q(PostSearch {
            domain: Some("d1.example".into()),
            ..base.clone()
        }),
        expect(&|p| p.links.iter().any(|l| l.domain == "d1.example"))
    );
    assert_eq!(
        q(PostSearch {
            domain: Some("d1.example".into()),
            hashtag: Some("even".into()),
            ..base.clone()
        }),
        expect(&|p| p.hashtags == ["even"] && p.links.iter().any(|l| l.domain == "d1.example"))
    );
    assert_eq!(
        q(PostSearch {
            platform: Some("telegram".into()),
            ..base.clone()
        }),
        expect(&|p| p.platform == "telegram")
    );
    assert_eq!(
        q(PostSearch {
            lang: Some("und".into()),
            ..base.clone()
        }),
        expect(&|p| p.lang.is_none())
    );
    assert_eq!(
        q(PostSearch {
            lang: Some("en".into()),
            since_ms: Some(1050),
            until_ms: Some(1100),
            ..base.clone()
        }),
        expect(&|p| p.lang.is_some() && (1050..1100).contains(&p.time.millis()))
    );
    assert_eq!(
        q(PostSearch {
            actor: Some(("twitter".into(), "a1".into())),
            ..base.clone()
        }),
        expect(&|p| p.platform == "twitter" && p.actor.id == "a1")
    );
    assert_eq!(
        q(PostSearch {
            link: Some("https://d2.example/5".into()),
            ..base.clone()
        }),
        ["5"]
    );
    // Words with filters.
    assert_eq!(
        q(PostSearch {
            words: Some("apple".into()),
            domain: Some("d0.example".into()),
            hashtag: Some("even".into()),
            ..base.clone()
        }),
        {
            let mut v: Vec<String> = posts
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    p.text.contains("apple") && p.links.iter().any(|l| l.domain == "d0.example")
                })
                .map(|(i, _)| i.to_string())
                .collect();
            v.reverse();
            v
        }
    );
    // Paging without words: every post once, in order, whatever the page size.
    for (limit, f) in [
        (7, PostSearch::default()),
        (
            3,
            PostSearch {
                domain: Some("d1.example".into()),
                ..Default::default()
            },
        ),
        (
            4,
            PostSearch {
                hashtag: Some("odd".into()),
                ..Default::default()
            },
        ),
    ] {
        let want = q(PostSearch {
            limit: 100,
            ..f.clone()
        });
        let mut got = Vec::new();
        let mut cursor = None;
        loop {
            let page = s
                .search_posts(&PostSearch {
                    limit,
                    cursor,
                    ..f.clone()
                })
                .unwrap();
            assert!(page.posts.len() <= limit);
            got.extend(page.posts.into_iter().map(|p| p.id));
            match page.next {
                Some(c) => {
                    assert!(matches!(c, SearchCursor::Time(..)));
                    cursor = Some(c)
                }
                None => break,
            }
        }
        assert_eq!(got, want, "limit {limit}");
    }
}

fn claim_matches_are_replaced_per_post<S: Backend>() {
    let s = S::fresh();
    assert_eq!(s.matches_stamp().unwrap(), (0, 0));
    let n = s
        .replace_matches(&[
            PostMatches {
                platform: "twitter".into(),
                post_id: "1".into(),
                matches: vec![("c1".into(), 0.9, 0.8), ("c2".into(), 0.5, 0.4)],
            },
            PostMatches {
                platform: "twitter".into(),
                post_id: "2".into(),
                matches: vec![("c1".into(), 0.7, 0.9)],
            },
        ])
        .unwrap();
    assert_eq!(n, 3);
    let stamp = s.matches_stamp().unwrap();
    assert_eq!(stamp.1, 3);
    let of1 = s.matches_of_post("twitter", "1").unwrap();
    assert_eq!(
        of1.iter().map(|m| m.claim_id.as_str()).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    assert_eq!(
        s.matches_of_claim("c1")
            .unwrap()
            .iter()
            .map(|m| m.post_id.as_str())
            .collect::<Vec<_>>(),
        ["2", "1"]
    );
    assert_eq!(s.matches_at_least(0.6).unwrap().len(), 2);
    // Replacing a post's matches drops the old ones.
    s.replace_matches(&[PostMatches {
        platform: "twitter".into(),
        post_id: "1".into(),
        matches: vec![("c3".into(), 0.6, 0.6)],
    }])
    .unwrap();
    assert_eq!(s.matches_of_post("twitter", "1").unwrap()[0].claim_id, "c3");
    assert_eq!(s.matches_of_claim("c2").unwrap(), vec![]);
    let after = s.matches_stamp().unwrap();
    assert_ne!(after, stamp);
    assert_eq!(after.1, 2);
}

fn incident(id: &str, first: i64) -> IncidentRecord {
    IncidentRecord {
        id: id.into(),
        title: format!("incident {id}"),
        first_seen_ms: first,
        last_seen_ms: first + 10,
        severity: 0.5,
        confidence: 0.25,
        model_version: 3,
        json: format!("{{\"id\":\"{id}\"}}"),
    }
}

fn incidents_are_saved_and_replaced<S: Backend>() {
    let mut s = S::fresh();
    assert_eq!(s.incidents_fingerprint().unwrap(), "");
    s.save_incidents(&[incident("b", 20), incident("a", 20), incident("c", 5)])
        .unwrap();
    let ids = |s: &S| {
        s.incidents()
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&s), ["c", "a", "b"]);
    let fp = s.incidents_fingerprint().unwrap();
    assert!(fp.starts_with("3:"), "{fp}");
    let mut grown = incident("a", 20);
    grown.last_seen_ms = 99;
    grown.title = "grown".into();
    s.save_incidents(&[grown.clone()]).unwrap();
    assert_eq!(s.incidents().unwrap()[1], grown);
    assert_ne!(s.incidents_fingerprint().unwrap(), fp);
    // One update saves, replaces and deletes: "c" goes, "b" stays as it
    // was, "a" named in both is saved, an unknown id is ignored.
    let mut regrown = grown.clone();
    regrown.title = "regrown".into();
    s.update_incidents(
        &[incident("d", 1), regrown.clone()],
        &["c".into(), "a".into(), "nowhere".into()],
    )
    .unwrap();
    assert_eq!(ids(&s), ["d", "a", "b"]);
    assert_eq!(s.incidents().unwrap()[1], regrown);
    assert_eq!(s.incidents().unwrap()[2], incident("b", 20));
    s.update_incidents(&[], &["d".into(), "a".into(), "b".into()])
        .unwrap();
    assert!(s.incidents().unwrap().is_empty());
}

fn responses_are_logged<S: Backend>() {
    let mut s = S::fresh();
    let r = |n: u64, at: i64| ResponseRecord {
        narrative: n,
        who: "ann".into(),
        at_ms: at,
        channel: "press".into(),
        url: Some("https://e.com/".into()),
        logged_at_ms: 1,
        ..Default::default()
    };
    let a = s.log_response(&r(7, 20)).unwrap();
    let b = s.log_response(&r(7, 10)).unwrap();
    s.log_response(&r(u64::MAX >> 1, 5)).unwrap();
    assert!(b > a);
    let of7 = s.responses(Some(7)).unwrap();
    assert_eq!(of7.iter().map(|x| x.at_ms).collect::<Vec<_>>(), [10, 20]);
    assert_eq!(of7[0].id, b);
    assert_eq!(of7[0].url.as_deref(), Some("https://e.com/"));
    assert_eq!(s.responses(None).unwrap().len(), 3);
    assert_eq!(s.responses(Some(u64::MAX >> 1)).unwrap().len(), 1);
}

fn the_disarm_catalogue_counts_what_changed<S: Backend>() {
    let mut s = S::fresh();
    let ta = |id: &str| DisarmTactic {
        ta_id: id.into(),
        name: format!("tactic {id}"),
        shortname: id.to_lowercase(),
        description: None,
    };
    let t = |id: &str, name: &str| DisarmTechnique {
        t_id: id.into(),
        name: name.into(),
        tactic_ids: vec!["TA01".into()],
        description: Some("d".into()),
    };
    let first = s
        .save_disarm(&[ta("TA01")], &[t("T0001", "a"), t("T0002", "b")], "v1", 1)
        .unwrap();
    assert_eq!(
        (
            first.added,
            first.updated,
            first.unchanged,
            first.tactics,
            first.stored
        ),
        (2, 0, 0, 1, 2)
    );
    let second = s
        .save_disarm(
            &[ta("TA01")],
            &[t("T0001", "a"), t("T0002", "B"), t("T0003", "c")],
            "v2",
            2,
        )
        .unwrap();
    assert_eq!(
        (
            second.added,
            second.updated,
            second.unchanged,
            second.stored
        ),
        (1, 1, 1, 3)
    );
    let (tactics, techniques) = s.disarm().unwrap();
    assert_eq!(tactics, [ta("TA01")]);
    assert_eq!(techniques.len(), 3);
    assert_eq!(techniques[1], t("T0002", "B"));
    // A technique whose tactic list cannot be read is skipped.
    raw_sql::<S>(
        &s.location,
        "UPDATE disarm_techniques SET tactic_ids = 'nope' WHERE t_id = 'T0003'",
    )
    .unwrap();
    let before = s.skipped();
    assert_eq!(s.disarm().unwrap().1.len(), 2);
    assert_eq!(s.skipped(), before + 1);
}

fn stix(id: &str, modified: &str) -> StixObjectRecord {
    StixObjectRecord {
        id: id.into(),
        stix_type: id.split("--").next().unwrap().into(),
        key: Some("k".into()),
        name: Some(format!("name of {id}")),
        modified: Some(modified.into()),
        tlp: Some("green".into()),
        markings: vec!["marking-definition--x".into()],
        created_by_ref: None,
        json: format!("{{\"id\":\"{id}\",\"modified\":\"{modified}\"}}"),
    }
}

fn stix_objects_keep_the_newer_version<S: Backend>() {
    let mut s = S::fresh();
    let newer = |a: Option<&str>, b: Option<&str>| a > b;
    let imp = StixImport {
        source: "partner",
        bundle_id: Some("bundle--1"),
        objects: 3,
        rejected: 0,
        at_ms: 1,
        audit: None,
        inbox: None,
    };
    let out = s
        .import_stix(
            &imp,
            &[
                stix("indicator--1", "2026-01-01"),
                stix("marking-definition--m", "2026-01-01"),
                stix("indicator--1", "2026-02-01"),
            ],
            &newer,
        )
        .unwrap();
    assert_eq!(
        out,
        [StixOutcome::Added, StixOutcome::Added, StixOutcome::Updated]
    );
    let out = s
        .import_stix(
            &imp,
            &[
                stix("indicator--1", "2026-01-15"),
                stix("indicator--2", "2026-01-01"),
            ],
            &newer,
        )
        .unwrap();
    assert_eq!(out, [StixOutcome::Unchanged, StixOutcome::Added]);
    let inds = s.stix_objects(Some("indicator")).unwrap();
    assert_eq!(inds.len(), 2);
    assert_eq!(inds[0].id, "indicator--1");
    assert!(inds[0].json.contains("2026-02-01"));
    assert_eq!(inds[0].markings, ["marking-definition--x"]);
    assert_eq!(inds[0].source, "partner");
    assert_eq!(s.stix_objects(None).unwrap().len(), 3);
    assert_eq!(
        s.stix_markings().unwrap(),
        [(
            "marking-definition--m".to_string(),
            Some("green".to_string())
        )]
    );
}

fn tokens_are_found_by_hash_until_revoked<S: Backend>() {
    let s = S::fresh();
    let tok = |id: &str, created: i64| TokenRecord {
        id: id.into(),
        hash: format!("hash-{id}"),
        role: "analyst".into(),
        org: Some("org".into()),
        name: format!("name {id}"),
        created_ms: created,
        revoked_ms: None,
    };
    s.insert_token(&tok("t1", 1)).unwrap();
    s.insert_token(&tok("t2", 2)).unwrap();
    assert!(s.insert_token(&tok("t1", 3)).is_err(), "ids are unique");
    assert_eq!(
        s.tokens()
            .unwrap()
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        ["t2", "t1"]
    );
    assert_eq!(s.active_token("hash-t1").unwrap(), Some(tok("t1", 1)));
    assert!(s.revoke_token("t1", 50).unwrap());
    assert!(s.revoke_token("t1", 60).unwrap());
    assert!(!s.revoke_token("nope", 60).unwrap());
    assert_eq!(s.active_token("hash-t1").unwrap(), None);
    let t1 = s
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.id == "t1")
        .unwrap();
    assert_eq!(t1.revoked_ms, Some(50), "the first revocation's time stays");
}

fn markings_are_set_and_replaced<S: Backend>() {
    let s = S::fresh();
    let m = |tlp: &str| MarkingRecord {
        tlp: tlp.into(),
        orgs: vec!["o1".into()],
        people: vec!["p1".into(), "p2".into()],
    };
    assert_eq!(s.marking("narrative", "1").unwrap(), None);
    s.set_marking("narrative", "1", &m("amber")).unwrap();
    s.set_marking("narrative", "2", &m("green")).unwrap();
    s.set_marking("post", "1", &m("red")).unwrap();
    s.set_marking("narrative", "1", &m("red")).unwrap();
    assert_eq!(s.marking("narrative", "1").unwrap(), Some(m("red")));
    let mut of = s.markings_of_kind("narrative").unwrap();
    of.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        of,
        [("1".to_string(), m("red")), ("2".to_string(), m("green"))]
    );
}

fn taxii_objects_are_added_once_with_increasing_times<S: Backend>() {
    let mut s = S::fresh();
    let obj = |id: &'static str, version: &'static str| NewObject {
        id,
        version,
        scope: "tlp:clear",
        stix_type: "url",
        spec_version: "2.1",
        json: "{}",
    };
    let a = [obj("url--1", "v1"), obj("url--2", "v1")];
    assert_eq!(s.add_objects("c", &a).unwrap(), 2);
    assert_eq!(s.add_objects("c", &a).unwrap(), 0, "idempotent");
    assert_eq!(s.add_objects("c", &[obj("url--1", "v2")]).unwrap(), 1);
    let rows = s.object_rows("c", None).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.windows(2)
            .all(|w| w[0].date_added_us < w[1].date_added_us)
    );
    assert_eq!(s.object_rows("c", Some("url--1")).unwrap().len(), 2);
    assert!(s.object_rows("other", None).unwrap().is_empty());
    let seqs: Vec<i64> = rows.iter().rev().map(|r| r.seq).collect();
    assert_eq!(s.object_json(&seqs).unwrap(), ["{}", "{}", "{}"]);
    s.put_status("s1", "{\"a\":1}").unwrap();
    s.put_status("s1", "{\"a\":2}").unwrap();
    assert_eq!(s.status("s1").unwrap().as_deref(), Some("{\"a\":2}"));
    assert_eq!(s.status("s2").unwrap(), None);
    s.set_state("findings", "x").unwrap();
    s.set_state("findings", "y").unwrap();
    assert_eq!(s.state("findings").unwrap().as_deref(), Some("y"));
    s.set_pull_position("http://r/", "c", "2026-01-01T00:00:00.000000Z")
        .unwrap();
    s.set_pull_position("http://r/", "c", "2026-01-02T00:00:00.000000Z")
        .unwrap();
    assert_eq!(
        s.pull_position("http://r/", "c").unwrap().as_deref(),
        Some("2026-01-02T00:00:00.000000Z")
    );
    assert_eq!(s.pull_position("http://r/", "d").unwrap(), None);
}

fn audit_row(path: &str) -> AuditRecord {
    AuditRecord {
        at_ms: 5,
        action: "read".into(),
        method: "GET".into(),
        path: path.into(),
        status: 200,
        ..Default::default()
    }
}

fn the_audit_log_only_grows<S: Backend>() {
    let s = S::fresh();
    s.append_audit(&[audit_row("/a"), audit_row("/b")]).unwrap();
    let back = s.audit(10, None).unwrap();
    assert_eq!(
        back.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/b", "/a"]
    );
    assert_eq!(s.audit(10, Some(back[0].seq)).unwrap().len(), 1);
    assert!(raw_sql::<S>(&s.location, "DELETE FROM server_audit").is_err());
    assert!(raw_sql::<S>(&s.location, "UPDATE server_audit SET path = 'x'").is_err());
    assert_eq!(s.audit(10, None).unwrap(), back);
}

/// Issue 14, finding 3: each audit row is chained to the one before by a
/// hash, so a row changed, deleted or added behind the store's back is
/// found, and named, by `verify_audit` (`pharos audit verify`).
fn the_audit_log_is_a_hash_chain_and_tampering_is_found<S: Backend>() {
    let s = S::fresh();
    s.append_audit(&[audit_row("/a"), audit_row("/b")]).unwrap();
    s.append_audit(&[audit_row("/c")]).unwrap();
    s.append_audit(&[audit_row("/d"), audit_row("/e")]).unwrap();
    let ok = s.verify_audit().unwrap();
    assert_eq!(ok.rows, 5);
    assert_eq!(ok.broken, None);
    assert_eq!(ok.unchained, 0);
    let head = ok.head.clone().unwrap();
    assert_eq!(head.0, 5);
    let rows = s.audit(10, None).unwrap();
    assert!(
        rows.iter()
            .all(|r| r.hash.as_ref().is_some_and(|h| h.len() == 64))
    );
    assert_eq!(rows[0].hash.as_deref(), Some(head.1.as_str()));

    // Someone with the database drops the triggers and edits a row.
    let drop_triggers = if S::NAME == "sqlite" {
        [
            "DROP TRIGGER server_audit_no_update",
            "DROP TRIGGER server_audit_no_delete",
        ]
    } else {
        [
            "DROP TRIGGER server_audit_no_change ON server_audit",
            "DROP TRIGGER server_audit_no_truncate ON server_audit",
        ]
    };
    for sql in drop_triggers {
        raw_sql::<S>(&s.location, sql).unwrap();
    }
    let raw = |sql: &str| raw_sql::<S>(&s.location, sql).unwrap();
    raw("UPDATE server_audit SET path = '/x' WHERE seq = 3");
    let bad = s.verify_audit().unwrap();
    let (seq, why) = bad.broken.unwrap();
    assert_eq!(seq, 3, "{why}");
    assert!(why.contains("changed"), "{why}");
    raw("UPDATE server_audit SET path = '/c' WHERE seq = 3");
    assert_eq!(
        s.verify_audit().unwrap().broken,
        None,
        "put back: whole again"
    );

    // A row deleted from the middle: the row after it names the gap.
    raw("DELETE FROM server_audit WHERE seq = 2");
    let (seq, why) = s.verify_audit().unwrap().broken.unwrap();
    assert_eq!(seq, 3);
    assert!(why.contains("rows 2 to 2 are missing"), "{why}");

    // A row added by hand (without the chain's hash).
    let s2 = S::fresh();
    s2.append_audit(&[audit_row("/a")]).unwrap();
    raw_sql::<S>(
        &s2.location,
        "INSERT INTO server_audit (seq, at_ms, action, method, path, status) VALUES (2, 1, 'read', 'GET', '/forged', 200)",
    )
    .unwrap();
    let (seq, why) = s2.verify_audit().unwrap().broken.unwrap();
    assert_eq!(seq, 2);
    assert!(why.contains("no hash"), "{why}");
    // A forged row with a made-up hash.
    let s3 = S::fresh();
    s3.append_audit(&[audit_row("/a")]).unwrap();
    raw_sql::<S>(
        &s3.location,
        "INSERT INTO server_audit (seq, at_ms, action, method, path, status, hash) VALUES (2, 1, 'read', 'GET', '/forged', 200, 'beef')",
    )
    .unwrap();
    assert_eq!(s3.verify_audit().unwrap().broken.unwrap().0, 2);
    // The log is still readable.
    assert_eq!(s3.audit(10, None).unwrap().len(), 2);
}

fn media_records_are_replaced_by_reference_and_attached_to_posts<S: Backend>() {
    use pharos_core::{Media, MediaKind};
    let s = S::fresh();
    let rec = |post: &str, url: &str, pdq: char| MediaRecord {
        platform: "telegram".into(),
        post_id: post.into(),
        url: url.into(),
        sha256: "ab".repeat(32),
        pdq: pdq.to_string().repeat(64),
        quality: 90,
        width: 64,
        height: 48,
        c2pa: None,
        xmp_source_type: None,
        scanned_ms: 1,
    };
    // A reference of 4 KiB of hostile text is a row like any other.
    let long = "photos/".to_string() + &"\u{1F600}x".repeat(1000);
    assert_eq!(
        s.save_media(&[
            rec("1", "photos/a.jpg", '0'),
            rec("2", "photos/b.jpg", 'f'),
            rec("3", &long, 'e'),
        ])
        .unwrap(),
        3
    );
    // A second scan replaces the row of the same reference.
    let mut again = rec("1", "photos/a.jpg", '1');
    again.c2pa = Some(r#"{"valid":false}"#.into());
    again.quality = 255;
    s.save_media(std::slice::from_ref(&again)).unwrap();
    assert_eq!(s.media_of_post("telegram", "1").unwrap(), vec![again]);
    assert_eq!(s.media_of_post("telegram", "3").unwrap()[0].url, long);
    assert_eq!(s.media_records().unwrap().len(), 3);

    let media = |url: &str, hash: Option<&str>| Media {
        url: url.into(),
        kind: MediaKind::Photo,
        hash: hash.map(str::to_string),
        key: None,
    };
    let mut posts = vec![
        Post {
            platform: "telegram".into(),
            id: "1".into(),
            media: vec![media("photos/a.jpg", None), media("photos/x.jpg", None)],
            ..Default::default()
        },
        Post {
            platform: "telegram".into(),
            id: "2".into(),
            media: vec![media("photos/b.jpg", Some("phash:7"))],
            ..Default::default()
        },
    ];
    let mut flat = posts.clone();
    assert_eq!(
        s.attach_media_hashes(&mut flat, 255).unwrap(),
        1,
        "quality 255 passes a minimum of 255"
    );
    s.save_media(&[rec("1", "photos/a.jpg", '1')]).unwrap();
    let mut flat = posts.clone();
    assert_eq!(
        s.attach_media_hashes(&mut flat, 91).unwrap(),
        0,
        "quality 90 is below 91"
    );
    assert_eq!(s.attach_media_hashes(&mut posts, 50).unwrap(), 1);
    let hex1 = "1".repeat(64);
    assert_eq!(posts[0].media[0].pdq(), Some(hex1.as_str()));
    assert_eq!(posts[0].media[1].hash, None, "not scanned: no hash");
    assert_eq!(
        posts[1].media[0].hash.as_deref(),
        Some("phash:7"),
        "a hash the source gave is kept"
    );
}

/// Issue 14, finding 10: an ingest batch and its request's audit row are
/// one transaction. Both are stored, chained after the rows the audit
/// thread wrote; when the audit row cannot be written, the batch is not
/// stored either.
fn a_batch_and_its_audit_row_are_stored_together_or_not_at_all<S: Backend>() {
    let mut s = S::fresh();
    s.append_audit(&[audit_row("/a")]).unwrap();
    let mut a = EncodedPosts::new();
    a.extend(&[post("1", 10, "a", &[], None), post("2", 20, "b", &[], None)])
        .unwrap();
    let ingest = AuditRecord {
        action: "change".into(),
        method: "POST".into(),
        ..audit_row("/api/ingest")
    };
    let done = s.batches(&[&a], std::slice::from_ref(&ingest)).unwrap();
    assert_eq!(done[0].0.stored, 2);
    s.append_audit(&[audit_row("/b")]).unwrap();
    let rows = s.audit(10, None).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/b", "/api/ingest", "/a"]
    );
    let check = s.verify_audit().unwrap();
    assert_eq!((check.rows, check.broken), (3, None));

    // The audit table refuses the next row: the batch is not stored.
    let refuse = if S::NAME == "sqlite" {
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON server_audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
    } else {
        "ALTER TABLE server_audit ADD CONSTRAINT refuse_audit CHECK (seq < 0) NOT VALID"
    };
    raw_sql::<S>(&s.location, refuse).unwrap();
    let mut b = EncodedPosts::new();
    b.extend(&[post("3", 30, "c", &["t"], Some("https://e.com/"))])
        .unwrap();
    assert!(s.batches(&[&b], std::slice::from_ref(&ingest)).is_err());
    assert_eq!(s.count().unwrap(), 2, "the batch went with its audit row");
    assert_eq!(link_and_tag_rows::<S>(&s.location), (0, 0));
    // Without an audit row (feed polling, `pharos ingest`) nothing changes.
    assert_eq!(s.batches(&[&b], &[]).unwrap()[0].0.stored, 1);
}

/// Issue 14, finding 10: a marking, a token created or revoked, a STIX
/// import and objects added to a TAXII collection are each stored in one
/// transaction with the audit row of the request that made them: both, or
/// neither.
fn other_changes_and_their_audit_rows_are_stored_together_or_not_at_all<S: Backend>() {
    let mut s = S::fresh();
    let change = |path: &str| AuditRecord {
        action: "change".into(),
        method: "PUT".into(),
        ..audit_row(path)
    };
    let tok = |id: &str| TokenRecord {
        id: id.into(),
        hash: format!("hash-{id}"),
        role: "partner".into(),
        org: Some("acme".into()),
        name: format!("name {id}"),
        created_ms: 1,
        revoked_ms: None,
    };
    let marking = MarkingRecord {
        tlp: "red".into(),
        orgs: vec![],
        people: vec!["t1".into()],
    };
    let obj = |id: &'static str| NewObject {
        id,
        version: "v1",
        scope: "tlp:clear",
        stix_type: "url",
        spec_version: "2.1",
        json: "{}",
    };
    let stix = |id: &str| StixObjectRecord {
        id: id.into(),
        stix_type: "url".into(),
        key: None,
        name: None,
        modified: Some("2026-01-01T00:00:00Z".into()),
        tlp: None,
        markings: vec![],
        created_by_ref: None,
        json: "{}".into(),
    };
    let newer = |a: Option<&str>, b: Option<&str>| a > b;
    let rows = |out: &[StixOutcome]| {
        vec![AuditRecord {
            detail: Some(format!("{} objects", out.len())),
            ..change("/api/stix/import")
        }]
    };
    let import = |bundle| StixImport {
        source: "partner",
        bundle_id: Some(bundle),
        objects: 1,
        rejected: 0,
        at_ms: 1,
        audit: Some(&rows),
        inbox: None,
    };
    // A TAXII POST: the import, its inbox objects and its status resource
    // in one transaction with its audit row (issue 14).
    let inbox_objs = [obj("url--in1")];
    let inbox = |status_id: &'static str| TaxiiInbox {
        collection: "inbox",
        objects: &inbox_objs,
        status_id,
        status_json: "{\"status\": \"complete\"}",
    };
    let inbox_ok = inbox("status-1");
    let inbox_refused = inbox("status-2");
    s.set_marking_audited("post", "x:1", &marking, &[change("/api/markings/post/x:1")])
        .unwrap();
    s.insert_token_audited(&tok("t1"), &[change("/api/tokens")])
        .unwrap();
    assert!(
        s.revoke_token_audited("t1", 9, &[change("/api/tokens/t1")])
            .unwrap()
    );
    // An unknown token: nothing revoked, no row.
    assert!(
        !s.revoke_token_audited("nobody", 9, &[change("/api/tokens/nobody")])
            .unwrap()
    );
    s.import_stix(&import("bundle--1"), &[stix("url--a")], &newer)
        .unwrap();
    s.import_stix(
        &StixImport {
            inbox: Some(&inbox_ok),
            ..import("bundle--in1")
        },
        &[stix("url--in1")],
        &newer,
    )
    .unwrap();
    assert_eq!(s.object_rows("inbox", None).unwrap().len(), 1);
    assert!(s.status("status-1").unwrap().is_some());
    assert_eq!(
        s.add_objects_audited("inbox", &[obj("url--1")], &[change("/taxii2/inbox")])
            .unwrap(),
        1
    );
    let paths = |s: &S| -> Vec<String> {
        s.audit(20, None)
            .unwrap()
            .into_iter()
            .rev()
            .map(|r| r.path)
            .collect()
    };
    assert_eq!(
        paths(&s),
        [
            "/api/markings/post/x:1",
            "/api/tokens",
            "/api/tokens/t1",
            "/api/stix/import",
            "/api/stix/import",
            "/taxii2/inbox"
        ]
    );
    assert_eq!(
        s.audit(1, Some(5)).unwrap()[0].detail.as_deref(),
        Some("1 objects"),
        "the import's row is made from its outcomes"
    );
    assert_eq!(s.verify_audit().unwrap().broken, None);

    // The audit table refuses the next row: no change is stored.
    let refuse = if S::NAME == "sqlite" {
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON server_audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
    } else {
        "ALTER TABLE server_audit ADD CONSTRAINT refuse_audit CHECK (seq < 0) NOT VALID"
    };
    raw_sql::<S>(&s.location, refuse).unwrap();
    let open = MarkingRecord {
        tlp: "clear".into(),
        ..Default::default()
    };
    assert!(
        s.set_marking_audited("post", "x:1", &open, &[change("/m")])
            .is_err()
    );
    assert_eq!(s.marking("post", "x:1").unwrap(), Some(marking.clone()));
    assert!(s.insert_token_audited(&tok("t2"), &[change("/t")]).is_err());
    assert!(s.revoke_token_audited("t1", 10, &[change("/r")]).is_err());
    assert_eq!(s.tokens().unwrap().len(), 1, "no token t2");
    assert_eq!(s.tokens().unwrap()[0].revoked_ms, Some(9));
    assert!(
        s.import_stix(&import("bundle--2"), &[stix("url--b")], &newer)
            .is_err()
    );
    assert_eq!(s.stix_objects(None).unwrap().len(), 2, "no url--b");
    // A TAXII POST whose row is refused: no object, inbox row or status.
    assert!(
        s.import_stix(
            &StixImport {
                inbox: Some(&inbox_refused),
                ..import("bundle--in2")
            },
            &[stix("url--in2")],
            &newer,
        )
        .is_err()
    );
    assert_eq!(s.stix_objects(None).unwrap().len(), 2, "no url--in2");
    assert!(s.status("status-2").unwrap().is_none(), "no status-2");
    assert!(
        s.add_objects_audited("inbox", &[obj("url--2")], &[change("/x")])
            .is_err()
    );
    assert_eq!(s.object_rows("inbox", None).unwrap().len(), 2, "no url--2");
    // Without audit rows (the CLI, the server's own publishing) changes go on.
    s.set_marking("post", "x:1", &open).unwrap();
    assert_eq!(s.add_objects("inbox", &[obj("url--2")]).unwrap(), 1);
    assert_eq!(paths(&s).len(), 6);
}
