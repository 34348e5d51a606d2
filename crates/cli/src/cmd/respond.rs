//! `pharos respond` (being built).

use super::Global;
use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args, _global: &Global) -> Result<ExitCode> {
    bail!("pharos respond is not built yet")
}
