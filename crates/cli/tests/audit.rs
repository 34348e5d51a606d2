//! `pharos audit verify` (issue 14, finding 3): exit 0 on a whole chain,
//! 1 naming the first broken row when a row was changed behind the
//! store's back.

mod common;

use pharos_store::{Audit, AuditRecord, SqliteStore};

fn row(path: &str) -> AuditRecord {
    AuditRecord {
        at_ms: 1_700_000_000_000,
        action: "read".into(),
        method: "GET".into(),
        path: path.into(),
        status: 200,
        ..Default::default()
    }
}

#[test]
fn verify_names_the_first_row_changed_behind_the_stores_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let store = db.to_str().unwrap();
    {
        let s = SqliteStore::open(&db).unwrap();
        s.append_audit(&[row("/api/one-first-row"), row("/api/two-second-row")])
            .unwrap();
        s.append_audit(&[row("/api/three-third-row")]).unwrap();
    }
    // `pharos token create` appends a row of its own, chained too.
    common::ok(&[
        "token", "create", "--role", "analyst", "--name", "ann", "--store", store,
    ]);
    let out = common::ok(&["audit", "verify", "--store", store]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("4 rows, chain whole"), "{said}");
    assert!(said.contains("head: row 4"), "{said}");

    // Change row 2's path in the file itself (SQLite keeps no checksums):
    // the triggers that refuse UPDATE never see it.
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes
        .windows(b"/api/two-second-row".len())
        .position(|w| w == b"/api/two-second-row")
        .expect("the row is in the main file after the store closed");
    bytes[at..at + 19].copy_from_slice(b"/api/two-SECOND-row");
    std::fs::write(&db, &bytes).unwrap();
    let out = common::run(&["audit", "verify", "--store", store]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken at row 2"), "{err}");
    assert!(err.contains("changed"), "{err}");

    let out = common::run(&["audit", "verify", "--store", "/nonexistent/s.db"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 14: `pharos token create` and `revoke` commit their audit row in
/// the token change's own transaction. When the row cannot be written (a
/// trigger refuses it here), the change is not made either.
#[test]
fn a_token_change_whose_audit_row_fails_is_not_made() {
    use pharos_store::Tokens;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let store = db.to_str().unwrap();
    drop(SqliteStore::open(&db).unwrap());
    common::ok(&[
        "token", "create", "--role", "analyst", "--name", "kept", "--store", store,
    ]);
    let kept = SqliteStore::open(&db).unwrap().tokens().unwrap();
    assert_eq!(kept.len(), 1);
    let kept_id = kept[0].id.clone();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON server_audit
             BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END;",
        )
        .unwrap();
    let out = common::run(&[
        "token", "create", "--role", "admin", "--name", "ghost", "--store", store,
    ]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "create must fail without its row"
    );
    let out = common::run(&["token", "revoke", &kept_id, "--store", store]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "revoke must fail without its row"
    );
    let s = SqliteStore::open(&db).unwrap();
    let tokens = s.tokens().unwrap();
    assert_eq!(
        tokens.len(),
        1,
        "a token was created though its audit row was refused: {tokens:?}"
    );
    assert_eq!(
        tokens[0].revoked_ms, None,
        "the token was revoked though its audit row was refused"
    );
}
