//! RSS 2.0, RSS 1.0 and Atom feeds (parsed with `feed-rs`).
//!
//! Each entry becomes one [`Post`]:
//! - `platform`: [`Options::platform`] or `rss`;
//! - `id`: the entry's id (`<guid>`, Atom `<id>`), else its first link, else
//!   a stable hash of the feed's actor id, title and date (`sha256:` + 32 hex
//!   digits), so the same entry read twice has the same id;
//! - `actor`: the entry's author when it names one (id: the author's URI or
//!   e-mail, else `<feed actor id>#<name>`, because bare names such as
//!   "Admin" are not unique across feeds); otherwise the feed itself (id:
//!   the feed's id, else its `rel="self"` link, else its first link, else the
//!   source; handle and name: the feed's title);
//! - `time`: published, else updated; an entry with neither is rejected;
//! - `text`: the title, a blank line, then the summary (or the content when
//!   there is no summary), with HTML tags removed and the common entities
//!   decoded;
//! - `links`: the entry's links (not `rel="enclosure"` ones) and URLs written
//!   in the text; `media`: enclosures, Atom `rel="enclosure"` links and
//!   `media:content` (when an RSS item has both an `<enclosure>` and
//!   `media:content`, `feed-rs` keeps only the `media:content` ones);
//! - `lang`: the entry's or the feed's language; hashtags and mentions come
//!   from the text;
//! - provenance: the file path or feed URL and `record` = 1-based entry index.
//!
//! A document that is not a feed is one rejection naming the file.

use crate::{Item, Options, Rejection, Sink};
use feed_rs::model::{Entry, Feed};
use pharos_core::{Actor, EventTime, Media, MediaKind, Post, Provenance};
use sha2::{Digest, Sha256};
use std::io::BufRead;

/// One feed entry as read: the key feed polling remembers it by (the entry
/// id or link, before normalisation) and the post or rejection it became.
#[derive(Debug)]
pub struct FeedEntry {
    pub key: String,
    pub item: Item,
}

/// Reads a feed document and hands one post (or rejection) per entry to `sink`.
pub fn read(reader: &mut dyn BufRead, source: &str, opts: &Options, sink: &mut Sink<'_>) {
    let Some(bytes) =
        crate::input::read_all_or_reject(reader, source, None, crate::limits::MAX_FEED_BYTES, sink)
    else {
        return;
    };
    match parse_feed(&bytes, source, opts) {
        Ok(entries) => {
            for e in entries {
                if sink(e.item).is_break() {
                    return;
                }
            }
        }
        Err(rejection) => {
            let _ = sink(Item::Rejected(rejection));
        }
    }
}

/// Parses a whole feed document into entries (draft posts, not yet normalised).
/// `Err` is the single rejection for a document that is not a feed.
pub fn parse_feed(bytes: &[u8], source: &str, opts: &Options) -> Result<Vec<FeedEntry>, Rejection> {
    let base = if source.starts_with("http://") || source.starts_with("https://") {
        Some(source)
    } else {
        None
    };
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base)
        // Keep missing ids empty: we choose the fallback ourselves (stable, not a random UUID).
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build();
    let feed = parser.parse(bytes).map_err(|e| {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned();
        Rejection::new(
            source,
            None,
            None,
            format!("not an RSS or Atom feed: {e}"),
            head,
        )
    })?;
    let platform = opts
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("rss");
    let feed_actor = feed_actor(&feed, source);
    Ok(feed
        .entries
        .iter()
        .enumerate()
        .map(|(i, entry)| entry_to_item(entry, i as u64 + 1, &feed, &feed_actor, platform, source))
        .collect())
}

fn feed_actor(feed: &Feed, source: &str) -> Actor {
    let id = if !feed.id.trim().is_empty() {
        feed.id.trim().to_string()
    } else if let Some(l) = feed.links.iter().find(|l| l.rel.as_deref() == Some("self")) {
        l.href.clone()
    } else if let Some(l) = feed.links.first() {
        l.href.clone()
    } else {
        source.to_string()
    };
    let title = feed
        .title
        .as_ref()
        .map(|t| strip_html(&t.content))
        .filter(|t| !t.is_empty());
    Actor {
        id,
        handle: title.clone(),
        name: title,
        ..Default::default()
    }
}

fn entry_to_item(
    entry: &Entry,
    record: u64,
    feed: &Feed,
    feed_actor: &Actor,
    platform: &str,
    source: &str,
) -> FeedEntry {
    let first_link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref() != Some("enclosure"))
        .map(|l| l.href.trim().to_string());
    let title = entry
        .title
        .as_ref()
        .map(|t| strip_html(&t.content))
        .unwrap_or_default();
    let key = if !entry.id.trim().is_empty() {
        entry.id.trim().to_string()
    } else if let Some(l) = &first_link {
        l.clone()
    } else {
        let mut h = Sha256::new();
        h.update(feed_actor.id.as_bytes());
        h.update([0x1f]);
        h.update(title.as_bytes());
        h.update([0x1f]);
        if let Some(t) = entry.published.or(entry.updated) {
            h.update(t.to_rfc3339().as_bytes());
        }
        format!("sha256:{}", hex::encode(&h.finalize()[..16]))
    };
    let reject = |reason: &str| FeedEntry {
        key: key.clone(),
        item: Item::Rejected(Rejection::new(
            source,
            None,
            Some(record),
            reason,
            format!("{{\"id\":{:?},\"title\":{:?}}}", entry.id, title),
        )),
    };
    let Some(when) = entry.published.or(entry.updated) else {
        return reject("entry has neither a published nor an updated date");
    };

    let body = entry
        .summary
        .as_ref()
        .map(|s| s.content.as_str())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| entry.content.as_ref().and_then(|c| c.body.as_deref()))
        .map(strip_html)
        .unwrap_or_default();
    let text = match (title.is_empty(), body.is_empty()) {
        (false, false) => format!("{title}\n\n{body}"),
        (false, true) => title.clone(),
        (true, _) => body,
    };

    let actor = match entry.authors.iter().find(|p| {
        p.name.as_deref().is_some_and(|n| !n.trim().is_empty())
            || p.uri.is_some()
            || p.email.is_some()
    }) {
        Some(p) => {
            // RSS writes `editor@example.com (Jane Editor)`: drop the brackets.
            let name = p
                .name
                .as_deref()
                .map(|n| {
                    let n = n.trim();
                    n.strip_prefix('(')
                        .and_then(|m| m.strip_suffix(')'))
                        .unwrap_or(n)
                        .trim()
                })
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            let id = p
                .uri
                .clone()
                .or_else(|| p.email.clone())
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| format!("{}#{}", feed_actor.id, name.as_deref().unwrap_or("")));
            Actor {
                id,
                handle: name.clone(),
                name,
                ..Default::default()
            }
        }
        None => feed_actor.clone(),
    };

    let mut post = Post {
        platform: platform.to_string(),
        id: key.clone(),
        actor,
        time: EventTime::from_datetime(&when),
        text,
        lang: entry.language.clone().or_else(|| feed.language.clone()),
        provenance: Provenance {
            source: source.to_string(),
            line: None,
            record: Some(record),
        },
        ..Default::default()
    };
    for l in &entry.links {
        if l.rel.as_deref() == Some("enclosure") {
            push_media(&mut post.media, &l.href, l.media_type.as_deref());
        } else {
            post.add_link(&l.href);
        }
    }
    for u in pharos_core::text::urls(&post.text) {
        post.add_link(&u);
    }
    for m in &entry.media {
        for c in &m.content {
            if let Some(u) = &c.url {
                let mime = c.content_type.as_ref().map(|t| t.to_string());
                push_media(&mut post.media, u.as_str(), mime.as_deref());
            }
        }
    }
    post.hashtags = pharos_core::text::hashtags(&post.text);
    post.mentions = pharos_core::text::mentions(&post.text);
    FeedEntry {
        key,
        item: Item::Post(Box::new(post)),
    }
}

fn push_media(media: &mut Vec<Media>, url: &str, mime: Option<&str>) {
    let url = url.trim();
    if url.is_empty() || media.iter().any(|m| m.url == url) {
        return;
    }
    let kind = match mime.map(|m| m.to_ascii_lowercase()) {
        Some(m) if m.starts_with("image/gif") => MediaKind::Animation,
        Some(m) if m.starts_with("image/") => MediaKind::Photo,
        Some(m) if m.starts_with("video/") => MediaKind::Video,
        Some(m) if m.starts_with("audio/") => MediaKind::Audio,
        Some(m) if m.starts_with("application/pdf") => MediaKind::Document,
        _ => {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
            MediaKind::from_source(ext)
        }
    };
    media.push(Media {
        url: url.to_string(),
        kind,
        hash: None,
        key: None,
    });
}

/// Removes HTML tags (dropping `<script>` and `<style>` contents), turns
/// block ends and `<br>` into line breaks, decodes the common entities and
/// tidies white space (single spaces, at most one blank line).
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        // Not a tag ("a < b"): keep the '<'.
        let starts_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!' || c == '?');
        if !starts_tag {
            out.push('<');
            rest = after;
            continue;
        }
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("-->").map(|e| &comment[e + 3..]).unwrap_or("");
            continue;
        }
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = &after[..gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = &after[gt + 1..];
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            let close = format!("</{name}");
            rest = match find_ascii_ci(rest, &close) {
                Some(p) => rest[p..]
                    .find('>')
                    .map(|g| &rest[p + g + 1..])
                    .unwrap_or(""),
                None => "",
            };
            continue;
        }
        match name.as_str() {
            "br" | "p" | "div" | "li" | "ul" | "ol" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5"
            | "h6" | "blockquote" | "pre" | "hr" | "table" => out.push('\n'),
            "td" | "th" => out.push(' '),
            _ => {}
        }
    }
    out.push_str(rest);
    tidy_space(&decode_entities(&out))
}

/// The first place `needle` (ASCII, lowercase) occurs in `hay`, ignoring
/// ASCII case; reads `hay` only up to the match (lowercasing the whole rest
/// of the document for every `<script>` was quadratic).
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    let first = n[0];
    let mut from = 0;
    while let Some(p) = h[from..]
        .iter()
        .position(|b| b.to_ascii_lowercase() == first)
    {
        let at = from + p;
        if h.len() - at < n.len() {
            return None;
        }
        if h[at..at + n.len()].eq_ignore_ascii_case(n) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn tidy_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank_run = 0;
    for line in s.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(&words.join(" "));
    }
    out
}

/// Decodes `&amp;`-style named entities (the common ones) and numeric ones.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // Entity names are short: look for the `;` in the next 11 bytes
        // only (a search to the end of the text for every `&` was quadratic).
        let end = after
            .as_bytes()
            .iter()
            .take(11)
            .position(|&b| b == b';')
            .filter(|&e| e > 0 && e <= 10);
        let decoded = end.and_then(|e| entity(&after[..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "middot" => '·',
        "bull" => '•',
        "deg" => '°',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_entities() {
        let html = "<p>Hello&nbsp;<b>world</b> &amp; friends</p><script>var x=1;</script>\
                    <p>a &lt; b &#8212; &#x41;&hellip; &unknown; AT&T</p><!-- c --><br/>end";
        assert_eq!(
            strip_html(html),
            "Hello world & friends\n\na < b — A… &unknown; AT&T\n\nend"
        );
        assert_eq!(strip_html("1 < 2 and <i>x</i>"), "1 < 2 and x");
    }
}
