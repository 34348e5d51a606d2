//! API tokens: roles, organisations, hashing, create / list / revoke.
//!
//! A token is `pharos_` followed by 43 URL-safe characters (256 random
//! bits). Only its SHA-256 is stored (`server_tokens.hash`): a stolen store
//! gives no usable token, and a token is shown once, when created. Its
//! `id` (the first 8 hex digits of the hash) names it in lists, the audit
//! log and `pharos token revoke`.

use pharos_store::{StoreError, TokenRecord, Tokens};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including tokens, markings and the audit log.
    Admin,
    /// Reads, ingests, imports and exports everything.
    Analyst,
    /// Read-only, and only what the TLP markings clear its organisation for.
    Partner,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(Role::Admin),
            "analyst" => Some(Role::Analyst),
            "partner" => Some(Role::Partner),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Partner => "partner",
        }
    }
    /// Rank for "at least": partner < analyst < admin.
    fn rank(self) -> u8 {
        match self {
            Role::Partner => 0,
            Role::Analyst => 1,
            Role::Admin => 2,
        }
    }
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }
}

/// Who is asking: the token's id, name, role and organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Principal {
    pub token_id: String,
    pub name: String,
    pub role: Role,
    pub org: Option<String>,
}

/// A token as listed (never the token itself).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub org: Option<String>,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339, when revoked.
    pub revoked: Option<String>,
}

/// A new token: shown once.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NewToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "a partner token needs an organisation (--org NAME): partners see what TLP clears their organisation for"
    )]
    PartnerWithoutOrg,
    #[error("the name must be 1 to 100 characters")]
    BadName,
    #[error("no token with id {0:?}")]
    Unknown(String),
    #[error("cannot read random bytes for a token: {0}")]
    Random(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) use pharos_core::now_ms;

fn rfc3339(ms: i64) -> String {
    pharos_core::EventTime(ms).to_rfc3339()
}

/// Creates a token (stored hashed) and returns it with its id.
pub fn create<S: Tokens + ?Sized>(
    store: &S,
    role: Role,
    org: Option<&str>,
    name: &str,
) -> Result<NewToken, TokenError> {
    create_audited(store, role, org, name, |_| Vec::new())
}

/// [`create`], committing the audit rows `audit` makes for the new token
/// in the same transaction (both are stored, or neither).
pub fn create_audited<S: Tokens + ?Sized>(
    store: &S,
    role: Role,
    org: Option<&str>,
    name: &str,
    audit: impl FnOnce(&TokenInfo) -> Vec<pharos_store::AuditRecord>,
) -> Result<NewToken, TokenError> {
    let org = org.map(str::trim).filter(|o| !o.is_empty());
    if role == Role::Partner && org.is_none() {
        return Err(TokenError::PartnerWithoutOrg);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(TokenError::BadName);
    }
    let mut bytes = [0u8; 32];
    {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(TokenError::Random)?;
    }
    let token = format!("pharos_{}", hex::encode(bytes));
    let hash = hash_token(&token);
    let id = hash[..12].to_string();
    let created = now_ms();
    let info = TokenInfo {
        id: id.clone(),
        name: name.to_string(),
        role,
        org: org.map(str::to_string),
        created: rfc3339(created),
        revoked: None,
    };
    store.insert_token_audited(
        &TokenRecord {
            id,
            hash,
            role: role.as_str().to_string(),
            org: org.map(str::to_string),
            name: name.to_string(),
            created_ms: created,
            revoked_ms: None,
        },
        &audit(&info),
    )?;
    Ok(NewToken { token, info })
}

/// Every token, newest first.
pub fn list<S: Tokens + ?Sized>(store: &S) -> Result<Vec<TokenInfo>, TokenError> {
    Ok(store
        .tokens()?
        .into_iter()
        .map(|t| TokenInfo {
            id: t.id,
            name: t.name,
            role: Role::parse(&t.role).unwrap_or(Role::Partner),
            org: t.org,
            created: rfc3339(t.created_ms),
            revoked: t.revoked_ms.map(rfc3339),
        })
        .collect())
}

/// Revokes a token by id; revoking twice is not an error.
pub fn revoke<S: Tokens + ?Sized>(store: &S, id: &str) -> Result<(), TokenError> {
    revoke_audited(store, id, &[])
}

/// [`revoke`], committing `audit` in the same transaction (both are
/// stored, or neither: nothing for an unknown id).
pub fn revoke_audited<S: Tokens + ?Sized>(
    store: &S,
    id: &str,
    audit: &[pharos_store::AuditRecord],
) -> Result<(), TokenError> {
    if !store.revoke_token_audited(id, now_ms(), audit)? {
        return Err(TokenError::Unknown(id.to_string()));
    }
    Ok(())
}

/// The principal of a presented token; `None` when unknown or revoked.
pub fn verify<S: Tokens + ?Sized>(store: &S, token: &str) -> Result<Option<Principal>, TokenError> {
    if !token.starts_with("pharos_") || token.len() > 200 {
        return Ok(None);
    }
    Ok(store.active_token(&hash_token(token))?.map(|t| Principal {
        token_id: t.id,
        name: t.name,
        role: Role::parse(&t.role).unwrap_or(Role::Partner),
        org: t.org,
    }))
}

/// Failed logins a peer may make in a minute; past that, `POST /login`
/// answers 429 until the minute ends (issue 14, finding 7).
pub const FAILED_LOGINS_PER_MINUTE: u32 = 5;

/// Failed dashboard logins by peer address, per minute. A token has 256
/// random bits, so guessing is hopeless anyway; the limit keeps a guesser
/// from filling the log and the CPU.
#[derive(Default)]
pub struct LoginLimiter {
    peers: std::sync::Mutex<std::collections::HashMap<Option<std::net::IpAddr>, (i64, u32)>>,
}

impl LoginLimiter {
    /// Seconds until `peer` may try again, when it is over the limit.
    pub fn blocked(&self, peer: Option<std::net::IpAddr>, now: i64) -> Option<u64> {
        let peers = self.peers.lock().ok()?;
        let (start, n) = *peers.get(&peer)?;
        (now - start < 60_000 && n >= FAILED_LOGINS_PER_MINUTE)
            .then(|| ((start + 60_000 - now) / 1000).max(1) as u64)
    }

    /// Counts a failed login of `peer`.
    pub fn failed(&self, peer: Option<std::net::IpAddr>, now: i64) {
        let Ok(mut peers) = self.peers.lock() else {
            return;
        };
        if peers.len() > 10_000 {
            // Forget the minutes that ended (bounded memory under a flood).
            peers.retain(|_, (start, _)| now - *start < 60_000);
        }
        let e = peers.entry(peer).or_insert((now, 0));
        if now - e.0 >= 60_000 {
            *e = (now, 0);
        }
        e.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_store::AnyStore;

    #[test]
    fn failed_logins_are_limited_per_peer_and_minute() {
        let l = LoginLimiter::default();
        let a = Some(std::net::IpAddr::from([10, 0, 0, 1]));
        let b = Some(std::net::IpAddr::from([10, 0, 0, 2]));
        for _ in 0..FAILED_LOGINS_PER_MINUTE {
            assert_eq!(l.blocked(a, 1_000), None);
            l.failed(a, 1_000);
        }
        assert_eq!(l.blocked(a, 2_000), Some(59));
        assert_eq!(l.blocked(b, 2_000), None, "another peer is not held back");
        assert_eq!(l.blocked(a, 61_000), None, "the next minute starts afresh");
        l.failed(a, 61_000);
        assert_eq!(l.blocked(a, 61_000), None);
    }

    #[test]
    fn tokens_are_stored_hashed_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let store = AnyStore::open(dir.path().join("s.db")).unwrap();
        let t = create(&store, Role::Partner, Some("acme"), "ann").unwrap();
        let stored = store.tokens().unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].hash, hash_token(&t.token));
        assert_ne!(stored[0].hash, t.token, "the token itself is never stored");
        assert!(store.active_token(&t.token).unwrap().is_none());
        let p = verify(&store, &t.token).unwrap().unwrap();
        assert_eq!(p.org.as_deref(), Some("acme"));
        assert_eq!(p.role, Role::Partner);
        assert!(verify(&store, "pharos_wrong").unwrap().is_none());
        revoke(&store, &t.info.id).unwrap();
        assert!(verify(&store, &t.token).unwrap().is_none());
        assert!(matches!(
            create(&store, Role::Partner, None, "x"),
            Err(TokenError::PartnerWithoutOrg)
        ));
        assert!(matches!(
            revoke(&store, "nope"),
            Err(TokenError::Unknown(_))
        ));
        assert_eq!(list(&store).unwrap().len(), 1);
    }
}
