//! `pharos coordination`: coordinated account networks from a file.
//!
//! `--method coortweet` reproduces CooRTweet 2.1.3 (`detect_groups`,
//! `flag_speed_share`, `generate_coordinated_network`) row for row; see
//! `pharos_analysis::coordination` for the rules and their quirks.
//! `--method directed` builds QUT coordination-network-toolkit style
//! directed networks (`pharos_analysis::coordination::directed`).
//! Either reads `--input FILE` or the posts of a store (`--store PATH`),
//! and can add a report with communities, scores and the posts behind each
//! edge (`--json`, `--graphml`, `--evidence-out`;
//! `pharos_analysis::coordination::report`). The user guide is
//! docs/coordination.md.

use anyhow::{Context, Result, bail};
use pharos_analysis::coordination::communities::LeidenParams;
use pharos_analysis::coordination::directed::{
    DirectedNetwork, DirectedParams, Kind, MessageTable, directed_network, multimodal_network,
    read_qut_csv,
};
use pharos_analysis::coordination::graphml::write_graphml;
use pharos_analysis::coordination::report::{
    CoordinationReport, DirectedSource, PostIndex, QutRows, ReportOptions, coortweet_report,
    directed_report,
};
use pharos_analysis::coordination::{
    Coordination, CoortweetParams, ObjectRule, PairWriter, ShareTable, Subgraph,
    read_coortweet_csv, write_edges, write_nodes,
};
use pharos_ingest::{Format, Item};
use pharos_store::{AnyStore, MediaHashes, PostFilter, Store};
use serde_json::json;
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
///   pharos coordination --store pharos.db --since 2024-05-01 --method directed
///     --kind co-link --json report.json --graphml net.graphml
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input file (`.gz` is decompressed on the fly). Give this or --store.
    #[arg(long, required_unless_present = "store", conflicts_with = "store")]
    pub input: Option<PathBuf>,

    /// Read the posts of this store (an SQLite file or a PostgreSQL URL)
    /// instead of a file (see --since, --until, --platform; --format is
    /// not used).
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<pharos_store::Location>,

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
    /// co-hashtag, co-media, co-image or co-similar-text. A comma list `KIND[:WEIGHT],...`
    /// (weight default 1, e.g. `co-link:1,co-hashtag:0.5,co-media:2`) builds a
    /// multi-modal network: the weighted sum of the kinds' edge weights.
    /// co-image reads the PDQ hashes posts carry (`pdq:` media hashes) and,
    /// with --store, the hashes `pharos media scan` stored.
    #[arg(long, default_value = "co-retweet")]
    pub kind: String,

    /// With `--format csv`: column mapping `field=column,...` (the fields of
    /// `pharos ingest --map`: id, actor_id, time, urls, hashtags, media, ...).
    #[arg(long, value_name = "FIELD=COLUMN,...")]
    pub map: Option<String>,

    /// With `--format csv`: a preset (coortweet, qut, crowdtangle, 4cat).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,

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

    /// Store filters and report outputs (boxed: they are rarely all used).
    #[command(flatten)]
    pub report: Box<ReportArgs>,
}

/// Store filters, report outputs and their options.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// With --store: only posts at or after this time (RFC 3339, date, or epoch).
    #[arg(long, requires = "store")]
    pub since: Option<String>,

    /// With --store: only posts before this time.
    #[arg(long, requires = "store")]
    pub until: Option<String>,

    /// With --store: only posts of this platform.
    #[arg(long, requires = "store")]
    pub platform: Option<String>,

    /// Write the report (parameters, summary, communities and components
    /// with their scores and evidence, accounts, edges with evidence) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Write the network as GraphML (accounts with community, component,
    /// degree, strength; edges with weight and the method's columns).
    #[arg(long)]
    pub graphml: Option<PathBuf>,

    /// Write one JSON object per edge, with the posts behind it, per line.
    #[arg(long)]
    pub evidence_out: Option<PathBuf>,

    /// Leiden resolution (1 = modularity; larger gives smaller communities).
    #[arg(long, default_value_t = 1.0)]
    pub resolution: f64,

    /// Leiden seed: the same seed gives the same communities.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Evidence pairs listed per edge (all are counted and scored).
    #[arg(long, default_value_t = 100)]
    pub max_evidence_per_edge: usize,

    /// Evidence pairs listed per community or component.
    #[arg(long, default_value_t = 1000)]
    pub max_evidence_per_network: usize,
}

impl Args {
    /// Whether a report (JSON, GraphML, evidence) is asked for.
    fn wants_report(&self) -> bool {
        self.report.json.is_some()
            || self.report.graphml.is_some()
            || self.report.evidence_out.is_some()
    }

    fn report_options(&self) -> Result<ReportOptions> {
        if !(self.report.resolution.is_finite() && self.report.resolution > 0.0) {
            bail!(
                "--resolution must be a number above 0 (got {})",
                self.report.resolution
            );
        }
        Ok(ReportOptions {
            leiden: LeidenParams {
                resolution: self.report.resolution,
                seed: self.report.seed,
                ..LeidenParams::default()
            },
            max_evidence_per_edge: self.report.max_evidence_per_edge,
            max_evidence_per_network: self.report.max_evidence_per_network,
        })
    }

    /// What the input was, for the report's parameters.
    fn source_json(&self) -> serde_json::Value {
        match (&self.input, &self.store) {
            (Some(i), _) => json!({"input": i.display().to_string(), "format": self.format}),
            (None, Some(s)) => json!({
                "store": s.to_string(),
                "since": self.report.since, "until": self.report.until, "platform": self.report.platform,
            }),
            (None, None) => serde_json::Value::Null,
        }
    }
}

/// Writes the report outputs that were asked for.
fn write_report(args: &Args, report: &CoordinationReport) -> Result<()> {
    if let Some(path) = &args.report.json {
        let mut out = create(path)?;
        report
            .write_json(&mut out)
            .with_context(|| format!("writing {}", path.display()))?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    if let Some(path) = &args.report.graphml {
        let mut out = create(path)?;
        write_graphml(report, &mut out).with_context(|| format!("writing {}", path.display()))?;
        out.flush()?;
    }
    if let Some(path) = &args.report.evidence_out {
        let mut out = create(path)?;
        report
            .write_evidence_jsonl(&mut out)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let s = &report.summary;
    eprintln!(
        "pharos coordination: {} communities (modularity {}), {} components, {} evidence pairs",
        s.communities,
        s.modularity.map_or("n/a".into(), |q| format!("{q:.4}")),
        s.components,
        s.evidence_pairs
    );
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    let r = &args.report;
    if args.store.is_none() && (r.since.is_some() || r.until.is_some() || r.platform.is_some()) {
        bail!("--since, --until and --platform filter a store: give --store PATH|URL");
    }
    match args.method.as_str() {
        "coortweet" => {}
        "directed" => return run_directed(&args),
        m => bail!("unknown --method {m:?}; use coortweet or directed"),
    }
    let subgraph = Subgraph::from_number(args.subgraph)
        .with_context(|| format!("--subgraph {} is not 0, 1, 2 or 3", args.subgraph))?;
    if args.pairs_out.is_none() && args.edges_out.is_none() && !args.wants_report() {
        bail!(
            "nothing to write: give --pairs-out, --edges-out, --json, --graphml or --evidence-out"
        );
    }
    let opts = args.report_options()?;
    let started = Instant::now();
    let (table, posts) = load(&args)?;
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
    if args.wants_report() {
        let parameters = json!({
            "source": args.source_json(),
            "method": "coortweet",
            "object": args.object,
            "time_window": args.time_window,
            "min_participation": args.min_participation,
            "edge_weight": args.edge_weight,
            "subgraph": args.subgraph,
            "fast_window": args.fast_window,
            "max_pairs_per_object": args.max_pairs_per_object,
            "weight_threshold": network.threshold,
            "resolution": args.report.resolution,
            "seed": args.report.seed,
            "max_evidence_per_edge": args.report.max_evidence_per_edge,
            "max_evidence_per_network": args.report.max_evidence_per_network,
        });
        let report = coortweet_report(
            &table,
            &mut detection,
            &network,
            posts.as_ref(),
            &opts,
            parameters,
        )
        .context("building the report")?;
        write_report(&args, &report)?;
    }
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
    if args.edges_out.is_none() && !args.wants_report() {
        bail!(
            "--method directed writes edges: give --edges-out, --json, --graphml or --evidence-out"
        );
    }
    if args.pairs_out.is_some() || args.fast_window.is_some() || args.subgraph != 0 {
        bail!("--pairs-out, --fast-window and --subgraph belong to --method coortweet");
    }
    let opts = args.report_options()?;
    let kinds = parse_kinds(&args.kind)?;
    if let [(kind, w)] = kinds[..]
        && w == 1.0
    {
        return run_directed_one(args, kind, &opts);
    }
    if args.wants_report() {
        bail!(
            "--json, --graphml and --evidence-out take a single --kind; \
             a multi-modal network writes --edges-out"
        );
    }
    run_multimodal(args, &kinds)
}

/// Reads `KIND[:WEIGHT],...` (weight default 1; finite and above 0; each
/// kind once).
fn parse_kinds(spec: &str) -> Result<Vec<(Kind, f64)>> {
    let mut kinds: Vec<(Kind, f64)> = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, weight) = match item.split_once(':') {
            Some((n, w)) => {
                let w: f64 = w.trim().parse().with_context(|| {
                    format!("--kind {item:?}: the weight after ':' is not a number")
                })?;
                (n, w)
            }
            None => (item, 1.0),
        };
        if !(weight.is_finite() && weight > 0.0) {
            bail!("--kind {item:?}: the weight must be a number above 0");
        }
        let kind = Kind::parse(name)?;
        if kinds.iter().any(|&(k, _)| k == kind) {
            bail!("--kind {spec:?} names {kind} twice");
        }
        kinds.push((kind, weight));
    }
    if kinds.is_empty() {
        bail!("--kind is empty; give e.g. co-retweet or co-link:1,co-hashtag:0.5");
    }
    Ok(kinds)
}

/// Adds `post` to `table`: [`MessageTable::push_post`], except that for
/// co-media a media item without a hash whose value is not a URL (a CSV
/// column of perceptual-hash ids mapped to `media`) is keyed on that value.
fn push_post(table: &mut MessageTable, post: &pharos_core::Post) -> bool {
    if table.kind() != Kind::CoMedia {
        return table.push_post(post);
    }
    if post.reshare_of.as_deref().is_some_and(|r| !r.is_empty()) {
        return false;
    }
    let id = format!("{}:{}", post.platform, post.id);
    let keys = post.media.iter().filter_map(|m| match m.hash.as_deref() {
        Some(h) => Some(h),
        None if pharos_core::normalize_url(&m.url).is_none() => Some(m.url.as_str()),
        None => None,
    });
    table.push_keys(&id, &post.actor.id, post.time.millis(), keys)
}

/// The directed parameters of the command line.
fn directed_params(args: &Args) -> DirectedParams {
    let mut params = DirectedParams::new(args.time_window, args.min_edge_weight);
    params.self_loops = args.self_loops;
    params.similarity_threshold = args.similarity;
    params
}

fn write_directed_edges(args: &Args, net: &DirectedNetwork) -> Result<()> {
    if let Some(out_path) = &args.edges_out {
        let mut out = create(out_path)?;
        net.write_csv(&mut out)
            .with_context(|| format!("writing {}", out_path.display()))?;
        out.flush()?;
    }
    Ok(())
}

/// Several kinds: one table each, read in one pass (QUT CSVs are read once
/// per kind), added by [`multimodal_network`].
fn run_multimodal(args: &Args, kinds: &[(Kind, f64)]) -> Result<()> {
    let started = Instant::now();
    let qut = args.store.is_none() && args.format.eq_ignore_ascii_case("qut");
    let tables: Vec<MessageTable> = match &args.input {
        Some(input) if qut => kinds
            .iter()
            .map(|&(k, _)| read_qut_csv(input, k))
            .collect::<Result<_, _>>()?,
        _ => {
            let mut tables: Vec<MessageTable> =
                kinds.iter().map(|&(k, _)| MessageTable::new(k)).collect();
            let images = kinds.iter().any(|&(k, _)| k == Kind::CoImage);
            read_posts(args, images, |post| {
                for t in &mut tables {
                    push_post(t, post);
                }
            })?;
            tables
        }
    };
    let params = directed_params(args);
    let layers: Vec<(&MessageTable, f64)> = tables
        .iter()
        .zip(kinds)
        .map(|(t, &(_, w))| (t, w))
        .collect();
    let net = multimodal_network(&layers, &params);
    write_directed_edges(args, &net)?;
    for (t, &(k, w)) in tables.iter().zip(kinds) {
        eprintln!(
            "pharos coordination: {k} × {w}: {} messages by {} accounts",
            t.len(),
            t.user_count()
        );
    }
    eprintln!(
        "pharos coordination: multi-modal: {} edges among {} accounts, {:.3} s",
        net.edges.len(),
        net.users.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One kind: one directed network, with the report if asked.
fn run_directed_one(args: &Args, kind: Kind, opts: &ReportOptions) -> Result<()> {
    let started = Instant::now();
    let report = args.wants_report();
    let mut qut_rows = None;
    let mut posts: Vec<pharos_core::Post> = Vec::new();
    let mut index = PostIndex::new();
    let qut = args.store.is_none() && args.format.eq_ignore_ascii_case("qut");
    let table = match &args.input {
        Some(input) if qut => {
            if report {
                qut_rows = Some(
                    QutRows::read_path(input)
                        .with_context(|| format!("reading {}", input.display()))?,
                );
            }
            read_qut_csv(input, kind)?
        }
        _ => {
            let mut table = MessageTable::new(kind);
            read_posts(args, kind == Kind::CoImage, |post| {
                push_post(&mut table, post);
                if report {
                    index.insert_post(post, true);
                    posts.push(post.clone());
                }
            })?;
            table
        }
    };
    let params = directed_params(args);
    let net = directed_network(&table, &params);
    write_directed_edges(args, &net)?;
    if report {
        let (source, post_index) = match &qut_rows {
            Some(rows) => (DirectedSource::Qut(rows), rows.posts()),
            None => (DirectedSource::Posts(&posts), &index),
        };
        let parameters = json!({
            "source": args.source_json(),
            "method": "directed",
            "kind": kind.name(),
            "time_window": args.time_window,
            "min_edge_weight": args.min_edge_weight,
            "self_loops": args.self_loops,
            "similarity": (kind == Kind::CoSimilarText).then_some(args.similarity),
            "resolution": args.report.resolution,
            "seed": args.report.seed,
            "max_evidence_per_edge": args.report.max_evidence_per_edge,
            "max_evidence_per_network": args.report.max_evidence_per_network,
        });
        let report = directed_report(
            &table,
            &params,
            &net,
            &source,
            Some(post_index),
            opts,
            parameters,
        );
        write_report(args, &report)?;
    }
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

/// Reads the posts of the store or of the input (with an importer),
/// handing each to `f`. With `images` and a store, posts first get the PDQ
/// hashes `pharos media scan` stored, as `pharos assess` attaches them
/// (quality ≥ 50; the store's posts are then held in memory).
fn read_posts(args: &Args, images: bool, mut f: impl FnMut(&pharos_core::Post)) -> Result<()> {
    if let Some(path) = &args.store {
        let store = AnyStore::open_existing(path)?;
        let filter = PostFilter {
            since: super::export::parse_time("since", &args.report.since)?,
            until: super::export::parse_time("until", &args.report.until)?,
            platform: args.report.platform.clone(),
        };
        if images {
            let mut posts = Vec::new();
            store.scan(&filter, &mut |post| {
                posts.push(post);
                ControlFlow::Continue(())
            })?;
            let attached =
                store.attach_media_hashes(&mut posts, pharos_assess::assess::MIN_PDQ_QUALITY)?;
            eprintln!(
                "pharos coordination: {attached} pictures with the PDQ hashes `pharos media scan` stored"
            );
            posts.iter().for_each(&mut f);
            return Ok(());
        }
        store.scan(&filter, &mut |post| {
            f(&post);
            ControlFlow::Continue(())
        })?;
        return Ok(());
    }
    let Some(input) = &args.input else {
        bail!("give --input FILE or --store PATH|URL");
    };
    let format = Format::parse(&args.format).with_context(|| {
        format!(
            "unknown --format {:?}; use coortweet, qut or one of {}",
            args.format,
            Format::NAMES.join(", ")
        )
    })?;
    let mut opts =
        super::ingest::options(format, args.preset.as_deref(), args.map.as_deref(), None)?;
    // Language plays no part in detection; the report counts it.
    opts.detect_language = args.wants_report();
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
    pharos_ingest::read_path(input, &opts, &mut sink)?;
    if rejected > 0 {
        eprintln!(
            "pharos coordination: {rejected} records could not be read (first: {}); \
             `pharos ingest` keeps them in a quarantine file",
            first_rejection.unwrap_or_default()
        );
    }
    Ok(())
}

/// Reads the input as a share table, and (for a report) the posts by id.
fn load(args: &Args) -> Result<(ShareTable, Option<PostIndex>)> {
    if let Some(input) = &args.input
        && args.format.eq_ignore_ascii_case("coortweet")
    {
        return Ok((read_coortweet_csv(input)?, None));
    }
    let rule = ObjectRule::parse(&args.object).with_context(|| {
        format!(
            "unknown --object {:?}; use one of {}",
            args.object,
            ObjectRule::NAMES.join(", ")
        )
    })?;
    let mut table = ShareTable::new();
    let mut index = args.wants_report().then(PostIndex::new);
    read_posts(args, false, |post| {
        table.push_post(post, rule);
        if let Some(i) = index.as_mut() {
            i.insert_post(post, false);
        }
    })?;
    Ok((table, index))
}

fn create(path: &Path) -> Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(io::stdout().lock())));
    }
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 16, f)))
}
