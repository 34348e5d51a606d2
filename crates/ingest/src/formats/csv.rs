//! (being written)

use crate::{IngestError, Item, Options, Rejection, Sink};
use std::io::BufRead;

/// Named column layouts of well-known CSV exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Coortweet,
    Qut,
    Crowdtangle,
    FourCat,
}

/// How to read a CSV file: a preset and/or `field=column` pairs (pairs win).
#[derive(Clone, Debug, Default)]
pub struct CsvOptions {
    pub preset: Option<Preset>,
    pub map: Vec<(String, String)>,
    pub delimiter: Option<u8>,
}

pub fn read(_reader: &mut dyn BufRead, source: &str, _opts: &Options, sink: &mut Sink<'_>) -> Result<(), IngestError> {
    let _ = sink(Item::Rejected(Rejection::new(source, None, None, "format csv: importer not built yet", "")));
    Ok(())
}
