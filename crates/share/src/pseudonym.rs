//! Pseudonymised account identifiers for sharing.
//!
//! An account `platform:actor_id` becomes `ph-` and 32 hex digits of
//! HMAC-SHA256(key, `platform:actor_id`). The same key gives the same
//! pseudonym in every export, so partners can see that two bundles name the
//! same account (and partners holding the same key can match their own
//! accounts) without receiving the identifier. The key never leaves the
//! machine: it is read from a local file and is not written into exports.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// Environment variable naming the key file.
pub const KEY_FILE_ENV: &str = "PHAROS_PSEUDONYM_KEY_FILE";

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// Why a key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("pseudonymisation key {path}: {reason}")]
    Io { path: String, reason: String },
    #[error(
        "pseudonymisation key {path} is {len} bytes; use at least {MIN_KEY_BYTES} (e.g. `head -c 32 /dev/urandom > {path}`)"
    )]
    TooShort { path: String, len: usize },
}

/// Turns account identifiers into keyed pseudonyms.
#[derive(Clone)]
pub struct Pseudonymiser {
    key: Vec<u8>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser { key: <hidden> }")
    }
}

impl Pseudonymiser {
    /// A pseudonymiser with this key (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                path: "(given)".into(),
                len: key.len(),
            });
        }
        Ok(Pseudonymiser { key: key.to_vec() })
    }

    /// Reads the key from `path` (its bytes, trailing newline dropped).
    pub fn from_key_file(path: &Path) -> Result<Self, KeyError> {
        let mut key = std::fs::read(path).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        while key.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            key.pop();
        }
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                path: path.display().to_string(),
                len: key.len(),
            });
        }
        Ok(Pseudonymiser { key })
    }

    /// Reads the key from `path`, creating it first (32 random bytes from the
    /// operating system, readable by the owner only) when it does not exist.
    pub fn from_key_file_or_create(path: &Path) -> Result<(Self, bool), KeyError> {
        if path.exists() {
            return Ok((Self::from_key_file(path)?, false));
        }
        let io = |e: std::io::Error| KeyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut key = [0u8; 32];
        {
            use std::io::Read;
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut key))
                .map_err(io)?;
        }
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        {
            use std::io::Write;
            let mut f = opts.open(path).map_err(io)?;
            f.write_all(&key).map_err(io)?;
        }
        Ok((Pseudonymiser { key: key.to_vec() }, true))
    }

    /// The pseudonym of an account.
    pub fn account(&self, platform: &str, actor_id: &str) -> String {
        self.token(&format!("{platform}:{actor_id}"))
    }

    /// The pseudonym of any identifier (`ph-` and 32 hex digits).
    pub fn token(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        mac.update(value.as_bytes());
        let d = mac.finalize().into_bytes();
        format!("ph-{}", hex::encode(&d[..16]))
    }
}

/// The default key file for a store: `<store stem>.pseudonym.key` beside it.
pub fn default_key_path(store: &Path) -> PathBuf {
    let stem = store
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pharos".into());
    store.with_file_name(format!("{stem}.pseudonym.key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_and_stable() {
        let a = Pseudonymiser::new(b"0123456789abcdef").unwrap();
        let b = Pseudonymiser::new(b"0123456789abcdeX").unwrap();
        let p = a.account("twitter", "42");
        assert_eq!(p, a.account("twitter", "42"));
        assert_ne!(p, a.account("twitter", "43"));
        assert_ne!(p, a.account("telegram", "42"));
        assert_ne!(p, b.account("twitter", "42"));
        assert!(p.starts_with("ph-") && p.len() == 35);
        assert!(!p.contains("42"));
        assert!(Pseudonymiser::new(b"short").is_err());
        assert!(!format!("{a:?}").contains("0123"));
    }

    #[test]
    fn key_files_are_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/pharos.pseudonym.key");
        let (a, created) = Pseudonymiser::from_key_file_or_create(&path).unwrap();
        assert!(created);
        let (b, created) = Pseudonymiser::from_key_file_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(a.account("x", "1"), b.account("x", "1"));
        std::fs::write(dir.path().join("short"), b"abc\n").unwrap();
        let e = Pseudonymiser::from_key_file(&dir.path().join("short")).unwrap_err();
        assert!(e.to_string().contains("3 bytes"), "{e}");
        assert_eq!(
            default_key_path(Path::new("cases/x.db")),
            Path::new("cases/x.pseudonym.key")
        );
    }
}
