//! `pharos respond`: response packs, and response tracking (`log`, `report`).

use super::Global;
use super::claims::LibraryArg;
use anyhow::{Context, Result, bail};
use pharos_claims::library::Library;
use pharos_claims::respond::pack::to_markdown;
use pharos_claims::respond::tracking::{self, NewResponse, Report, Trend};
use pharos_claims::respond::{LazyMatcher, PackOptions, Target, build_pack};
use pharos_core::EventTime;
use pharos_store::AnyStore;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The long help of `pharos respond` (after the options: the command's
/// one-line description is set where the subcommand is declared).
const RESPOND_HELP: &str = r#"Response packs: how to answer a narrative or a post that repeats known
(fact-checked) claims.

`pharos respond --narrative ID` (an id `pharos narratives` prints) or
`--post ID` (a stored post: its id, or platform:id) writes the pack as
Markdown (or JSON with --json): the claim; every fact-check verdict with
publisher, date, URL and language; a correction draft built from the
fact-check texts (in the audience's language when a fact-check in that
language exists, else English with a note); the key facts; where it
spreads (platforms, languages, top accounts, domains, hashtags, reshared
posts, coordination networks among its accounts); and when to answer,
from its burst stage (emerging, sustained, growing, subsiding, dormant,
no-burst).

Claims come from the matches stored by `pharos claims match --store`;
when the store has none for these posts, the posts are matched against
the library now. Nothing is published: the draft is for a person to edit.

`pharos respond log` records a response made; `pharos respond report`
compares each narrative before and after its responses and flags those
that resurge. docs/claims.md explains every field and rule.

Exit status: 0 with a pack that cites a claim, 1 when no known claim
matched (the pack is still written), 2 for errors.

Examples:
  pharos claims import --format claimreview s.factchecks.json --store s.db
  pharos narratives --store s.db
  pharos respond --narrative 217 --store s.db --out pack.md
  pharos respond --post twitter:1898034662555516928 --store s.db --json
  pharos respond log --narrative 217 --who StratCom --when 2025-03-08T10:00:00Z \
      --channel twitter --url https://x.example/status/1 --store s.db
  pharos respond report --window 24h --store s.db
"#;

#[derive(clap::Args, Debug)]
#[command(after_help = RESPOND_HELP, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub pack: PackArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Record a response made to a narrative (who, when, channel, URL, partner).
    Log(LogArgs),
    /// Volume, spread and new-account rate of each narrative before and after its responses; resurgence flags.
    ///
    /// Before/after each logged response: posts, posts an hour, platforms,
    /// languages, accounts and new accounts (first post in the narrative) in
    /// the window before the response and the window after it; the trend
    /// (declined, flat, grew); and resurgence: after a quiet 6-hour block (at
    /// most half the pre-response rate), a later block back at the pre-response
    /// rate (5 posts or more), or a new burst. A narrative is flagged RESURGING
    /// when its latest response is followed by a resurgence.
    #[command(verbatim_doc_comment)]
    Report(ReportArgs),
}

#[derive(clap::Args, Debug)]
pub struct PackArgs {
    /// The narrative to answer (an id `pharos narratives` prints).
    #[arg(long, value_name = "ID", conflicts_with = "post")]
    pub narrative: Option<u64>,
    /// The post to answer: its id, or platform:id.
    #[arg(long, value_name = "ID")]
    pub post: Option<String>,
    /// The post's platform, when its id alone is ambiguous.
    #[arg(long, requires = "post")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub library: LibraryArg,
    /// Write the pack to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// Claims listed at most.
    #[arg(long, default_value_t = 3)]
    pub max_claims: usize,
    /// Match confidence a claim needs (0-1; default: the matcher's threshold).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Analyse as if now were this time: later posts are ignored (RFC 3339, date, epoch).
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct LogArgs {
    /// The narrative answered (an id `pharos narratives` prints).
    #[arg(long, value_name = "ID")]
    pub narrative: u64,
    /// Who answered (team, organisation, person).
    #[arg(long)]
    pub who: String,
    /// When the response went out (RFC 3339, date, epoch; or `now`).
    #[arg(long)]
    pub when: String,
    /// Where: twitter, telegram, press release, website, ...
    #[arg(long)]
    pub channel: String,
    /// The response's URL.
    #[arg(long)]
    pub url: Option<String>,
    /// The partner it was made with or for.
    #[arg(long)]
    pub partner: Option<String>,
    /// A free-text note.
    #[arg(long)]
    pub note: Option<String>,
    /// The store: an SQLite file or a PostgreSQL URL (`postgres://USER@HOST:PORT/DB`).
    #[arg(long, value_name = "PATH|URL", default_value = super::DEFAULT_STORE, env = "PHAROS_STORE")]
    pub store: super::Location,
    /// Print the logged response as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Only this narrative's responses.
    #[arg(long, value_name = "ID")]
    pub narrative: Option<u64>,
    /// Length of the windows before and after each response (e.g. 24h, 90m, 2d).
    #[arg(long, default_value = "24h", value_parser = parse_hours)]
    pub window: f64,
    /// The store: an SQLite file or a PostgreSQL URL (`postgres://USER@HOST:PORT/DB`).
    #[arg(long, value_name = "PATH|URL", default_value = super::DEFAULT_STORE, env = "PHAROS_STORE")]
    pub store: super::Location,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `24h`, `90m`, `2d`, `3600s` or a number of hours → hours.
fn parse_hours(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "h"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("bad duration {s:?}: use e.g. 24h, 90m, 2d"))?;
    let h = match unit {
        "s" => n / 3600.0,
        "m" | "min" => n / 60.0,
        "h" | "hours" => n,
        "d" | "days" => n * 24.0,
        _ => return Err(format!("bad duration unit {unit:?}: use s, m, h or d")),
    };
    if !(h > 0.0 && h.is_finite()) {
        return Err(format!("bad duration {s:?}: must be positive"));
    }
    Ok(h)
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        Some(Command::Log(a)) => log(a, global),
        Some(Command::Report(a)) => report(a, global),
        None => pack(args.pack, global),
    }
}

fn pack(args: PackArgs, global: &Global) -> Result<ExitCode> {
    let target = match (&args.narrative, &args.post) {
        (Some(n), None) => Target::Narrative(*n),
        (None, Some(p)) => Target::Post {
            platform: args.platform.clone(),
            id: p.clone(),
        },
        _ => bail!(
            "say what to answer: --narrative ID (from `pharos narratives`) or --post ID; or use `pharos respond log` / `report`"
        ),
    };
    let store = AnyStore::open_existing(&args.library.store)?;
    let library = Library::open(&args.library.dir())?;
    let mut opts = PackOptions {
        max_claims: args.max_claims.max(1),
        ..PackOptions::default()
    };
    if let Some(t) = args.threshold {
        if !(0.0..=1.0).contains(&t) {
            bail!("--threshold must be between 0 and 1 (got {t})");
        }
        opts.threshold = t;
    }
    opts.until = super::export::parse_time("until", &args.until)?;
    let pb = crate::progress::counter(global.quiet, "posts read");
    // Claims come from the store's matches (`pharos claims match --store`),
    // else from matching the posts now.
    let matcher = LazyMatcher::new(&library);
    let pack = build_pack(&store, &library, &target, &opts, Some(&matcher), &mut |n| {
        pb.set_position(n)
    })?;
    pb.finish_and_clear();
    let text = if args.json {
        serde_json::to_string_pretty(&pack)? + "\n"
    } else {
        to_markdown(&pack)
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            if !global.quiet {
                eprintln!(
                    "wrote the response pack ({} claims, {} verdicts, stage {}) to {}",
                    pack.claims.len(),
                    pack.verdicts.len(),
                    pack.timing.stage.as_str(),
                    path.display()
                );
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    Ok(if pack.claims.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn log(args: LogArgs, global: &Global) -> Result<ExitCode> {
    let at = if args.when.trim().eq_ignore_ascii_case("now") {
        EventTime(pharos_core::now_ms())
    } else {
        EventTime::parse(&args.when).with_context(|| "--when")?
    };
    let mut store = AnyStore::open_existing(&args.store)?;
    let pb = crate::progress::counter(global.quiet, "posts read");
    let r = tracking::log(
        &mut store,
        NewResponse {
            narrative: args.narrative,
            who: args.who,
            at,
            channel: args.channel,
            url: args.url,
            partner: args.partner,
            note: args.note,
        },
        &mut |n| pb.set_position(n),
    )?;
    pb.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "logged response {} to narrative {}{}: {} on {} at {}",
            r.id,
            r.narrative,
            r.label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            r.who,
            r.channel,
            r.at.to_rfc3339()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn report(args: ReportArgs, global: &Global) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&args.store)?;
    let pb = crate::progress::counter(global.quiet, "posts read");
    let r = tracking::report(&store, args.narrative, args.window, &mut |n| {
        pb.set_position(n)
    })?;
    pb.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        print!("{}", render_report(&r));
    }
    Ok(ExitCode::SUCCESS)
}

fn render_report(r: &Report) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    if r.narratives.is_empty() {
        let _ = writeln!(o, "no responses logged (`pharos respond log` records one)");
        return o;
    }
    let _ = writeln!(
        o,
        "{} narratives with responses, {} resurging; windows of {} hours{}",
        r.narratives.len(),
        r.resurging.len(),
        r.window_hours,
        r.as_of
            .map(|t| format!("; data up to {}", t.to_rfc3339()))
            .unwrap_or_default()
    );
    for n in &r.narratives {
        let _ = writeln!(
            o,
            "\nnarrative {}{}: {} posts, {} responses{}",
            n.narrative,
            n.label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            n.posts,
            n.responses.len(),
            if n.resurging { "  RESURGING" } else { "" }
        );
        for note in &n.notes {
            let _ = writeln!(o, "  note: {note}");
        }
        for rr in &n.responses {
            let x = &rr.response;
            let _ = writeln!(
                o,
                "  response {} at {} by {} on {}{}{}",
                x.id,
                x.at.to_rfc3339(),
                x.who,
                x.channel,
                x.url
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default(),
                x.partner
                    .as_deref()
                    .map(|p| format!(" (partner {p})"))
                    .unwrap_or_default()
            );
            for (name, w) in [("before", &rr.before), ("after ", &rr.after)] {
                let _ = writeln!(
                    o,
                    "    {name} {:>5.1} h: {:>6} posts ({:.1}/h), platforms {}, languages {}, {} accounts, {} new ({:.1}/h, {:.0}%)",
                    w.hours,
                    w.posts,
                    w.posts_per_hour,
                    w.platforms
                        .iter()
                        .map(|c| format!("{} {}", c.key, c.posts))
                        .collect::<Vec<_>>()
                        .join(", "),
                    w.languages
                        .iter()
                        .map(|c| format!("{} {}", c.key, c.posts))
                        .collect::<Vec<_>>()
                        .join(", "),
                    w.accounts,
                    w.new_accounts,
                    w.new_accounts_per_hour,
                    100.0 * w.new_account_share
                );
            }
            let trend = match rr.trend {
                Trend::Declined => "declined",
                Trend::Flat => "flat",
                Trend::Grew => "grew",
            };
            let _ = writeln!(o, "    trend: {trend}");
            if let Some(s) = &rr.resurgence {
                let _ = writeln!(
                    o,
                    "    resurgence at {}: {} (quiet from {})",
                    s.at.to_rfc3339(),
                    s.reason,
                    s.quiet_from.to_rfc3339()
                );
            }
        }
    }
    o
}
