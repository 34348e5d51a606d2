//! (being written)

use crate::{Item, Rejection, Sink};
use std::io::BufRead;

pub fn read(_reader: &mut dyn BufRead, source: &str, sink: &mut Sink<'_>) {
    let _ = sink(Item::Rejected(Rejection::new(source, None, None, "format telegram: importer not built yet", "")));
}
