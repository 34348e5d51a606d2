//! `pharos narratives`: what is being pushed, largest and fastest-growing first.

use super::{Global, StoreArg};
use anyhow::{Context, Result};
use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine};
use pharos_store::{AnyStore, PostFilter, Store};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

/// List narratives: clusters of posts about the same thing (near-duplicate
/// families merged, across platforms and, through transliteration, across
/// Cyrillic and Latin spellings), largest and fastest-growing first.
///
/// Every stored post up to --until is read in event-time order (so
/// narratives have their context); --since and --until then choose the
/// window the counts, growth and timelines are reported for. Each
/// narrative shows its title (a headline from its most representative
/// post), its label (its most telling terms), first seen, volume, growth,
/// platforms, languages, top actors, links, domains and hashtags.
///
/// Each source's boilerplate (signatures, footers, calls to subscribe,
/// disclaimers, learned as posts are read) and platform templates ("RT
/// @x:", "via @x", "The post … appeared first on …", "Forwarded from …")
/// are left out of what narratives see; lines several sources sign with
/// are listed at the end as coordination evidence (possibly one operator,
/// DISARM T0092). docs/narratives.md explains each field.
///
/// With the sentence-embedding model (`pharos model fetch` puts the
/// default, multilingual-e5-small, in place; PHAROS_NARRATIVES_MODEL names
/// another, and also gives it to assess, watch, serve and worker), posts that tell one story in different languages join one
/// narrative, shown with a title, label and count per language. Without
/// it (or with PHAROS_NARRATIVES_LEXICAL=1) narratives are by words only:
/// languages meet through names, hashtags and links. Near-duplicate
/// families are exact either way.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArg,
    /// Report from this time (RFC 3339, date or epoch).
    #[arg(long)]
    pub since: Option<String>,
    /// Report until this time (exclusive); later posts are not read.
    #[arg(long)]
    pub until: Option<String>,
    /// How many narratives to print (the JSON file has them all).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Smallest narrative printed, in posts in the window.
    #[arg(long, default_value_t = 2)]
    pub min_posts: u64,
    /// Write every narrative as a JSON array to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the boilerplate lines shared by several sources (coordination
    /// evidence) as a JSON array to this file.
    #[arg(long, value_name = "FILE")]
    pub shared_boilerplate_json: Option<PathBuf>,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&args.store.store)?;
    let since = super::export::parse_time("since", &args.since)?;
    let until = super::export::parse_time("until", &args.until)?;
    let mut engine = NarrativeEngine::new(NarrativeConfig::default());
    let pb = crate::progress::counter(global.quiet, "posts read");
    let filter = PostFilter {
        since: None,
        until,
        platform: None,
    };
    // In chunks: posts are read on all cores, and the encoder embeds the
    // posts that need it in batches (the same assignments as one by one).
    const CHUNK: usize = 4096;
    let mut chunk = Vec::with_capacity(CHUNK);
    store.scan(&filter, &mut |post| {
        chunk.push(post);
        if chunk.len() == CHUNK {
            engine.observe_batch(&chunk);
            pb.inc(chunk.len() as u64);
            chunk.clear();
        }
        ControlFlow::Continue(())
    })?;
    engine.observe_batch(&chunk);
    pb.finish_and_clear();
    let mut list = engine.narratives(since, until);
    list.retain(|n| n.posts >= args.min_posts);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&list)?;
        if path.as_os_str() == "-" {
            println!("{text}");
            return Ok(ExitCode::SUCCESS);
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        if !global.quiet {
            eprintln!("wrote {} narratives to {}", list.len(), path.display());
        }
    }
    let stats = engine.stats();
    let by = match &engine.config().embedder {
        Some(e) => format!(
            "by meaning and words ({}; {} posts embedded)",
            e.name(),
            stats.embedded_posts
        ),
        None => "by words only".to_string(),
    };
    println!(
        "{} narratives with at least {} posts in the window ({} posts read; {} live and {} archived narratives, {} near-duplicate families live; narratives {by})",
        list.len(),
        args.min_posts,
        stats.posts,
        stats.live_narratives,
        stats.archived_narratives,
        stats.live_families
    );
    for (i, n) in list.iter().take(args.top).enumerate() {
        println!(
            "\n{:>2}. [{}] {}  ({} posts, growth ×{:.1}, first seen {})",
            i + 1,
            n.id,
            n.title,
            n.posts,
            n.growth,
            n.first_seen
        );
        println!("    label: {}", n.label.text);
        if let Some(r) = &n.label.representative {
            println!(
                "    e.g. {} {}/{} by {}: {}",
                r.time,
                r.platform,
                r.id,
                r.actor,
                one_line(&r.text, 140)
            );
        }
        let fmt_map = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "    platforms: {}; languages: {}",
            fmt_map(&n.platforms),
            fmt_map(&n.languages)
        );
        // A story told in several languages: its title and label in each.
        if n.by_language.len() > 1 {
            for l in n.by_language.iter().take(8) {
                let label = if l.label.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", l.label)
                };
                println!(
                    "      {} ({} posts): {}{label}",
                    l.lang,
                    l.posts,
                    one_line(&l.title, 100)
                );
            }
        }
        let top = |v: &[pharos_analysis::narratives::Counted]| {
            v.iter()
                .take(5)
                .map(|c| format!("{} ({})", c.key, c.posts))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !n.actors.is_empty() {
            println!("    actors: {}", top(&n.actors));
        }
        if !n.hashtags.is_empty() {
            println!("    hashtags: {}", top(&n.hashtags));
        }
        if !n.domains.is_empty() {
            println!("    domains: {}", top(&n.domains));
        }
    }
    let shared = engine.shared_boilerplate(2);
    if let Some(path) = &args.shared_boilerplate_json {
        std::fs::write(path, serde_json::to_string_pretty(&shared)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !shared.is_empty() {
        println!(
            "\nBoilerplate shared by several sources (they sign their posts alike: possibly one operator, DISARM T0092 Build Network; coordination evidence, not narratives):"
        );
        for s in shared.iter().take(args.top) {
            let names: Vec<String> = s
                .sources
                .iter()
                .take(8)
                .map(|x| format!("{} ({})", x.name.as_deref().unwrap_or(&x.actor), x.posts))
                .collect();
            println!(
                "  - \"{}\": {} sources, {} posts: {}{}",
                one_line(&s.text, 100),
                s.sources.len(),
                s.posts,
                names.join(", "),
                if s.sources.len() > 8 { ", …" } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max).collect::<String>() + "…"
    }
}
