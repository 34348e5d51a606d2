//! `pharos demo` matches claims with the sentence-embedding model when one
//! is present and says how to get one when not.

mod common;
use common::{ok, s};
use std::process::Command;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn without_a_model_the_demo_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = ok(&["demo", "--dir", s(&demo), "--posts", "1500", "--seed", "3"]);
    let text = stdout(&out);
    assert!(
        text.contains("no sentence-embedding model") && text.contains("pharos model fetch"),
        "{text}"
    );
    assert!(demo.join("briefing.html").is_file());
}

#[test]
fn with_a_model_the_demo_matches_claims_with_it() {
    // The tiny e5 model the embed crate's tests ship (random weights: this
    // checks the path, not the matches).
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../embed/tests/fixtures/tiny-e5.bin");
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["demo", "--dir", s(&demo), "--posts", "1500", "--seed", "3"])
        .env("PHAROS_OFFLINE", "1")
        .env("PHAROS_DATA_DIR", dir.path().join("no-data"))
        .env("PHAROS_EMBED_MODEL", &model)
        .env_remove("PHAROS_STORE")
        .env_remove("PHAROS_LIBRARY")
        .output()
        .expect("run pharos");
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("claim matching with the sentence-embedding model")
            && text.contains("tiny-e5.bin"),
        "{text}"
    );
    assert!(!text.contains("no sentence-embedding model"), "{text}");
    // The claim vectors were embedded and cached beside the library.
    assert!(demo.join("pharos.library/index/embeddings").is_file());
}
