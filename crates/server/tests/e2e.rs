//! End to end in real headless Chromium (feature `e2e`; `.ci/e2e` runs it).
//!
//! Starts `pharos serve` on demo data (`pharos demo` into a temporary
//! directory, an analyst token from `pharos token create`), then drives
//! Debian's `chromium` over the DevTools protocol: signs in, opens the
//! overview, opens a narrative, opens a network and clicks a node of its
//! graph until its posts are listed, searches the claims library, and
//! exports the STIX bundle the page's button links to. Screenshots and the bundle go to `target/e2e/`.
//!
//! The `pharos` binary is `$PHAROS_BIN`, else `pharos` beside this test's
//! target directory (`cargo build -p pharos-cli` first); the browser is
//! `$CHROMIUM`, else `chromium`.
#![cfg(feature = "e2e")]

use base64::Engine;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pharos_bin() -> PathBuf {
    if let Ok(p) = std::env::var("PHAROS_BIN") {
        return PathBuf::from(p);
    }
    // tests/e2e-<hash> lives in <target>/debug/deps.
    let exe = std::env::current_exe().unwrap();
    let candidate = exe.parent().unwrap().parent().unwrap().join("pharos");
    assert!(
        candidate.exists(),
        "no pharos binary at {}: run `cargo build -p pharos-cli` or set PHAROS_BIN",
        candidate.display()
    );
    candidate
}

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A DevTools-protocol session on one page.
struct Page {
    ws: tungstenite::WebSocket<TcpStream>,
    next: u64,
}

impl Page {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.ws
            .send(tungstenite::Message::text(
                json!({"id": id, "method": method, "params": params}).to_string(),
            ))
            .unwrap();
        loop {
            let m = self.ws.read().expect("DevTools connection closed");
            if let tungstenite::Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["id"] == id {
                    if let Some(e) = v.get("error") {
                        panic!("{method}: {e}");
                    }
                    return v["result"].clone();
                }
            }
        }
    }

    /// Evaluates JavaScript (awaiting promises) and returns its value.
    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{js}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Waits until `js` is true (the page changes asynchronously).
    fn wait_for(&mut self, js: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.eval(&format!(
                "(() => {{ try {{ return !!({js}); }} catch (e) {{ return false; }} }})()"
            )) == json!(true)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let html = self.eval("document.body ? document.body.innerText.slice(0, 2000) : ''");
        panic!("waited for {what} ({js}); the page says: {html}");
    }

    fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            &format!("document.readyState === 'complete' && location.href.startsWith({url:?})"),
            url,
        );
    }

    fn screenshot(&mut self, name: &str) {
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(out_dir().join(name), png).unwrap();
    }

    /// Milliseconds from navigation start to the load event of the current page.
    fn load_ms(&mut self) -> f64 {
        self.eval("(() => { const n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd - n.startTime : -1; })()")
            .as_f64()
            .unwrap_or(-1.0)
    }
}

/// A small HTTP/1.1 GET (Chromium's DevTools server keeps connections open,
/// so the body is read by its Content-Length).
fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        &s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: pharos-e2e\r\nAccept: */*\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let mut len: Option<usize> = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok();
        }
    }
    let mut body = Vec::new();
    match len {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body).unwrap();
        }
        None => {
            r.read_to_end(&mut body).unwrap();
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

#[test]
fn dashboard_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let pharos = pharos_bin();
    // A scenario ingested, its fact-checks imported, and no `pharos
    // assess` run: every incident the dashboard shows is one the server
    // built live.
    let demo = tmp.path().join("demo");
    std::fs::create_dir_all(&demo).unwrap();
    let scenario = demo.join("scenario.jsonl");
    let store = demo.join("pharos.db");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(&pharos).arg("-q").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "pharos {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    run(&[
        os("simulate"),
        os("--posts"),
        os("20000"),
        os("--seed"),
        os("7"),
        os("--out"),
        scenario.as_os_str(),
    ]);
    run(&[
        os("ingest"),
        os("--store"),
        store.as_os_str(),
        scenario.as_os_str(),
    ]);
    run(&[
        os("claims"),
        os("import"),
        os("--format"),
        os("claimreview"),
        demo.join("scenario.factchecks.json").as_os_str(),
        os("--store"),
        store.as_os_str(),
    ]);
    let out = Command::new(&pharos)
        .args([
            "token", "create", "--role", "analyst", "--name", "e2e", "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("pharos_"));

    let mut server = Command::new(&pharos)
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(&store)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let err = BufReader::new(server.stderr.take().unwrap());
    let _server = Guard(server);
    let mut base = String::new();
    for line in err.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("pharos serve: http://") {
            base = format!("http://{}", rest.split('/').next().unwrap());
            break;
        }
    }
    assert!(
        !base.is_empty(),
        "pharos serve did not say where it listens"
    );

    let addr = base.trim_start_matches("http://").to_string();
    // Wait for the analysis to be ready (status over the API).
    poll(
        &addr,
        "/api/networks",
        &token,
        300,
        "the server's analysis did not finish",
        |v| (v["ready"] == json!(true) && v["computed_at"].is_string()).then_some(()),
    );
    // Incidents, built by the server itself: once they cover every stored
    // post (a backlog is assessed window by window, and the incidents of
    // its first windows can still change or go).
    poll(
        &addr,
        "/api/status",
        &token,
        600,
        "the live incidents did not cover the store",
        |v| {
            (v["stored_rowid"].as_i64().is_some()
                && v["incidents_rowid"].as_i64() >= v["stored_rowid"].as_i64())
            .then_some(())
        },
    );
    let incident = poll(
        &addr,
        "/api/incidents",
        &token,
        300,
        "the server built no incident live",
        |v| {
            v.as_array()
                .and_then(|a| a.first())
                .and_then(|first| first["id"].as_str())
                .map(str::to_string)
        },
    );

    let profile = tmp.path().join("chromium");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let mut browser = Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1366,900",
            "--remote-debugging-port=0",
            "--disable-background-networking",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {chromium}: {e} (apt-get install -y chromium, or set CHROMIUM)")
        });
    let err = BufReader::new(browser.stderr.take().unwrap());
    let _browser = Guard(browser);
    let mut port = 0u16;
    for line in err.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("DevTools listening on ws://127.0.0.1:").nth(1) {
            port = rest.split('/').next().unwrap().parse().unwrap();
            break;
        }
    }
    assert!(port > 0, "chromium did not open the DevTools port");
    let list: Value =
        serde_json::from_str(&http_get(&format!("127.0.0.1:{port}"), "/json/list", None)).unwrap();
    let ws_url = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "page")
        .expect("a page target")["webSocketDebuggerUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (ws, _) = tungstenite::client(ws_url.as_str(), tcp).unwrap();
    let mut page = Page { ws, next: 0 };
    page.call("Page.enable", json!({}));
    page.call("Runtime.enable", json!({}));

    // Without a token the dashboard sends the browser to the login page.
    page.goto(&format!("{base}/"));
    page.wait_for("location.pathname === '/login'", "the login page");
    page.eval(&format!(
        "document.querySelector('input[name=token]').value = {token:?}; document.querySelector('form').submit(); true"
    ));
    page.wait_for("location.pathname === '/' && document.readyState === 'complete' && document.querySelector('h1')", "the overview");
    // Overview: volume charts, active alerts, narratives.
    page.goto(&format!("{base}/"));
    let first_page_ms = page.load_ms();
    assert_eq!(
        page.eval("document.querySelector('h1').textContent"),
        json!("Overview")
    );
    assert!(
        page.eval("document.querySelectorAll('svg.chart rect').length")
            .as_u64()
            .unwrap()
            > 3
    );
    page.wait_for(
        "document.querySelector('#active-alerts')",
        "the alerts card",
    );
    page.screenshot("overview.png");
    println!("overview first page: {first_page_ms:.0} ms");

    // A narrative, from the overview's list.
    page.eval("document.querySelector('a[href^=\"/narratives/\"]').click(); true");
    page.wait_for("location.pathname.startsWith('/narratives/') && document.querySelector('#narrative-title')", "a narrative page");
    assert!(
        page.eval("document.querySelectorAll('#top-posts .post').length")
            .as_u64()
            .unwrap()
            > 0,
        "a narrative shows its posts"
    );
    assert!(
        page.eval("document.querySelectorAll('svg.chart rect').length")
            .as_u64()
            .unwrap()
            > 0,
        "a narrative shows its timeline"
    );
    page.wait_for(
        "document.querySelector('#matched-factchecks') && document.querySelector('#response-pack')",
        "the narrative's matched fact-checks and response pack",
    );
    page.screenshot("narrative.png");

    // The claims library: every claim, then a search by one claim's text.
    page.goto(&format!("{base}/claims"));
    page.wait_for(
        "document.querySelectorAll('#claim-results .claim').length > 0",
        "the claims library",
    );
    page.eval(
        "(() => { const t = document.querySelectorAll('#claim-results .claim-text')[1].textContent; document.querySelector('#claim-search input[name=q]').value = t; document.querySelector('#claim-search').submit(); return true; })()",
    );
    page.wait_for(
        "location.search.includes('q=') && document.querySelectorAll('#claim-results .claim .conf').length > 0",
        "claims ranked by match confidence",
    );
    page.screenshot("claims.png");

    // The incidents the server built live, and one of them.
    page.goto(&format!("{base}/incidents"));
    page.wait_for(
        "document.querySelectorAll('a[href^=\"/incidents/\"]').length > 0",
        "the live incidents list",
    );
    page.eval(&format!(
        "document.querySelector('a[href=\"/incidents/{incident}\"]').click(); true"
    ));
    page.wait_for(
        &format!("location.pathname === '/incidents/{incident}' && document.querySelector('h1') && document.querySelectorAll('svg.chart rect').length > 0"),
        "the live incident's page",
    );
    page.screenshot("incident.png");

    // A network: click a node of the graph and see its posts.
    page.goto(&format!("{base}/networks"));
    page.eval("document.querySelector('a[href^=\"/networks/\"]').click(); true");
    page.wait_for("location.pathname.startsWith('/networks/') && document.querySelector('#graph circle.node')", "a network graph");
    let account = page.eval(
        "(() => { const c = document.querySelector('#graph circle.node'); c.dispatchEvent(new MouseEvent('click', {bubbles: true})); return c.getAttribute('data-account'); })()",
    );
    page.wait_for(
        "document.querySelectorAll('#evidence .post').length > 0",
        "the posts behind the clicked node",
    );
    let title = page.eval("document.querySelector('#evidence-title').textContent");
    assert!(
        title.as_str().unwrap().contains(account.as_str().unwrap()),
        "{title} names {account}"
    );
    page.screenshot("network.png");

    // Export STIX: what the page's button downloads (fetched by the page,
    // with its session, so the same access rules apply).
    let got = page.eval(
        "(async () => { const a = document.querySelector('#export-stix'); const r = await fetch(a.href, {credentials: 'same-origin'}); return {status: r.status, disposition: r.headers.get('content-disposition'), tlp: r.headers.get('tlp'), body: await r.text()}; })()",
    );
    assert_eq!(got["status"], 200, "{got}");
    assert!(
        got["disposition"]
            .as_str()
            .unwrap_or("")
            .starts_with("attachment"),
        "{got}"
    );
    assert_eq!(got["tlp"], "TLP:AMBER");
    let bundle = out_dir().join("network.stix.json");
    std::fs::write(&bundle, got["body"].as_str().unwrap()).unwrap();
    let b: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(b["type"], "bundle");
    let objects = b["objects"].as_array().unwrap();
    assert!(objects.iter().any(|o| o["type"] == "marking-definition"));
    // A node names its account as `platform:actor_id`; the STIX
    // user-account carries the actor id (and the platform as its type).
    let key = account.as_str().unwrap();
    let (_, actor_id) = key.split_once(':').unwrap_or(("", key));
    assert!(
        objects
            .iter()
            .any(|o| o["type"] == "user-account" && o["user_id"] == actor_id),
        "the bundle has {key}'s user-account"
    );
}

/// GETs `path` every half second until `until` takes something from its
/// JSON answer, for at most `secs` seconds (then fails with `what` and the
/// last answer).
fn poll<T>(
    addr: &str,
    path: &str,
    token: &str,
    secs: u64,
    what: &str,
    until: impl Fn(&Value) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let body = http_get(addr, path, Some(token));
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if let Some(t) = until(&v) {
            return t;
        }
        assert!(Instant::now() < deadline, "{what}: {body}");
        std::thread::sleep(Duration::from_millis(500));
    }
}
