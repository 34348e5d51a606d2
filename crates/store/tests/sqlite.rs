use pharos_core::{Actor, EventTime, Post};
use pharos_store::{EncodedPosts, PostFilter, PostLog, SqliteStore, Store};
use std::ops::ControlFlow;

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

#[test]
fn insert_is_idempotent_and_scan_is_time_ordered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/pharos.db");
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 3);
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
    let r = s.insert(&batch).unwrap();
    assert_eq!((r.stored, r.duplicates), (2, 1));
    let r = s.insert(&batch).unwrap();
    assert_eq!((r.stored, r.duplicates), (0, 3));
    assert_eq!(s.count().unwrap(), 2);

    let mut seen = vec![];
    s.scan(&PostFilter::default(), &mut |p| {
        seen.push(p);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        seen.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["1", "2"]
    );
    assert_eq!(seen[1], batch[0], "records come back exactly as stored");

    let got = s.get("twitter", "2").unwrap().unwrap();
    assert_eq!(got.links[0].url, "https://www.ex.com/a");

    let st = s.stats(10).unwrap();
    assert_eq!(st.posts, 2);
    assert_eq!(st.actors, 2);
    assert_eq!(st.top_hashtags[0].key, "x");
    assert_eq!(st.top_hashtags[0].count, 2);
    assert_eq!(st.top_domains[0].key, "ex.com");
    assert_eq!(st.by_day[0].key, "1970-01-01");
    assert!(st.top_actors[0].key.starts_with("twitter:"));
    assert!(st.top_actors.iter().any(|c| c.key == "twitter:a (@h_a)"));

    // Re-opening keeps everything and does not re-run migrations.
    drop(s);
    let s = SqliteStore::open_existing(&path).unwrap();
    assert_eq!(s.count().unwrap(), 2);
}

#[test]
fn filters_by_time_and_platform() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("p.db")).unwrap();
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
}

#[test]
fn open_existing_refuses_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open_existing(dir.path().join("nope.db"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("no store here"), "{err}");
}

#[test]
fn newer_schema_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(&path).err().unwrap();
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn interrupted_bulk_load_is_repaired_at_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let index_count = |s: &SqliteStore| -> i64 {
        let c = rusqlite::Connection::open(s.path()).unwrap();
        c.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'
             AND tbl_name IN ('posts', 'post_links', 'post_hashtags')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let mut s = SqliteStore::open(&path).unwrap();
    let full = index_count(&s);
    assert!(full >= 5);
    s.begin_bulk().unwrap();
    assert_eq!(index_count(&s), 0);
    s.insert(&[post("1", 1, "a", &["t"], Some("https://e.com/"))])
        .unwrap();
    // Uniqueness holds during a bulk load.
    let r = s.insert(&[post("1", 1, "a", &[], None)]).unwrap();
    assert_eq!(r.duplicates, 1);
    drop(s); // interrupted: end_bulk never ran
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(index_count(&s), full);
    assert_eq!(s.stats(5).unwrap().top_hashtags[0].key, "t");
}

fn link_and_tag_rows(s: &SqliteStore) -> (i64, i64) {
    let c = rusqlite::Connection::open(s.path()).unwrap();
    let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (
        n("SELECT COUNT(*) FROM post_links"),
        n("SELECT COUNT(*) FROM post_hashtags"),
    )
}

#[test]
fn encoded_insert_is_idempotent_and_keeps_records_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("p.db")).unwrap();
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
    assert_eq!(link_and_tag_rows(&s), (1, 2));
    for p in &posts {
        assert_eq!(s.get(&p.platform, &p.id).unwrap().as_ref(), Some(p));
    }
}

#[test]
fn batches_in_one_transaction_count_each_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("p.db")).unwrap();
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
    let done = s.insert_encoded_batches(&[&a, &b]).unwrap();
    assert_eq!(
        done.iter()
            .map(|d| (d.stored, d.duplicates))
            .collect::<Vec<_>>(),
        vec![(2, 0), (1, 1)]
    );
    assert_eq!(s.count().unwrap(), 3);
    assert_eq!(link_and_tag_rows(&s), (1, 1));
    let again = s.insert_encoded_batches(&[&b]).unwrap();
    assert_eq!((again[0].stored, again[0].duplicates), (0, 2));
}

#[test]
fn batches_give_each_stored_post_its_rowid_and_duplicates_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("p.db")).unwrap();
    let mut a = EncodedPosts::new();
    a.extend(&[post("1", 10, "a", &[], None), post("2", 20, "b", &[], None)])
        .unwrap();
    let mut b = EncodedPosts::new();
    b.extend(&[post("2", 20, "b", &[], None), post("3", 30, "c", &[], None)])
        .unwrap();
    let done = s.insert_encoded_batches_rowids(&[&a, &b]).unwrap();
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

#[test]
fn duplicates_within_a_batch_keep_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("p.db")).unwrap();
    let a = post("1", 10, "a", &["first"], Some("https://one.example/"));
    let mut b = post("1", 99, "z", &["second"], Some("https://two.example/"));
    b.text = "the later copy".into();
    let c = post("2", 11, "a", &[], None);
    let r = s.insert(&[a.clone(), b, c]).unwrap();
    assert_eq!((r.stored, r.duplicates), (2, 1));
    assert_eq!(s.get("twitter", "1").unwrap(), Some(a));
    assert_eq!(link_and_tag_rows(&s), (1, 1));
    let st = s.stats(5).unwrap();
    assert_eq!(st.top_hashtags[0].key, "first");
    assert_eq!(st.top_domains[0].key, "one.example");
}

#[test]
fn interrupted_encoded_bulk_load_is_repaired_and_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
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
    let mut s = SqliteStore::open(&path).unwrap();
    s.begin_bulk().unwrap();
    let mut batch = EncodedPosts::new();
    batch.extend(&posts[..60]).unwrap();
    s.insert_encoded(&batch).unwrap();
    drop(s); // interrupted after the first batch: no end_bulk
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.count().unwrap(), 60);
    // Re-running the whole load stores only what is missing.
    s.begin_bulk().unwrap();
    batch.clear();
    batch.extend(&posts).unwrap();
    let r = s.insert_encoded(&batch).unwrap();
    assert_eq!((r.stored, r.duplicates), (40, 60));
    s.end_bulk().unwrap();
    assert_eq!(s.count().unwrap(), 100);
    assert_eq!(link_and_tag_rows(&s), (100, 100));
    let mut seen = Vec::new();
    s.scan(&PostFilter::default(), &mut |p| {
        seen.push(p);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(seen, posts);
    let c = rusqlite::Connection::open(s.path()).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn actor_key_is_stable() {
    // Part of the store format: these values must never change.
    assert_eq!(
        pharos_store::sqlite::actor_key("twitter", "42"),
        pharos_store::sqlite::actor_key("twitter", "42")
    );
    assert_ne!(
        pharos_store::sqlite::actor_key("twitter", "42"),
        pharos_store::sqlite::actor_key("telegram", "42")
    );
    assert_ne!(
        pharos_store::sqlite::actor_key("ab", "c"),
        pharos_store::sqlite::actor_key("a", "bc")
    );
    assert_eq!(
        pharos_store::sqlite::actor_key("", ""),
        0xaf63_bd4c_8601_b7df_u64 as i64
    );
}

/// A store as schema version 2 wrote it (before hashtag and link rows
/// carried their post's time), with its indexes.
/// A post of [`version_2_store`]: rowid, id, time, hashtags, links `(url, domain)`.
type OldPost<'a> = (i64, &'a str, i64, &'a [&'a str], &'a [(&'a str, &'a str)]);

fn version_2_store(path: &std::path::Path, posts: &[OldPost]) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE posts (
            rowid INTEGER PRIMARY KEY, platform TEXT NOT NULL, id TEXT NOT NULL,
            time_ms INTEGER NOT NULL, actor_id TEXT NOT NULL, actor_key INTEGER NOT NULL,
            lang TEXT, reshare_of TEXT, reply_to TEXT, quote_of TEXT, record TEXT NOT NULL,
            UNIQUE (platform, id));
         CREATE TABLE post_links (post INTEGER NOT NULL, url TEXT NOT NULL, domain TEXT NOT NULL);
         CREATE TABLE post_hashtags (post INTEGER NOT NULL, tag TEXT NOT NULL);
         CREATE TABLE runs (run INTEGER PRIMARY KEY, command TEXT NOT NULL, sources TEXT NOT NULL,
            stored INTEGER NOT NULL, duplicates INTEGER NOT NULL, quarantined INTEGER NOT NULL,
            started_ms INTEGER NOT NULL, finished_ms INTEGER NOT NULL);
         CREATE TABLE components (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
         CREATE INDEX posts_time ON posts (time_ms);
         CREATE INDEX posts_actor ON posts (actor_key, time_ms);
         CREATE INDEX posts_lang ON posts (lang, time_ms);
         CREATE INDEX posts_platform ON posts (platform, time_ms);
         CREATE INDEX post_links_url ON post_links (url);
         CREATE INDEX post_links_domain ON post_links (domain);
         CREATE INDEX post_links_post ON post_links (post);
         CREATE INDEX post_hashtags_tag ON post_hashtags (tag);
         CREATE INDEX post_hashtags_post ON post_hashtags (post);
         INSERT INTO runs VALUES (1, 'ingest', '[]', 3, 0, 0, 1, 2);
         PRAGMA user_version = 2;",
    )
    .unwrap();
    for (rowid, id, t, tags, links) in posts {
        let p = post(id, *t, "a", tags, None);
        c.execute(
            "INSERT INTO posts (rowid, platform, id, time_ms, actor_id, actor_key, lang, record)
             VALUES (?1, 'twitter', ?2, ?3, 'a', ?4, 'en', ?5)",
            rusqlite::params![
                rowid,
                id,
                t,
                pharos_store::sqlite::actor_key("twitter", "a"),
                serde_json::to_string(&p).unwrap()
            ],
        )
        .unwrap();
        for tag in *tags {
            c.execute(
                "INSERT INTO post_hashtags (post, tag) VALUES (?1, ?2)",
                rusqlite::params![rowid, tag],
            )
            .unwrap();
        }
        for (url, domain) in *links {
            c.execute(
                "INSERT INTO post_links (post, url, domain) VALUES (?1, ?2, ?3)",
                rusqlite::params![rowid, url, domain],
            )
            .unwrap();
        }
    }
}

#[test]
fn a_version_2_store_migrates_keeping_every_row_and_gives_rows_their_post_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    version_2_store(
        &path,
        &[
            (1, "1", 5_000, &["x", "y"], &[("https://e.com/a", "e.com")]),
            (
                2,
                "2",
                3_000,
                &["x"],
                &[("https://e.com/b", "e.com"), ("https://f.org/", "f.org")],
            ),
            (7, "7", 5_000, &[], &[]),
        ],
    );
    let rows = |c: &rusqlite::Connection, sql: &str| -> Vec<String> {
        let mut stmt = c.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = {
        let c = rusqlite::Connection::open(&path).unwrap();
        (
            rows(
                &c,
                "SELECT rowid || platform || id || time_ms || record FROM posts ORDER BY rowid",
            ),
            rows(
                &c,
                "SELECT post || ' ' || tag FROM post_hashtags ORDER BY rowid",
            ),
            rows(
                &c,
                "SELECT post || ' ' || url || ' ' || domain FROM post_links ORDER BY rowid",
            ),
            rows(&c, "SELECT run || command FROM runs"),
        )
    };
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 3);
    let c = rusqlite::Connection::open(&path).unwrap();
    let after = (
        rows(
            &c,
            "SELECT rowid || platform || id || time_ms || record FROM posts ORDER BY rowid",
        ),
        rows(
            &c,
            "SELECT post || ' ' || tag FROM post_hashtags ORDER BY rowid",
        ),
        rows(
            &c,
            "SELECT post || ' ' || url || ' ' || domain FROM post_links ORDER BY rowid",
        ),
        rows(&c, "SELECT run || command FROM runs"),
    );
    assert_eq!(before, after, "nothing lost or changed");
    assert_eq!(before.1.len(), 3);
    assert_eq!(before.2.len(), 3);
    // Every hashtag and link row has its post's time.
    assert_eq!(
        rows(
            &c,
            "SELECT h.post || ' ' || h.time_ms FROM post_hashtags h ORDER BY h.rowid"
        ),
        ["1 5000", "1 5000", "2 3000"]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT l.post || ' ' || l.time_ms FROM post_links l ORDER BY l.rowid"
        ),
        ["1 5000", "2 3000", "2 3000"]
    );
    // The time indexes replace the tag and domain ones.
    let indexes = rows(
        &c,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('post_hashtags', 'post_links') ORDER BY name",
    );
    assert_eq!(
        indexes,
        [
            "post_hashtags_post",
            "post_hashtags_tag_time",
            "post_links_domain_time",
            "post_links_post",
            "post_links_url"
        ]
    );
    // Posts stored after the migration carry their time too.
    s.insert(&[post("9", 9_000, "b", &["x"], Some("https://e.com/c"))])
        .unwrap();
    assert_eq!(
        rows(
            &c,
            "SELECT post || ' ' || time_ms FROM post_hashtags WHERE tag = 'x' ORDER BY time_ms DESC, post DESC"
        ),
        ["8 9000", "1 5000", "2 3000"]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT post || ' ' || time_ms FROM post_links WHERE domain = 'e.com' ORDER BY time_ms DESC, post DESC"
        ),
        ["8 9000", "1 5000", "2 3000"]
    );
    let stats = s.stats(5).unwrap();
    assert_eq!(stats.top_hashtags[0].key, "x");
    assert_eq!(stats.top_hashtags[0].count, 3);
    assert_eq!(stats.top_domains[0].key, "e.com");
    drop(s);
    // Opening again applies nothing more.
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 3);
}

#[test]
fn a_bulk_load_drops_and_rebuilds_the_time_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("b.db")).unwrap();
    let has = |s: &SqliteStore, name: &str| -> bool {
        rusqlite::Connection::open(s.path())
            .unwrap()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 1
    };
    assert!(has(&s, "post_hashtags_tag_time") && has(&s, "post_links_domain_time"));
    s.begin_bulk().unwrap();
    assert!(!has(&s, "post_hashtags_tag_time") && !has(&s, "post_links_domain_time"));
    s.insert(&[post("1", 4_000, "a", &["t"], Some("https://e.com/"))])
        .unwrap();
    s.end_bulk().unwrap();
    assert!(has(&s, "post_hashtags_tag_time") && has(&s, "post_links_domain_time"));
    let t: i64 = rusqlite::Connection::open(s.path())
        .unwrap()
        .query_row(
            "SELECT time_ms FROM post_hashtags INDEXED BY post_hashtags_tag_time WHERE tag = 't'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(t, 4_000);
}

#[test]
fn the_audit_log_only_grows() {
    use pharos_store::{Audit, AuditRecord};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let s = SqliteStore::open(&path).unwrap();
    let row = |path: &str| AuditRecord {
        at_ms: 5,
        action: "read".into(),
        method: "GET".into(),
        path: path.into(),
        status: 200,
        ..Default::default()
    };
    s.append_audit(&[row("/a"), row("/b")]).unwrap();
    let back = s.audit(10, None).unwrap();
    assert_eq!(
        back.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/b", "/a"]
    );
    assert_eq!(s.audit(10, Some(back[0].seq)).unwrap().len(), 1);
    let c = rusqlite::Connection::open(&path).unwrap();
    assert!(c.execute("DELETE FROM server_audit", []).is_err());
    assert!(c.execute("UPDATE server_audit SET path = 'x'", []).is_err());
    assert_eq!(s.audit(10, None).unwrap(), back);
}

/// Issue 14, finding 3: each audit row is chained to the one before by a
/// hash, so a row changed, deleted or added behind the store's back is
/// found, and named, by `verify_audit` (`pharos audit verify`).
#[test]
fn the_audit_log_is_a_hash_chain_and_tampering_is_found() {
    use pharos_store::{Audit, AuditRecord};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let s = SqliteStore::open(&path).unwrap();
    let row = |path: &str| AuditRecord {
        at_ms: 5,
        action: "read".into(),
        method: "GET".into(),
        path: path.into(),
        status: 200,
        ..Default::default()
    };
    s.append_audit(&[row("/a"), row("/b")]).unwrap();
    s.append_audit(&[row("/c")]).unwrap();
    s.append_audit(&[row("/d"), row("/e")]).unwrap();
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

    // Someone with the file drops the triggers and edits a row.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("DROP TRIGGER server_audit_no_update; DROP TRIGGER server_audit_no_delete;")
        .unwrap();
    c.execute("UPDATE server_audit SET path = '/x' WHERE seq = 3", [])
        .unwrap();
    let bad = s.verify_audit().unwrap();
    let (seq, why) = bad.broken.unwrap();
    assert_eq!(seq, 3, "{why}");
    assert!(why.contains("changed"), "{why}");
    c.execute("UPDATE server_audit SET path = '/c' WHERE seq = 3", [])
        .unwrap();
    assert_eq!(
        s.verify_audit().unwrap().broken,
        None,
        "put back: whole again"
    );

    // A row deleted from the middle: the row after it names the gap.
    c.execute("DELETE FROM server_audit WHERE seq = 2", [])
        .unwrap();
    let (seq, why) = s.verify_audit().unwrap().broken.unwrap();
    assert_eq!(seq, 3);
    assert!(why.contains("rows 2 to 2 are missing"), "{why}");

    // A row added by hand (without the chain's hash).
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = dir2.path().join("b.db");
    let s2 = SqliteStore::open(&path2).unwrap();
    s2.append_audit(&[row("/a")]).unwrap();
    let c2 = rusqlite::Connection::open(&path2).unwrap();
    c2.execute(
        "INSERT INTO server_audit (at_ms, action, method, path, status) VALUES (1, 'read', 'GET', '/forged', 200)",
        [],
    )
    .unwrap();
    let (seq, why) = s2.verify_audit().unwrap().broken.unwrap();
    assert_eq!(seq, 2);
    assert!(why.contains("no hash"), "{why}");
    // A forged row with a made-up hash.
    let dir3 = tempfile::tempdir().unwrap();
    let path3 = dir3.path().join("c.db");
    let s3 = SqliteStore::open(&path3).unwrap();
    s3.append_audit(&[row("/a")]).unwrap();
    rusqlite::Connection::open(&path3)
        .unwrap()
        .execute(
            "INSERT INTO server_audit (at_ms, action, method, path, status, hash) VALUES (1, 'read', 'GET', '/forged', 200, 'beef')",
            [],
        )
        .unwrap();
    assert_eq!(s3.verify_audit().unwrap().broken.unwrap().0, 2);
    // Appends go on chaining after the forged row is found: the log is
    // still readable.
    assert_eq!(s3.audit(10, None).unwrap().len(), 2);
}
