//! Feed polling against a local HTTP server: conditional GET, 304, redirects,
//! only new entries passed on, state kept between polls.

use pharos_ingest::feed::{FeedClient, FeedError, FeedState, PollOutcome, poll};
use pharos_ingest::{Item, Options};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the test server serves and what it saw.
#[derive(Default)]
struct Server {
    feed: String,
    /// (path, If-None-Match, If-Modified-Since) of each request.
    requests: Vec<(String, Option<String>, Option<String>)>,
    /// Where `/elsewhere` redirects.
    elsewhere: String,
}

const LAST_MODIFIED: &str = "Wed, 09 Mar 2022 12:00:00 GMT";

fn etag_of(body: &str) -> String {
    format!("\"v{}-{}\"", body.len(), body.matches("<item>").count())
}

fn serve(listener: TcpListener, state: Arc<Mutex<Server>>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let state = Arc::clone(&state);
        std::thread::spawn(move || handle(stream, &state));
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<Server>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        // One request per iteration (keep-alive).
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let (mut inm, mut ims) = (None, None);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "if-none-match" => inm = Some(value.trim().to_string()),
                "if-modified-since" => ims = Some(value.trim().to_string()),
                _ => {}
            }
        }
        let response = {
            let mut s = state.lock().unwrap();
            s.requests.push((path.clone(), inm.clone(), ims));
            let etag = etag_of(&s.feed);
            match path.as_str() {
                "/elsewhere" => format!(
                    "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n",
                    s.elsewhere
                ),
                "/old-feed" => "HTTP/1.1 301 Moved Permanently\r\nLocation: /feed.xml\r\nContent-Length: 0\r\n\r\n".to_string(),
                "/slow" => {
                    std::thread::sleep(Duration::from_secs(3));
                    return;
                }
                "/feed.xml" if inm.as_deref() == Some(etag.as_str()) => {
                    format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n")
                }
                "/feed.xml" => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: {etag}\r\n\
                     Last-Modified: {LAST_MODIFIED}\r\nContent-Length: {}\r\n\r\n{}",
                    s.feed.len(),
                    s.feed
                ),
                _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
            }
        };
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn item(n: u32) -> String {
    format!(
        "<item><title>Story {n}</title><link>https://news.example/{n}</link><guid>story-{n}</guid>\
         <pubDate>Wed, 09 Mar 2022 1{n}:00:00 +0000</pubDate><description>&lt;p&gt;Body {n}&lt;/p&gt;</description></item>"
    )
}

fn feed(items: &[u32]) -> String {
    let body: String = items.iter().map(|&n| item(n)).collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>\
         <link>https://news.example/</link>{body}</channel></rss>"
    )
}

fn start(initial: &[u32]) -> (String, Arc<Mutex<Server>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Server {
        feed: feed(initial),
        requests: Vec::new(),
        elsewhere: base.replace("127.0.0.1", "localhost") + "/feed.xml",
    }));
    let s = Arc::clone(&state);
    std::thread::spawn(move || serve(listener, s));
    (base, state)
}

fn poll_ids(
    client: &FeedClient,
    url: &str,
    state: &mut FeedState,
) -> (Result<PollOutcome, FeedError>, Vec<String>) {
    let mut ids = Vec::new();
    let mut opts = Options::new();
    opts.detect_language = false;
    let r = poll(client, url, state, &opts, &mut |item| {
        match item {
            Item::Post(p) => ids.push(p.id.clone()),
            Item::Rejected(r) => panic!("unexpected rejection {r:?}"),
        }
        ControlFlow::Continue(())
    });
    (r, ids)
}

#[test]
fn conditional_get_and_only_new_entries() {
    let (base, server) = start(&[1, 2, 3]);
    let client = FeedClient::new().unwrap();
    let url = format!("{base}/feed.xml");
    let mut state = FeedState::new();

    // 1. Full fetch: all three entries.
    let (r, ids) = poll_ids(&client, &url, &mut state);
    assert_eq!(r.unwrap(), PollOutcome::Fetched { items: 3, new: 3 });
    assert_eq!(ids, ["story-1", "story-2", "story-3"]);
    let etag = etag_of(&feed(&[1, 2, 3]));
    assert_eq!(state.etag.as_deref(), Some(etag.as_str()));
    assert_eq!(state.last_modified.as_deref(), Some(LAST_MODIFIED));

    // 2. Unchanged: the validators are sent, 304, nothing passed on.
    let (r, ids) = poll_ids(&client, &url, &mut state);
    assert_eq!(r.unwrap(), PollOutcome::NotModified);
    assert!(ids.is_empty());
    {
        let s = server.lock().unwrap();
        let (path, inm, ims) = s.requests.last().unwrap();
        assert_eq!(path, "/feed.xml");
        assert_eq!(inm.as_deref(), Some(etag.as_str()));
        assert_eq!(ims.as_deref(), Some(LAST_MODIFIED));
    }

    // 3. The feed gains one entry (newest first, as feeds do): exactly that one.
    server.lock().unwrap().feed = feed(&[4, 1, 2, 3]);
    let (r, ids) = poll_ids(&client, &url, &mut state);
    assert_eq!(r.unwrap(), PollOutcome::Fetched { items: 4, new: 1 });
    assert_eq!(ids, ["story-4"]);

    // The state survives a save/load round trip: a restarted poller gets a 304.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    state.save(&path).unwrap();
    let mut loaded = FeedState::load(&path).unwrap();
    assert_eq!(loaded.seen, state.seen);
    let (r, _) = poll_ids(&client, &url, &mut loaded);
    assert_eq!(r.unwrap(), PollOutcome::NotModified);

    // Lost validators: a full fetch, but seen entries are not passed on again.
    loaded.clear_validators();
    let (r, ids) = poll_ids(&client, &url, &mut loaded);
    assert_eq!(r.unwrap(), PollOutcome::Fetched { items: 4, new: 0 });
    assert!(ids.is_empty());
}

#[test]
fn follows_redirects_and_reports_http_errors_and_timeouts() {
    let (base, _server) = start(&[1]);
    let client = FeedClient::new().unwrap();
    let mut state = FeedState::new();
    let mut sources = Vec::new();
    let r = poll(
        &client,
        &format!("{base}/old-feed"),
        &mut state,
        &Options::new(),
        &mut |item| {
            if let Item::Post(p) = item {
                sources.push(p.provenance.source.clone());
            }
            ControlFlow::Continue(())
        },
    );
    assert_eq!(r.unwrap(), PollOutcome::Fetched { items: 1, new: 1 });
    assert_eq!(
        sources,
        [format!("{base}/feed.xml")],
        "provenance is the final URL"
    );

    let mut fresh = FeedState::new();
    let (r, _) = poll_ids(&client, &format!("{base}/missing"), &mut fresh);
    match r {
        Err(FeedError::Status { status, .. }) => assert_eq!(status, 404),
        other => panic!("expected a 404 error, got {other:?}"),
    }
    assert_eq!(fresh, FeedState::new(), "state unchanged after an error");

    let quick = FeedClient::with_timeout(Duration::from_millis(300)).unwrap();
    let started = std::time::Instant::now();
    let (r, _) = poll_ids(&quick, &format!("{base}/slow"), &mut fresh);
    assert!(matches!(r, Err(FeedError::Http { .. })), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "timed out early"
    );
}

#[test]
fn seen_set_is_bounded() {
    let mut s = FeedState::new();
    s.seen_limit = 3;
    for k in ["a", "b", "c", "d"] {
        s.mark_seen(k);
    }
    assert_eq!(s.seen, ["b", "c", "d"]);
    assert!(!s.has_seen("a"));
    assert!(s.has_seen("d"));
}

#[test]
fn redirects_to_other_internal_hosts_are_refused_unless_allowed() {
    // Issue 14, finding 9: a feed host answers with a redirect to another
    // internal address (here: `localhost`, where the feed was asked of
    // 127.0.0.1; the same would go for 169.254.169.254 or 10.x).
    let (base, server) = start(&[1]);
    let url = format!("{base}/elsewhere");
    let client = FeedClient::new().unwrap();
    let mut state = FeedState::new();
    let (r, ids) = poll_ids(&client, &url, &mut state);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("refused") && e.contains("localhost"), "{e}");
    assert!(ids.is_empty());
    assert!(
        !server
            .lock()
            .unwrap()
            .requests
            .iter()
            .any(|r| r.0 == "/feed.xml"),
        "the redirect was not followed"
    );

    let client =
        FeedClient::with_options(Duration::from_secs(10), vec!["localhost".into()]).unwrap();
    let (r, ids) = poll_ids(&client, &url, &mut state);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(ids, vec!["story-1"]);
}
