//! Links and their normal form.
//!
//! The same article is shared as `HTTP://Example.com:80/a?utm_source=x#top`
//! and `http://example.com/a`: coordination and burst detection must see one
//! link. [`normalize_url`] lowercases scheme and host, drops the default
//! port, the fragment and tracking parameters (`utm_*`, `fbclid`, `gclid`),
//! and keeps everything else (path case and the order of the remaining
//! parameters matter to many sites).

use serde::{Deserialize, Serialize};

/// A link found in a post: as written, normalised, and its domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The URL as the source gave it (expanded where the source expands it).
    pub raw: String,
    /// Normal form, see [`normalize_url`]. Equal to `raw` when `raw` is not a URL.
    pub url: String,
    /// Host without a leading `www.`; empty when `raw` is not a URL.
    pub domain: String,
}

impl Link {
    pub fn new(raw: &str) -> Link {
        let raw = raw.trim();
        match normalize_url(raw) {
            Some((url, domain)) => Link {
                raw: raw.to_string(),
                url,
                domain,
            },
            None => Link {
                raw: raw.to_string(),
                url: raw.to_string(),
                domain: String::new(),
            },
        }
    }
}

fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || lower == "fbclid" || lower == "gclid"
}

/// Normalises a URL; returns `(normalised, domain)` or `None` when `raw` is
/// not an absolute http(s)/ftp URL. A URL without a scheme
/// (`example.com/a`) is read as `http://`.
pub fn normalize_url(raw: &str) -> Option<(String, String)> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = match url::Url::parse(raw) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            // "example.com/path": only when the first segment looks like a host.
            let host = raw.split(['/', '?', '#']).next().unwrap_or("");
            if !host.contains('.') || host.contains(' ') {
                return None;
            }
            url::Url::parse(&format!("http://{raw}")).ok()?
        }
        Err(_) => return None,
    };
    if !matches!(parsed.scheme(), "http" | "https" | "ftp") {
        return None;
    }
    let mut u = parsed;
    // `url` already lowercases scheme and host and drops default ports.
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    let host = u.host_str().unwrap_or("").trim_end_matches('.');
    let domain = host.strip_prefix("www.").unwrap_or(host).to_string();
    Some((u.to_string(), domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tracking_fragment_and_port() {
        let l = Link::new(
            "HTTPS://WWW.Example.COM:443/Path/A?utm_source=tw&id=7&fbclid=abc&gclid=x#frag",
        );
        assert_eq!(l.url, "https://www.example.com/Path/A?id=7");
        assert_eq!(l.domain, "example.com");
        let l = Link::new("http://example.com:80/?utm_medium=x");
        assert_eq!(l.url, "http://example.com/");
        let l = Link::new("http://example.com:8080/x");
        assert_eq!(l.url, "http://example.com:8080/x");
    }

    #[test]
    fn schemeless_and_non_urls() {
        assert_eq!(Link::new("example.org/a").url, "http://example.org/a");
        let l = Link::new("not a url");
        assert_eq!(l.url, "not a url");
        assert_eq!(l.domain, "");
        assert!(normalize_url("mailto:a@b.c").is_none());
    }
}
