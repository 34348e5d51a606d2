//! JSON-LD blocks in HTML: the text of every
//! `<script type="application/ld+json">` element.
//!
//! Script content is raw text in HTML (no entities, no nested tags), so a
//! careful scan is enough: comments, and the raw text of `<style>`,
//! `<textarea>` and other scripts, are skipped so a `<script` inside them does
//! not count.

/// One JSON-LD block: its text and the 1-based line its `<script>` tag starts on.
#[derive(Debug, PartialEq)]
pub(crate) struct JsonLd<'a> {
    pub text: &'a str,
    pub line: u64,
}

pub(crate) fn json_ld_blocks(html: &str) -> Vec<JsonLd<'_>> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = memchr_lt(&b[i..]) {
        let start = i + off;
        let rest = &b[start..];
        if rest.starts_with(b"<!--") {
            i = find(b, start + 4, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let Some((name, tag_end)) = open_tag(b, start) else {
            i = start + 1;
            continue;
        };
        match name.as_str() {
            "script" | "style" | "textarea" | "title" | "xmp" => {
                let close = format!("</{name}");
                let body_end = find_ci(b, tag_end, close.as_bytes()).unwrap_or(b.len());
                if name == "script" && is_json_ld(&html[start..tag_end]) {
                    out.push(JsonLd {
                        text: unwrap_markers(&html[tag_end..body_end]),
                        line: 1 + b[..start].iter().filter(|&&c| c == b'\n').count() as u64,
                    });
                }
                i = body_end;
            }
            _ => i = tag_end,
        }
    }
    out
}

fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'<')
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= b.len() {
        return None;
    }
    b[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= b.len() {
        return None;
    }
    b[from..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// At `<name ...>`: the lowercase tag name and the offset just past `>`
/// (quotes in attribute values respected). `None` for closing tags,
/// declarations and stray `<`.
fn open_tag(b: &[u8], start: usize) -> Option<(String, usize)> {
    let mut j = start + 1;
    while j < b.len() && b[j].is_ascii_alphanumeric() {
        j += 1;
    }
    if j == start + 1 {
        return None;
    }
    let name = String::from_utf8_lossy(&b[start + 1..j]).to_ascii_lowercase();
    let mut quote = None;
    while j < b.len() {
        let c = b[j];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return Some((name, j + 1)),
            None => {}
        }
        j += 1;
    }
    Some((name, b.len()))
}

/// Whether a `<script ...>` tag has `type="application/ld+json"`.
fn is_json_ld(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    let Some(p) = lower.find("type") else {
        return false;
    };
    // Every `type=` attribute (there is usually one).
    let mut rest = &lower[p..];
    while let Some(q) = rest.find("type") {
        let after = rest[q + 4..].trim_start();
        if let Some(v) = after.strip_prefix('=') {
            let v = v.trim_start();
            let value: String = match v.chars().next() {
                Some(c @ ('"' | '\'')) => v[1..].chars().take_while(|&x| x != c).collect(),
                _ => v
                    .chars()
                    .take_while(|&x| !x.is_whitespace() && x != '>')
                    .collect(),
            };
            let value = value.trim();
            if value == "application/ld+json" || value.starts_with("application/ld+json;") {
                return true;
            }
        }
        rest = &rest[q + 4..];
    }
    false
}

/// Drops `<!-- -->` and `<![CDATA[ ]]>` wrappers some pages put around scripts.
fn unwrap_markers(s: &str) -> &str {
    let mut t = s.trim();
    for (open, close) in [
        ("<!--", "-->"),
        ("//<![CDATA[", "//]]>"),
        ("<![CDATA[", "]]>"),
    ] {
        if let Some(x) = t.strip_prefix(open) {
            t = x.strip_suffix(close).unwrap_or(x).trim();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_json_ld_and_skips_the_rest() {
        let html = "<html><head>\n<!-- <script type=\"application/ld+json\">{\"no\":1}</script> -->\n\
            <script>var a = '<script type=\"application/ld+json\">';</script>\n\
            <SCRIPT data-x='a>b' TYPE = 'application/ld+json'>\n<!--\n{\"a\": \"</b>\"}\n-->\n</SCRIPT>\n\
            <style>.x{}</style><script type=application/ld+json>[1]</script>";
        let blocks = json_ld_blocks(html);
        assert_eq!(
            blocks,
            vec![
                JsonLd {
                    text: "{\"a\": \"</b>\"}",
                    line: 4
                },
                JsonLd {
                    text: "[1]",
                    line: 9
                },
            ]
        );
    }

    #[test]
    fn unclosed_script_runs_to_the_end() {
        let blocks = json_ld_blocks("<script type=\"application/ld+json\">{\"a\":1}");
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].text, "{\"a\":1}");
    }
}
