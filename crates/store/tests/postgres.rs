//! What only the PostgreSQL backend has: connecting by URL (and creating
//! the database), several processes on one database, the quarantine
//! table. The rest of the store's behaviour is tested on both backends in
//! `store.rs`. Needs PostgreSQL (feature `real-data`, `PHAROS_PG_URL`).
#![cfg(feature = "real-data")]

mod backend;

use backend::{DropDb, fresh_database, pg_missing, pg_url, url_with_db};
use pharos_core::{EventTime, Post};
use pharos_store::postgres::{is_postgres_url, redact_url};
use pharos_store::*;
use std::collections::HashSet;

fn post(id: &str, t: i64) -> Post {
    let mut p = Post {
        platform: "twitter".into(),
        id: id.into(),
        time: EventTime(t),
        text: format!("post {id}"),
        ..Default::default()
    };
    p.actor.id = "a".into();
    p
}

fn connect(url: &str) -> PgStore {
    PgStore::connect(url).unwrap_or_else(|e| panic!("{}", pg_missing(&e)))
}

#[test]
fn connect_creates_the_database_once_and_a_second_connection_shares_it() {
    let (url, _guard) = fresh_database();
    let mut a = connect(&url);
    assert_eq!(a.schema_version().unwrap(), 4);
    assert_eq!(a.component_version("server").unwrap(), 2);
    a.insert(&[post("1", 1)]).unwrap();
    // A second process: the database and its tables exist; nothing migrates again.
    let b = connect(&url);
    assert_eq!(b.count().unwrap(), 1);
    assert_eq!(b.url(), url);
    assert!(b.location().starts_with("postgres://"));
    assert_eq!(
        b.quarantine_path(),
        std::path::PathBuf::from(format!("{}.quarantine.jsonl", b.database()))
    );
    // `open_existing` does not create.
    let missing = url_with_db(&pg_url(), &format!("{}_nope", b.database()));
    let err = PgStore::open_existing(&missing).unwrap_err().to_string();
    assert!(err.contains("no database"), "{err}");
    let _drop = DropDb {
        name: format!("{}_nope", b.database()),
    };
}

#[test]
fn stores_connecting_at_once_migrate_once() {
    let (url, _guard) = fresh_database();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::connect(&url).map(|s| s.schema_version()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap().unwrap(), 4);
    }
}

#[test]
fn bad_urls_and_unreachable_servers_are_named() {
    assert!(is_postgres_url("postgresql://u@h/db"));
    assert!(!is_postgres_url("/tmp/x.db"));
    assert_eq!(
        redact_url("postgres://ann:secret@db.example:5432/pharos"),
        "postgres://ann:***@db.example:5432/pharos"
    );
    assert_eq!(
        redact_url("postgres://root@127.0.0.1:5432/x"),
        "postgres://root@127.0.0.1:5432/x"
    );
    let err = PgStore::connect("/tmp/not-a-url.db")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
    // Nothing listens on port 1.
    let err = PgStore::connect("postgres://root:pw@127.0.0.1:1/x")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    assert!(!err.contains("pw"), "the password is not shown: {err}");
}

/// Two writers and a reader that follows the store by sequence number
/// (as the server's live analysis and the full-text indexer do): the
/// reader sees every post exactly once, in sequence, although the writers
/// commit in any order.
#[test]
fn a_reader_following_rowids_misses_no_post_of_concurrent_writers() {
    let (url, _guard) = fresh_database();
    drop(connect(&url));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut s = PgStore::connect(&url).unwrap();
                for b in 0..20 {
                    let posts: Vec<Post> = (0..250)
                        .map(|i| post(&format!("w{w}-{b}-{i}"), i))
                        .collect();
                    // Each writer also re-sends half of the other's ids:
                    // duplicates across writers are stored once.
                    let dup: Vec<Post> = (0..125)
                        .map(|i| post(&format!("w{}-{b}-{i}", 1 - w), i))
                        .collect();
                    s.insert(&posts).unwrap();
                    s.insert(&dup).unwrap();
                }
            })
        })
        .collect();
    let reader = connect(&url);
    let mut seen = HashSet::new();
    let mut last = 0;
    let mut done = false;
    while !done {
        done = writers.iter().all(|w| w.is_finished());
        loop {
            let page = reader.posts_after_rowid(last, 1000).unwrap();
            if page.is_empty() {
                break;
            }
            for (r, p) in page {
                assert_eq!(r, last + 1, "sequence numbers have no gap");
                last = r;
                assert!(seen.insert(p.id), "seen once");
            }
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(seen.len(), 2 * 20 * 250);
    assert_eq!(reader.count().unwrap(), 10_000);
}

#[test]
fn the_quarantine_table_keeps_lines_in_order() {
    let (url, _guard) = fresh_database();
    let s = connect(&url);
    assert!(s.quarantined(0, 10).unwrap().is_empty());
    s.quarantine(&["{\"reason\":\"bad JSON\"}".into(), "nul\0line".into()], 7)
        .unwrap();
    s.quarantine(&[], 8).unwrap();
    let got = s.quarantined(0, 10).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, 7);
    assert_eq!(got[1].2, "nul\u{FFFD}line");
    assert_eq!(s.quarantined(got[0].0, 10).unwrap().len(), 1);
}

#[test]
fn search_walks_the_tag_index_without_words() {
    let (url, _guard) = fresh_database();
    let s = connect(&url);
    let plan = s
        .search_plan(&PostSearch {
            hashtag: Some("t".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .join("\n");
    assert!(plan.contains("post_hashtags_tag_prefix_time"), "{plan}");
    let plan = s
        .search_plan(&PostSearch {
            words: Some("x".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .join("\n");
    assert!(plan.contains("server_fts"), "{plan}");
}

#[test]
fn errors_carry_what_the_server_said() {
    let (url, _guard) = fresh_database();
    let s = connect(&url);
    let t = TokenRecord {
        id: "t".into(),
        hash: "h".into(),
        role: "admin".into(),
        org: None,
        name: "n".into(),
        created_ms: 1,
        revoked_ms: None,
    };
    s.insert_token(&t).unwrap();
    let err = s.insert_token(&t).unwrap_err().to_string();
    assert!(err.contains("duplicate key value"), "{err}");
    assert!(err.contains("23505"), "{err}");
}

/// A database written by the first PostgreSQL schema (posts version 2,
/// claim matches version 1: text keys in B-trees) migrates to the current
/// one keeping every row, and its posts are found by their new keys.
#[test]
fn a_database_of_the_first_schema_migrates_keeping_every_row() {
    let (url, _guard) = fresh_database();
    let admin = url_with_db(&pg_url(), "postgres");
    let name = url.rsplit('/').next().unwrap().to_string();
    let mut c = ::postgres::Client::connect(&admin, ::postgres::NoTls)
        .unwrap_or_else(|e| panic!("{}", pg_missing(&e)));
    c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap();
    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let p = post("old", 5);
    c.batch_execute(&format!(
        "CREATE TABLE components (name TEXT COLLATE \"C\" PRIMARY KEY, version BIGINT NOT NULL);
         INSERT INTO components VALUES ('posts', 2), ('claim_matches', 1);
         CREATE TABLE posts (
            rowid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            platform TEXT COLLATE \"C\" NOT NULL, id TEXT COLLATE \"C\" NOT NULL,
            time_ms BIGINT NOT NULL, actor_id TEXT COLLATE \"C\" NOT NULL,
            actor_key BIGINT NOT NULL, lang TEXT COLLATE \"C\", reshare_of TEXT COLLATE \"C\",
            reply_to TEXT COLLATE \"C\", quote_of TEXT COLLATE \"C\", record TEXT COLLATE \"C\" NOT NULL,
            UNIQUE (platform, id));
         CREATE TABLE post_links (post BIGINT NOT NULL, url TEXT COLLATE \"C\" NOT NULL,
            domain TEXT COLLATE \"C\" NOT NULL, time_ms BIGINT NOT NULL DEFAULT 0);
         CREATE TABLE post_hashtags (post BIGINT NOT NULL, tag TEXT COLLATE \"C\" NOT NULL,
            time_ms BIGINT NOT NULL DEFAULT 0);
         CREATE TABLE runs (run BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            command TEXT NOT NULL, sources TEXT NOT NULL, stored BIGINT NOT NULL,
            duplicates BIGINT NOT NULL, quarantined BIGINT NOT NULL, started_ms BIGINT NOT NULL,
            finished_ms BIGINT NOT NULL);
         CREATE TABLE quarantine (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            at_ms BIGINT NOT NULL, line TEXT NOT NULL);
         CREATE INDEX posts_lang ON posts (lang, time_ms, rowid);
         CREATE INDEX post_hashtags_tag_time ON post_hashtags (tag, time_ms, post);
         CREATE TABLE claim_matches (
            seq BIGINT GENERATED BY DEFAULT AS IDENTITY,
            platform TEXT COLLATE \"C\" NOT NULL, post_id TEXT COLLATE \"C\" NOT NULL,
            claim_id TEXT COLLATE \"C\" NOT NULL, score DOUBLE PRECISION NOT NULL,
            confidence DOUBLE PRECISION NOT NULL, PRIMARY KEY (platform, post_id, claim_id));
         CREATE INDEX claim_matches_claim ON claim_matches (claim_id);
         INSERT INTO posts (platform, id, time_ms, actor_id, actor_key, record)
            VALUES ('twitter', 'old', 5, 'a', 1, '{}');
         INSERT INTO post_hashtags VALUES (1, 'x', 5);
         INSERT INTO claim_matches (platform, post_id, claim_id, score, confidence)
            VALUES ('twitter', 'old', 'c1', 0.5, 0.5);",
        serde_json::to_string(&p).unwrap().replace('\'', "''")
    ))
    .unwrap();
    drop(c);
    let mut s = connect(&url);
    assert_eq!(s.schema_version().unwrap(), 4);
    assert_eq!(s.component_version("claim_matches").unwrap(), 2);
    assert_eq!(s.get("twitter", "old").unwrap(), Some(p.clone()));
    let r = s.insert(&[p.clone(), post("new", 6)]).unwrap();
    assert_eq!(
        (r.stored, r.duplicates),
        (1, 1),
        "the old post keeps its identity"
    );
    let found = s
        .search_posts(&PostSearch {
            hashtag: Some("x".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.posts, [p]);
    assert_eq!(s.matches_of_claim("c1").unwrap().len(), 1);
    s.replace_matches(&[PostMatches {
        platform: "twitter".into(),
        post_id: "old".into(),
        matches: vec![("c1".into(), 0.9, 0.9)],
    }])
    .unwrap();
    assert_eq!(s.matches_of_claim("c1").unwrap()[0].score, 0.9);
}

/// A long-running process outlives its connection: when the server ends
/// it (a restart, an administrator), the next call reconnects.
#[test]
fn a_store_reconnects_after_the_server_closed_its_connection() {
    let (url, _guard) = fresh_database();
    let mut s = connect(&url);
    s.insert(&[post("1", 1)]).unwrap();
    let mut admin = ::postgres::Client::connect(&pg_url(), ::postgres::NoTls).unwrap();
    let killed: i64 = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            &[&s.database()],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    // Termination is asynchronous: wait until the session is gone.
    for _ in 0..100 {
        let left: i64 = admin
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1",
                &[&s.database()],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The call that meets the closed connection fails; the store serves
    // again after it.
    let _ = s.count();
    assert_eq!(s.count().unwrap(), 1);
    let r = s.insert(&[post("2", 2)]).unwrap();
    assert_eq!(
        r.stored, 1,
        "the staging table is made again in the new session"
    );
    assert_eq!(s.count().unwrap(), 2);
}
