//! API tokens: roles, organisations, hashing, create / list / revoke.
//!
//! A token is `pharos_` followed by 43 URL-safe characters (256 random
//! bits). Only its SHA-256 is stored (`server_tokens.hash`): a stolen store
//! gives no usable token, and a token is shown once, when created. Its
//! `id` (the first 8 hex digits of the hash) names it in lists, the audit
//! log and `pharos token revoke`.

use pharos_store::SqliteStore;
use pharos_store::rusqlite::{self, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The server's own tables in the store (component `server`).
pub const MIGRATIONS: &[&str] = &[
    "CREATE TABLE server_tokens (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        org TEXT,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    );
    CREATE TABLE server_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        token TEXT,
        name TEXT,
        role TEXT,
        org TEXT,
        action TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        object TEXT,
        status INTEGER NOT NULL,
        detail TEXT
    );
    CREATE TRIGGER server_audit_no_update BEFORE UPDATE ON server_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER server_audit_no_delete BEFORE DELETE ON server_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE server_markings (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        tlp TEXT NOT NULL,
        orgs TEXT NOT NULL,
        people TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    CREATE VIRTUAL TABLE server_fts USING fts5(text, content='', tokenize='unicode61 remove_diacritics 2');
    CREATE TABLE server_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
];

/// Opens the store's server tables (creating them when absent).
pub fn prepare(store: &mut SqliteStore) -> Result<(), pharos_store::StoreError> {
    store.component("server", MIGRATIONS)
}

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
    Sql(#[from] rusqlite::Error),
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn rfc3339(ms: i64) -> String {
    pharos_core::EventTime(ms).to_rfc3339()
}

/// Creates a token (stored hashed) and returns it with its id.
pub fn create(
    conn: &rusqlite::Connection,
    role: Role,
    org: Option<&str>,
    name: &str,
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
    conn.execute(
        "INSERT INTO server_tokens (id, hash, role, org, name, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, hash, role.as_str(), org, name, created],
    )?;
    Ok(NewToken {
        token,
        info: TokenInfo {
            id,
            name: name.to_string(),
            role,
            org: org.map(str::to_string),
            created: rfc3339(created),
            revoked: None,
        },
    })
}

/// Every token, newest first.
pub fn list(conn: &rusqlite::Connection) -> Result<Vec<TokenInfo>, TokenError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, role, org, created_ms, revoked_ms FROM server_tokens ORDER BY created_ms DESC, id",
    )?;
    let rows = stmt.query_map([], |r| {
        let role: String = r.get(2)?;
        Ok(TokenInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            role: Role::parse(&role).unwrap_or(Role::Partner),
            org: r.get(3)?,
            created: rfc3339(r.get(4)?),
            revoked: r.get::<_, Option<i64>>(5)?.map(rfc3339),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Revokes a token by id; revoking twice is not an error.
pub fn revoke(conn: &rusqlite::Connection, id: &str) -> Result<(), TokenError> {
    let n = conn.execute(
        "UPDATE server_tokens SET revoked_ms = COALESCE(revoked_ms, ?2) WHERE id = ?1",
        params![id, now_ms()],
    )?;
    if n == 0 {
        return Err(TokenError::Unknown(id.to_string()));
    }
    Ok(())
}

/// The principal of a presented token; `None` when unknown or revoked.
pub fn verify(conn: &rusqlite::Connection, token: &str) -> Result<Option<Principal>, TokenError> {
    if !token.starts_with("pharos_") || token.len() > 200 {
        return Ok(None);
    }
    let hash = hash_token(token);
    let row = conn
        .prepare_cached(
            "SELECT id, name, role, org FROM server_tokens WHERE hash = ?1 AND revoked_ms IS NULL",
        )?
        .query_row([hash], |r| {
            let role: String = r.get(2)?;
            Ok(Principal {
                token_id: r.get(0)?,
                name: r.get(1)?,
                role: Role::parse(&role).unwrap_or(Role::Partner),
                org: r.get(3)?,
            })
        })
        .optional()?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        prepare(&mut store).unwrap();
        let conn = store.conn();
        let t = create(conn, Role::Partner, Some("acme"), "ann").unwrap();
        let stored: i64 = conn
            .query_row(
                "SELECT count(*) FROM server_tokens WHERE hash = ?1 OR hash = ?2",
                params![t.token, hash_token(&t.token)],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 1);
        let raw: i64 = conn
            .query_row(
                "SELECT count(*) FROM server_tokens WHERE hash = ?1",
                [&t.token],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(raw, 0, "the token itself is never stored");
        let p = verify(conn, &t.token).unwrap().unwrap();
        assert_eq!(p.org.as_deref(), Some("acme"));
        assert_eq!(p.role, Role::Partner);
        assert!(verify(conn, "pharos_wrong").unwrap().is_none());
        revoke(conn, &t.info.id).unwrap();
        assert!(verify(conn, &t.token).unwrap().is_none());
        assert!(matches!(
            create(conn, Role::Partner, None, "x"),
            Err(TokenError::PartnerWithoutOrg)
        ));
        assert!(matches!(revoke(conn, "nope"), Err(TokenError::Unknown(_))));
        assert_eq!(list(conn).unwrap().len(), 1);
    }
}
