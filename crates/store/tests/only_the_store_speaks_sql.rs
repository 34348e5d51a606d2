//! The store owns every table: outside crates/store no source file
//! mentions `rusqlite`, the PostgreSQL client crates (`postgres::`,
//! `tokio_postgres`), `CREATE TABLE` or `.conn()` (a new query belongs in
//! a repository of crates/store, where every backend implements it).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` names the PostgreSQL client crate (`postgres::…`), not
/// the store's own module (`pharos_store::postgres::…`, which callers may
/// use: URL checks).
fn uses_postgres_client(line: &str) -> bool {
    line.match_indices("postgres::")
        .any(|(i, _)| !line[..i].ends_with("pharos_store::") && !line[..i].ends_with('_'))
}

#[test]
fn the_postgres_client_check_tells_the_crate_from_the_stores_module() {
    assert!(uses_postgres_client("use postgres::Client;"));
    assert!(uses_postgres_client(
        "let c = ::postgres::Client::connect(u, NoTls);"
    ));
    assert!(!uses_postgres_client(
        "if pharos_store::postgres::is_postgres_url(&location) {"
    ));
    assert!(!uses_postgres_client("let url = \"postgres://root@h/db\";"));
}

#[test]
fn no_sql_outside_the_store() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let krate = krate.unwrap().path();
        if krate.file_name().is_some_and(|n| n == "store") {
            continue;
        }
        let src = krate.join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(
        files.len() > 50,
        "found only {} source files under {}",
        files.len(),
        crates.display()
    );
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let sql = ["rusqlite", "tokio_postgres", "CREATE TABLE", ".conn()"]
                .iter()
                .any(|w| line.contains(w));
            if sql || uses_postgres_client(line) {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL outside crates/store (move it into a repository there):\n{}",
        found.join("\n")
    );
}
