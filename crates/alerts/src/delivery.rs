//! Deliveries: a JSONL file, stdout, a webhook.
//!
//! Every sink takes [`Notification`]s one at a time. The webhook retries
//! with exponential backoff; a notification it still cannot deliver is
//! logged (`tracing` warning) and appended to its re-delivery file, one
//! JSON line each, so nothing is lost; [`redeliver`] sends that file again
//! and keeps only what still fails.
//!
//! The webhook follows redirects, but not to a loopback, link-local or
//! private address unless [`WebhookConfig::redirect_allow`] names the host
//! (see [`pharos_core::net`]).

use crate::notification::Notification;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a delivery failed outright (the webhook keeps failures instead).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot write alerts to {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot set up the webhook client: {0}")]
    Client(String),
    #[error("re-delivery file {path} line {line} is not a notification: {message}")]
    BadLine {
        path: String,
        line: usize,
        message: String,
    },
}

/// What happened to one notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Could not be delivered; kept in the re-delivery file.
    Kept,
}

/// Somewhere notifications go.
pub trait Sink {
    fn deliver(&mut self, n: &Notification) -> Result<Outcome, DeliveryError>;
    fn flush(&mut self) -> Result<(), DeliveryError> {
        Ok(())
    }
}

/// Appends one JSON object a line to a file.
pub struct JsonlFile {
    path: PathBuf,
    out: BufWriter<File>,
}

impl JsonlFile {
    /// Opens (creating, appending) `path`.
    pub fn append(path: &Path) -> Result<JsonlFile, DeliveryError> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| DeliveryError::Io {
                path: path.display().to_string(),
                source,
            })?;
        Ok(JsonlFile {
            path: path.to_path_buf(),
            out: BufWriter::new(f),
        })
    }

    fn io(&self, source: std::io::Error) -> DeliveryError {
        DeliveryError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }
}

impl Sink for JsonlFile {
    fn deliver(&mut self, n: &Notification) -> Result<Outcome, DeliveryError> {
        let line = n.to_json();
        writeln!(self.out, "{line}").map_err(|e| self.io(e))?;
        Ok(Outcome::Delivered)
    }
    fn flush(&mut self) -> Result<(), DeliveryError> {
        self.out.flush().map_err(|e| self.io(e))
    }
}

impl Drop for JsonlFile {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// One JSON object a line on standard output.
#[derive(Default)]
pub struct Stdout;

impl Sink for Stdout {
    fn deliver(&mut self, n: &Notification) -> Result<Outcome, DeliveryError> {
        let line = n.to_json();
        let mut o = std::io::stdout().lock();
        writeln!(o, "{line}").map_err(|source| DeliveryError::Io {
            path: "stdout".into(),
            source,
        })?;
        o.flush().map_err(|source| DeliveryError::Io {
            path: "stdout".into(),
            source,
        })?;
        Ok(Outcome::Delivered)
    }
}

/// Webhook settings.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    /// Where to POST (`application/json`, one notification per request).
    pub url: String,
    /// Retries after the first attempt (default 4: five attempts).
    pub retries: u32,
    /// Wait before the first retry; doubled each time (default 500 ms).
    pub backoff: Duration,
    /// Longest wait between attempts (default 30 s).
    pub max_backoff: Duration,
    /// Per-request timeout (default 10 s).
    pub timeout: Duration,
    /// Where undeliverable notifications are kept, one JSON line each.
    pub redelivery_file: PathBuf,
    /// Hosts a redirect may lead to even when they are internal (loopback,
    /// link-local, private): by default such redirects are refused
    /// ([`pharos_core::net::RedirectGuard`]).
    pub redirect_allow: Vec<String>,
}

impl WebhookConfig {
    pub fn new(url: &str, redelivery_file: &Path) -> WebhookConfig {
        WebhookConfig {
            url: url.to_string(),
            retries: 4,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            redelivery_file: redelivery_file.to_path_buf(),
            redirect_allow: Vec::new(),
        }
    }
}

/// POSTs each notification as JSON; see the module docs.
pub struct Webhook {
    cfg: WebhookConfig,
    http: reqwest::blocking::Client,
}

impl Webhook {
    pub fn new(cfg: WebhookConfig) -> Result<Webhook, DeliveryError> {
        let http = pharos_core::net::http_client(
            "alerts",
            cfg.timeout,
            pharos_core::net::RedirectGuard::new(cfg.redirect_allow.clone()),
        )
        .map_err(|e| DeliveryError::Client(e.to_string()))?;
        Ok(Webhook { cfg, http })
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.cfg
    }

    /// One attempt: `Ok` on a 2xx answer; `Err((message, retryable))` otherwise.
    fn attempt(&self, body: &str) -> Result<(), (String, bool)> {
        let r = self
            .http
            .post(&self.cfg.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send();
        match r {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => {
                let s = resp.status();
                // Client errors other than timeout / rate limit will not heal by retrying.
                let retry = s.is_server_error() || s.as_u16() == 408 || s.as_u16() == 429;
                Err((format!("HTTP {s}"), retry))
            }
            Err(e) => Err((e.to_string(), true)),
        }
    }

    /// Tries with retries and backoff; `Err(last error)` when all failed.
    fn send(&self, body: &str) -> Result<(), String> {
        let mut wait = self.cfg.backoff;
        let mut attempt = 0;
        loop {
            match self.attempt(body) {
                Ok(()) => return Ok(()),
                Err((msg, retry)) => {
                    attempt += 1;
                    if !retry || attempt > self.cfg.retries {
                        return Err(msg);
                    }
                    tracing::debug!(url = %self.cfg.url, attempt, error = %msg, "webhook attempt failed; retrying");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(self.cfg.max_backoff);
                }
            }
        }
    }

    fn keep(&self, line: &str) -> Result<(), DeliveryError> {
        let path = &self.cfg.redelivery_file;
        let io = |source| DeliveryError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        writeln!(f, "{line}").map_err(io)?;
        f.sync_data().map_err(io)
    }
}

impl Sink for Webhook {
    fn deliver(&mut self, n: &Notification) -> Result<Outcome, DeliveryError> {
        let body = n.to_json();
        match self.send(&body) {
            Ok(()) => Ok(Outcome::Delivered),
            Err(msg) => {
                tracing::warn!(
                    url = %self.cfg.url,
                    alert = %n.alert.id,
                    error = %msg,
                    kept_in = %self.cfg.redelivery_file.display(),
                    "webhook delivery failed after {} attempts; kept for re-delivery",
                    self.cfg.retries + 1
                );
                self.keep(&body)?;
                Ok(Outcome::Kept)
            }
        }
    }
}

/// What [`redeliver`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RedeliveryReport {
    pub delivered: usize,
    /// Still failing: left in the file.
    pub kept: usize,
}

/// Sends every notification kept in `hook`'s re-delivery file again (with
/// the webhook's retries), then rewrites the file with only those that
/// still fail (removing it when none do). A missing file is nothing to do.
pub fn redeliver(hook: &Webhook) -> Result<RedeliveryReport, DeliveryError> {
    let path = hook.cfg.redelivery_file.clone();
    let io = |source| DeliveryError::Io {
        path: path.display().to_string(),
        source,
    };
    let f = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(RedeliveryReport::default());
        }
        Err(e) => return Err(io(e)),
    };
    let mut failed = Vec::new();
    let mut report = RedeliveryReport::default();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        if let Err(e) = serde_json::from_str::<Notification>(&line) {
            return Err(DeliveryError::BadLine {
                path: path.display().to_string(),
                line: i + 1,
                message: e.to_string(),
            });
        }
        match hook.send(&line) {
            Ok(()) => report.delivered += 1,
            Err(msg) => {
                tracing::warn!(url = %hook.cfg.url, error = %msg, "re-delivery failed; still kept");
                failed.push(line);
            }
        }
    }
    report.kept = failed.len();
    if failed.is_empty() {
        std::fs::remove_file(&path).map_err(io)?;
    } else {
        let tmp = path.with_extension("redeliver.tmp");
        {
            let mut w = BufWriter::new(File::create(&tmp).map_err(io)?);
            for l in &failed {
                writeln!(w, "{l}").map_err(io)?;
            }
            w.flush().map_err(io)?;
        }
        std::fs::rename(&tmp, &path).map_err(io)?;
    }
    Ok(report)
}
