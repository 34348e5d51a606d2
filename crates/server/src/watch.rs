//! Feed polling inside the server (`[watch] feeds`): the feed polling of
//! `pharos watch` (`pharos_ingest::watch`: conditional GET, the seen-items
//! state in the shared file `<store>.feeds.json`), new items handed to the
//! writer like HTTP ingest (and from it to the live analysis).

use crate::config::WatchConfig;
use crate::writer::WriteJob;
use pharos_ingest::feed::FeedClient;
use pharos_ingest::watch::{FeedPoll, FeedWatch};
use pharos_ingest::{Options, Rejection};
use pharos_store::EncodedPosts;
use pharos_store::Location;
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

/// Where the feed state of `store` is kept (the same file as `pharos watch`'s).
pub fn state_path(store: &Location) -> PathBuf {
    store.beside("feeds.json")
}

/// The writer is gone (the server is stopping): the polling thread ends.
#[derive(Debug)]
struct Stopped;

impl From<pharos_ingest::watch::StateError> for Stopped {
    fn from(e: pharos_ingest::watch::StateError) -> Stopped {
        // A state that cannot be saved is re-read next round: go on.
        tracing::warn!("{e}");
        Stopped
    }
}

/// Starts the polling thread when feeds are configured.
pub fn start(
    store: &Location,
    cfg: &WatchConfig,
    writer: SyncSender<WriteJob>,
) -> anyhow::Result<()> {
    if cfg.feeds.is_empty() {
        return Ok(());
    }
    pharos_ingest::watch::check_urls(&cfg.feeds).map_err(|e| anyhow::anyhow!("[watch] {e}"))?;
    pharos_ingest::feed::install_crypto_provider();
    let client = FeedClient::with_options(
        pharos_ingest::feed::DEFAULT_TIMEOUT,
        cfg.redirect_allow.clone(),
    )?;
    let mut feeds = FeedWatch::open(cfg.feeds.clone(), client, Options::new(), state_path(store))?;
    let every = Duration::from_secs(cfg.every_s);
    std::thread::Builder::new()
        .name("pharos-watch".into())
        .spawn(move || {
            loop {
                let mut writer_gone = false;
                let _ = feeds.round(&mut |fp: FeedPoll<'_>| -> Result<(), Stopped> {
                    if let Err(e) = &fp.result {
                        tracing::warn!("feed {}: {e}", fp.url);
                        return Ok(());
                    }
                    match job(fp) {
                        None => Ok(()),
                        Some(job) => writer.send(job).map_err(|_| {
                            writer_gone = true;
                            Stopped
                        }),
                    }
                });
                if writer_gone {
                    return;
                }
                std::thread::sleep(every);
            }
        })?;
    Ok(())
}

/// The writer's job for what a feed gave (none when it gave nothing).
fn job(fp: FeedPoll<'_>) -> Option<WriteJob> {
    let mut batch = EncodedPosts::new();
    let mut rejections: Vec<Rejection> = fp.rejected;
    for p in &fp.posts {
        if let Err(e) = batch.push(p) {
            rejections.push(Rejection::new(
                fp.url,
                None,
                p.provenance.record,
                e.to_string(),
                "",
            ));
        }
    }
    if batch.is_empty() && rejections.is_empty() {
        return None;
    }
    Some(WriteJob {
        posts: batch,
        rejections,
        command: format!("serve watch {}", fp.url),
        started_ms: pharos_core::now_ms(),
        audit: None,
        reply: None,
    })
}
