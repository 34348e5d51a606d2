//! Polling RSS/Atom feeds over HTTP with conditional GET (being written).
