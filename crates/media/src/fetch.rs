//! Downloading remote media references (`pharos media scan --fetch`).
//!
//! A post's media URL is written by whoever wrote the post, so a download
//! is bounded on every side:
//!
//! - only `http` and `https` URLs of a host on the allow-list
//!   ([`FetchOptions::allow`]; nothing is fetched from any other host, also
//!   not through a redirect);
//! - redirects follow Pharos' one HTTP client policy
//!   ([`pharos_core::net::http_client`]): at most 10, none to a loopback,
//!   private or link-local address (the feed poller and webhooks use the
//!   same client);
//! - at most [`FetchOptions::max_bytes`] are read (a larger `Content-Length`
//!   is refused before the body, a body that grows past it is cut off and
//!   refused) and each request gives up after [`FetchOptions::timeout`];
//! - the bytes are written to a cache file named by the SHA-256 of the URL
//!   (never by a name from the URL), then hashed and decoded like a local
//!   file, within the image decoder's limits; nothing downloaded is run.
//!
//! A URL already in the cache is not downloaded again.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Default largest download: 20 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 20 << 20;
/// Default time limit of one download (connect, send, read the body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What may be downloaded, and where it is kept.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Hosts (names or addresses as written in URLs, any case) that media
    /// may be downloaded from; empty: none.
    pub allow: Vec<String>,
    pub max_bytes: u64,
    pub timeout: Duration,
    /// The cache folder (created when missing).
    pub cache: PathBuf,
}

/// Why a remote reference was not downloaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("not an http(s) URL")]
    Scheme,
    #[error("host {0} is not on the allow-list (--fetch-allow)")]
    NotAllowed(String),
    #[error("larger than the limit of {0} bytes (--fetch-max-bytes)")]
    TooLarge(u64),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("{0}")]
    Http(String),
    #[error("cache {0}")]
    Cache(String),
}

/// Downloads allowed media into the cache.
pub struct Fetcher {
    http: reqwest::blocking::Client,
    opts: FetchOptions,
}

fn host_of(url: &reqwest::Url) -> Option<String> {
    Some(match url.host()? {
        url::Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        url::Host::Ipv4(a) => a.to_string(),
        url::Host::Ipv6(a) => a.to_string(),
    })
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> Result<Fetcher, FetchError> {
        std::fs::create_dir_all(&opts.cache)
            .map_err(|e| FetchError::Cache(format!("{}: {e}", opts.cache.display())))?;
        // Redirects: Pharos' one policy, and only to listed hosts.
        let guard = pharos_core::net::RedirectGuard::new(Vec::new()).only_to(opts.allow.clone());
        let http = pharos_core::net::http_client("media fetch", opts.timeout, guard)
            .map_err(|e| FetchError::Http(e.to_string()))?;
        Ok(Fetcher { http, opts })
    }

    /// The cache file of `url` (whether or not it was downloaded).
    pub fn cache_path(&self, url: &str) -> PathBuf {
        cache_path(&self.opts.cache, url)
    }

    /// Whether `url`'s host is on the allow-list.
    pub fn allowed(&self, url: &str) -> Result<reqwest::Url, FetchError> {
        let u = reqwest::Url::parse(url.trim()).map_err(|_| FetchError::Scheme)?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(FetchError::Scheme);
        }
        let host = host_of(&u).ok_or(FetchError::Scheme)?;
        let listed = self.opts.allow.iter().any(|a| {
            let a = a.trim().trim_start_matches('[').trim_end_matches(']');
            a.eq_ignore_ascii_case(&host)
        });
        if !listed {
            return Err(FetchError::NotAllowed(host));
        }
        Ok(u)
    }

    /// The cached file of `url`, downloaded first when not cached yet.
    pub fn fetch(&self, url: &str) -> Result<PathBuf, FetchError> {
        let u = self.allowed(url)?;
        let path = self.cache_path(url);
        if path.is_file() {
            return Ok(path);
        }
        let max = self.opts.max_bytes;
        let resp = self
            .http
            .get(u)
            .send()
            .map_err(|e| FetchError::Http(error_text(&e)))?;
        if !resp.status().is_success() {
            return Err(FetchError::Status(resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|n| n > max) {
            return Err(FetchError::TooLarge(max));
        }
        let mut bytes = Vec::new();
        resp.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| FetchError::Http(e.to_string()))?;
        if bytes.len() as u64 > max {
            return Err(FetchError::TooLarge(max));
        }
        // Written whole, then renamed: a cut download never looks cached.
        let tmp = path.with_extension("part");
        let cache_err = |e: std::io::Error| FetchError::Cache(format!("{}: {e}", path.display()));
        std::fs::write(&tmp, &bytes).map_err(cache_err)?;
        std::fs::rename(&tmp, &path).map_err(cache_err)?;
        Ok(path)
    }
}

/// The cache file of `url` under `cache`: the SHA-256 of the URL, in hex.
pub fn cache_path(cache: &Path, url: &str) -> PathBuf {
    cache.join(hex::encode(Sha256::digest(url.trim().as_bytes())))
}

/// A reqwest error with its causes (a refused redirect says why).
fn error_text(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// A local HTTP server: `/img` a small body, `/big` a body past the
    /// limit, `/huge` a Content-Length past it, `/same` a redirect on the
    /// same host, `/away` a redirect to `localhost`. Records the paths asked.
    fn serve(asked: Arc<Mutex<Vec<String>>>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = first.split(' ').nth(1).unwrap_or("").to_string();
                asked.lock().unwrap().push(path.clone());
                let ok = |b: &[u8]| {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        b.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(b);
                    r
                };
                let redirect = |to: String| {
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .into_bytes()
                };
                let resp = match path.as_str() {
                    "/img" => ok(b"image bytes"),
                    "/big" => {
                        // No Content-Length: read until the server closes.
                        let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
                        r.extend(std::iter::repeat_n(b'x', 5_000));
                        r
                    }
                    "/huge" => {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                    "/same" => redirect(format!("http://127.0.0.1:{port}/img")),
                    "/away" => redirect(format!("http://localhost:{port}/img")),
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&resp);
            }
        });
        port
    }

    fn fetcher(cache: &Path, allow: &[&str]) -> Fetcher {
        Fetcher::new(FetchOptions {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            max_bytes: 1_000,
            timeout: Duration::from_secs(10),
            cache: cache.to_path_buf(),
        })
        .unwrap()
    }

    #[test]
    fn only_listed_hosts_within_the_limits_are_downloaded_and_cached() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let port = serve(asked.clone());
        let dir = tempfile::tempdir().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let f = fetcher(dir.path(), &["127.0.0.1", "localhost"]);

        let p = f.fetch(&format!("{base}/img")).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"image bytes");
        assert_eq!(p, cache_path(dir.path(), &format!("{base}/img")));
        // Cached: not asked again.
        f.fetch(&format!("{base}/img")).unwrap();
        assert_eq!(asked.lock().unwrap().len(), 1);

        assert_eq!(
            f.fetch(&format!("{base}/big")),
            Err(FetchError::TooLarge(1_000))
        );
        assert_eq!(
            f.fetch(&format!("{base}/huge")),
            Err(FetchError::TooLarge(1_000))
        );
        assert_eq!(
            f.fetch(&format!("{base}/nope")),
            Err(FetchError::Status(404))
        );
        assert!(!f.cache_path(&format!("{base}/big")).exists());
        // A redirect on the same host is followed.
        assert_eq!(
            std::fs::read(f.fetch(&format!("{base}/same")).unwrap()).unwrap(),
            b"image bytes"
        );
        // One to an internal address is refused, listed or not.
        let e = f.fetch(&format!("{base}/away")).unwrap_err().to_string();
        assert!(e.contains("refused") && e.contains("internal"), "{e}");
        // Not http(s), or a host not listed: nothing is asked.
        let before = asked.lock().unwrap().len();
        assert_eq!(f.fetch("file:///etc/passwd"), Err(FetchError::Scheme));
        let only_local = fetcher(dir.path(), &["127.0.0.1"]);
        assert_eq!(
            only_local.fetch(&format!("http://localhost:{port}/img")),
            Err(FetchError::NotAllowed("localhost".into()))
        );
        let e = only_local
            .fetch(&format!("{base}/away"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not on the allow-list"), "{e}");
        assert_eq!(
            asked.lock().unwrap().len(),
            before + 1,
            "only the redirecting request was sent"
        );
        let nothing = fetcher(dir.path(), &[]);
        assert_eq!(
            nothing.fetch(&format!("{base}/other")),
            Err(FetchError::NotAllowed("127.0.0.1".into()))
        );
    }
}
