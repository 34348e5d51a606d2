//! Stores written before the store owned every table (each component then
//! created its own tables, with the SQL below, copied from main as of
//! 2026-12-06) open unchanged and read back every row through the
//! repositories; a store holding an unreadable record keeps serving.

use pharos_core::{Actor, EventTime, Post};
use pharos_store::{
    ClaimMatches, DisarmCatalogue, Incidents, PostFilter, Responses, SqliteStore, StixObjects,
    Store,
};
use std::ops::ControlFlow;

/// The components' migrations as their crates wrote them before.
const OLD_COMPONENTS: &[(&str, &str)] = &[
    (
        "claim_matches",
        "CREATE TABLE claim_matches (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        claim_id TEXT NOT NULL,
        score REAL NOT NULL,
        confidence REAL NOT NULL,
        PRIMARY KEY (platform, post_id, claim_id)
    );
    CREATE INDEX claim_matches_claim ON claim_matches (claim_id);",
    ),
    (
        "incidents",
        "CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        severity REAL NOT NULL,
        confidence REAL NOT NULL,
        model_version INTEGER NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX incidents_time ON incidents (first_seen_ms);",
    ),
    (
        "responses",
        "CREATE TABLE responses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        narrative INTEGER NOT NULL,
        anchor_platform TEXT,
        anchor_post TEXT,
        label TEXT,
        who TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        channel TEXT NOT NULL,
        url TEXT,
        partner TEXT,
        note TEXT,
        logged_at_ms INTEGER NOT NULL
    );
    CREATE INDEX responses_narrative ON responses (narrative, at_ms);",
    ),
    (
        "disarm",
        "CREATE TABLE disarm_tactics (
        ta_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        shortname TEXT NOT NULL,
        description TEXT
    );
    CREATE TABLE disarm_techniques (
        t_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tactic_ids TEXT NOT NULL,
        description TEXT,
        imported_ms INTEGER NOT NULL
    );
    CREATE TABLE disarm_imports (
        import INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        techniques INTEGER NOT NULL,
        tactics INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    );",
    ),
    (
        "stix_import",
        "CREATE TABLE stix_objects (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        key TEXT,
        name TEXT,
        modified TEXT,
        tlp TEXT,
        markings TEXT NOT NULL,
        created_by_ref TEXT,
        source TEXT NOT NULL,
        imported_ms INTEGER NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX stix_objects_type_key ON stix_objects (type, key);
    CREATE TABLE stix_imports (
        import INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        bundle_id TEXT,
        objects INTEGER NOT NULL,
        added INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    );",
    ),
];

fn post(id: &str, t: i64) -> Post {
    Post {
        platform: "twitter".into(),
        id: id.into(),
        actor: Actor {
            id: format!("a{id}"),
            ..Default::default()
        },
        time: EventTime(t),
        text: format!("post {id}"),
        hashtags: vec!["tag".into()],
        ..Default::default()
    }
}

fn all_posts(s: &SqliteStore) -> Vec<Post> {
    let mut seen = Vec::new();
    s.scan(&PostFilter::default(), &mut |p| {
        seen.push(p);
        ControlFlow::Continue(())
    })
    .unwrap();
    seen
}

/// Writes a store as the code of main did: posts through the store, then
/// each component's tables and rows by the components' own SQL.
fn old_store(path: &std::path::Path, components: &[&str]) -> Vec<Post> {
    let posts = vec![post("1", 1_000), post("2", 2_000), post("3", 3_000)];
    {
        // Posts' schema (user_version 3) as the store wrote it then: the
        // tables come from opening, the components' rows are then
        // removed so the file holds only what an old store had.
        let mut s = SqliteStore::open(path).unwrap();
        s.insert(&posts).unwrap();
    }
    let c = rusqlite::Connection::open(path).unwrap();
    for (name, _) in OLD_COMPONENTS {
        c.execute("DELETE FROM components WHERE name = ?1", [name])
            .unwrap();
    }
    for t in [
        "claim_matches",
        "incidents",
        "responses",
        "disarm_tactics",
        "disarm_techniques",
        "disarm_imports",
        "stix_objects",
        "stix_imports",
    ] {
        c.execute_batch(&format!("DROP TABLE {t}")).unwrap();
    }
    for (name, sql) in OLD_COMPONENTS
        .iter()
        .filter(|(n, _)| components.contains(n))
    {
        c.execute_batch(sql).unwrap();
        c.execute(
            "INSERT INTO components(name, version) VALUES (?1, 1)",
            [name],
        )
        .unwrap();
    }
    let has = |n: &str| components.contains(&n);
    if has("claim_matches") {
        c.execute_batch(
            "INSERT INTO claim_matches VALUES ('twitter', '1', 'c1', 9.5, 0.9);
             INSERT INTO claim_matches VALUES ('twitter', '2', 'c1', 4.0, 0.4);",
        )
        .unwrap();
    }
    if has("incidents") {
        c.execute_batch(
            "INSERT INTO incidents VALUES ('inc-1', 'a title', 1000, 3000, 0.5, 0.7, 1, '{\"id\":\"inc-1\"}');",
        )
        .unwrap();
    }
    if has("responses") {
        c.execute_batch(
            "INSERT INTO responses (narrative, anchor_platform, anchor_post, label, who, at_ms, channel, url, partner, note, logged_at_ms)
             VALUES (7, 'twitter', '1', 'lbl', 'desk', 2500, 'website', 'https://x.example', NULL, 'n', 9000);",
        )
        .unwrap();
    }
    if has("disarm") {
        c.execute_batch(
            "INSERT INTO disarm_tactics VALUES ('TA17', 'Maximise Exposure', 'maximise-exposure', NULL);
             INSERT INTO disarm_techniques VALUES ('T0049', 'Flood Information Space', '[\"TA17\"]', 'd', 5);
             INSERT INTO disarm_imports (source, techniques, tactics, at_ms) VALUES ('a.json', 1, 1, 5);",
        )
        .unwrap();
    }
    if has("stix_import") {
        c.execute_batch(
            "INSERT INTO stix_objects VALUES ('indicator--1', 'indicator', '[url:value = ''x'']', 'ind', '2025-01-01T00:00:00Z',
                'amber', '[\"marking-definition--m\"]', NULL, 'b.json', 5, '{\"type\":\"indicator\"}');
             INSERT INTO stix_objects VALUES ('marking-definition--m', 'marking-definition', NULL, NULL, NULL,
                'amber', '[]', NULL, 'b.json', 5, '{}');",
        )
        .unwrap();
    }
    posts
}

#[test]
fn a_store_written_by_the_components_opens_and_reads_back_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let posts = old_store(
        &path,
        &[
            "claim_matches",
            "incidents",
            "responses",
            "disarm",
            "stix_import",
        ],
    );
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(all_posts(&s), posts);
    let m = s.matches_at_least(0.0).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].post_id.as_str(), m[0].score), ("1", 9.5));
    assert_eq!(s.matches_of_claim("c1").unwrap().len(), 2);
    assert_eq!(
        s.matches_of_post("twitter", "2").unwrap()[0].confidence,
        0.4
    );
    let inc = s.incidents().unwrap();
    assert_eq!(inc.len(), 1);
    assert_eq!(
        (
            inc[0].id.as_str(),
            inc[0].title.as_str(),
            inc[0].last_seen_ms
        ),
        ("inc-1", "a title", 3000)
    );
    assert_eq!(inc[0].json, "{\"id\":\"inc-1\"}");
    let r = s.responses(None).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (
            r[0].narrative,
            r[0].anchor_post.as_deref(),
            r[0].note.as_deref()
        ),
        (7, Some("1"), Some("n"))
    );
    assert_eq!(s.responses(Some(8)).unwrap().len(), 0);
    let (tactics, techniques) = s.disarm().unwrap();
    assert_eq!(tactics[0].shortname, "maximise-exposure");
    assert_eq!(techniques[0].tactic_ids, vec!["TA17".to_string()]);
    let objs = s.stix_objects(Some("indicator")).unwrap();
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0].markings, vec!["marking-definition--m".to_string()]);
    assert_eq!(s.stix_objects(None).unwrap().len(), 2);
    assert_eq!(
        s.stix_markings().unwrap(),
        vec![(
            "marking-definition--m".to_string(),
            Some("amber".to_string())
        )]
    );
    drop(s);
    // Opening again changes nothing.
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.incidents().unwrap().len(), 1);
    assert_eq!(all_posts(&s).len(), 3);
}

#[test]
fn a_store_without_some_components_gets_their_tables_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    old_store(&path, &["incidents"]);
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.incidents().unwrap().len(), 1);
    assert!(s.matches_at_least(0.0).unwrap().is_empty());
    assert!(s.responses(None).unwrap().is_empty());
    assert_eq!(s.disarm().unwrap(), (vec![], vec![]));
    assert!(s.stix_objects(None).unwrap().is_empty());
    // The new tables work.
    let id = s
        .log_response(&pharos_store::ResponseRecord {
            narrative: 1,
            who: "w".into(),
            channel: "c".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.responses(Some(1)).unwrap()[0].id, id);
}

#[test]
fn an_unreadable_stored_post_is_skipped_and_named_and_reads_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = SqliteStore::open(&path).unwrap();
    s.insert(&[post("1", 1_000), post("2", 2_000), post("3", 3_000)])
        .unwrap();
    drop(s);
    // What an older pharos wrote for a time outside chrono's range, and a
    // record that is not JSON at all.
    let c = rusqlite::Connection::open(&path).unwrap();
    let bad = serde_json::to_string(&post("2", 2_000))
        .unwrap()
        .replace("1970-01-01T00:00:02.000Z", "-262143-01-01T00:00:00.000Z");
    assert!(bad.contains("-262143"), "{bad}");
    c.execute("UPDATE posts SET record = ?1 WHERE id = '2'", [&bad])
        .unwrap();
    c.execute("UPDATE posts SET record = 'not json' WHERE id = '3'", [])
        .unwrap();
    drop(c);
    let s = SqliteStore::open(&path).unwrap();
    let seen = all_posts(&s);
    assert_eq!(
        seen.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["1"]
    );
    assert_eq!(s.skipped_records(), 2);
    assert_eq!(s.get("twitter", "2").unwrap(), None);
    assert_eq!(s.get("twitter", "1").unwrap().unwrap().id, "1");
    assert_eq!(s.skipped_records(), 3);
    assert_eq!(s.count().unwrap(), 3);
    assert_eq!(s.stats(5).unwrap().posts, 3);
}

#[test]
fn an_unreadable_disarm_technique_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    old_store(&path, &["disarm"]);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "INSERT INTO disarm_techniques VALUES ('T0002', 'Broken', 'not a list', NULL, 5);",
    )
    .unwrap();
    drop(c);
    let s = SqliteStore::open(&path).unwrap();
    let (_, techniques) = s.disarm().unwrap();
    assert_eq!(
        techniques
            .iter()
            .map(|t| t.t_id.as_str())
            .collect::<Vec<_>>(),
        ["T0049"]
    );
    assert_eq!(s.skipped_records(), 1);
}
