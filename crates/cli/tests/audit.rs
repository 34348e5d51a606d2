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
