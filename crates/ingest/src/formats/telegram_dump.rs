//! Telegram channel dumps: one JSON array of messages per channel, as
//! Telethon-based collectors write them:
//!
//! ```json
//! [{"message_id": 11877, "sender_id": -1001000724666, "text": "...",
//!   "date": "2024-12-04T09:00:28+00:00", "channel": "Naked Science", "category": "science"}]
//! ```
//!
//! Not the Telegram Desktop export (that is [`super::telegram`]).
//!
//! - **ids.** `sender_id` is a Bot-API style peer id: `-100<n>` for a
//!   channel or supergroup, `-<n>` for a basic group, `<n>` for a user. It
//!   becomes the actor id in the form Telegram Desktop exports use
//!   (`channel<n>`, `chat<n>`, `user<n>`), so the same channel read from a
//!   dump and from a Desktop export is one actor. The post id is
//!   `<chat>/<message_id>` where `<chat>` is the channel's bare id `<n>`
//!   (again as in Desktop exports); when the sender is not a channel the
//!   chat is the `channel` field as written (name or id). Without
//!   `sender_id` the actor is the channel.
//! - **text** is Telethon markdown (`**bold**`, `__italic__`, `~~strike~~`,
//!   `[label](url)`): it is turned into plain text (the label stays, the
//!   markers go) and the link targets become links, together with bare
//!   URLs, hashtags and mentions found in the text. `null` text is an
//!   empty text (a media-only post).
//! - **date** is ISO 8601 (a time without a zone is read as UTC); epoch
//!   numbers are accepted too.
//! - `category` (assigned by a language model in the published data set)
//!   is not a property of the post and is not kept.
//!
//! Provenance is the record number (1-based position in the array). A
//! record that is not an object or lacks `message_id`/`date` is rejected
//! with its number; a syntax error (a cut file) ends the file with one
//! rejection after the records before it were read.

use crate::{Item, Rejection, Sink};
use pharos_core::{Actor, EventTime, Post, Provenance, text};
use serde::de::{self, Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::BufRead;

/// Reads one channel dump (a JSON array of messages).
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
    let mut state = State {
        source,
        sink,
        record: 0,
        stopped: false,
    };
    let body = strip_bom(&bytes);
    let mut de = serde_json::Deserializer::from_slice(body);
    let result = (&mut de)
        .deserialize_seq(ArrayVisitor(&mut state))
        .and_then(|()| de.end());
    if let Err(e) = result {
        if state.stopped {
            return;
        }
        let reason = if state.record == 0 && e.is_data() {
            "not a Telegram channel dump: expected a JSON array of messages".to_string()
        } else {
            syntax_reason(&e)
        };
        let next = state.record + 1;
        let _ = (state.sink)(Item::Rejected(Rejection::new(
            source,
            None,
            Some(next),
            reason,
            "",
        )));
    }
}

pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes)
}

/// A user-facing reason for a JSON error that ends a document.
pub(crate) fn syntax_reason(e: &serde_json::Error) -> String {
    if e.is_eof() {
        format!(
            "the file ends in the middle of the JSON document (line {}, column {}): truncated file? The records before this point were read",
            e.line(),
            e.column()
        )
    } else {
        format!("JSON error, the rest of the file is skipped: {e}")
    }
}

struct State<'s, 'k> {
    source: &'s str,
    sink: &'s mut Sink<'k>,
    record: u64,
    stopped: bool,
}

struct ArrayVisitor<'a, 's, 'k>(&'a mut State<'s, 'k>);

impl<'de> Visitor<'de> for ArrayVisitor<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of channel messages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.0;
        while let Some(v) = seq.next_element::<Value>()? {
            st.record += 1;
            let item = match message(&v, st.source, st.record) {
                Ok(p) => Item::Post(Box::new(p)),
                Err(reason) => Item::Rejected(Rejection::new(
                    st.source,
                    None,
                    Some(st.record),
                    reason,
                    v.to_string(),
                )),
            };
            if (st.sink)(item).is_break() {
                st.stopped = true;
                return Err(de::Error::custom("stopped by the sink"));
            }
        }
        Ok(())
    }
}

/// The text of a JSON string or number (ids are written both ways).
pub(crate) fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A peer as Telegram Desktop names it, from a Bot-API style id:
/// `-100<n>` → (`channel<n>`, `<n>`), `-<n>` → (`chat<n>`, `<n>`),
/// `<n>` → (`user<n>`, `<n>`). `None` when `id` is not a number.
pub(crate) fn peer_from_signed(id: &str) -> Option<(String, String)> {
    let n: i64 = id.parse().ok()?;
    if n <= -1_000_000_000_000 {
        let bare = (-n - 1_000_000_000_000).to_string();
        Some((format!("channel{bare}"), bare))
    } else if n < 0 {
        let bare = (-n).to_string();
        Some((format!("chat{bare}"), bare))
    } else {
        Some((format!("user{n}"), n.to_string()))
    }
}

fn message(v: &Value, source: &str, record: u64) -> Result<Post, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("record {record} is not a JSON object"))?;
    let msg_id = scalar(obj.get("message_id").or_else(|| obj.get("id")))
        .ok_or_else(|| format!("record {record} has no message_id"))?;
    let time = match obj.get("date") {
        Some(Value::String(s)) => {
            EventTime::parse(s).map_err(|e| format!("message {msg_id}: {e}"))?
        }
        Some(Value::Number(n)) => {
            EventTime::parse(&n.to_string()).map_err(|e| format!("message {msg_id}: {e}"))?
        }
        _ => return Err(format!("message {msg_id} has no date")),
    };
    let channel = scalar(obj.get("channel"));
    let sender = scalar(obj.get("sender_id"));
    let sender_peer = sender
        .as_deref()
        .map(|s| peer_from_signed(s).unwrap_or((s.to_string(), s.to_string())));
    // `channel` is an id when written as a number or a negative Bot-API id;
    // a string of digits is a title (there is a channel called "112").
    let channel_is_id = match obj.get("channel") {
        Some(Value::Number(_)) => true,
        Some(Value::String(s)) => s.trim().starts_with('-'),
        _ => false,
    };
    let channel_peer = channel
        .as_deref()
        .filter(|_| channel_is_id)
        .and_then(peer_from_signed);
    // A channel name (not an id) in the `channel` field.
    let channel_name = if channel_peer.is_none() {
        channel.clone()
    } else {
        None
    };

    let sender_is_channel = sender_peer
        .as_ref()
        .is_some_and(|(p, _)| p.starts_with("channel"));
    let chat = if sender_is_channel {
        sender_peer.as_ref().map(|(_, bare)| bare.clone())
    } else {
        channel_peer
            .as_ref()
            .map(|(_, bare)| bare.clone())
            .or_else(|| channel.clone())
    }
    .ok_or_else(|| format!("message {msg_id} has neither channel nor sender_id"))?;

    let actor = match (&sender_peer, &channel_peer) {
        (Some((peer, _)), _) => Actor {
            id: peer.clone(),
            // The channel's title names the sender only when the channel posted it.
            name: if sender_is_channel {
                channel_name.clone()
            } else {
                None
            },
            ..Default::default()
        },
        (None, Some((peer, _))) => Actor {
            id: peer.clone(),
            ..Default::default()
        },
        (None, None) => Actor {
            id: chat.clone(),
            name: channel_name.clone(),
            ..Default::default()
        },
    };

    let raw_text = obj.get("text").and_then(Value::as_str).unwrap_or("");
    let (plain, links) = markdown_to_plain(raw_text);
    let mut post = Post {
        platform: "telegram".to_string(),
        id: format!("{chat}/{msg_id}"),
        actor,
        time,
        provenance: Provenance {
            source: source.to_string(),
            line: None,
            record: Some(record),
        },
        ..Default::default()
    };
    for l in &links {
        post.add_link(l);
    }
    for u in text::urls(&plain) {
        post.add_link(&u);
    }
    post.hashtags = text::hashtags(&plain);
    post.mentions = text::mentions(&plain);
    if let Some(r) = scalar(
        obj.get("reply_to_msg_id")
            .or_else(|| obj.get("reply_to_message_id")),
    ) {
        post.reply_to = Some(format!("{chat}/{r}"));
    }
    post.engagement.views = obj.get("views").and_then(Value::as_u64);
    post.engagement.reshares = obj.get("forwards").and_then(Value::as_u64);
    post.text = plain;
    Ok(post)
}

/// Turns Telethon markdown into plain text and the link targets it holds.
///
/// `[label](url)` becomes `label` (the URL is returned); `**`, `__`, `~~`
/// and ```` ``` ```` markers are removed; bare URLs are copied as they are
/// (markers inside them are kept, except at their end).
pub(crate) fn markdown_to_plain(md: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(md.len());
    let mut links = Vec::new();
    let b = md.as_bytes();
    let mut i = 0;
    // The next `](` at or after the current position and the last `[`
    // before it (only that `[` can open a link: a label holds no `[`).
    // Found once per `](`, not once per `[`: a search from every `[` to the
    // next `](` was quadratic in a text of many `[`.
    let mut close: Option<(usize, Option<usize>)> = None;
    while i < md.len() {
        let rest = &md[i..];
        if rest.starts_with("**") || rest.starts_with("__") || rest.starts_with("~~") {
            i += 2;
            continue;
        }
        if rest.starts_with("```") {
            i += 3;
            continue;
        }
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let mut end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '[' | ']'))
                .unwrap_or(rest.len());
            // A closing marker glued to the URL: `__see https://x.org/a__`.
            for m in ["**", "__", "~~"] {
                let glued = rest[..end].find(m);
                if let Some(p) =
                    glued.filter(|&p| rest[p..end].trim_start_matches(['*', '_', '~']).is_empty())
                {
                    end = p;
                }
            }
            out.push_str(&rest[..end]);
            i += end;
            continue;
        }
        let link = if b[i] == b'[' {
            if close.is_none_or(|(c, _)| c < i) {
                close = Some(match md[i..].find("](") {
                    Some(c) => (i + c, md[i..i + c].rfind('[').map(|o| i + o)),
                    None => (md.len(), None),
                });
            }
            match close {
                Some((c, Some(open))) if open == i => md_link(rest, c - i),
                _ => None,
            }
        } else {
            None
        };
        if let Some((label, url, used)) = link {
            let (inner, inner_links) = markdown_to_plain(label);
            out.push_str(&inner);
            links.extend(inner_links);
            let url = url.trim().trim_end_matches('\\');
            if url.starts_with("http://") || url.starts_with("https://") {
                links.push(url.to_string());
            }
            i += used;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    (out, links)
}

/// `[label](url)` at the start of `s`, whose `](` is at `close` and whose
/// label holds no `[`: (label, url, bytes used). The URL ends at the `)`
/// that balances its `(`s; white space or a `[` in it means no link (so
/// that the scans of the links of one text never overlap).
fn md_link(s: &str, close: usize) -> Option<(&str, &str, usize)> {
    let label = &s[1..close];
    let after = &s[close + 2..];
    let mut depth = 0usize;
    for (j, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some((label, &after[..j], close + 2 + j + 1)),
            ')' => depth -= 1,
            '[' => return None,
            c if c.is_whitespace() => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_plain_text_and_links() {
        let (t, l) = markdown_to_plain(
            "**Bold** and __it__ [label](https://a.org/x_(y)) see https://b.org/p__ [ ](https://c.org/q\\)",
        );
        assert_eq!(t, "Bold and it label see https://b.org/p  ");
        assert_eq!(l, vec!["https://a.org/x_(y)", "https://c.org/q"]);
        let (t, l) = markdown_to_plain("[📈Топор — \nПодписаться](https://t.me/+Kn) [not a link");
        assert_eq!(t, "📈Топор — \nПодписаться [not a link");
        assert_eq!(l, vec!["https://t.me/+Kn"]);
        let (t, _) = markdown_to_plain("[**Python**](http://t.me/py)  - канал");
        assert_eq!(t, "Python  - канал");
        let (t, l) = markdown_to_plain("[[a](https://x.org/1) [b] [c](https://x.org/2)](");
        assert_eq!(t, "[a [b] c](");
        assert_eq!(l, vec!["https://x.org/1", "https://x.org/2"]);
    }

    #[test]
    fn many_brackets_are_plain_text() {
        // Issue 14, finding 4: 1 MB of `[` took 142 s.
        let md = "[".repeat(200_000);
        assert_eq!(markdown_to_plain(&md).0, md);
        let md = "[](".repeat(50_000);
        let (t, l) = markdown_to_plain(&md);
        assert_eq!(t.len(), md.len());
        assert!(l.is_empty());
        let md = "[a](https://x.org/".repeat(20_000);
        assert_eq!(markdown_to_plain(&md).1.len(), 0);
    }

    #[test]
    fn peers() {
        assert_eq!(
            peer_from_signed("-1001000724666"),
            Some(("channel1000724666".into(), "1000724666".into()))
        );
        assert_eq!(
            peer_from_signed("-4242"),
            Some(("chat4242".into(), "4242".into()))
        );
        assert_eq!(peer_from_signed("77"), Some(("user77".into(), "77".into())));
        assert_eq!(peer_from_signed("Mash"), None);
    }
}
