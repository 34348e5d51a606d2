//! Browser-facing defences (issue 14, finding 6): security headers on every
//! answer, the session cookie's `Secure` flag, and the `Origin` check of
//! state-changing requests a cookie authenticates.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

/// The dashboard's Content-Security-Policy: its own scripts, styles and
/// images only (no inline script, no plug-ins, no framing, forms post back
/// to itself). Inline `style` attributes colour the severity badges and
/// chart legends.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every answer (pages, API, TAXII, errors).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: under it Chromium sends `Origin: null` with the
        // dashboard's own form posts, which the Origin check must refuse.
        // `same-origin` still sends nothing to other sites.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    resp
}

/// Whether the browser reached us over HTTPS: the request came over TLS,
/// or a proxy in front says so (`X-Forwarded-Proto: https`, `Forwarded:
/// proto=https`), or the configured public URL is `https://`.
pub fn over_https(h: &HeaderMap, public_url: Option<&str>) -> bool {
    let said = |name: &str, f: &dyn Fn(&str) -> bool| {
        h.get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| f(&v.to_ascii_lowercase()))
    };
    said("x-forwarded-proto", &|v| {
        v.split(',').next().map(str::trim) == Some("https")
    }) || said("forwarded", &|v| {
        v.split([';', ',']).any(|p| p.trim() == "proto=https")
    }) || public_url.is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
}

/// The session cookie for `token`: `HttpOnly; SameSite=Strict; Path=/`,
/// and `Secure` over HTTPS ([`over_https`]).
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "pharos_token={token}; HttpOnly; SameSite=Strict; Path=/{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Methods that change nothing.
pub fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Checks that a request comes from this server's own pages: its `Origin`
/// (else its `Referer`) names the host the request was sent to
/// (`X-Forwarded-Host`, else `Host`). `Err` says why not.
pub fn same_origin(h: &HeaderMap) -> Result<(), String> {
    let host = h
        .get("x-forwarded-host")
        .or_else(|| h.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let from = h
        .get(header::ORIGIN)
        .or_else(|| h.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(from) = from else {
        return Err("a request that changes something, signed in by the session cookie, must say where it comes from (Origin): send the token as `Authorization: Bearer` instead".into());
    };
    // `scheme://host[:port][/...]`.
    let origin_host = from
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("")
        .to_ascii_lowercase();
    match host {
        Some(h) if !origin_host.is_empty() && h == origin_host => Ok(()),
        _ => Err(format!(
            "the request comes from {from:?}, not from this server's pages: refused (cross-site request)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origins_match_the_host_or_are_refused() {
        let ok = headers(&[
            ("host", "pharos.local:8080"),
            ("origin", "http://pharos.local:8080"),
        ]);
        assert!(same_origin(&ok).is_ok());
        let referer = headers(&[
            ("host", "pharos.local:8080"),
            ("referer", "http://pharos.local:8080/narratives?q=x"),
        ]);
        assert!(same_origin(&referer).is_ok());
        for bad in [
            headers(&[
                ("host", "pharos.local:8080"),
                ("origin", "https://evil.example"),
            ]),
            headers(&[
                ("host", "pharos.local:8080"),
                ("origin", "http://pharos.local:8080.evil.example"),
            ]),
            headers(&[("host", "pharos.local:8080"), ("origin", "null")]),
            headers(&[("host", "pharos.local:8080")]),
        ] {
            assert!(same_origin(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn https_is_seen_from_the_proxy_or_the_public_url() {
        assert!(!over_https(&headers(&[]), None));
        assert!(over_https(
            &headers(&[("x-forwarded-proto", "https")]),
            None
        ));
        assert!(over_https(
            &headers(&[("forwarded", "for=1.2.3.4;proto=https")]),
            None
        ));
        assert!(!over_https(
            &headers(&[("x-forwarded-proto", "http")]),
            None
        ));
        assert!(over_https(
            &headers(&[]),
            Some("https://pharos.example.org")
        ));
        assert!(session_cookie("t", true).ends_with("; Secure"));
        assert!(!session_cookie("t", false).contains("Secure"));
    }
}
