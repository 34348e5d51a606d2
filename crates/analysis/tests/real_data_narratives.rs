//! Issue 19 on real data: narratives an analyst can trust.
//!
//! - **Telegram**: the 22,099 posts of 24 Russian-language news channels
//!   (`telegram/ru_news_channels_2024.tar.gz`), read as `pharos ingest
//!   --format telegram-dump` reads them (the archive directly, Markdown
//!   turned into plain text so the footers' words stay). None of the 20
//!   largest narratives is defined by a channel's boilerplate (without
//!   boilerplate learning most are), their titles read as headlines, and
//!   families and narratives per channel are printed before and after.
//! - **PHEME** (`pheme/{germanwings-crash,ottawashooting}.csv` joined with
//!   `pheme/threads/*.csv` for the thread of each tweet): purity and
//!   completeness of narratives against the annotated threads, and whether
//!   a rumour thread's narrative is titled by its rumour.
//!
//! The figures are those of docs/narratives.md ("Real data").
//!
//! `PHAROS_DATA=../shared/data cargo test -p pharos-analysis --features real-data --test real_data_narratives -- --nocapture --test-threads 1`
#![cfg(feature = "real-data")]

#[path = "support/narrative_eval.rs"]
mod eval;

use pharos_analysis::narratives::{Assignment, NarrativeConfig, NarrativeEngine};
use pharos_core::{Actor, EventTime, Post};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

/// A file of the shared data, or a failure naming it.
fn need(rel: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(
        p.is_file(),
        "missing {} (set PHAROS_DATA to the shared data directory)",
        p.display()
    );
    p
}

fn telegram_posts() -> Vec<Post> {
    let path = need("telegram/ru_news_channels_2024.tar.gz");
    let opts = pharos_ingest::Options {
        format: pharos_ingest::Format::TelegramDump,
        ..pharos_ingest::Options::new()
    };
    let mut posts = Vec::new();
    let mut rejected = 0usize;
    pharos_ingest::read_path(&path, &opts, &mut |item| {
        match item {
            pharos_ingest::Item::Post(p) => posts.push(*p),
            pharos_ingest::Item::Rejected(_) => rejected += 1,
        }
        ControlFlow::Continue(())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(rejected, 0, "rejected records in {}", path.display());
    posts.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    posts
}

fn run(posts: &[Post], boilerplate: bool) -> (NarrativeEngine, Vec<Assignment>) {
    let mut cfg = NarrativeConfig::default();
    cfg.boilerplate.enabled = boilerplate;
    let mut engine = NarrativeEngine::new(cfg);
    let got = engine.observe_batch(posts);
    (engine, got)
}

/// A headline: at least three words of which two are content words, no
/// link, no Markdown, at most 120 characters, and not a call to subscribe.
fn reads_as_headline(title: &str) -> bool {
    let lower = title.to_lowercase();
    let words = eval::words(title).len();
    words >= 3
        && eval::content_words(title).len() >= 2
        && title.chars().count() <= 120
        && !lower.contains("http")
        && !lower.contains("t.me/")
        && !title.contains("**")
        && !lower.contains("подписат")
        && !lower.contains("подпишись")
}

#[test]
fn telegram_top_narratives_are_stories_with_headlines() {
    let posts = telegram_posts();
    assert_eq!(posts.len(), 22_099);

    let (before_engine, before) = run(&posts, false);
    let (engine, after) = run(&posts, true);
    eprintln!("after: {:?}", engine.stats());

    let top_before =
        eval::top_narratives(&posts, &before, &before_engine.narratives(None, None), 20);
    let top_after = eval::top_narratives(&posts, &after, &engine.narratives(None, None), 20);
    println!("\nWithout boilerplate learning (before):\n");
    eval::print_top(&top_before);
    println!("\nWith boilerplate learning (after):\n");
    eval::print_top(&top_after);
    let boiler_before = top_before
        .iter()
        .filter(|r| r.boilerplate.is_some())
        .count();
    let boiler_after: Vec<_> = top_after
        .iter()
        .filter(|r| r.boilerplate.is_some())
        .collect();
    println!(
        "\ndefined by boilerplate among the 20 largest: {boiler_before} before, {} after",
        boiler_after.len()
    );
    let sig_terms =
        |rows: &[eval::TopRow]| -> usize { rows.iter().map(|r| r.signature_terms.len()).sum() };
    println!(
        "footer words in the labels of the 20 largest: {} before, {} after",
        sig_terms(&top_before),
        sig_terms(&top_after)
    );
    // The measures bite: without learning a footer still defines one of
    // the largest and footer words sit in their labels.
    assert!(
        boiler_before >= 1 && sig_terms(&top_before) >= 3,
        "without boilerplate learning: {boiler_before} footer narratives, {} footer words in labels",
        sig_terms(&top_before)
    );
    assert!(
        boiler_after.is_empty(),
        "narratives defined by boilerplate: {boiler_after:#?}"
    );
    let with_footer_words: Vec<_> = top_after
        .iter()
        .filter(|r| !r.signature_terms.is_empty())
        .collect();
    assert!(
        with_footer_words.is_empty(),
        "labels with a channel's footer words: {with_footer_words:#?}"
    );
    let not_headlines: Vec<&str> = top_after
        .iter()
        .map(|r| r.title.as_str())
        .filter(|t| !reads_as_headline(t))
        .collect();
    assert!(
        not_headlines.is_empty(),
        "titles that do not read as headlines: {not_headlines:#?}"
    );

    let ch_before = eval::per_channel(&posts, &before);
    let ch_after = eval::per_channel(&posts, &after);
    println!("\nFamilies and narratives per channel (before → after):\n");
    eval::print_channels(&ch_before, &ch_after);
    assert_eq!(ch_after.len(), 24, "channels");
    // No channel is swallowed by one narrative once its footer is learned.
    for c in &ch_after {
        assert!(
            (c.largest as f64) < 0.05 * c.posts as f64 || c.largest <= 10,
            "{}: {} of its {} posts in one narrative",
            c.channel,
            c.largest,
            c.posts
        );
    }

    let shared = engine.shared_boilerplate(2);
    println!("\nboilerplate shared by several channels: {}", shared.len());
    for s in shared.iter().take(10) {
        let names: Vec<String> = s
            .sources
            .iter()
            .map(|x| format!("{} ({})", x.name.as_deref().unwrap_or(&x.actor), x.posts))
            .collect();
        println!("- \"{}\" ({} words): {}", s.text, s.words, names.join(", "));
    }
}

/// One tweet of PHEME with its thread.
struct Tweet {
    post: Post,
    thread: String,
    source: bool,
    rumour: bool,
}

fn csv_reader(path: &Path) -> csv::Reader<std::fs::File> {
    let f =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    // Records end at LF only: some tweets hold a bare CR inside an unquoted field.
    csv::ReaderBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(f)
}

fn column(h: &csv::StringRecord, name: &str, path: &Path) -> usize {
    h.iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("{} has no column {name:?}", path.display()))
}

/// A row of a thread table: tweet id, thread id, whether it is the source.
type ThreadTweet = (String, String, bool);

/// The texts of one PHEME event joined with its thread table on (created,
/// is_rumor, tweet_length): 99.8 % of the texts find their one tweet.
fn pheme_event(event: &str) -> (Vec<Tweet>, usize) {
    let tpath = need(&format!("pheme/threads/{event}.csv"));
    let mut r = csv_reader(&tpath);
    let h = r.headers().expect("thread header").clone();
    let c = |n: &str| column(&h, n, &tpath);
    let (ci, ct, cr, cs, cc, cl) = (
        c("tweet_id"),
        c("thread"),
        c("is_rumor"),
        c("is_source_tweet"),
        c("created"),
        c("tweet_length"),
    );
    // (created, rumour, length) -> [(tweet id, thread, source)]
    let mut index: HashMap<(i64, bool, usize), Vec<ThreadTweet>> = HashMap::new();
    for (n, rec) in r.records().enumerate() {
        let rec = rec.unwrap_or_else(|e| panic!("{} record {}: {e}", tpath.display(), n + 1));
        let created = rec[cc].parse::<f64>().expect("created") as i64;
        let len = rec[cl].parse::<f64>().expect("tweet_length") as usize;
        index
            .entry((created, &rec[cr] == "1", len))
            .or_default()
            .push((rec[ci].to_string(), rec[ct].to_string(), &rec[cs] == "1"));
    }
    let path = need(&format!("pheme/{event}.csv"));
    let mut r = csv_reader(&path);
    let h = r.headers().expect("header").clone();
    let c = |n: &str| column(&h, n, &path);
    let (ctext, crum, chandle, ccreated) =
        (c("text"), c("is_rumor"), c("user.handle"), c("created"));
    let mut out = Vec::new();
    let mut unjoined = 0;
    for (n, rec) in r.records().enumerate() {
        let rec = rec.unwrap_or_else(|e| panic!("{} record {}: {e}", path.display(), n + 1));
        let text = rec[ctext].to_string();
        let created = rec[ccreated].parse::<f64>().expect("created") as i64;
        let rumour = &rec[crum] == "1";
        let key = (created, rumour, text.chars().count());
        let Some([(id, thread, source)]) = index.get(&key).map(Vec::as_slice) else {
            unjoined += 1;
            continue;
        };
        out.push(Tweet {
            post: Post {
                platform: "twitter".into(),
                id: id.clone(),
                actor: Actor {
                    id: rec[chandle].to_string(),
                    ..Default::default()
                },
                time: EventTime::from_millis(created),
                text,
                ..Default::default()
            },
            thread: thread.clone(),
            source: *source,
            rumour,
        });
    }
    (out, unjoined)
}

/// PHEME's measures of one run (`got`, one assignment per tweet).
struct PhemeScores {
    /// In narratives of ≥ 2 tweets, the share of the majority thread.
    purity: f64,
    /// ... and of the majority of rumour / non-rumour.
    rumour_purity: f64,
    /// For each thread of ≥ 2 tweets, the share of its tweets in its
    /// largest narrative (tweets in no narrative count against it).
    completeness: f64,
    /// ... in its source tweet's narrative.
    source_completeness: f64,
    /// Narrative → its tweets.
    members: HashMap<u64, Vec<usize>>,
    /// Thread → its tweets.
    threads: HashMap<String, Vec<usize>>,
    /// Tweets in threads of ≥ 2.
    thread_posts: usize,
    /// Tweets in narratives of ≥ 2.
    in_multi: usize,
}

fn pheme_scores(tweets: &[Tweet], got: &[Assignment]) -> PhemeScores {
    let mut members: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, a) in got.iter().enumerate() {
        if let Some(n) = a.narrative {
            members.entry(n).or_default().push(i);
        }
    }
    let (mut pure, mut pure_rumour, mut in_multi) = (0usize, 0usize, 0usize);
    for idx in members.values().filter(|v| v.len() >= 2) {
        let mut by: HashMap<&str, usize> = HashMap::new();
        let mut rumours = 0;
        for &i in idx {
            *by.entry(&tweets[i].thread).or_default() += 1;
            rumours += usize::from(tweets[i].rumour);
        }
        pure += by.values().copied().max().unwrap_or(0);
        pure_rumour += rumours.max(idx.len() - rumours);
        in_multi += idx.len();
    }
    let mut threads: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, t) in tweets.iter().enumerate() {
        threads.entry(t.thread.clone()).or_default().push(i);
    }
    let (mut complete, mut with_source, mut thread_posts) = (0usize, 0usize, 0usize);
    for idx in threads.values().filter(|v| v.len() >= 2) {
        let mut by: HashMap<u64, usize> = HashMap::new();
        for &i in idx {
            if let Some(n) = got[i].narrative {
                *by.entry(n).or_default() += 1;
            }
        }
        complete += by.values().copied().max().unwrap_or(0);
        if let Some(n) = idx
            .iter()
            .find(|&&i| tweets[i].source)
            .and_then(|&i| got[i].narrative)
        {
            with_source += by[&n];
        }
        thread_posts += idx.len();
    }
    PhemeScores {
        purity: pure as f64 / in_multi.max(1) as f64,
        rumour_purity: pure_rumour as f64 / in_multi.max(1) as f64,
        completeness: complete as f64 / thread_posts.max(1) as f64,
        source_completeness: with_source as f64 / thread_posts.max(1) as f64,
        members,
        threads,
        thread_posts,
        in_multi,
    }
}

#[test]
fn pheme_narratives_against_rumour_threads() {
    let mut tweets = Vec::new();
    for event in ["germanwings-crash", "ottawashooting"] {
        let (t, unjoined) = pheme_event(event);
        eprintln!(
            "{event}: {} tweets joined to their thread, {unjoined} not",
            t.len()
        );
        assert!(
            unjoined * 100 < t.len(),
            "{event}: {unjoined} tweets without a thread"
        );
        tweets.extend(t);
    }
    tweets.sort_by(|a, b| {
        a.post
            .time
            .cmp(&b.post.time)
            .then_with(|| a.post.id.cmp(&b.post.id))
    });
    let posts: Vec<Post> = tweets.iter().map(|t| t.post.clone()).collect();
    // Before (no boilerplate learning; the templates go either way) and after.
    let (_, plain) = run(&posts, false);
    let before = pheme_scores(&tweets, &plain);
    let (engine, got) = run(&posts, true);
    eprintln!("{:?}", engine.stats());
    let after = pheme_scores(&tweets, &got);
    println!(
        "PHEME without boilerplate learning: purity against threads {:.3}, against rumour/non-rumour {:.3}, completeness {:.3}; with: {:.3}, {:.3}, {:.3}",
        before.purity,
        before.rumour_purity,
        before.completeness,
        after.purity,
        after.rumour_purity,
        after.completeness
    );
    let PhemeScores {
        purity,
        rumour_purity,
        completeness,
        source_completeness,
        members,
        threads,
        thread_posts,
        in_multi,
    } = after;

    // Titled by its rumour: a rumour thread's source tweet's narrative has
    // a title at least half of whose content words are the source tweet's.
    let titles: HashMap<u64, String> = engine
        .narratives(None, None)
        .into_iter()
        .map(|n| (n.id, n.title))
        .collect();
    let (mut rumour_threads, mut titled, mut untitled_examples) = (0usize, 0usize, Vec::new());
    let mut unlisted = 0usize;
    for (i, t) in tweets.iter().enumerate() {
        if !(t.source && t.rumour) {
            continue;
        }
        rumour_threads += 1;
        // Narratives that expired with fewer than 3 tweets are not listed.
        let Some(title) = got[i].narrative.and_then(|n| titles.get(&n)) else {
            unlisted += 1;
            continue;
        };
        let tw = eval::content_words(title);
        let sw = eval::content_words(&t.post.text);
        let shared = tw.intersection(&sw).count();
        if !tw.is_empty() && 2 * shared >= tw.len() {
            titled += 1;
        } else if untitled_examples.len() < 8 {
            untitled_examples.push((t.post.text.clone(), title.clone()));
        }
    }
    let titled_share = titled as f64 / rumour_threads as f64;
    println!(
        "PHEME: {} tweets, {} threads ({} of ≥ 2 tweets, {thread_posts} tweets), {} narratives ({} of ≥ 2 tweets, {in_multi} tweets)",
        tweets.len(),
        threads.len(),
        threads.values().filter(|v| v.len() >= 2).count(),
        members.len(),
        members.values().filter(|v| v.len() >= 2).count(),
    );
    println!("  purity against threads {purity:.3}, against rumour/non-rumour {rumour_purity:.3}");
    println!(
        "  completeness of threads {completeness:.3} (largest narrative), {source_completeness:.3} (the source tweet's narrative)"
    );
    println!(
        "  rumour threads whose narrative is titled by their rumour: {titled} of {rumour_threads} ({titled_share:.3}); {unlisted} sources in a narrative too small to be listed (< 3 tweets, expired), {:.3} of the listed",
        titled as f64 / (rumour_threads - unlisted).max(1) as f64
    );
    for (text, title) in &untitled_examples {
        println!("    source {text:?}\n      title {title:?}");
    }
    let distinct: HashSet<&str> = tweets.iter().map(|t| t.thread.as_str()).collect();
    assert_eq!(distinct.len(), threads.len());
    // Floors a little under the figures of docs/narratives.md. Threads are
    // conversations (replies rarely restate the rumour) and several threads
    // tell one rumour, so thread purity and completeness are low by nature;
    // the rumour/non-rumour split is what a narrative should keep.
    assert!(purity >= 0.25, "purity against threads {purity:.3}");
    assert!(
        rumour_purity >= 0.70,
        "purity against rumour/non-rumour {rumour_purity:.3}"
    );
    assert!(completeness >= 0.18, "completeness {completeness:.3}");
    assert!(
        titled_share >= 0.45,
        "titled by their rumour {titled_share:.3}"
    );
}
