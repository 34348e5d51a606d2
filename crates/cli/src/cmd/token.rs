//! `pharos token`: API tokens for `pharos serve` (create, list, revoke).

use super::{Global, StoreArg};
use anyhow::{Context, Result};
use pharos_server::audit::{self, AuditEntry};
use pharos_server::auth::{self, Role};
use pharos_store::AnyStore;
use std::process::ExitCode;

/// API tokens: create (shown once, stored hashed), list, revoke.
///
/// Roles: admin (everything, tokens, markings, audit log), analyst (reads,
/// ingests, exports), partner (read-only; needs --org; sees only what the
/// TLP markings clear its organisation for).
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it (the only time it is shown).
    Create {
        /// admin, analyst or partner.
        #[arg(long)]
        role: String,
        /// The partner's organisation (required for partners).
        #[arg(long)]
        org: Option<String>,
        /// Who or what uses it (shown in lists and the audit log; RED markings name people by token id, not by name); default: the role.
        #[arg(long)]
        name: Option<String>,
        /// Print `{"token", "id", ...}` as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArg,
    },
    /// List tokens (never the tokens themselves).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Revoke a token by id.
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArg,
    },
}

fn open(store: &StoreArg) -> Result<AnyStore> {
    Ok(AnyStore::open_existing(&store.store)?)
}

/// The audit row of a token change made here, committed in the change's
/// own transaction (both are stored, or neither).
fn cli_audit(object: String, detail: String) -> pharos_store::AuditRecord {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    audit::row(AuditEntry {
        name: Some(format!("cli:{who}")),
        action: "change".into(),
        method: "CLI".into(),
        path: "pharos token".into(),
        object: Some(object),
        status: 0,
        detail: Some(detail),
        ..Default::default()
    })
}

pub fn run(args: Args, _global: &Global) -> Result<ExitCode> {
    match args.command {
        TokenCommand::Create {
            role,
            org,
            name,
            json,
            store,
        } => {
            let role = Role::parse(&role)
                .with_context(|| format!("--role {role:?}: use admin, analyst or partner"))?;
            let s = open(&store)?;
            let name = name.unwrap_or_else(|| role.as_str().to_string());
            let t = auth::create_audited(&s, role, org.as_deref(), &name, |t| {
                vec![cli_audit(
                    format!("token {}", t.id),
                    format!("created {} token for {:?}", role.as_str(), t.name),
                )]
            })
            .context("creating the token and its audit row")?;
            if json {
                println!("{}", serde_json::to_string(&t)?);
            } else {
                println!("{}", t.token);
                eprintln!(
                    "token {} ({}{}, {:?}) created; it is shown only now: keep it safe",
                    t.info.id,
                    role.as_str(),
                    t.info
                        .org
                        .as_deref()
                        .map(|o| format!(" of {o}"))
                        .unwrap_or_default(),
                    t.info.name
                );
            }
        }
        TokenCommand::List { json, store } => {
            let s = open(&store)?;
            let list = auth::list(&s)?;
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                for t in list {
                    println!(
                        "{}  {:<8} {:<16} {:<20} created {}{}",
                        t.id,
                        t.role.as_str(),
                        t.org.as_deref().unwrap_or("-"),
                        t.name,
                        t.created,
                        t.revoked
                            .map(|r| format!("  REVOKED {r}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        TokenCommand::Revoke { id, store } => {
            let s = open(&store)?;
            auth::revoke_audited(
                &s,
                &id,
                &[cli_audit(format!("token {id}"), "revoked".into())],
            )
            .context("revoking the token with its audit row")?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
