//! Pictures in the assessment: posts referencing files `pharos media scan`
//! hashed. A picture declared AI-generated in a valid C2PA manifest tags
//! the incident with DISARM T0086.002 and the file as evidence (hash,
//! source, signer, claim generator); a file whose manifest does not verify
//! is reported as broken, never as authentic; AI media alone raises no
//! incident but is listed with its posts.

use pharos_assess::assess::{AssessOptions, assess_store};
use pharos_assess::incident::{EvidenceKind, Incident};
use pharos_core::{Actor, EventTime, Link, Media, MediaKind, Post};
use pharos_media::AiDeclaration;
use pharos_store::{MediaHashes, MediaRecord, SqliteStore, Store};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../media/tests/fixtures/c2pa")
        .join(name)
}

fn post(id: &str, actor: &str, t_s: i64, url: &str, media: Option<(&str, MediaKind)>) -> Post {
    Post {
        platform: "telegram".into(),
        id: id.into(),
        actor: Actor {
            id: actor.into(),
            ..Default::default()
        },
        time: EventTime(t_s * 1000),
        text: format!("look at this, number {id} of the series"),
        links: vec![Link::new(url)],
        media: media
            .map(|(u, kind)| {
                vec![Media {
                    url: u.into(),
                    kind,
                    ..Default::default()
                }]
            })
            .unwrap_or_default(),
        ..Default::default()
    }
}

/// What `pharos media scan` stores for a post's reference to a fixture.
fn record(post_id: &str, url: &str, file: &str) -> MediaRecord {
    let ins = pharos_media::inspect(&fixture(file)).unwrap();
    MediaRecord {
        platform: "telegram".into(),
        post_id: post_id.into(),
        url: url.into(),
        sha256: ins.sha256.clone(),
        pdq: ins.pdq.to_string(),
        quality: ins.quality,
        width: ins.width,
        height: ins.height,
        c2pa: ins.c2pa.as_ref().map(|c| {
            let mut v = serde_json::to_value(c).unwrap();
            v["failures"] = serde_json::json!(c.failures);
            v.to_string()
        }),
        xmp_source_type: ins.xmp_digital_source_type.clone(),
        scanned_ms: 0,
    }
}

/// Four accounts share the same links within seconds, five times (a
/// co-link network: one incident); two of their posts carry an
/// AI-declared picture, one a file altered after signing, one a video
/// preview declared AI in XMP. Two unrelated accounts, hours later, post
/// an AI-declared picture each (no coordination).
fn store(dir: &std::path::Path) -> SqliteStore {
    let mut posts = Vec::new();
    let mut records = Vec::new();
    for k in 0..5i64 {
        let url = format!("https://example.com/story/{k}");
        for (a, acct) in ["a", "b", "c", "d"].iter().enumerate() {
            let id = format!("{k}{acct}");
            let media = match (k, *acct) {
                (0, "a") | (1, "b") => Some(("photos/ai.jpg", "ai_generated.jpg")),
                (2, "c") => Some(("photos/altered.jpg", "altered.jpg")),
                (3, "d") => Some(("video/clip_thumb.jpg", "xmp_ai.jpg")),
                _ => None,
            };
            let kind = if k == 3 {
                MediaKind::Video
            } else {
                MediaKind::Photo
            };
            posts.push(post(
                &id,
                acct,
                10_000 + k * 3_600 + a as i64 * 5,
                &url,
                media.map(|(u, _)| (u, kind)),
            ));
            if let Some((u, f)) = media {
                records.push(record(&id, u, f));
            }
        }
    }
    for (i, acct) in ["x", "y"].iter().enumerate() {
        let id = format!("lone{i}");
        posts.push(post(
            &id,
            acct,
            200_000 + i as i64 * 7_200,
            &format!("https://elsewhere.example/{i}"),
            Some(("photos/gen.jpg", MediaKind::Photo)),
        ));
        records.push(record(&id, "photos/gen.jpg", "ai_generated.jpg"));
    }
    let mut s = SqliteStore::open(dir.join("s.db")).unwrap();
    s.insert(&posts).unwrap();
    s.save_media(&records).unwrap();
    s
}

fn the_incident(incidents: &[Incident]) -> &Incident {
    assert_eq!(incidents.len(), 1, "one co-link incident: {incidents:#?}");
    &incidents[0]
}

#[test]
fn an_incident_with_ai_declared_pictures_shows_the_technique_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let a = assess_store(&s, &AssessOptions::default()).unwrap();
    let inc = the_incident(&a.incidents);
    let ai = pharos_media::inspect(&fixture("ai_generated.jpg")).unwrap();

    // The picture: its hash, source, signer and claim generator.
    let tag = inc
        .techniques
        .iter()
        .find(|t| t.t_id == "T0086.002")
        .expect("T0086.002 on the incident");
    assert_eq!(tag.name, "Develop AI-Generated Images (Deepfakes)");
    assert_eq!(tag.tactic_id.as_deref(), Some("TA06"));
    assert_eq!(tag.signal, "ai-generated-media");
    let media_id = format!("media:{}", ai.sha256);
    assert_eq!(tag.evidence, std::slice::from_ref(&media_id), "{tag:?}");
    assert!(
        tag.shown_by.contains("valid C2PA manifest"),
        "{}",
        tag.shown_by
    );
    let m = inc.media.iter().find(|m| m.id == media_id).unwrap();
    assert_eq!(m.ai, Some(AiDeclaration::SignedC2pa));
    assert_eq!(m.sha256, ai.sha256);
    assert_eq!(m.pdq, ai.pdq.to_string());
    assert_eq!(m.posts, ["telegram:0a", "telegram:1b"]);
    assert_eq!((m.post_count, m.accounts), (2, 2));
    assert_eq!(m.technique.as_deref(), Some("T0086.002"));
    let e = inc.evidence(&media_id).expect("the file is evidence");
    assert_eq!(e.kind, Some(EvidenceKind::Media));
    assert!(e.label.contains("Pharos Test Signer"), "{}", e.label);
    assert!(e.label.contains("Pharos fixture generator"), "{}", e.label);
    assert!(e.label.contains("trainedAlgorithmicMedia"), "{}", e.label);
    assert!(e.refs.contains(&"post:telegram:0a".to_string()), "{e:?}");
    for r in &e.refs {
        assert!(inc.evidence(r).is_some(), "{r} is not in the evidence");
    }

    // The video preview declared AI only in XMP: T0087.001, weaker.
    let video = inc
        .techniques
        .iter()
        .find(|t| t.t_id == "T0087.001")
        .expect("T0087.001 for the video");
    assert!(
        video.shown_by.contains("unsigned XMP"),
        "{}",
        video.shown_by
    );
    let v = inc.media.iter().find(|m| m.kind == "video").unwrap();
    assert_eq!(v.ai, Some(AiDeclaration::Xmp));
    assert_eq!(video.evidence, std::slice::from_ref(&v.id));

    // Strongest declaration first; the altered file is listed, not tagged.
    assert_eq!(inc.media[0].id, media_id);
    assert_eq!(inc.media.len(), 3, "{:#?}", inc.media);
    assert!(inc.abcde.content.statement.contains("generative AI"));
}

#[test]
fn a_manifest_that_does_not_verify_is_reported_broken_never_authentic() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let a = assess_store(&s, &AssessOptions::default()).unwrap();
    let inc = the_incident(&a.incidents);
    let altered = pharos_media::inspect(&fixture("altered.jpg")).unwrap();
    let m = inc
        .media
        .iter()
        .find(|m| m.sha256 == altered.sha256)
        .expect("the altered file is evidence");
    assert_eq!(m.ai, None, "it declares a camera capture");
    assert!(m.c2pa.as_ref().is_some_and(|c| !c.valid));
    assert!(
        m.c2pa_failures.iter().any(|f| f.contains("dataHash")),
        "{:?}",
        m.c2pa_failures
    );
    let text = m.provenance();
    assert!(
        text.contains("manifest present, signature does not verify"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("authentic"), "{text}");
    let e = inc.evidence(&m.id).unwrap();
    assert!(e.label.contains("signature does not verify"), "{}", e.label);
    assert!(!inc.techniques.iter().any(|t| t.evidence.contains(&m.id)));
}

#[test]
fn ai_media_alone_raises_no_incident_but_is_listed_with_its_posts() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let a = assess_store(&s, &AssessOptions::default()).unwrap();
    let inc = the_incident(&a.incidents);
    assert!(!inc.posts.iter().any(|p| p.starts_with("telegram:lone")));
    // Listed: the signed picture (incident and lone posts: one file), the
    // XMP-declared video preview.
    assert_eq!(a.ai_media.len(), 2, "{:#?}", a.ai_media);
    let signed = &a.ai_media[0];
    assert_eq!(signed.ai, Some(AiDeclaration::SignedC2pa));
    assert_eq!(
        signed.posts,
        [
            "telegram:0a",
            "telegram:1b",
            "telegram:lone0",
            "telegram:lone1"
        ]
    );
    assert_eq!(signed.technique.as_deref(), Some("T0086.002"));
    assert_eq!(a.ai_media[1].technique.as_deref(), Some("T0087.001"));

    // Without the scan's records, nothing is said about pictures.
    let bare = SqliteStore::open(dir.path().join("bare.db")).unwrap();
    let mut posts = Vec::new();
    s.scan(&Default::default(), &mut |p| {
        posts.push(p);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let mut bare = bare;
    bare.insert(&posts).unwrap();
    let b = assess_store(&bare, &AssessOptions::default()).unwrap();
    assert!(b.ai_media.is_empty());
    let inc = the_incident(&b.incidents);
    assert!(inc.media.is_empty());
    assert!(
        !inc.techniques
            .iter()
            .any(|t| t.signal == "ai-generated-media")
    );
}

/// What `pharos media scan` stores for an account's profile picture: a
/// record on the first post showing it, keyed by the avatar reference.
fn avatar_record(post_id: &str, url: &str, file: &str) -> MediaRecord {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../media/tests/fixtures/pdq")
        .join(file);
    let ins = pharos_media::inspect(&path).unwrap();
    MediaRecord {
        platform: "telegram".into(),
        post_id: post_id.into(),
        url: url.into(),
        sha256: ins.sha256,
        pdq: ins.pdq.to_string(),
        quality: ins.quality,
        width: ins.width,
        height: ins.height,
        c2pa: None,
        xmp_source_type: None,
        scanned_ms: 0,
    }
}

#[test]
fn accounts_sharing_a_profile_picture_show_copy_account_imagery() {
    let dir = tempfile::tempdir().unwrap();
    let mut posts = Vec::new();
    let mut records = Vec::new();
    // a and b use copies of one picture (two files), c another, d none.
    let avatars = [
        ("a", Some(("avatars/a.png", "scene1.png"))),
        ("b", Some(("avatars/b.png", "scene1.png"))),
        ("c", Some(("avatars/c.png", "scene2.png"))),
        ("d", None),
    ];
    for k in 0..5i64 {
        let url = format!("https://example.com/story/{k}");
        for (i, (acct, avatar)) in avatars.iter().enumerate() {
            let id = format!("{k}{acct}");
            let mut p = post(&id, acct, 10_000 + k * 3_600 + i as i64 * 5, &url, None);
            p.actor.avatar = avatar.map(|(u, _)| u.to_string());
            if k == 0
                && let Some((u, f)) = avatar
            {
                records.push(avatar_record(&id, u, f));
            }
            posts.push(p);
        }
    }
    let mut s = SqliteStore::open(dir.path().join("s.db")).unwrap();
    s.insert(&posts).unwrap();
    s.save_media(&records).unwrap();
    let a = assess_store(&s, &AssessOptions::default()).unwrap();
    let inc = the_incident(&a.incidents);
    let tag = inc
        .techniques
        .iter()
        .find(|t| t.t_id == "T0145.001")
        .expect("T0145.001 on the incident");
    assert_eq!(tag.name, "Copy Account Imagery");
    assert_eq!(tag.tactic_id.as_deref(), Some("TA15"));
    assert_eq!(tag.signal, "copied-account-imagery");
    let mut ev = tag.evidence.clone();
    ev.sort();
    assert_eq!(ev, ["account:telegram:a", "account:telegram:b"], "{tag:?}");
    assert!(tag.shown_by.contains("avatars/a.png"), "{}", tag.shown_by);
    for e in &tag.evidence {
        assert!(inc.evidence(e).is_some(), "{e}");
    }
    // Without the scan's records the picture cannot be compared: no tag.
    let mut bare = SqliteStore::open(dir.path().join("bare.db")).unwrap();
    bare.insert(&posts).unwrap();
    let b = assess_store(&bare, &AssessOptions::default()).unwrap();
    assert!(
        !the_incident(&b.incidents)
            .techniques
            .iter()
            .any(|t| t.t_id == "T0145.001")
    );
}
