//! (being written)

use crate::{Item, Rejection, Sink};
use std::io::BufRead;

pub fn read(_reader: &mut dyn BufRead, source: &str, sink: &mut Sink<'_>) {
    let _ = sink(Item::Rejected(Rejection::new(source, None, None, "format twitter_v2: importer not built yet", "")));
}
