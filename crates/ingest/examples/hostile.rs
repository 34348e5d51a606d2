//! Times the importers on the hostile inputs of issue 14 (finding 4 and 5):
//! one post with 80k hashtags, an RSS item of 1 MB of `&amp;`, a Telegram
//! dump message of 1 MB of `[`, a message with 100k URLs, and a `.gz` that
//! expands to one huge line. Prints wall time and peak memory per case.
//!
//! `cargo run --release -p pharos-ingest --example hostile -- [CASE...] [--gz-mib N]`
//! (cases: hashtags, amp, brackets, urls, gzbomb; default all but gzbomb).

use pharos_ingest::{Format, Item, Options, read_path, read_reader};
use std::io::Write;
use std::ops::ControlFlow;
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| k / 1024.0)
        .unwrap_or(0.0)
}

/// Posts and rejections seen, and the last rejection's reason.
#[derive(Default)]
struct Tally {
    posts: usize,
    rejected: usize,
    reason: String,
}

impl Tally {
    fn take(&mut self, item: Item) -> ControlFlow<()> {
        match item {
            Item::Post(_) => self.posts += 1,
            Item::Rejected(r) => {
                self.rejected += 1;
                self.reason = r.reason.chars().take(90).collect();
            }
        }
        ControlFlow::Continue(())
    }
}

fn run(name: &str, bytes: &[u8], format: Format) {
    let mut opts = Options::new();
    opts.format = format;
    let mut tally = Tally::default();
    let t = Instant::now();
    let mut reader: &[u8] = bytes;
    read_reader(&mut reader, name, format, &opts, &mut |item| {
        tally.take(item)
    })
    .unwrap();
    println!(
        "{name:>9}: {:>6} KB in, {:8.3} s, {} posts, {} rejected {}",
        bytes.len() / 1000,
        t.elapsed().as_secs_f64(),
        tally.posts,
        tally.rejected,
        tally.reason
    );
}

fn dump(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([{
        "message_id": 1, "sender_id": -1001000724666i64, "text": text,
        "date": "2024-12-04T09:00:28+00:00", "channel": "c"
    }]))
    .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let gz_mib: u64 = args
        .iter()
        .position(|a| a == "--gz-mib")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3072);
    let cases: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--") && a.parse::<u64>().is_err())
        .map(String::as_str)
        .collect();
    let want = |c: &str| {
        if cases.is_empty() {
            c != "gzbomb"
        } else {
            cases.contains(&c)
        }
    };
    if want("hashtags") {
        let tags: Vec<String> = (0..80_000).map(|i| format!("t{i}")).collect();
        let line = serde_json::json!({"platform": "x", "id": "1", "actor": {"id": "a"},
            "time": "2024-01-01T00:00:00Z", "text": "x", "hashtags": tags});
        run("hashtags", format!("{line}\n").as_bytes(), Format::Jsonl);
    }
    if want("amp") {
        let body = "&amp;".repeat(1_000_000 / 5);
        let rss = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>https://e.org/</link>\
             <item><guid>1</guid><pubDate>Tue, 01 Jun 2021 10:00:00 +0000</pubDate><description>{body}</description></item></channel></rss>"
        );
        run("amp", rss.as_bytes(), Format::Rss);
    }
    if want("brackets") {
        run(
            "brackets",
            &dump(&"[".repeat(1_000_000)),
            Format::TelegramDump,
        );
    }
    if want("urls") {
        let text: String = (0..100_000).map(|i| format!("http://e.org/{i} ")).collect();
        run("urls", &dump(&text), Format::TelegramDump);
    }
    if want("gzbomb") {
        let path =
            std::env::temp_dir().join(format!("pharos-hostile-{}.jsonl.gz", std::process::id()));
        {
            let f = std::fs::File::create(&path).unwrap();
            let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
            let chunk = vec![b'a'; 1 << 20];
            gz.write_all(b"{\"text\": \"").unwrap();
            for _ in 0..gz_mib {
                gz.write_all(&chunk).unwrap();
            }
            gz.write_all(b"\"}\n").unwrap();
            gz.finish().unwrap();
        }
        let size = std::fs::metadata(&path).unwrap().len();
        let t = Instant::now();
        let mut tally = Tally::default();
        let mut opts = Options::new();
        opts.format = Format::Jsonl;
        read_path(&path, &opts, &mut |item| tally.take(item)).unwrap();
        println!(
            "   gzbomb: {} KB .gz expanding to one {gz_mib} MiB line, {:8.3} s, {} posts, {} rejected {}",
            size / 1000,
            t.elapsed().as_secs_f64(),
            tally.posts,
            tally.rejected,
            tally.reason
        );
        let _ = std::fs::remove_file(&path);
    }
    println!("peak RSS {:.0} MiB", peak_rss_mib());
}
