//! (being written)

use crate::{Item, Options, Rejection, Sink};
use std::io::BufRead;

pub fn read(_reader: &mut dyn BufRead, source: &str, _opts: &Options, sink: &mut Sink<'_>) {
    let _ = sink(Item::Rejected(Rejection::new(source, None, None, "format rss: importer not built yet", "")));
}
