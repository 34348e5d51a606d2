//! `pharos serve` without the rest of the command line (for benchmarks:
//! a release build of the server alone links far less than the whole CLI).
//!
//! ```text
//! cargo run --release -p pharos-server --example serve -- STORE [LISTEN] [CONFIG.toml]
//! cargo run --release -p pharos-server --example serve -- token STORE   # creates the store if absent, prints an admin token
//! ```

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
    pharos_server::run(&store.into(), listen, config)
}
