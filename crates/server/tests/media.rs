//! The dashboard's thumbnails (`/media/thumbnail`): the team gets a PNG of
//! a post's own media file under `[media] root`, shrunk; references that
//! leave the root (`..`, absolute paths, symbolic links out) are refused
//! and nothing of the file outside is answered; a file the post does not
//! reference is not served; partners, cleared for the post or not, are
//! refused.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_core::{Actor, EventTime, Media, MediaKind, Post};
use pharos_server::auth::{Role, create};
use pharos_server::{Config, router};
use pharos_store::{MarkingRecord, Markings, SqliteStore, Store};
use tower::ServiceExt;

async fn get(
    st: &pharos_server::state::Shared,
    uri: &str,
    token: &str,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, bytes.to_vec())
}

fn post(id: &str, files: &[&str]) -> Post {
    Post {
        platform: "telegram".into(),
        id: id.into(),
        actor: Actor {
            id: format!("user{id}"),
            ..Default::default()
        },
        time: EventTime::from_secs(1_714_564_800 + id.len() as i64),
        text: format!("post {id}"),
        media: files
            .iter()
            .map(|f| Media {
                url: f.to_string(),
                kind: MediaKind::Photo,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// A gradient picture of `w`×`h` as PNG.
fn picture(w: u32, h: u32) -> Vec<u8> {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]);
        }
    }
    pharos_media::encode_png(&rgb, w, h).unwrap()
}

fn q(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_are_the_teams_and_never_leave_the_media_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("export");
    std::fs::create_dir_all(root.join("photos")).unwrap();
    std::fs::write(root.join("photos/a.png"), picture(800, 400)).unwrap();
    std::fs::write(root.join("photos/other.png"), picture(20, 20)).unwrap();
    std::fs::write(root.join("photos/not-an-image.png"), b"<script>x</script>").unwrap();
    let secret = dir.path().join("secret.png");
    std::fs::write(&secret, picture(30, 30)).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, root.join("photos/link.png")).unwrap();
    let abs = secret.display().to_string();

    let path = dir.path().join("pharos.db");
    let mut store = SqliteStore::open(&path).unwrap();
    store
        .insert(&[
            post(
                "1",
                &[
                    "photos/a.png",
                    "../secret.png",
                    &abs,
                    "photos/link.png",
                    "photos/not-an-image.png",
                ],
            ),
            post("22", &["photos/a.png"]),
        ])
        .unwrap();
    let analyst = create(&store, Role::Analyst, None, "ann").unwrap().token;
    let partner = create(&store, Role::Partner, Some("acme"), "pat")
        .unwrap()
        .token;
    // Post 22 is cleared for acme's partner (CLEAR); post 1 is RED.
    for (id, tlp) in [("telegram:22", "clear"), ("telegram:1", "red")] {
        store
            .set_marking(
                "post",
                id,
                &MarkingRecord {
                    tlp: tlp.into(),
                    orgs: vec![],
                    people: vec![],
                },
            )
            .unwrap();
    }
    drop(store);
    let mut config = Config::default();
    config.media.root = Some(root.clone());
    let st = pharos_server::start(&path, config).unwrap();
    let thumb =
        |post: &str, file: &str| format!("/media/thumbnail?post={}&file={}", q(post), q(file));

    // The team gets a PNG, shrunk to 320 on the longer side.
    let (status, ct, body) = get(&st, &thumb("telegram:1", "photos/a.png"), &analyst).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(ct.as_deref(), Some("image/png"));
    let img = pharos_media::decode::decode_bytes(&body).unwrap();
    assert_eq!((img.width, img.height), (320, 160));

    // References that leave the root are refused; nothing of the file is answered.
    let secret_png = pharos_media::thumbnail_png(&picture(30, 30), 320).unwrap();
    let mut refused = vec!["../secret.png", abs.as_str()];
    if cfg!(unix) {
        refused.push("photos/link.png");
    }
    for f in refused {
        let (status, ct, body) = get(&st, &thumb("telegram:1", f), &analyst).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{f}");
        assert_ne!(ct.as_deref(), Some("image/png"), "{f}");
        assert_ne!(body, secret_png, "{f}");
        assert!(
            String::from_utf8_lossy(&body).contains("refused"),
            "{f}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    // Only the post's own references: another file under the root is not served.
    let (status, _, _) = get(&st, &thumb("telegram:22", "photos/other.png"), &analyst).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&st, &thumb("telegram:404", "photos/a.png"), &analyst).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Bytes that are not a picture are never passed through.
    let (status, ct, body) = get(
        &st,
        &thumb("telegram:1", "photos/not-an-image.png"),
        &analyst,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_ne!(ct.as_deref(), Some("image/png"));
    assert!(!String::from_utf8_lossy(&body).contains("<script>"));

    // Partners: refused for the post they are not cleared for, and for the
    // one they are (thumbnails are the team's).
    for post in ["telegram:1", "telegram:22"] {
        let (status, ct, _) = get(&st, &thumb(post, "photos/a.png"), &partner).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{post}");
        assert_ne!(ct.as_deref(), Some("image/png"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_media_root_there_are_no_thumbnails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    let mut store = SqliteStore::open(&path).unwrap();
    store.insert(&[post("1", &["photos/a.png"])]).unwrap();
    let analyst = create(&store, Role::Analyst, None, "ann").unwrap().token;
    drop(store);
    let st = pharos_server::start(&path, Config::default()).unwrap();
    let (status, _, body) = get(
        &st,
        "/media/thumbnail?post=telegram:1&file=photos/a.png",
        &analyst,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("[media] root"));
}
