//! `pharos claims import / list / show` through the binary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::run as pharos;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../claims/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn json_of(out: &Output) -> Value {
    let s = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(s.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {s}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn import_into_the_library_beside_the_store_then_list_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("case.db");
    let store_s = store.display().to_string();
    let out = pharos(&[
        "claims",
        "import",
        "--format",
        "claimreview",
        &fixture("claimreview_page.html"),
        &fixture("claimreview_feed.json"),
        "--store",
        &store_s,
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let s = json_of(&out);
    assert_eq!(s["records"], 7);
    assert_eq!(s["added"], 3);
    assert_eq!(s["merged"], 1);
    assert_eq!(s["quarantined"], 3);
    assert_eq!(s["claims"], 3);
    assert_eq!(s["quarantine_reasons"]["missing claimReviewed"], 2);
    let lib: PathBuf = dir.path().join("case.library");
    assert_eq!(s["library"], lib.display().to_string());
    assert!(lib.join("claims.jsonl").is_file());
    assert_eq!(
        std::fs::read_to_string(lib.join("quarantine.jsonl"))
            .unwrap()
            .lines()
            .count(),
        3
    );

    // The plain summary says the same, with where each bad record was.
    let out = pharos(&[
        "claims",
        "import",
        "--format",
        "factcheck-api",
        &fixture("factcheck_api.json"),
        "--library",
        &lib.display().to_string(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let t = text(&out);
    assert!(
        t.contains("imported 4 records from 1 file into")
            && t.contains(
                "1 new claims, 1 merged into existing ones, 0 already there, 2 quarantined"
            ),
        "{t}"
    );
    assert!(
        t.contains("the library holds 4 claims with 5 reviews"),
        "{t}"
    );
    assert!(
        t.contains("factcheck_api.json record 3 (line 1): missing text"),
        "{t}"
    );

    // list: words, JSON lines.
    let out = pharos(&[
        "claims",
        "list",
        "--store",
        &store_s,
        "5g",
        "coronavirus",
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let rows: Vec<Value> = text(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "the Russian claim spells it differently");
    let id = rows[0]["id"].as_str().unwrap().to_string();
    assert_eq!(rows[0]["reviews"].as_array().unwrap().len(), 2);

    let out = pharos(&["claims", "list", "--store", &store_s, "--lang", "ru"]);
    let t = text(&out);
    assert_eq!(t.lines().count(), 1, "{t}");
    assert!(t.contains("Вышки 5G") && t.contains("(Ложь)"), "{t}");

    // search: by meaning, best first, with a confidence.
    let out = pharos(&[
        "claims",
        "search",
        "do",
        "5G",
        "masts",
        "spread",
        "the",
        "coronavirus?",
        "--store",
        &store_s,
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let first: Value = serde_json::from_str(text(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["claim_id"], id.as_str());
    assert!(first["confidence"].as_f64().unwrap() >= 0.5, "{first}");

    // show: reviews and provenance from all three files.
    let out = pharos(&["claims", "show", &id, "--store", &store_s]);
    assert!(out.status.success(), "{out:?}");
    let t = text(&out);
    assert!(t.contains("review: Faux by Autre Vérif"), "{t}");
    assert_eq!(t.matches("  from: ").count(), 3, "{t}");
    let out = pharos(&["claims", "show", "fc-nope", "--store", &store_s]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no claim \"fc-nope\""));
}

#[test]
fn reimport_changes_nothing_and_a_missing_library_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let lib_s = lib.display().to_string();
    let args = [
        "claims",
        "import",
        "--format",
        "euvsdisinfo",
        &fixture("euvsdisinfo_sample.csv"),
        "--library",
        &lib_s,
        "--json",
    ];
    let first = json_of(&pharos(&args));
    assert_eq!(first["claims"], 3);
    let bytes = std::fs::read(lib.join("claims.jsonl")).unwrap();
    let again = json_of(&pharos(&args));
    assert_eq!(again["changed"], false);
    assert_eq!(again["added"], 0);
    assert_eq!(again["merged"], 0);
    assert_eq!(again["generation"], first["generation"]);
    assert_eq!(std::fs::read(lib.join("claims.jsonl")).unwrap(), bytes);

    let out = pharos(&[
        "claims",
        "list",
        "--library",
        &dir.path().join("none").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no fact-check library at") && err.contains("none"),
        "{err}"
    );
}

#[test]
fn nothing_importable_exits_1_and_bad_usage_2() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib").display().to_string();
    let out = pharos(&[
        "claims",
        "import",
        "--format",
        "checkthat",
        &dir.path().join("missing.tsv").display().to_string(),
        "--library",
        &lib,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.tsv"));

    let out = pharos(&[
        "claims",
        "import",
        "--format",
        "stix",
        "x.json",
        "--library",
        &lib,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("use claimreview, factcheck-api, euvsdisinfo or checkthat")
    );
}

#[test]
fn the_simulators_fact_checks_import() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("s.jsonl");
    let sim = pharos(&[
        "simulate",
        "--posts",
        "3000",
        "--seed",
        "3",
        "--out",
        &out_file.display().to_string(),
    ]);
    assert!(sim.status.success(), "{sim:?}");
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.truth.json")).unwrap()).unwrap();
    let lib = dir.path().join("lib").display().to_string();
    let s = json_of(&pharos(&[
        "claims",
        "import",
        "--format",
        "claimreview",
        &dir.path().join("s.factchecks.json").display().to_string(),
        "--library",
        &lib,
        "--json",
    ]));
    let n = truth["factchecks"].as_array().unwrap().len() as u64;
    assert_eq!(s["records"], n);
    assert_eq!(s["quarantined"], 0);
    assert_eq!(s["reviews"], n, "every fact-check is a review");
    // The planted false claim is in the library with its fact-check URL.
    let planted = truth["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "false_narrative")
        .expect("a false_narrative campaign");
    let url = planted["factcheck_url"].as_str().unwrap();
    let out = pharos(&[
        "claims",
        "list",
        "--library",
        &lib,
        "--json",
        "--limit",
        "0",
    ]);
    let found = text(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|c| {
            c["reviews"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["url"] == url)
        })
        .expect("the planted claim's review");
    assert_eq!(found["text"], planted["claim"]);
    assert_eq!(found["reviews"][0]["rating"], "False");
}
