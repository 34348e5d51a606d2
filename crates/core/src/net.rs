//! Where Pharos may be sent by a redirect.
//!
//! A feed or webhook URL is configured by a person; the server it names is
//! not. A hostile or compromised host could answer with a redirect to
//! `http://127.0.0.1:…`, `http://169.254.169.254/` (cloud metadata) or a
//! private address, and so make Pharos fetch from or post to the inside of
//! the network it runs in. [`RedirectGuard`] refuses a redirect whose
//! target is a loopback, link-local, private, shared (CGNAT), unique-local
//! or unspecified address, or a host name that resolves to one, unless the
//! host is on its allow-list. The configured URL itself is never refused,
//! nor a redirect to the same host and port: an analyst who points Pharos at
//! an internal host means it.
//!
//! The check resolves the name before the client connects, so a name that
//! changes its answer between the check and the connection (DNS rebinding)
//! is not caught; allow-listing nothing and keeping feeds on public hosts
//! is the safe setting.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// Whether `ip` is an address inside a network rather than on the internet:
/// loopback, private (RFC 1918), link-local, shared (100.64.0.0/10),
/// unspecified, broadcast, IPv6 unique-local (fc00::/7) or link-local
/// (fe80::/10), and IPv4-mapped or -compatible forms of those.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4() {
                // ::ffff:a.b.c.d and ::a.b.c.d (but ::1 is loopback, not 0.0.0.1).
                if v6 != Ipv6Addr::LOCALHOST && internal_v4(v4) {
                    return true;
                }
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
}

/// Decides whether a redirect may be followed (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedirectGuard {
    /// Hosts (names or addresses, as written in URLs, any case) that
    /// redirects may lead to even when they are internal.
    pub allow: Vec<String>,
    /// When set, the only hosts a redirect may lead to at all (remote
    /// media: the `--fetch-allow` list).
    pub only: Option<Vec<String>>,
}

/// Whether `host` is one of `list` (as written in URLs, any case, IPv6
/// with or without brackets).
fn listed(list: &[String], host: &str) -> bool {
    list.iter().any(|a| {
        let a = a.trim().trim_start_matches('[').trim_end_matches(']');
        a.eq_ignore_ascii_case(host)
    })
}

impl RedirectGuard {
    /// A guard that lets redirects reach the `allow`ed hosts.
    pub fn new(allow: Vec<String>) -> RedirectGuard {
        RedirectGuard { allow, only: None }
    }

    /// This guard, also refusing redirects to any host not in `hosts`.
    pub fn only_to(self, hosts: Vec<String>) -> RedirectGuard {
        RedirectGuard {
            only: Some(hosts),
            ..self
        }
    }

    /// Most redirects followed for one request.
    pub const MAX_REDIRECTS: usize = 10;

    /// Whether an HTTP client may follow a redirect to `to`, after the URLs
    /// `previous` (the first is the one requested): at most
    /// [`RedirectGuard::MAX_REDIRECTS`], each allowed by
    /// [`RedirectGuard::check_redirect`]. The feed poller and the webhook
    /// both decide with this.
    pub fn decide(&self, previous: &[url::Url], to: &url::Url) -> Result<(), String> {
        if previous.len() >= Self::MAX_REDIRECTS {
            return Err(format!("more than {} redirects", Self::MAX_REDIRECTS));
        }
        match previous.first() {
            Some(first) => self.check_redirect(first, to),
            None => self.check(to),
        }
    }

    /// `Err(reason)` when a redirect from a request first sent to `first`
    /// on to `to` must not be followed: `to` is on the host and port of
    /// `first`, or passes [`RedirectGuard::check`].
    pub fn check_redirect(&self, first: &url::Url, to: &url::Url) -> Result<(), String> {
        if first.host() == to.host() && first.port_or_known_default() == to.port_or_known_default()
        {
            return Ok(());
        }
        self.check(to)
    }

    /// `Err(reason)` when a redirect to `url` must not be followed.
    pub fn check(&self, url: &url::Url) -> Result<(), String> {
        let Some(host) = url.host() else {
            return Err(format!("redirect to {url}: no host"));
        };
        let name = match &host {
            url::Host::Domain(d) => d.to_ascii_lowercase(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        if let Some(only) = &self.only
            && !listed(only, &name)
        {
            return Err(format!(
                "redirect to {url} refused: {name} is not on the allow-list"
            ));
        }
        if listed(&self.allow, &name) {
            return Ok(());
        }
        let refuse = |ip: IpAddr| {
            Err(format!(
                "redirect to {url} refused: {name} is an internal address ({ip}); allow it in the configuration if it is meant"
            ))
        };
        match host {
            url::Host::Ipv4(a) if is_internal(IpAddr::V4(a)) => refuse(IpAddr::V4(a)),
            url::Host::Ipv6(a) if is_internal(IpAddr::V6(a)) => refuse(IpAddr::V6(a)),
            url::Host::Ipv4(_) | url::Host::Ipv6(_) => Ok(()),
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if d == "localhost" || d.ends_with(".localhost") {
                    return refuse(IpAddr::V4(Ipv4Addr::LOCALHOST));
                }
                let port = url.port_or_known_default().unwrap_or(80);
                // A name that does not resolve cannot be connected to either.
                let Ok(addrs) = (d.as_str(), port).to_socket_addrs() else {
                    return Ok(());
                };
                for a in addrs {
                    if is_internal(a.ip()) {
                        return refuse(a.ip());
                    }
                }
                Ok(())
            }
        }
    }
}

/// An error and its causes, `: `-separated (reqwest's own message leaves
/// out why: "error following redirect" without the refusal).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    out
}

/// Installs rustls' `ring` crypto provider as the process default, once.
/// Harmless when a provider is already installed.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The redirect policy of every HTTP client Pharos makes to reach hosts
/// others run (feeds, webhooks, remote media): at most
/// [`RedirectGuard::MAX_REDIRECTS`], none to an internal address `guard`
/// does not allow.
pub fn redirect_policy(guard: RedirectGuard) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        match guard.decide(attempt.previous(), attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(reason) => attempt.error(reason),
        }
    })
}

/// A blocking HTTP client with that policy: redirects as `guard` decides
/// (internal hosts only when it allows them); each request (connect, send,
/// read) gives up after `timeout`; it says `pharos/<version> (<purpose>)`.
/// The feed poller, the webhook and `pharos media scan --fetch` are made
/// here, so they follow one policy.
pub fn http_client(
    purpose: &str,
    timeout: std::time::Duration,
    guard: RedirectGuard,
) -> reqwest::Result<reqwest::blocking::Client> {
    install_crypto_provider();
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(redirect_policy(guard))
        .user_agent(format!("pharos/{} ({purpose})", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(g: &RedirectGuard, u: &str) -> Result<(), String> {
        g.check(&url::Url::parse(u).unwrap())
    }

    #[test]
    fn internal_targets_are_refused_unless_allowed() {
        let g = RedirectGuard::default();
        for u in [
            "http://127.0.0.1:8080/",
            "http://127.9.9.9/",
            "http://10.1.2.3/x",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:9/",
            "http://api.localhost/",
        ] {
            let e = check(&g, u).unwrap_err();
            assert!(e.contains("refused"), "{u}: {e}");
        }
        for u in [
            "http://8.8.8.8/",
            "https://[2001:4860::8888]/",
            "http://93.184.216.34/",
        ] {
            assert!(check(&g, u).is_ok(), "{u}");
        }
        let g = RedirectGuard::new(vec!["127.0.0.1".into(), "LOCALHOST".into(), "[::1]".into()]);
        assert!(check(&g, "http://127.0.0.1:8080/").is_ok());
        assert!(check(&g, "http://localhost/").is_ok());
        assert!(check(&g, "http://[::1]/").is_ok());
        assert!(check(&g, "http://10.0.0.1/").is_err());
        let g = RedirectGuard::default();
        let u = |s: &str| url::Url::parse(s).unwrap();
        let first = u("http://127.0.0.1:8080/old");
        assert!(
            g.check_redirect(&first, &u("http://127.0.0.1:8080/new"))
                .is_ok()
        );
        assert!(
            g.check_redirect(&first, &u("http://127.0.0.1:8081/new"))
                .is_err()
        );
        assert!(
            g.check_redirect(&first, &u("http://10.0.0.1:8080/"))
                .is_err()
        );
    }
}
