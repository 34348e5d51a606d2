//! Pictures on the dashboard: the incident page's media card (hashes,
//! provenance, AI declarations) and thumbnails of the local files posts
//! reference (`GET /media/thumbnail?post=PLATFORM:ID&file=REFERENCE`).
//!
//! Thumbnails are the team's: a partner is refused (the incident's STIX
//! and reports carry the hashes and provenance, not the pictures). The file
//! is found from the data, so an adversary wrote the reference: it must be
//! one of the post's own media references, and it resolves under the
//! configured `[media] root` with the scan's checks
//! ([`pharos_media::scan::resolve_under`]: no absolute path, no `..`, no
//! control character, nothing that resolves outside the root). The file is
//! read within [`MAX_BYTES`], decoded with the media crate's limits and
//! answered as a PNG (re-encoded from the decoded pixels, never the file's
//! own bytes), so what the browser gets is always an image.

use super::PageError;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::Q;
use crate::state::Shared;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pharos_assess::incident::{AiDeclaration, Incident};
use pharos_media::scan::{RefError, resolve_under};
use pharos_store::Store;
use serde::Deserialize;
use std::fmt::Write;

use super::svg::esc;

/// The largest file a thumbnail is made from.
pub const MAX_BYTES: u64 = 32 << 20;

/// The longer side of a thumbnail, pixels.
pub const SIDE: u32 = 320;

#[derive(Deserialize)]
pub struct ThumbQuery {
    /// `platform:id` of the post.
    post: String,
    /// One of the post's media references (`Media::url`).
    file: String,
}

fn team_only(who: &Principal) -> Result<(), ApiError> {
    if who.role == Role::Partner {
        return Err(ApiError::forbidden(
            "thumbnails are the team's: partners receive the files' hashes and provenance in incidents, reports and STIX",
        ));
    }
    Ok(())
}

/// `GET /media/thumbnail?post=PLATFORM:ID&file=REFERENCE`: a PNG thumbnail
/// of one of the post's media files, for the team.
pub async fn thumbnail(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ThumbQuery>,
) -> Result<Response, PageError> {
    team_only(&who)?;
    let Some(root) = st.config.media.root.clone() else {
        return Err(ApiError::not_found(
            "no media folder: set `[media] root` in the server configuration to the folder `pharos media scan --root` read",
        )
        .into());
    };
    let Some((platform, id)) = q.post.split_once(':') else {
        return Err(ApiError::bad_request("post must be PLATFORM:ID").into());
    };
    let (platform, id) = (platform.to_string(), id.to_string());
    let st2 = st.clone();
    let png = st
        .read(move |s| {
            let post = s
                .get(&platform, &id)?
                .ok_or_else(|| ApiError::not_found(format!("no post {platform}:{id}")))?;
            // The one clearance filter decides on the post as on every route.
            if !st2.clearance(s, &who)?.sees_post(&post) {
                return Err(ApiError::forbidden("this post is not cleared for you"));
            }
            if !post.media.iter().any(|m| m.url == q.file) {
                return Err(ApiError::not_found(
                    "the post has no media reference of that name",
                ));
            }
            let root = std::fs::canonicalize(&root).map_err(|e| {
                ApiError::not_found(format!("media folder {}: {e}", root.display()))
            })?;
            let path = resolve_under(&root, &q.file).map_err(|e| match e {
                RefError::Missing | RefError::NotAFile | RefError::Empty | RefError::Remote => {
                    ApiError::not_found(format!("media {:?}: {e}", q.file))
                }
                RefError::Io(_) => ApiError::internal(format!("media {:?}: {e}", q.file)),
                _ => ApiError::forbidden(format!("media {:?}: {e}", q.file)),
            })?;
            let size = std::fs::metadata(&path)
                .map_err(|e| ApiError::internal(format!("media {:?}: {e}", q.file)))?
                .len();
            if size > MAX_BYTES {
                return Err(ApiError::unprocessable(format!(
                    "media {:?} is {size} bytes, over the {MAX_BYTES}-byte thumbnail limit",
                    q.file
                )));
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| ApiError::internal(format!("media {:?}: {e}", q.file)))?;
            pharos_media::thumbnail_png(&bytes, SIDE)
                .map_err(|e| ApiError::unprocessable(format!("media {:?}: {e}", q.file)))
        })
        .await?;
    let mut resp = png.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}

/// Percent-encodes a query value.
fn q_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The incident page's media card: each file with its hashes, posts and
/// provenance, AI declarations first; with a thumbnail for the team when a
/// media folder is configured. Empty when the incident has no media.
pub fn incident_card(i: &Incident, who: &Principal, thumbnails: bool) -> String {
    if i.media.is_empty() {
        return String::new();
    }
    let show = thumbnails && who.role != Role::Partner;
    let mut s = format!(
        "<div class=\"card wide\" id=incident-media><h2>Media ({} files)</h2><table><tr><th></th><th>File</th><th>Posts</th><th>Provenance</th></tr>",
        i.media.len()
    );
    for m in i.media.iter().take(24) {
        let thumb = match m.posts.first() {
            Some(p) if show => format!(
                "<img class=thumb loading=lazy alt=\"\" width=96 src=\"/media/thumbnail?post={}&amp;file={}\">",
                q_escape(p),
                q_escape(&m.file)
            ),
            _ => String::new(),
        };
        let ai = match m.ai {
            Some(AiDeclaration::SignedC2pa) => "AI-generated (valid C2PA)",
            Some(AiDeclaration::BrokenC2pa) => "AI claimed (C2PA does not verify)",
            Some(AiDeclaration::Xmp) => "AI claimed (XMP only)",
            None => "",
        };
        let _ = write!(
            s,
            "<tr><td>{thumb}</td><td>{}<div class=muted>{} · {}×{} · SHA-256 {} · PDQ {} (quality {})</div></td><td>{} by {} accounts</td><td>{}{}</td></tr>",
            esc(&m.file),
            esc(&m.kind),
            m.width,
            m.height,
            esc(&m.sha256),
            esc(&m.pdq),
            m.quality,
            m.post_count,
            m.accounts,
            if ai.is_empty() {
                String::new()
            } else {
                format!(
                    "<b>{}</b> {} · ",
                    esc(m.technique.as_deref().unwrap_or("")),
                    esc(ai)
                )
            },
            esc(&m.provenance())
        );
    }
    s.push_str("</table></div>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role) -> Principal {
        Principal {
            token_id: "t".into(),
            name: "n".into(),
            role,
            org: Some("acme".into()),
        }
    }

    #[test]
    fn the_card_links_thumbnails_for_the_team_only_and_names_the_provenance() {
        let mut inc: Incident = serde_json::from_value(serde_json::json!({
            "id": "inc-1", "title": "t", "summary": "s",
            "first_seen": "2024-05-01T12:00:00Z", "last_seen": "2024-05-01T12:00:00Z",
            "timeline": {"bucket_s": 60, "start": "2024-05-01T12:00:00Z", "series": []},
            "severity": {"value": 0.1, "terms": []}, "confidence": {"value": 0.1, "terms": []},
            "abcde": {"actor": {"statement": "", "evidence": []}, "behaviour": {"statement": "", "evidence": []},
                      "content": {"statement": "", "evidence": []}, "degree": {"statement": "", "evidence": []},
                      "effect": {"statement": "", "evidence": []}},
            "techniques": [], "narratives": [], "networks": [], "alerts": [],
            "claim_matches": [], "actors": [], "links": [], "domains": [], "hashtags": [],
            "platforms": {}, "languages": {}, "posts": [], "evidence": []
        }))
        .unwrap();
        assert_eq!(incident_card(&inc, &who(Role::Analyst), true), "");
        inc.media = serde_json::from_value(serde_json::json!([{
            "id": "media:ab", "file": "photos/a b&<x>.jpg", "sha256": "ab", "pdq": "00",
            "quality": 90, "width": 4, "height": 4, "kind": "photo",
            "posts": ["telegram:7"], "post_count": 1, "accounts": 1,
            "ai": "broken_c2pa", "technique": "T0086.002",
            "c2pa": {"valid": false, "ai_generated": true, "digital_source_type": null,
                     "claim_generator": null, "signer": null},
            "c2pa_failures": ["assertion.dataHash.mismatch"]
        }]))
        .unwrap();
        let team = incident_card(&inc, &who(Role::Analyst), true);
        assert!(
            team.contains(
                "src=\"/media/thumbnail?post=telegram%3A7&amp;file=photos/a%20b%26%3Cx%3E.jpg\""
            ),
            "{team}"
        );
        assert!(team.contains("signature does not verify"), "{team}");
        assert!(team.contains("T0086.002"), "{team}");
        assert!(!team.contains("<x>"), "the file name is escaped: {team}");
        let partner = incident_card(&inc, &who(Role::Partner), true);
        assert!(!partner.contains("<img"), "{partner}");
        assert!(partner.contains("signature does not verify"));
        assert!(!incident_card(&inc, &who(Role::Analyst), false).contains("<img"));
    }
}
