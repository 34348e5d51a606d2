//! Rules, cooldowns and deliveries, with a local HTTP server for the webhook.

use pharos_alerts::*;
use pharos_analysis::bursts::{
    ActorFlags, AlertEvent, BurstConfig, BurstDetector, EntityKind, Observation,
};
use pharos_core::EventTime;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T0: i64 = 1_740_960_000_000;

/// Detector events for two bursts of the same hashtag, `gap_min` apart,
/// half of the accounts flagged suspicious.
fn two_bursts(gap_min: i64) -> Vec<AlertEvent> {
    let mut d = BurstDetector::new(BurstConfig::default());
    let mut out = Vec::new();
    let actors: Vec<String> = (0..30).map(|i| format!("u{i}")).collect();
    for start in [T0, T0 + gap_min * 60_000] {
        for (i, a) in actors.iter().enumerate() {
            let o = Observation {
                kind: EntityKind::Hashtag,
                key: "flood".into(),
                time: EventTime(start + i as i64 * 2000),
                actor: a,
                platform: "twitter",
                lang: Some("pl"),
                flags: if i % 2 == 0 {
                    ActorFlags::SUSPICIOUS
                } else {
                    ActorFlags::NONE
                },
                post: "p",
            };
            d.observe(&o, &mut out);
        }
        d.advance(EventTime(start + 60 * 60_000), &mut out);
    }
    d.finish(&mut out);
    out
}

fn run(rules: Rules, events: &[AlertEvent]) -> (Vec<Notification>, RuleEngine) {
    let mut e = RuleEngine::new(rules);
    let n = events.iter().flat_map(|ev| e.process(ev)).collect();
    (n, e)
}

#[test]
fn default_rule_raises_and_closes() {
    let ev = two_bursts(24 * 60);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, AlertEvent::Opened(_)))
            .count(),
        2
    );
    let (n, _) = run(Rules::default(), &ev);
    let st: Vec<Status> = n.iter().map(|n| n.status).collect();
    assert_eq!(
        st,
        vec![
            Status::Raised,
            Status::Closed,
            Status::Raised,
            Status::Closed
        ]
    );
    assert!(n[0].alert.severity >= 0.5);
    assert!(n[1].alert.closed_at.is_some());
}

#[test]
fn cooldown_suppresses_repeats() {
    // Second burst 90 minutes later: inside a 2 h cooldown, outside a 1 h one.
    let ev = two_bursts(90);
    let opened = ev
        .iter()
        .filter(|e| matches!(e, AlertEvent::Opened(_)))
        .count();
    assert_eq!(opened, 2, "the detector itself alerts twice");
    let rules = Rules::from_toml_str("[[rule]]\ncooldown_s = 7200\n", "test").unwrap();
    let (n, e) = run(rules, &ev);
    assert_eq!(n.iter().filter(|n| n.status == Status::Raised).count(), 1);
    assert_eq!(e.suppressed(), 1);
    let rules = Rules::from_toml_str("[[rule]]\ncooldown_s = 3600\n", "test").unwrap();
    let (n, _) = run(rules, &ev);
    assert_eq!(n.iter().filter(|n| n.status == Status::Raised).count(), 2);
}

#[test]
fn filters_and_thresholds() {
    let ev = two_bursts(24 * 60);
    for (toml, raised) in [
        ("[[rule]]\nkinds = [\"url\"]\n", 0),
        ("[[rule]]\nkinds = [\"hashtag\"]\n", 2),
        ("[[rule]]\nexclude = [\"flo*\"]\n", 0),
        ("[[rule]]\ninclude = [\"*ood\"]\n", 2),
        ("[[rule]]\nlanguages = [\"de\"]\n", 0),
        ("[[rule]]\nplatforms = [\"twitter\"]\n", 2),
        ("[[rule]]\nmin_severity = 0.99\n", 0),
        ("[[rule]]\nmin_flagged_share = 0.9\n", 0),
        ("[[rule]]\nmin_volume = 1000\n", 0),
        ("[[rule]]\nname = \"a\"\n[[rule]]\nname = \"b\"\n", 4),
    ] {
        let (n, _) = run(Rules::from_toml_str(toml, "t").unwrap(), &ev);
        assert_eq!(
            n.iter().filter(|n| n.status == Status::Raised).count(),
            raised,
            "{toml}"
        );
    }
}

#[test]
fn notification_json_has_alert_fields_and_status() {
    let ev = two_bursts(24 * 60);
    let (n, _) = run(Rules::default(), &ev);
    let v: serde_json::Value = serde_json::from_str(&n[0].to_json()).unwrap();
    for f in [
        "id",
        "entity_kind",
        "entity",
        "opened_at",
        "closed_at",
        "lead_time_s",
        "severity",
        "explanation",
        "status",
        "rule",
        "raised_at",
    ] {
        assert!(v.get(f).is_some(), "missing {f}");
    }
    assert!(v["closed_at"].is_null());
    assert_eq!(v["status"], "raised");
    let back: Notification = serde_json::from_value(v).unwrap();
    assert_eq!(back, n[0]);
}

#[test]
fn jsonl_file_appends_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("alerts.jsonl");
    let ev = two_bursts(24 * 60);
    let (n, _) = run(Rules::default(), &ev);
    {
        let mut f = JsonlFile::append(&p).unwrap();
        for x in &n {
            assert_eq!(f.deliver(x).unwrap(), Outcome::Delivered);
        }
        f.flush().unwrap();
    }
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(text.lines().count(), n.len());
    let mut s = Stdout;
    assert_eq!(s.deliver(&n[0]).unwrap(), Outcome::Delivered);
}

/// Reads one HTTP request: its request line and its body.
fn read_request(s: &std::net::TcpStream) -> (String, Vec<u8>) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut first = String::new();
    let _ = r.read_line(&mut first);
    let mut len = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    let _ = r.read_exact(&mut body);
    (first, body)
}

/// A tiny HTTP server: answers 500 to the first `fail_first` requests, then 200.
struct Server {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    hits: Arc<Mutex<usize>>,
}

fn server(fail_first: usize) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(Mutex::new(0usize));
    let (b2, h2) = (bodies.clone(), hits.clone());
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let (first, body) = read_request(&s);
            assert!(first.starts_with("POST /hook "), "{first}");
            let n = {
                let mut h = h2.lock().unwrap();
                *h += 1;
                *h
            };
            let status = if n <= fail_first {
                "500 Internal Server Error"
            } else {
                b2.lock().unwrap().push(String::from_utf8(body).unwrap());
                "200 OK"
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    Server { url, bodies, hits }
}

fn quick(url: &str, keep: &std::path::Path) -> WebhookConfig {
    WebhookConfig {
        retries: 3,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        timeout: Duration::from_secs(5),
        ..WebhookConfig::new(url, keep)
    }
}

fn one_notification() -> Notification {
    let ev = two_bursts(24 * 60);
    run(Rules::default(), &ev).0.remove(0)
}

#[test]
fn webhook_retries_through_server_errors() {
    let srv = server(2);
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("redeliver.jsonl");
    let mut hook = Webhook::new(quick(&srv.url, &keep)).unwrap();
    let n = one_notification();
    assert_eq!(hook.deliver(&n).unwrap(), Outcome::Delivered);
    assert_eq!(*srv.hits.lock().unwrap(), 3, "two 500s, then accepted");
    let got: Notification = serde_json::from_str(&srv.bodies.lock().unwrap()[0]).unwrap();
    assert_eq!(got, n);
    assert!(!keep.exists(), "nothing kept");
}

#[test]
fn webhook_failures_are_kept_then_redelivered() {
    // More failures than attempts: kept.
    let srv = server(100);
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("redeliver.jsonl");
    let mut hook = Webhook::new(quick(&srv.url, &keep)).unwrap();
    let n = one_notification();
    assert_eq!(hook.deliver(&n).unwrap(), Outcome::Kept);
    assert_eq!(*srv.hits.lock().unwrap(), 4, "1 attempt + 3 retries");
    assert_eq!(std::fs::read_to_string(&keep).unwrap().lines().count(), 1);

    // A server that is down: kept too.
    let down = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let mut hook = Webhook::new(quick(&down, &keep)).unwrap();
    assert_eq!(hook.deliver(&n).unwrap(), Outcome::Kept);
    assert_eq!(std::fs::read_to_string(&keep).unwrap().lines().count(), 2);
    // Re-delivery while still down keeps both.
    let r = redeliver(&hook).unwrap();
    assert_eq!(
        r,
        RedeliveryReport {
            delivered: 0,
            kept: 2
        }
    );

    // Back up (a healthy server): everything goes, the file is removed.
    let ok = server(0);
    let hook = Webhook::new(quick(&ok.url, &keep)).unwrap();
    let r = redeliver(&hook).unwrap();
    assert_eq!(
        r,
        RedeliveryReport {
            delivered: 2,
            kept: 0
        }
    );
    assert!(!keep.exists());
    assert_eq!(ok.bodies.lock().unwrap().len(), 2);
    let got: Notification = serde_json::from_str(&ok.bodies.lock().unwrap()[1]).unwrap();
    assert_eq!(got, n);
    // Nothing left: nothing to do.
    assert_eq!(redeliver(&hook).unwrap(), RedeliveryReport::default());
}

#[test]
fn client_errors_are_not_retried() {
    // A server answering 404: one attempt, kept.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(0));
    let h2 = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            *h2.lock().unwrap() += 1;
            let _ = write!(
                s,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("k.jsonl");
    let mut hook = Webhook::new(quick(&url, &keep)).unwrap();
    assert_eq!(hook.deliver(&one_notification()).unwrap(), Outcome::Kept);
    assert_eq!(*hits.lock().unwrap(), 1);
}

/// A server that answers every request with `307` to `to`.
fn redirector(to: &str) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let to = to.to_string();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            read_request(&s);
            let _ = write!(
                s,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    url
}

#[test]
fn webhook_redirects_to_internal_addresses_are_refused_unless_allowed() {
    // Issue 14, finding 9: the configured host (here on loopback, as an
    // analyst may configure) redirects to another internal address.
    let target = server(0);
    let hop = redirector(&target.url);
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("redeliver.jsonl");
    let cfg = WebhookConfig {
        retries: 0,
        ..quick(&hop, &keep)
    };
    let mut hook = Webhook::new(cfg.clone()).unwrap();
    let n = one_notification();
    assert_eq!(hook.deliver(&n).unwrap(), Outcome::Kept);
    assert_eq!(
        *target.hits.lock().unwrap(),
        0,
        "the redirect was not followed"
    );
    assert_eq!(std::fs::read_to_string(&keep).unwrap().lines().count(), 1);

    let mut hook = Webhook::new(WebhookConfig {
        redirect_allow: vec!["127.0.0.1".into()],
        ..cfg
    })
    .unwrap();
    assert_eq!(hook.deliver(&n).unwrap(), Outcome::Delivered);
    assert_eq!(*target.hits.lock().unwrap(), 1, "allowed: followed");
}
