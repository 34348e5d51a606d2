//! Narratives on real Telegram news channels: 22,099 posts from 24 public
//! Russian-language channels (late 2024), `telegram/ru_news_channels_2024.tar.gz`
//! in the shared data directory (`$PHAROS_DATA`, default `../shared/data`
//! beside the repository).
//!
//! `cargo test -p pharos-analysis --features real-data --release --test real_data_telegram -- --nocapture`
//!
//! Checks: the same story reported by several channels lands in one
//! narrative; families find texts reposted across channels; narratives are
//! purer than chance against the `category` field (assigned by a language
//! model, so only a weak label), reported with the figures.
#![cfg(feature = "real-data")]

use flate2::read::GzDecoder;
use pharos_analysis::narratives::{NarrativeEngine, NarrativeSummary};
use pharos_core::{Actor, EventTime, Post};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    sender_id: i64,
    #[serde(default)]
    text: String,
    date: String,
    channel: String,
    category: String,
}

fn data_dir() -> PathBuf {
    std::env::var_os("PHAROS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

fn load() -> Vec<(Post, String)> {
    let path = data_dir().join("telegram/ru_news_channels_2024.tar.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e} (set PHAROS_DATA)", path.display()));
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let name = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let mut raw = String::new();
        entry.read_to_string(&mut raw).expect("read entry");
        let messages: Vec<Message> =
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        for m in messages {
            let post = Post {
                platform: "telegram".into(),
                id: format!("{}:{}", m.sender_id, m.message_id),
                actor: Actor {
                    id: m.sender_id.to_string(),
                    name: Some(m.channel.clone()),
                    ..Default::default()
                },
                time: EventTime::parse(&m.date).expect("date"),
                text: m.text,
                ..Default::default()
            };
            out.push((post, m.category));
        }
    }
    out.sort_by(|a, b| a.0.time.cmp(&b.0.time).then(a.0.id.cmp(&b.0.id)));
    out
}

#[test]
fn telegram_news_channels() {
    let data = load();
    assert_eq!(data.len(), 22_099);
    let posts: Vec<Post> = data.iter().map(|d| d.0.clone()).collect();
    let channel: HashMap<&str, &str> = posts
        .iter()
        .map(|p| (p.actor.id.as_str(), p.actor.name.as_deref().unwrap_or("")))
        .collect();
    let mut engine = NarrativeEngine::default();
    let t0 = std::time::Instant::now();
    let got = engine.observe_batch(&posts);
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} posts in {secs:.2} s ({:.0} posts/s); {:?}",
        posts.len(),
        posts.len() as f64 / secs,
        engine.stats()
    );

    // Families found across channels: the same text posted by several channels.
    let mut fam_channels: HashMap<u64, HashSet<&str>> = HashMap::new();
    let mut fam_posts: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, a) in got.iter().enumerate() {
        if let Some(f) = a.family {
            fam_channels
                .entry(f)
                .or_default()
                .insert(&posts[i].actor.id);
            fam_posts.entry(f).or_default().push(i);
        }
    }
    let multi: Vec<u64> = fam_posts
        .iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(f, _)| *f)
        .collect();
    let cross: Vec<u64> = multi
        .iter()
        .copied()
        .filter(|f| fam_channels[f].len() >= 2)
        .collect();
    let in_multi: usize = multi.iter().map(|f| fam_posts[f].len()).sum();
    eprintln!(
        "families: {} with ≥ 2 posts ({in_multi} posts), {} spanning ≥ 2 channels",
        multi.len(),
        cross.len()
    );
    let mut cross_sorted = cross.clone();
    cross_sorted.sort_by_key(|f| std::cmp::Reverse(fam_posts[f].len()));
    for f in cross_sorted.iter().take(5) {
        let i = fam_posts[f][0];
        let chans: Vec<&str> = fam_channels[f].iter().map(|c| channel[c]).collect();
        eprintln!(
            "  family {f}: {} posts, channels {:?}: {:?}",
            fam_posts[f].len(),
            chans,
            posts[i].text.chars().take(100).collect::<String>()
        );
    }
    assert!(
        cross.len() >= 10,
        "reposted texts across channels: {}",
        cross.len()
    );

    // Narratives: purity against the category (weak label), and stories
    // carried by several channels.
    let mut nar: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, a) in got.iter().enumerate() {
        if let Some(n) = a.narrative {
            nar.entry(n).or_default().push(i);
        }
    }
    let (mut clustered, mut majority) = (0usize, 0usize);
    for members in nar.values().filter(|m| m.len() >= 2) {
        let mut c: HashMap<&str, usize> = HashMap::new();
        for &i in members {
            *c.entry(data[i].1.as_str()).or_default() += 1;
        }
        clustered += members.len();
        majority += c.values().max().unwrap();
    }
    let purity = majority as f64 / clustered as f64;
    let mut cats: HashMap<&str, usize> = HashMap::new();
    for d in &data {
        *cats.entry(d.1.as_str()).or_default() += 1;
    }
    let baseline = *cats.values().max().unwrap() as f64 / data.len() as f64;
    eprintln!(
        "narratives: {} ({} with ≥ 2 posts, holding {clustered} posts); category purity {purity:.3} (majority-class baseline {baseline:.3})",
        nar.len(),
        nar.values().filter(|m| m.len() >= 2).count()
    );
    let summaries = engine.narratives(None, None);
    let multi_channel: Vec<&NarrativeSummary> = summaries
        .iter()
        .filter(|s| s.actors.len() >= 3 && s.total_posts <= 40)
        .collect();
    eprintln!(
        "narratives carried by ≥ 3 channels: {}",
        summaries.iter().filter(|s| s.actors.len() >= 3).count()
    );
    for s in summaries.iter().take(10) {
        eprintln!(
            "  #{} {} posts, {} channels, growth {:.2}: [{}] {:?}",
            s.id,
            s.total_posts,
            s.actors.len(),
            s.growth,
            s.label.text,
            s.label
                .representative
                .as_ref()
                .map(|r| r.text.chars().take(80).collect::<String>())
        );
    }
    eprintln!("smaller stories carried by ≥ 3 channels (up to 40 posts):");
    for s in multi_channel.iter().take(10) {
        let chans: Vec<&str> = s.actors.iter().map(|a| channel[a.key.as_str()]).collect();
        eprintln!(
            "  #{} {} posts {:?}: [{}] {:?}",
            s.id,
            s.total_posts,
            chans,
            s.label.text,
            s.label
                .representative
                .as_ref()
                .map(|r| r.text.chars().take(80).collect::<String>())
        );
    }
    assert!(
        purity > baseline + 0.2,
        "purity {purity} vs baseline {baseline}"
    );
    assert!(
        multi_channel.len() >= 10,
        "stories carried by several channels: {}",
        multi_channel.len()
    );
}
