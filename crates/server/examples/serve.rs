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
//! (`/proc/self/status`), for the live incidents' benchmark.

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
        let (at, analysed, covered, incidents) = {
            let s = snapshot.read().unwrap_or_else(|p| p.into_inner());
            (
                s.incidents_at.clone(),
                s.members.analysed_rowid,
                s.incidents_rowid,
                s.incidents,
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
            "monitor {:.1} s: analysed {analysed} covered {covered} incidents {incidents} rss_kb {} hwm_kb {}",
            start.elapsed().as_secs_f64(),
            kb("VmRSS:"),
            kb("VmHWM:")
        );
    }
}
