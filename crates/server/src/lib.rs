//! Pharos server: REST API, live ingest and alerts, dashboard, access control and audit.
