use pharos_core::{Actor, EventTime, Post};
use pharos_store::{PostFilter, SqliteStore, Store};
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
    assert_eq!(s.schema_version().unwrap(), 1);
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
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
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
