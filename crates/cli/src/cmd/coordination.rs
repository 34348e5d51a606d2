//! `pharos coordination`: coordinated account networks from a file.
//!
//! `--method coortweet` reproduces CooRTweet 2.1.3 (`detect_groups`,
//! `flag_speed_share`, `generate_coordinated_network`) row for row; see
//! `pharos_analysis::coordination` for the rules and their quirks.
//! `--method directed` builds QUT coordination-network-toolkit style
//! directed networks (`pharos_analysis::coordination::directed`).

use anyhow::{Context, Result, bail};
use pharos_analysis::coordination::directed::{
    DirectedParams, Kind, MessageTable, directed_network, read_qut_csv,
};
use pharos_analysis::coordination::{
    Coordination, CoortweetParams, ObjectRule, PairWriter, ShareTable, Subgraph,
    read_coortweet_csv, write_edges, write_nodes,
};
use pharos_ingest::{Format, Item, Options};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Find accounts that share the same objects within seconds, again and again.
///
/// Examples (CooRTweet's defaults are 10 s and 2):
///   pharos coordination --input shares.csv.gz --format coortweet --method coortweet
///     --time-window 60 --min-participation 2 --edge-weight 0.5
///     --pairs-out pairs.csv --edges-out edges.csv
///   pharos coordination --input messages.csv --format qut --method directed
///     --kind co-retweet --time-window 60 --min-edge-weight 2 --edges-out edges.csv
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input file (`.gz` is decompressed on the fly).
    #[arg(long)]
    pub input: PathBuf,

    /// `coortweet` (a CSV with object_id,account_id,content_id,timestamp_share),
    /// `qut` (message_id,user_id,username,repost_id,reply_id,message,timestamp,urls),
    /// or any importer format (auto, jsonl, twitter-v2, telegram, telegram-dump, csv, rss).
    #[arg(long, default_value = "coortweet")]
    pub format: String,

    /// Detection method: `coortweet` (exact CooRTweet parity) or `directed`
    /// (QUT coordination-network-toolkit style).
    #[arg(long, default_value = "coortweet")]
    pub method: String,

    /// `--method directed`: co-retweet, co-tweet, co-link, co-domain, co-reply,
    /// co-hashtag, co-media or co-similar-text.
    #[arg(long, default_value = "co-retweet")]
    pub kind: String,

    /// `--method directed`: edges with a smaller weight are dropped.
    #[arg(long, default_value_t = 2.0)]
    pub min_edge_weight: f64,

    /// `--method directed`: keep an account's edge to itself.
    #[arg(long)]
    pub self_loops: bool,

    /// `--method directed --kind co-similar-text`: least Jaccard similarity.
    #[arg(long, default_value_t = 0.8)]
    pub similarity: f64,

    /// With an importer format: what two accounts coordinate on (auto =
    /// reshared post, else first link; reshare, link, domain, hashtag, reply, quote).
    #[arg(long, default_value = "auto")]
    pub object: String,

    /// Seconds within which two shares of one object pair up (inclusive).
    #[arg(long, default_value_t = 10)]
    pub time_window: i64,

    /// CooRTweet's min_participation: accounts with fewer shares are left out,
    /// and a pair is kept only if one of its accounts has this many contents in pairs.
    #[arg(long, default_value_t = 2)]
    pub min_participation: u32,

    /// Quantile (0 to 1) of the edge weights above which an edge is marked
    /// weight_threshold = 1 (0.5 = median).
    #[arg(long, default_value_t = 0.5)]
    pub edge_weight: f64,

    /// Write the pairs (CooRTweet's detect_groups output) here; `-` for stdout.
    #[arg(long)]
    pub pairs_out: Option<PathBuf>,

    /// Write the network's edges here; `-` for stdout.
    #[arg(long)]
    pub edges_out: Option<PathBuf>,

    /// Subgraph: 0 whole network, 1 edges above the threshold, 2 fast edges
    /// above the fast threshold, 3 those accounts and their neighbours
    /// (2 and 3 need --fast-window).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    pub subgraph: u8,

    /// CooRTweet's flag_speed_share: mark pairs within this narrower window
    /// (pairs column time_window_S) and add the fast network (_full/_fast edge columns).
    #[arg(long)]
    pub fast_window: Option<i64>,

    /// Subgraph 3: write its accounts and color_v (1 coordinated, 0 neighbour) here.
    #[arg(long)]
    pub nodes_out: Option<PathBuf>,

    /// Not in CooRTweet: set aside objects with more candidate pairs than this
    /// (viral objects), and report them. Off by default (exact parity).
    #[arg(long)]
    pub max_pairs_per_object: Option<u64>,
}

pub fn run(args: Args) -> Result<()> {
    match args.method.as_str() {
        "coortweet" => {}
        "directed" => return run_directed(&args),
        m => bail!("unknown --method {m:?}; use coortweet or directed"),
    }
    let subgraph = Subgraph::from_number(args.subgraph)
        .with_context(|| format!("--subgraph {} is not 0, 1, 2 or 3", args.subgraph))?;
    if args.pairs_out.is_none() && args.edges_out.is_none() {
        bail!("nothing to write: give --pairs-out and/or --edges-out");
    }
    let started = Instant::now();
    let table = load(&args)?;
    let loaded = started.elapsed();

    let params = CoortweetParams {
        time_window: args.time_window,
        min_participation: args.min_participation,
        fast_window: args.fast_window,
        max_pairs_per_object: args.max_pairs_per_object,
    };
    let mut detection = Coordination::new(&table, &params)?;
    let candidates = detection.stats().candidate_pairs;
    if candidates > 200_000_000 && args.max_pairs_per_object.is_none() {
        eprintln!(
            "pharos coordination: {candidates} candidate pairs; every distinct account pair \
             becomes an edge (about 150 bytes each). If memory runs short, set viral objects \
             aside with --max-pairs-per-object (e.g. 10000000)"
        );
    }
    let edges = match &args.pairs_out {
        Some(path) => {
            let out = create(path)?;
            let mut w = PairWriter::new(out, &table, args.fast_window)?;
            let edges = detection
                .run(Some(&mut |p| w.write(p)))
                .with_context(|| format!("writing {}", path.display()))?;
            w.finish()?.flush()?;
            edges
        }
        None => detection.run(None)?,
    };
    let network = edges.network(args.edge_weight, subgraph)?;
    drop(edges);
    if let Some(path) = &args.edges_out {
        let mut out = create(path)?;
        write_edges(&mut out, &table, &network)
            .with_context(|| format!("writing {}", path.display()))?;
        out.flush()?;
    }
    if let Some(path) = &args.nodes_out {
        if network.nodes.is_none() {
            bail!("--nodes-out needs --subgraph 3");
        }
        let mut out = create(path)?;
        write_nodes(&mut out, &table, &network)?;
        out.flush()?;
    }

    let s = detection.stats();
    eprintln!(
        "pharos coordination: {} shares ({} after min participation), {} pairs, {} edges \
         ({} above the {} quantile {}), read in {:.3} s, total {:.3} s",
        s.shares,
        s.shares_after_prefilter,
        s.pairs,
        network.edges.len(),
        network.edges.iter().filter(|e| e.weight_threshold).count(),
        args.edge_weight,
        network.threshold,
        loaded.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    if !s.skipped_objects.is_empty() {
        let mut worst = s.skipped_objects.clone();
        worst.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        let names: Vec<String> = worst
            .iter()
            .take(5)
            .map(|&(o, n)| format!("{} ({n})", String::from_utf8_lossy(table.object_name(o))))
            .collect();
        eprintln!(
            "pharos coordination: {} objects set aside by --max-pairs-per-object, largest: {}",
            worst.len(),
            names.join(", ")
        );
    }
    Ok(())
}

/// `--method directed`: one directed network, written as `user_1,user_2,weight`.
fn run_directed(args: &Args) -> Result<()> {
    let Some(out_path) = &args.edges_out else {
        bail!("--method directed writes edges: give --edges-out");
    };
    if args.pairs_out.is_some() || args.fast_window.is_some() || args.subgraph != 0 {
        bail!("--pairs-out, --fast-window and --subgraph belong to --method coortweet");
    }
    let kind = Kind::parse(&args.kind)?;
    let started = Instant::now();
    let table = if args.format.eq_ignore_ascii_case("qut") {
        read_qut_csv(&args.input, kind)?
    } else {
        let mut table = MessageTable::new(kind);
        read_posts(args, |post| {
            table.push_post(post);
        })?;
        table
    };
    let mut params = DirectedParams::new(args.time_window, args.min_edge_weight);
    params.self_loops = args.self_loops;
    params.similarity_threshold = args.similarity;
    let net = directed_network(&table, &params);
    let mut out = create(out_path)?;
    net.write_csv(&mut out)
        .with_context(|| format!("writing {}", out_path.display()))?;
    out.flush()?;
    eprintln!(
        "pharos coordination: {kind}: {} messages by {} accounts, {} edges among {} accounts, {:.3} s",
        table.len(),
        table.user_count(),
        net.edges.len(),
        net.users.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Reads the input with an importer, handing each post to `f`.
fn read_posts(args: &Args, mut f: impl FnMut(&pharos_core::Post)) -> Result<()> {
    let format = Format::parse(&args.format).with_context(|| {
        format!(
            "unknown --format {:?}; use coortweet, qut or one of {}",
            args.format,
            Format::NAMES.join(", ")
        )
    })?;
    let opts = Options {
        format,
        // Language plays no part in coordination; skipping it is faster.
        detect_language: false,
        ..Options::new()
    };
    let mut rejected = 0u64;
    let mut first_rejection: Option<String> = None;
    let mut sink = |item: Item| {
        match item {
            Item::Post(p) => f(&p),
            Item::Rejected(r) => {
                rejected += 1;
                if first_rejection.is_none() {
                    first_rejection = Some(format!("{}: {}", r.location(), r.reason));
                }
            }
        }
        ControlFlow::Continue(())
    };
    pharos_ingest::read_path(&args.input, &opts, &mut sink)?;
    if rejected > 0 {
        eprintln!(
            "pharos coordination: {rejected} records could not be read (first: {}); \
             `pharos ingest` keeps them in a quarantine file",
            first_rejection.unwrap_or_default()
        );
    }
    Ok(())
}

/// Reads the input as a share table.
fn load(args: &Args) -> Result<ShareTable> {
    if args.format.eq_ignore_ascii_case("coortweet") {
        return Ok(read_coortweet_csv(&args.input)?);
    }
    let rule = ObjectRule::parse(&args.object).with_context(|| {
        format!(
            "unknown --object {:?}; use one of {}",
            args.object,
            ObjectRule::NAMES.join(", ")
        )
    })?;
    let mut table = ShareTable::new();
    read_posts(args, |post| {
        table.push_post(post, rule);
    })?;
    Ok(table)
}

fn create(path: &Path) -> Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(io::stdout().lock())));
    }
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 16, f)))
}
