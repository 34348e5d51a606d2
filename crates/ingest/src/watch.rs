//! Several feeds polled on a schedule, with what each has already given
//! kept in one state file: the feed polling of `pharos watch` and of the
//! server's `[watch] feeds`, which share the file `<store>.feeds.json`.
//!
//! A round polls every feed once ([`FeedWatch::round`]); the caller stores
//! each feed's new posts and rejections, then the state file is saved, so
//! a crash between the two re-reads items rather than losing them.

use crate::feed::{FeedClient, FeedError, FeedState, PollOutcome, poll};
use crate::{Item, Options, Rejection};
use pharos_core::Post;
use std::collections::BTreeMap;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Where the feed state of a store is kept: `<store stem>.feeds.json`
/// beside it.
pub fn state_path(store: &Path) -> PathBuf {
    let stem = store
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pharos".into());
    store.with_file_name(format!("{stem}.feeds.json"))
}

/// Checks that every feed is an `http://` or `https://` URL.
pub fn check_urls(feeds: &[String]) -> Result<(), String> {
    match feeds
        .iter()
        .find(|f| !(f.starts_with("http://") || f.starts_with("https://")))
    {
        Some(f) => Err(format!("feeds are http:// or https:// URLs (got {f:?})")),
        None => Ok(()),
    }
}

/// What one feed gave in a round.
pub struct FeedPoll<'a> {
    pub url: &'a str,
    /// The poll's outcome, or why it failed (the feed is tried again next round).
    pub result: Result<PollOutcome, FeedError>,
    /// Its new entries' posts (normalised).
    pub posts: Vec<Post>,
    /// Its new entries that could not be read.
    pub rejected: Vec<Rejection>,
}

/// Feeds, their client and their state file.
pub struct FeedWatch {
    client: FeedClient,
    feeds: Vec<String>,
    opts: Options,
    state_path: PathBuf,
    states: BTreeMap<String, FeedState>,
}

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("feed state {path}: {reason}")]
pub struct StateError {
    pub path: String,
    pub reason: String,
}

impl FeedWatch {
    /// Feeds polled with `client` and `opts`, their state read from
    /// `state_path` (a missing file: nothing seen yet). An unreadable state
    /// file is an error: move it away to start afresh.
    pub fn open(
        feeds: Vec<String>,
        client: FeedClient,
        opts: Options,
        state_path: PathBuf,
    ) -> Result<FeedWatch, StateError> {
        let err = |reason: String| StateError {
            path: state_path.display().to_string(),
            reason,
        };
        let states = match std::fs::read(&state_path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| err(format!("unreadable ({e}); move it away to start afresh")))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(err(e.to_string())),
        };
        Ok(FeedWatch {
            client,
            feeds,
            opts,
            state_path,
            states,
        })
    }

    pub fn feeds(&self) -> &[String] {
        &self.feeds
    }

    pub fn state_path(&self) -> &Path {
        &self.state_path
    }

    /// Polls every feed once. For each, `store` gets what it gave; when it
    /// returns `Ok`, the state file is saved (so what was stored is not
    /// read again). The first error of `store` or of saving ends the round.
    pub fn round<E: From<StateError>>(
        &mut self,
        store: &mut dyn FnMut(FeedPoll<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        for url in &self.feeds {
            let state = self.states.entry(url.clone()).or_default();
            let mut posts = Vec::new();
            let mut rejected = Vec::new();
            let result = poll(&self.client, url, state, &self.opts, &mut |item| {
                match item {
                    Item::Post(p) => posts.push(*p),
                    Item::Rejected(r) => rejected.push(r),
                }
                ControlFlow::Continue(())
            });
            store(FeedPoll {
                url,
                result,
                posts,
                rejected,
            })?;
            save(&self.state_path, &self.states)?;
        }
        Ok(())
    }
}

fn save(path: &Path, states: &BTreeMap<String, FeedState>) -> Result<(), StateError> {
    let err = |reason: String| StateError {
        path: path.display().to_string(),
        reason,
    };
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(states).map_err(|e| err(e.to_string()))?;
    std::fs::write(&tmp, bytes).map_err(|e| err(format!("writing {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_sits_beside_the_store() {
        assert_eq!(
            state_path(Path::new("/cases/x/pharos.db")),
            PathBuf::from("/cases/x/pharos.feeds.json")
        );
        assert!(check_urls(&["https://a/rss".into(), "http://b".into()]).is_ok());
        assert!(
            check_urls(&["feed.xml".into()])
                .unwrap_err()
                .contains("feed.xml")
        );
    }

    #[test]
    fn an_unreadable_state_file_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("pharos-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.feeds.json");
        std::fs::write(&path, b"{not json").unwrap();
        crate::feed::install_crypto_provider();
        let client = FeedClient::new().unwrap();
        let e = FeedWatch::open(vec![], client, Options::new(), path.clone())
            .err()
            .unwrap();
        assert!(e.to_string().contains("p.feeds.json"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
