//! The canonical post record.
//!
//! One [`Post`] is one thing published: a tweet, a retweet, a Telegram
//! message or forward, a Facebook post, a feed item. Its identity is
//! `(platform, id)`; the id is the platform's own where it has one and a
//! stable hash of the source row where it has none.
//!
//! Serialised as JSON (one object a line in canonical JSONL, see
//! `docs/formats.md`), empty lists and unknown values are left out and read
//! back as empty / unknown, so export then import gives the same records.

use crate::link::Link;
use crate::time::EventTime;
use serde::{Deserialize, Serialize};

/// The account that published a post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Platform-scoped account id (Twitter user id, Telegram `user123` / channel id, ...).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When the account was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<u64>,
    /// Number of posts the account had published (as the platform reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// The account's profile picture as the source gives it: a URL
    /// (Twitter's `profile_image_url`) or a path inside an export.
    /// `pharos media scan` hashes local ones; the assessment flags accounts
    /// sharing one (DISARM T0145.001 Copy Account Imagery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// What kind of media is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Photo,
    Video,
    Animation,
    Audio,
    Document,
    Sticker,
    #[default]
    Other,
}

impl MediaKind {
    /// Reads the names sources use (`photo`, `video_file`, `animated_gif`, `voice_message`, ...).
    pub fn from_source(kind: &str) -> MediaKind {
        let k = kind.to_ascii_lowercase();
        match k.as_str() {
            "photo" | "image" | "picture" | "jpg" | "jpeg" | "png" => MediaKind::Photo,
            "video"
            | "video_file"
            | "video_message"
            | "native_video"
            | "live_video"
            | "live_video_complete"
            | "youtube" => MediaKind::Video,
            "animated_gif" | "animation" | "gif" => MediaKind::Animation,
            "audio" | "audio_file" | "voice_message" | "voice" => MediaKind::Audio,
            "document" | "file" | "pdf" => MediaKind::Document,
            "sticker" => MediaKind::Sticker,
            _ => MediaKind::Other,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Video => "video",
            MediaKind::Animation => "animation",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
            MediaKind::Other => "other",
        }
    }
}

/// A media item attached to a post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Where the media is (URL, or file path inside an export). May be empty
    /// when only a hash or key is known.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub kind: MediaKind,
    /// Content or perceptual hash when the source gives one (e.g. `phash:...`),
    /// or `pdq:` and 64 hex digits: the PDQ hash `pharos media scan` computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The platform's own id of the media item (Twitter's `media_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Media {
    /// The PDQ hash this item carries (`hash` of the form `pdq:` and 64 hex
    /// digits), as the hex digits.
    pub fn pdq(&self) -> Option<&str> {
        let h = self.hash.as_deref()?.strip_prefix("pdq:")?;
        (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())).then_some(h)
    }
}

/// Engagement counts at collection time; `None` when the source does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reshares: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
}

impl Engagement {
    pub fn is_empty(&self) -> bool {
        self.likes.is_none()
            && self.reshares.is_none()
            && self.replies.is_none()
            && self.views.is_none()
    }
}

/// Where a record came from: the file and line (or record number), or the feed URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Source file path or feed URL.
    pub source: String,
    /// 1-based line in the source file, for line-oriented formats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based record number inside the file, for formats where records are
    /// not lines (a JSON array, a feed, a Telegram export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
}

/// One published item in canonical form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// `twitter`, `telegram`, `facebook`, `instagram`, `rss`, ... (lowercase).
    pub platform: String,
    /// Platform-scoped id.
    pub id: String,
    pub actor: Actor,
    /// Event time: when it was published.
    pub time: EventTime,
    #[serde(default)]
    pub text: String,
    /// ISO 639-1 code; detected from the text when the source has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Distinct domains of `links`, in order of appearance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// Lowercase, without `#`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<String>,
    /// Lowercase handles, without `@`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Id (same platform) of the post this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Id of the post this one reshares (retweet, forward, share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reshare_of: Option<String>,
    /// Id of the post this one quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_of: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
    #[serde(default, skip_serializing_if = "Engagement::is_empty")]
    pub engagement: Engagement,
    #[serde(default)]
    pub provenance: Provenance,
}

/// [`Post::add_link`] checks for a repeat only while a post has fewer links than this.
const ADD_LINK_SCAN: usize = 32;

impl Post {
    /// Adds a link by its raw form (normalising it) unless the same normal
    /// form is present (checked among the first links only: past 32 links
    /// repeats are left to the ingest normaliser).
    pub fn add_link(&mut self, raw: &str) {
        if raw.trim().is_empty() {
            return;
        }
        let link = Link::new(raw);
        // Beyond a few links the scan would make adding n links quadratic:
        // past that the link is added as is and the normaliser (which
        // every imported post passes through) drops repeats with a hash set.
        if self.links.len() >= ADD_LINK_SCAN || !self.links.iter().any(|l| l.url == link.url) {
            self.links.push(link);
        }
    }

    /// Recomputes `domains` from `links`.
    pub fn refresh_domains(&mut self) {
        self.domains.clear();
        let mut seen = std::collections::HashSet::with_capacity(self.links.len());
        for l in &self.links {
            if !l.domain.is_empty() && seen.insert(l.domain.as_str()) {
                self.domains.push(l.domain.clone());
            }
        }
    }

    /// The post's identity.
    pub fn key(&self) -> (&str, &str) {
        (&self.platform, &self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_everything() {
        let mut p = Post {
            platform: "twitter".into(),
            id: "1".into(),
            actor: Actor {
                id: "42".into(),
                handle: Some("alice".into()),
                followers: Some(10),
                verified: Some(false),
                created: Some(EventTime(1_000)),
                ..Default::default()
            },
            time: EventTime(1_632_328_649_123),
            text: "hello #World".into(),
            lang: Some("en".into()),
            hashtags: vec!["world".into()],
            reshare_of: Some("7".into()),
            media: vec![Media {
                url: "https://m/x.jpg".into(),
                kind: MediaKind::Photo,
                hash: None,
                key: Some("3_1".into()),
            }],
            engagement: Engagement {
                likes: Some(3),
                ..Default::default()
            },
            provenance: Provenance {
                source: "a.jsonl".into(),
                line: Some(3),
                record: None,
            },
            ..Default::default()
        };
        p.add_link("https://Example.com/a?utm_source=x");
        p.refresh_domains();
        let s = serde_json::to_string(&p).unwrap();
        assert!(!s.contains("quote_of"), "unknowns are left out: {s}");
        let back: Post = serde_json::from_str(&s).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.domains, vec!["example.com"]);
    }
}
