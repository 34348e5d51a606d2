//! Feed polling inside the server (`[watch] feeds`): the same conditional
//! GET and seen-items state as `pharos watch` (shared file
//! `<store>.feeds.json`), new items handed to the writer like HTTP ingest.

use crate::config::WatchConfig;
use crate::writer::WriteJob;
use pharos_ingest::feed::{FeedClient, FeedState, poll};
use pharos_ingest::{Item, Options, Rejection};
use pharos_store::EncodedPosts;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

pub fn state_path(store: &Path) -> PathBuf {
    let stem = store
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pharos".into());
    store.with_file_name(format!("{stem}.feeds.json"))
}

/// Starts the polling thread when feeds are configured.
pub fn start(store: &Path, cfg: &WatchConfig, writer: SyncSender<WriteJob>) -> anyhow::Result<()> {
    if cfg.feeds.is_empty() {
        return Ok(());
    }
    for f in &cfg.feeds {
        if !(f.starts_with("http://") || f.starts_with("https://")) {
            anyhow::bail!("[watch] feeds takes http:// or https:// URLs (got {f:?})");
        }
    }
    pharos_ingest::feed::install_crypto_provider();
    let client = FeedClient::with_options(
        pharos_ingest::feed::DEFAULT_TIMEOUT,
        cfg.redirect_allow.clone(),
    )?;
    let path = state_path(store);
    let mut states: BTreeMap<String, FeedState> = match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|e| anyhow::anyhow!("feed state {} is unreadable: {e}", path.display()))?,
        Err(_) => BTreeMap::new(),
    };
    let feeds = cfg.feeds.clone();
    let every = Duration::from_secs(cfg.every_s);
    std::thread::Builder::new()
        .name("pharos-watch".into())
        .spawn(move || {
            let opts = Options::new();
            loop {
                for url in &feeds {
                    let state = states.entry(url.clone()).or_default();
                    let mut batch = EncodedPosts::new();
                    let mut rejections: Vec<Rejection> = Vec::new();
                    let res = poll(&client, url, state, &opts, &mut |item| {
                        match item {
                            Item::Post(p) => {
                                if let Err(e) = batch.push(&p) {
                                    rejections.push(Rejection::new(
                                        url,
                                        None,
                                        p.provenance.record,
                                        e.to_string(),
                                        "",
                                    ));
                                }
                            }
                            Item::Rejected(r) => rejections.push(r),
                        }
                        ControlFlow::Continue(())
                    });
                    match res {
                        Ok(_) if batch.is_empty() && rejections.is_empty() => {}
                        Ok(_) => {
                            let job = WriteJob {
                                posts: batch,
                                rejections,
                                command: format!("serve watch {url}"),
                                started_ms: crate::auth::now_ms(),
                                reply: None,
                            };
                            if writer.send(job).is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!("feed {url}: {e}"),
                    }
                }
                if let Ok(b) = serde_json::to_vec_pretty(&states) {
                    let tmp = path.with_extension("tmp");
                    if std::fs::write(&tmp, b)
                        .and_then(|()| std::fs::rename(&tmp, &path))
                        .is_err()
                    {
                        tracing::warn!("cannot save feed state {}", path.display());
                    }
                }
                std::thread::sleep(every);
            }
        })?;
    Ok(())
}
