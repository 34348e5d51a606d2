//! `pharos serve` without the rest of the command line (for benchmarks:
//! a release build of the server alone links far less than the whole CLI).
//!
//! ```text
//! cargo run --release -p pharos-server --example serve -- STORE [LISTEN] [CONFIG.toml]
//! cargo run --release -p pharos-server --example serve -- token STORE   # creates the store if absent, prints an admin token
//! ```
//!
//! With `PHAROS_MONITOR=1` it prints a line to stderr after each live
//! incidents pass: seconds since start, the posts analysed and covered by
//! incidents (rowids), incidents stored, and the process's RSS and peak RSS
//! (`/proc/self/status`), for the live incidents' benchmark; RSS split
//! into anonymous memory and the store's pages mapped from the file
//! (`RssAnon`, `RssFile`: SQLite readers map up to 1 GiB of the store, and
//! those pages are the kernel's page cache, dropped under pressure); the
//! bytes allocated and not yet freed (`heap_kb`, counted by this example's
//! allocator: what RSS holds beyond it is the allocator's free pages) and
//! the entries the live analysis holds (`Snapshot::footprint`, JSON).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes it holds for the program.
struct Counting;

static HEAP: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only a counter
// is updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            HEAP.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            HEAP.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
            HEAP.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("token") {
        let path = args.get(1).expect("usage: serve token STORE");
        let store = pharos_store::open(path)?;
        let t =
            pharos_server::auth::create(&store, pharos_server::auth::Role::Admin, None, "bench")?;
        println!("{}", t.token);
        return Ok(());
    }
    let store = args
        .first()
        .expect("usage: serve STORE [LISTEN] [CONFIG.toml] | serve token STORE");
    let listen = args.get(1).map(String::as_str).unwrap_or("127.0.0.1:8080");
    let config = match args.get(2) {
        Some(p) => pharos_server::Config::load(p.as_ref())?,
        None => pharos_server::Config::default(),
    };
    let store: pharos_store::Location = store.into();
    if std::env::var_os("PHAROS_MONITOR").is_none() {
        return pharos_server::run(&store, listen, config);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let state = pharos_server::start(&store, config)?;
        let snapshot = state.snapshot.clone();
        std::thread::spawn(move || monitor(snapshot));
        let listener = tokio::net::TcpListener::bind(listen).await?;
        eprintln!("serve: http://{}/", listener.local_addr()?);
        pharos_server::serve(listener, state).await
    })
}

/// One line per live incidents pass (see the module docs).
fn monitor(snapshot: std::sync::Arc<std::sync::RwLock<pharos_server::analyst::Snapshot>>) {
    let start = std::time::Instant::now();
    let mut last: Option<String> = None;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (at, analysed, covered, incidents, footprint) = {
            let s = snapshot.read().unwrap_or_else(|p| p.into_inner());
            (
                s.incidents_at.clone(),
                s.members.analysed_rowid,
                s.incidents_rowid,
                s.incidents,
                serde_json::to_string(&s.footprint).unwrap_or_default(),
            )
        };
        if at.is_none() || at == last {
            continue;
        }
        last = at;
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().trim_end_matches(" kB").to_string())
                .unwrap_or_default()
        };
        eprintln!(
            "monitor {:.1} s: analysed {analysed} covered {covered} incidents {incidents} rss_kb {} hwm_kb {} anon_kb {} file_kb {} heap_kb {} {footprint}",
            start.elapsed().as_secs_f64(),
            kb("VmRSS:"),
            kb("VmHWM:"),
            kb("RssAnon:"),
            kb("RssFile:"),
            HEAP.load(Ordering::Relaxed) / 1024
        );
    }
}
