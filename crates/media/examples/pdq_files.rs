//! Hash image files with Pharos' PDQ, one thread, for the parity suite and
//! the speed comparison with the reference (`tests/parity/oracle.py`).
//!
//! Usage: cargo run --release -p pharos-media --example pdq_files -- FILE...
//! (or file names on stdin). Prints `path<TAB>hex<TAB>quality` per file, then
//! on stderr the images per second, decode+hash and hash only.

use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        files = std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .collect();
    }
    let (mut decode, mut hashing) = (Duration::ZERO, Duration::ZERO);
    let mut n = 0;
    for f in &files {
        let t0 = Instant::now();
        let rgb = match pharos_media::decode::decode_file(Path::new(f)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{f}: {e}");
                continue;
            }
        };
        let t1 = Instant::now();
        let p = pharos_media::pdq_of(&rgb);
        let t2 = Instant::now();
        decode += t1 - t0;
        hashing += t2 - t1;
        n += 1;
        println!("{f}\t{}\t{}", p.hash, p.quality);
    }
    if n > 0 {
        eprintln!(
            "pharos: {n} images; decode+hash {:.2} img/s, hash only {:.2} img/s (one thread)",
            n as f64 / (decode + hashing).as_secs_f64(),
            n as f64 / hashing.as_secs_f64()
        );
    }
}
