//! SQLite's own format: bulk loads that drop and rebuild its indexes, and
//! stores written by earlier versions. What every backend does is tested
//! in `store.rs`, on SQLite and PostgreSQL alike.

use pharos_core::{Actor, EventTime, Post};
use pharos_store::{SqliteStore, Store};

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
