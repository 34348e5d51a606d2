//! Importers and the on-disk fact-check library.
