//! Helpers shared by the tests that run the `pharos` binary.
//!
//! Each test file uses only some of them.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Environment variables that would make a run depend on the machine it
/// runs on (a default store, library, model, key or producer name).
const HOST_ENV: [&str; 7] = [
    "PHAROS_STORE",
    "PHAROS_LIBRARY",
    "PHAROS_EMBED_MODEL",
    "PHAROS_NARRATIVES_MODEL",
    "PHAROS_NARRATIVES_LEXICAL",
    "PHAROS_PSEUDONYM_KEY_FILE",
    "PHAROS_PRODUCER",
];

/// Runs `pharos ARGS` without the host's `PHAROS_*` settings; whatever it
/// exits with.
pub fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pharos"));
    cmd.args(args);
    for var in HOST_ENV {
        cmd.env_remove(var);
    }
    // Tests never download a model (`pharos model fetch` would).
    cmd.env("PHAROS_OFFLINE", "1");
    cmd.env(
        "PHAROS_DATA_DIR",
        std::env::temp_dir().join("pharos-tests-no-data-dir"),
    );
    cmd.output().expect("run pharos")
}

/// Runs `pharos ARGS` as [`run`] does and fails the test, showing both
/// outputs, unless it exits 0.
pub fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "pharos {args:?} exited {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}
