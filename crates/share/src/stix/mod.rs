//! STIX 2.1 bundles: ids, TLP markings, export of incidents, import of
//! partners' bundles, and a structural check of what Pharos writes.

pub mod check;
pub mod export;
pub mod ids;
pub mod import;
pub mod tlp;

pub use export::{
    ExportOptions, ExportSummary, Finding, FindingKind, OpenCtiTypes, export_bundle,
    finding_bundle, write_bundle_file,
};
pub use import::{FileReport, ImportError, Importer, stored_objects};
