//! Every table of a store, in one place: the posts' schema and the tables
//! of each repository ("component"), with their migrations.
//!
//! The posts' tables are versioned by SQLite's `user_version`
//! ([`POSTS`]); each repository's tables by their row in `components`
//! ([`COMPONENTS`]: `migrations[i]` takes a component from version `i` to
//! `i + 1`). Names, columns and versions are those that the components
//! wrote when they kept their own migrations (before 2026-12), so stores
//! written then open unchanged. Opening a store applies what it lacks,
//! each migration in its own transaction; a version newer than this
//! pharos knows is refused ([`crate::StoreError::TooNew`]).

/// A repository's tables: its name in `components` and its migrations.
#[derive(Clone, Copy, Debug)]
pub struct Component {
    pub name: &'static str,
    pub migrations: &'static [&'static str],
}

/// Posts, their links and hashtags, ingest runs, and the `components`
/// table; index + 1 is the `user_version` after applying it.
pub(crate) const POSTS: &[&str] = &[
    // 1: posts, links, hashtags, runs. Secondary indexes are in
    // `sqlite::INDEXES`.
    "CREATE TABLE posts (
        rowid INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        id TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        actor_id TEXT NOT NULL,
        actor_key INTEGER NOT NULL,
        lang TEXT,
        reshare_of TEXT,
        reply_to TEXT,
        quote_of TEXT,
        record TEXT NOT NULL,
        UNIQUE (platform, id)
    );
    CREATE TABLE post_links (
        post INTEGER NOT NULL,
        url TEXT NOT NULL,
        domain TEXT NOT NULL
    );
    CREATE TABLE post_hashtags (
        post INTEGER NOT NULL,
        tag TEXT NOT NULL
    );
    CREATE TABLE runs (
        run INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        sources TEXT NOT NULL,
        stored INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        quarantined INTEGER NOT NULL,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER NOT NULL
    );",
    // 2: versions of the repositories' tables (`COMPONENTS`).
    "CREATE TABLE components (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL
    );",
    // 3: each hashtag and link row carries its post's time, so a hashtag's
    // or a domain's newest posts come from one index walk (`INDEXES`:
    // `(tag, time_ms, post)`, `(domain, time_ms, post)`, which also serve
    // look-ups by tag or domain alone and replace the indexes on those).
    // Rows already stored take the time of their post.
    "ALTER TABLE post_hashtags ADD COLUMN time_ms INTEGER NOT NULL DEFAULT 0;
    UPDATE post_hashtags SET time_ms = COALESCE((SELECT p.time_ms FROM posts p WHERE p.rowid = post_hashtags.post), 0);
    ALTER TABLE post_links ADD COLUMN time_ms INTEGER NOT NULL DEFAULT 0;
    UPDATE post_links SET time_ms = COALESCE((SELECT p.time_ms FROM posts p WHERE p.rowid = post_links.post), 0);
    DROP INDEX IF EXISTS post_hashtags_tag;
    DROP INDEX IF EXISTS post_links_domain;",
];

/// Claim matches of stored posts ([`crate::ClaimMatches`]): one row per
/// (post, claim) at or above the threshold used when the posts were matched.
pub const CLAIM_MATCHES: Component = Component {
    name: "claim_matches",
    migrations: &["CREATE TABLE claim_matches (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        claim_id TEXT NOT NULL,
        score REAL NOT NULL,
        confidence REAL NOT NULL,
        PRIMARY KEY (platform, post_id, claim_id)
    );
    CREATE INDEX claim_matches_claim ON claim_matches (claim_id);"],
};

/// Incidents ([`crate::Incidents`]): the whole incident as JSON plus the
/// columns lists are filtered on.
pub const INCIDENTS: Component = Component {
    name: "incidents",
    migrations: &["CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        severity REAL NOT NULL,
        confidence REAL NOT NULL,
        model_version INTEGER NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX incidents_time ON incidents (first_seen_ms);"],
};

/// Logged responses to narratives ([`crate::Responses`]).
pub const RESPONSES: Component = Component {
    name: "responses",
    migrations: &["CREATE TABLE responses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        narrative INTEGER NOT NULL,
        anchor_platform TEXT,
        anchor_post TEXT,
        label TEXT,
        who TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        channel TEXT NOT NULL,
        url TEXT,
        partner TEXT,
        note TEXT,
        logged_at_ms INTEGER NOT NULL
    );
    CREATE INDEX responses_narrative ON responses (narrative, at_ms);"],
};

/// The DISARM catalogue ([`crate::DisarmCatalogue`]): tactics and
/// techniques keyed on their TA- and T-numbers (a technique's tactic ids
/// as a JSON array), and one row per import.
pub const DISARM: Component = Component {
    name: "disarm",
    migrations: &["CREATE TABLE disarm_tactics (
        ta_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        shortname TEXT NOT NULL,
        description TEXT
    );
    CREATE TABLE disarm_techniques (
        t_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tactic_ids TEXT NOT NULL,
        description TEXT,
        imported_ms INTEGER NOT NULL
    );
    CREATE TABLE disarm_imports (
        import INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        techniques INTEGER NOT NULL,
        tactics INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    );"],
};

/// Partners' STIX objects as received, and one row per imported bundle
/// ([`crate::StixObjects`]).
pub const STIX_IMPORT: Component = Component {
    name: "stix_import",
    migrations: &["CREATE TABLE stix_objects (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        key TEXT,
        name TEXT,
        modified TEXT,
        tlp TEXT,
        markings TEXT NOT NULL,
        created_by_ref TEXT,
        source TEXT NOT NULL,
        imported_ms INTEGER NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX stix_objects_type_key ON stix_objects (type, key);
    CREATE TABLE stix_imports (
        import INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        bundle_id TEXT,
        objects INTEGER NOT NULL,
        added INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    );"],
};

/// The server's tables: API tokens (hashed), the append-only audit log,
/// TLP markings of objects, the posts' full-text index and its progress
/// ([`crate::Tokens`], [`crate::AuditLog`], [`crate::Markings`],
/// [`crate::TextIndex`]).
pub const SERVER: Component = Component {
    name: "server",
    migrations: &["CREATE TABLE server_tokens (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        org TEXT,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    );
    CREATE TABLE server_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        token TEXT,
        name TEXT,
        role TEXT,
        org TEXT,
        action TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        object TEXT,
        status INTEGER NOT NULL,
        detail TEXT
    );
    CREATE TRIGGER server_audit_no_update BEFORE UPDATE ON server_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER server_audit_no_delete BEFORE DELETE ON server_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE server_markings (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        tlp TEXT NOT NULL,
        orgs TEXT NOT NULL,
        people TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    CREATE VIRTUAL TABLE server_fts USING fts5(text, content='', tokenize='unicode61 remove_diacritics 2');
    CREATE TABLE server_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        // 2: the audit log's hash chain (issue 14, finding 3): each row's
        // hash covers its contents and the hash of the row before
        // (`crate::audit_row_hash`). Rows written before have none.
        "ALTER TABLE server_audit ADD COLUMN hash TEXT;"],
};

/// TAXII 2.1: the server's collections (`taxii_objects`), status
/// resources, small named values, and where `pharos share pull` stopped
/// (`crate::taxii`). Before 2026-12 created by the TAXII code on first use.
pub const TAXII: Component = Component {
    name: "taxii",
    migrations: &["CREATE TABLE taxii_objects (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        version TEXT NOT NULL,
        scope TEXT NOT NULL,
        type TEXT NOT NULL,
        spec_version TEXT NOT NULL,
        date_added_us INTEGER NOT NULL,
        json TEXT NOT NULL,
        UNIQUE (collection, id, version, scope)
    );
    CREATE INDEX taxii_objects_id ON taxii_objects (collection, id);
    CREATE TABLE taxii_status (
        id TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        json TEXT NOT NULL
    );
    CREATE TABLE taxii_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE taxii_pulls (
        remote TEXT NOT NULL,
        collection TEXT NOT NULL,
        added_after TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (remote, collection)
    );"],
};

/// Hashes of the local media files that stored posts reference
/// ([`crate::MediaHashes`], `pharos media scan`): one row per (post, media
/// reference), the file's SHA-256, PDQ hash and quality, and its C2PA
/// findings as JSON (the media crate's type; `NULL` when the file has no
/// manifest).
pub const MEDIA: Component = Component {
    name: "media",
    migrations: &["CREATE TABLE media_files (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        url TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        pdq TEXT NOT NULL,
        quality INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        c2pa TEXT,
        xmp_source_type TEXT,
        scanned_ms INTEGER NOT NULL,
        PRIMARY KEY (platform, post_id, url)
    );
    CREATE INDEX media_files_sha256 ON media_files (sha256);"],
};

/// Every repository's tables, created (or brought up to date) when a
/// store opens.
pub const COMPONENTS: &[Component] = &[
    CLAIM_MATCHES,
    INCIDENTS,
    RESPONSES,
    DISARM,
    STIX_IMPORT,
    SERVER,
    TAXII,
    MEDIA,
];
