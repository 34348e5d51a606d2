//! Telegram Desktop exports (`result.json`, "Export chat history" or
//! "Export Telegram data" in JSON).
//!
//! Two shapes: one chat (`{"name", "type", "id", "messages": [...]}`) or a
//! full export (`{"chats": {"list": [chat, ...]}, "left_chats": {"list":
//! [...]}, ...}`). The document is read as a stream: messages are handed
//! on as they are parsed, so a cut file still gives everything before the
//! cut (and then one rejection).
//!
//! Each message of `type` `"message"` becomes a post; `"service"` messages
//! (joins, pins, title changes) are skipped and are not errors.
//!
//! - **id**: `<chat id>/<message id>` (message ids are per chat).
//! - **actor**: `from_id` (`user123`, `channel456`; a bare number is a
//!   user) with `from` as the name. Without `from_id` (channel posts in
//!   older exports) the actor is the chat itself: `channel<id>` for
//!   channels and supergroups, `chat<id>` for basic groups, `user<id>` for
//!   personal chats, named after the chat.
//! - **time**: `date_unixtime` (epoch seconds, exact). Older exports only
//!   have `date`, the local time of the computer that made the export
//!   without a zone; it is read as UTC, so such times may be off by that
//!   computer's UTC offset.
//! - **text**: a string, or an array of strings and entity objects
//!   (`{"type": "link" | "text_link" | "hashtag" | "mention" | "bold" | ...,
//!   "text": ..., "href": ...}`) concatenated to plain text. Links,
//!   hashtags and mentions come from the entities (`text_entities` when
//!   present, else the array): `link` text and `text_link` `href` are
//!   links. A plain-string text without entities is scanned for them.
//! - **forwards**: the export names the source (`forwarded_from`, and
//!   `forwarded_from_id` in newer exports) but not the original message
//!   id. `reshare_of` is therefore a stable synthetic id,
//!   `fwd:<source>:<hash>`, where `<source>` is `forwarded_from_id` (else
//!   the name) and `<hash>` the first 16 hex digits of SHA-256 over the
//!   plain text and the media type: forwards of the same message, in any
//!   chat and any export, get the same id, and forwards of different
//!   messages from one source do not.
//! - **replies**: `reply_to_message_id` → `reply_to` as `<chat id>/<n>`
//!   (`reply_to_peer_id` names another chat when the reply crosses chats).
//! - **media**: `photo` → photo; `file` with `media_type` (`video_file`,
//!   `animation`, `voice_message`, `audio_file`, `sticker`,
//!   `video_message`) or a document. The URL is the path inside the
//!   export, empty when the file was not exported.
//! - **engagement**: `views` and `forwards` where a tool wrote them;
//!   `reactions` (sum of their counts) → likes.
//!
//! Provenance is the record number: the 1-based position of the message
//! among all messages of the file (service messages included), so record N
//! is the Nth message object in the file.

use super::telegram_dump::{scalar, strip_bom, syntax_reason};
use crate::{Item, Rejection, Sink};
use pharos_core::{Actor, Engagement, EventTime, Media, MediaKind, Post, Provenance, text};
use serde::de::{
    self, DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::BufRead;

/// Reads a Telegram Desktop export (one chat or a full export).
pub fn read(reader: &mut dyn BufRead, source: &str, sink: &mut Sink<'_>) {
    let Some(bytes) = crate::input::read_all_or_reject(
        reader,
        source,
        Some(1),
        crate::limits::MAX_DOCUMENT_BYTES,
        sink,
    ) else {
        return;
    };
    let mut st = State {
        source,
        sink,
        record: 0,
        posts: 0,
        stopped: false,
    };
    let mut de = serde_json::Deserializer::from_slice(strip_bom(&bytes));
    let result = (&mut de)
        .deserialize_map(ChatVisitor { st: &mut st })
        .and_then(|()| de.end());
    if let Err(e) = result {
        if st.stopped {
            return;
        }
        let reason = if st.record == 0 && e.is_data() && e.line() <= 1 {
            "not a Telegram Desktop export: expected a JSON object with \"messages\" or \"chats\""
                .to_string()
        } else {
            syntax_reason(&e)
        };
        let next = st.record + 1;
        let _ = (st.sink)(Item::Rejected(Rejection::new(
            source,
            None,
            Some(next),
            reason,
            "",
        )));
    }
}

struct State<'s, 'k> {
    source: &'s str,
    sink: &'s mut Sink<'k>,
    /// Message objects seen so far (the record number of the last one).
    record: u64,
    posts: u64,
    stopped: bool,
}

impl State<'_, '_> {
    /// Hands an item on; `Err` (to unwind the parser) when the sink stops.
    fn emit<E: de::Error>(&mut self, item: Item) -> Result<(), E> {
        if matches!(item, Item::Post(_)) {
            self.posts += 1;
        }
        if (self.sink)(item).is_break() {
            self.stopped = true;
            return Err(E::custom("stopped by the sink"));
        }
        Ok(())
    }
}

/// What is known of the chat whose messages are being read.
#[derive(Default)]
struct Chat {
    id: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    /// Messages read before the chat's id (only when `messages` comes first).
    pending: Vec<(u64, Value)>,
}

/// A chat object; also the top level (a one-chat export is a chat, a full
/// export has `chats`/`left_chats`).
struct ChatVisitor<'a, 's, 'k> {
    st: &'a mut State<'s, 'k>,
}

impl<'de> Visitor<'de> for ChatVisitor<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Telegram export object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        let mut chat = Chat::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "id" => chat.id = scalar(Some(&map.next_value::<Value>()?)),
                "name" => chat.name = scalar(Some(&map.next_value::<Value>()?)),
                "type" => chat.kind = scalar(Some(&map.next_value::<Value>()?)),
                "messages" => map.next_value_seed(MessagesSeed {
                    st: &mut *st,
                    chat: &mut chat,
                })?,
                "chats" | "left_chats" => map.next_value_seed(ChatListSeed { st: &mut *st })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let pending = std::mem::take(&mut chat.pending);
        for (record, v) in pending {
            let item = message_item(st.source, &chat, record, &v);
            if let Some(item) = item {
                st.emit::<A::Error>(item)?;
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for ChatVisitor<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// `{"about": ..., "list": [chat, ...]}`.
struct ChatListSeed<'a, 's, 'k> {
    st: &'a mut State<'s, 'k>,
}

impl<'de> DeserializeSeed<'de> for ChatListSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ChatListSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of chats")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "list" {
                map.next_value_seed(ChatsSeed { st: &mut *self.st })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct ChatsSeed<'a, 's, 'k> {
    st: &'a mut State<'s, 'k>,
}

impl<'de> DeserializeSeed<'de> for ChatsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChatsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of chats")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ChatVisitor { st: &mut *self.st })?
            .is_some()
        {}
        Ok(())
    }
}

struct MessagesSeed<'a, 'c, 's, 'k> {
    st: &'a mut State<'s, 'k>,
    chat: &'c mut Chat,
}

impl<'de> DeserializeSeed<'de> for MessagesSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for MessagesSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of messages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.st;
        while let Some(v) = seq.next_element::<Value>()? {
            st.record += 1;
            if self.chat.id.is_none() {
                self.chat.pending.push((st.record, v));
                continue;
            }
            if let Some(item) = message_item(st.source, self.chat, st.record, &v) {
                st.emit::<A::Error>(item)?;
            }
        }
        Ok(())
    }
}

/// The post or rejection for one message; `None` for service messages.
fn message_item(source: &str, chat: &Chat, record: u64, v: &Value) -> Option<Item> {
    let reject = |reason: String| {
        Some(Item::Rejected(Rejection::new(
            source,
            None,
            Some(record),
            reason,
            v.to_string(),
        )))
    };
    let Some(m) = v.as_object() else {
        return reject(format!("message record {record} is not a JSON object"));
    };
    match m.get("type").and_then(Value::as_str) {
        None | Some("message") => {}
        Some("service") => return None,
        Some(other) => {
            return reject(format!(
                "unknown message type {other:?} (expected \"message\" or \"service\")"
            ));
        }
    }
    match build(chat, m, source, record) {
        Ok(p) => Some(Item::Post(Box::new(p))),
        Err(reason) => reject(reason),
    }
}

/// How a chat of this `type` is named as a peer (`from_id` style).
fn chat_peer(chat: &Chat, id: &str) -> String {
    let kind = chat.kind.as_deref().unwrap_or("");
    if kind.contains("channel") || kind.contains("supergroup") {
        format!("channel{id}")
    } else if kind.contains("group") {
        format!("chat{id}")
    } else if kind.contains("personal") || kind.contains("bot") || kind.contains("saved") {
        format!("user{id}")
    } else {
        format!("channel{id}")
    }
}

/// The bare id of a peer written `channel123` / `user123` / `chat123` / `123`.
fn bare_peer(peer: &str) -> &str {
    peer.trim_start_matches(|c: char| c.is_ascii_alphabetic())
}

fn build(chat: &Chat, m: &Map<String, Value>, source: &str, record: u64) -> Result<Post, String> {
    let chat_id = match (&chat.id, &chat.name) {
        (Some(id), _) => id.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => return Err("message of a chat without id or name".into()),
    };
    let msg_id = scalar(m.get("id"))
        .ok_or_else(|| format!("message (record {record}) in chat {chat_id} has no id"))?;
    let time = match (
        scalar(m.get("date_unixtime")),
        m.get("date").and_then(Value::as_str),
    ) {
        (Some(unix), _) => EventTime::parse(&unix),
        (None, Some(date)) => EventTime::parse(date),
        (None, None) => {
            return Err(format!(
                "message {chat_id}/{msg_id} has no date (neither date_unixtime nor date)"
            ));
        }
    }
    .map_err(|e| format!("message {chat_id}/{msg_id}: {e}"))?;

    let from_name = m.get("from").and_then(Value::as_str).map(str::to_string);
    let actor = match scalar(m.get("from_id")) {
        Some(fid) => Actor {
            id: if fid.bytes().all(|b| b.is_ascii_digit()) {
                format!("user{fid}")
            } else {
                fid
            },
            name: from_name,
            ..Default::default()
        },
        None => Actor {
            id: chat
                .id
                .as_deref()
                .map(|id| chat_peer(chat, id))
                .unwrap_or_default(),
            name: from_name.or_else(|| chat.name.clone()),
            ..Default::default()
        },
    };

    let mut post = Post {
        platform: "telegram".to_string(),
        id: format!("{chat_id}/{msg_id}"),
        actor,
        time,
        provenance: Provenance {
            source: source.to_string(),
            line: None,
            record: Some(record),
        },
        ..Default::default()
    };

    // Text and its entities.
    let (plain, array_entities) = match m.get("text") {
        Some(Value::String(s)) => (s.clone(), None),
        Some(Value::Array(parts)) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    Value::String(t) => s.push_str(t),
                    Value::Object(o) => {
                        if let Some(t) = o.get("text").and_then(Value::as_str) {
                            s.push_str(t);
                        }
                    }
                    _ => {}
                }
            }
            (s, Some(parts))
        }
        _ => (String::new(), None),
    };
    let entities = match m.get("text_entities") {
        Some(Value::Array(e)) => Some(e),
        _ => array_entities,
    };
    match entities {
        Some(list) => {
            for e in list.iter().filter_map(Value::as_object) {
                let t = e.get("text").and_then(Value::as_str).unwrap_or("");
                match e.get("type").and_then(Value::as_str).unwrap_or("") {
                    "link" | "url" => post.add_link(t),
                    "text_link" => {
                        if let Some(h) = e.get("href").and_then(Value::as_str) {
                            post.add_link(h);
                        }
                    }
                    "hashtag" => post.hashtags.push(t.trim_start_matches('#').to_string()),
                    "mention" => post.mentions.push(t.trim_start_matches('@').to_string()),
                    _ => {}
                }
            }
        }
        None => {
            for u in text::urls(&plain) {
                post.add_link(&u);
            }
            post.hashtags = text::hashtags(&plain);
            post.mentions = text::mentions(&plain);
        }
    }

    // Media.
    let media_type = m.get("media_type").and_then(Value::as_str);
    if let Some(photo) = m.get("photo").and_then(Value::as_str) {
        post.media.push(Media {
            url: export_path(photo),
            kind: MediaKind::Photo,
            hash: None,
            key: None,
        });
    }
    if let Some(file) = m.get("file").and_then(Value::as_str) {
        let kind = match media_type {
            Some("video_message") => MediaKind::Video,
            Some(t) => match MediaKind::from_source(t) {
                MediaKind::Other => MediaKind::Document,
                k => k,
            },
            None => MediaKind::Document,
        };
        post.media.push(Media {
            url: export_path(file),
            kind,
            hash: None,
            key: None,
        });
    }

    // Forward and reply.
    let fwd_source = scalar(m.get("forwarded_from_id"))
        .or_else(|| scalar(m.get("forwarded_from")))
        .or_else(|| scalar(m.get("saved_from")));
    if let Some(src) = fwd_source {
        post.reshare_of = Some(forward_id(
            &src,
            &plain,
            media_type.or(post.media.first().map(|x| x.kind.as_str())),
        ));
    }
    if let Some(r) = scalar(m.get("reply_to_message_id")) {
        let target_chat = scalar(m.get("reply_to_peer_id"))
            .map(|p| bare_peer(&p).to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| chat_id.clone());
        post.reply_to = Some(format!("{target_chat}/{r}"));
    }

    // Engagement.
    let likes = match m.get("reactions") {
        Some(Value::Array(rs)) if !rs.is_empty() => Some(
            rs.iter()
                .filter_map(|r| r.get("count").and_then(Value::as_u64))
                .sum(),
        ),
        _ => None,
    };
    post.engagement = Engagement {
        likes,
        reshares: m.get("forwards").and_then(Value::as_u64),
        replies: None,
        views: m.get("views").and_then(Value::as_u64),
    };
    post.text = plain;
    Ok(post)
}

/// A media path inside the export; empty when the file was not exported
/// (Telegram writes "(File not included. Change data exporting settings to download.)").
fn export_path(p: &str) -> String {
    if p.starts_with('(') {
        String::new()
    } else {
        p.to_string()
    }
}

/// The synthetic id of a forwarded message, see the module docs.
fn forward_id(source: &str, text: &str, media: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(text.trim().as_bytes());
    h.update([0u8]);
    h.update(media.unwrap_or("").as_bytes());
    let digest = h.finalize();
    format!("fwd:{source}:{}", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_ids_are_stable_and_distinct() {
        let a = forward_id("channel1", "same text", None);
        assert_eq!(a, forward_id("channel1", " same text ", None));
        assert_ne!(a, forward_id("channel1", "other text", None));
        assert_ne!(a, forward_id("channel2", "same text", None));
        assert!(a.starts_with("fwd:channel1:") && a.len() == "fwd:channel1:".len() + 16);
    }

    #[test]
    fn peers() {
        assert_eq!(bare_peer("channel123"), "123");
        assert_eq!(bare_peer("123"), "123");
        let chat = Chat {
            kind: Some("private_group".into()),
            ..Default::default()
        };
        assert_eq!(chat_peer(&chat, "5"), "chat5");
    }
}
