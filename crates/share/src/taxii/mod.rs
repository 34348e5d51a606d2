//! TAXII 2.1 client: push the store's findings to a partner's collection,
//! pull a partner's collection into the store.
//!
//! - [`Remote::connect`] takes an API root URL (`https://host/taxii2/pharos/`)
//!   or a discovery URL (`https://host/taxii2/`, whose default API root is
//!   then used), with a token (`Authorization: Bearer`) or a user name and
//!   password (HTTP Basic; a Pharos server takes its token as the password).
//! - [`push`] posts objects in envelopes that fit the API root's
//!   `max_content_length`, and reads back each status resource.
//! - [`pull`] reads a collection page by page (`next`), imports each page
//!   as `pharos import stix` imports a bundle (checked object by object,
//!   rejects quarantined), and remembers where it stopped (`added_after`,
//!   from `X-TAXII-Date-Added-Last`) per remote and collection, so the next
//!   pull asks only for what is new.
//!
//! The HTTP server side lives in `pharos-server` (`taxii` module).

pub mod client;

pub use client::{
    Auth, ClientError, MEDIA_TYPE, PullReport, PushReport, Remote, STIX_MEDIA_TYPE, pull, push,
};
