//! Switchyard's benchmark suite. Starts the real `switchyard` server as a separate process on a
//! fresh SQLite file and on a fresh PostgreSQL database, seeds a realistic dataset through the
//! HTTP API, measures the Embedded API's hot paths at several concurrencies next to two ceilings
//! (the HTTP stack's `/healthz`, and the raw database doing an activation's writes), and writes a
//! markdown table and a JSON file. See bench/README.md.
mod load;
mod raw;
mod report;
mod seed;
mod server;

use anyhow::{Context, Result};
use clap::Parser;
use load::{run_cell, Cell, Outcome};
use seed::{Api, Pairs, Sizes};
use server::{Backend, Database, Server};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "switchyard-bench",
    version,
    about = "Benchmarks the switchyard server on SQLite and PostgreSQL"
)]
pub struct Args {
    /// Dataset scale: 1.0 is the full dataset (1,000 integrations, 100,000 end users, 50,000
    /// activations); 0.01 is a quick development run.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Measured time per cell (operation × concurrency), e.g. `10s`, `500ms`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Unmeasured warm-up before each cell.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Concurrencies (closed-loop clients) to measure at.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    pub concurrency: Vec<usize>,
    /// Databases to run on.
    #[arg(long, value_delimiter = ',', default_value = "postgres,sqlite")]
    pub databases: Vec<Backend>,
    /// A PostgreSQL server to create the benchmark database on (the URL's database is only used
    /// to connect).
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        env = "SWITCHYARD_BENCH_POSTGRES_URL"
    )]
    pub postgres_url: String,
    /// The database created (dropped first if it exists) and dropped at the end.
    #[arg(long, default_value = "switchyard_bench")]
    pub postgres_db: String,
    /// The server binary (default: target/release/switchyard of this workspace).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Where latest.md and latest.json go (default: bench/results).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Concurrent requests while seeding.
    #[arg(long, default_value_t = 32)]
    pub seed_concurrency: usize,
    /// Keep the databases (and print where they are) instead of dropping them.
    #[arg(long)]
    pub keep: bool,
    /// On PostgreSQL, do not run ANALYZE during and after seeding. By default the benchmark runs it
    /// every 20 s while seeding and once after, as autovacuum would on a server where it is on
    /// (PostgreSQL's default): without statistics the planner picks sequential scans.
    #[arg(long)]
    pub no_analyze: bool,
    /// The operations to measure (default: all). For profiling one path, e.g.
    /// `--operations activate,raw`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "healthz,get,list,activate,raw"
    )]
    pub operations: Vec<Operation>,
    /// SQLite's `synchronous` for the server and the raw-database ceiling: `full` (the server's
    /// default: every acknowledged commit is on disk) or `normal`. With `full`, the SQLite run also
    /// measures the raw ceiling with `normal`, for comparison.
    #[arg(long, default_value = "full", value_parser = parse_synchronous)]
    pub sqlite_synchronous: switchyard_store::SqliteSynchronous,
}

fn parse_synchronous(s: &str) -> Result<switchyard_store::SqliteSynchronous, String> {
    s.parse()
}

/// The measured operations, as `--operations` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Operation {
    /// GET /healthz, the HTTP-stack ceiling.
    Healthz,
    /// GetActivation.
    Get,
    /// ListEndUserIntegrations: first page, deep page, 10-integration hub.
    List,
    /// ActivateIntegration with two new API-key connections.
    Activate,
    /// The raw-database ceiling: an activation's writes without HTTP.
    Raw,
}

/// Measures a cell served by `server`, adding the server's CPU time per request.
async fn on_server(server: &Server, cell: impl std::future::Future<Output = Cell>) -> Cell {
    let before = server.cpu_time();
    let mut cell = cell.await;
    if let (Some(a), Some(b)) = (before, server.cpu_time()) {
        if cell.completed > 0 {
            cell.server_cpu_ms_per_request =
                Some(b.saturating_sub(a).as_secs_f64() * 1000.0 / cell.completed as f64);
        }
    }
    cell
}

async fn analyze(url: &str) -> Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url).await?;
    sqlx::query("ANALYZE").execute(&mut c).await?;
    c.close().await?;
    Ok(())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s:?} (use ms, s or m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is in the workspace")
        .to_path_buf()
}

/// An HTTP operation's outcome: 2xx is success, anything else an error with its status and body.
async fn outcome(req: reqwest::RequestBuilder) -> Outcome {
    match req.send().await {
        Ok(res) => {
            let status = res.status();
            match res.bytes().await {
                Ok(body) if status.is_success() => {
                    let _ = body;
                    Outcome::Ok
                }
                Ok(body) => Outcome::Err(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )),
                Err(e) => Outcome::Err(format!("{status}: reading the body: {e}")),
            }
        }
        Err(e) => Outcome::Err(format!("transport: {e}")),
    }
}

/// Follows `next` cursors through a hub's end-user integration list; returns the cursor of the
/// last page and how many pages deep it is (page 1 = no cursor).
async fn deep_cursor(api: &Api, hub: &str, user: &str) -> Result<(Option<String>, usize)> {
    let mut cursor: Option<String> = None;
    let mut depth = 1;
    loop {
        let mut req = api.http.get(api.url(&format!(
            "/api/embedded/v1/embed/{hub}/users/{user}/integrations"
        )));
        if let Some(c) = &cursor {
            req = req.query(&[("after", c)]);
        }
        let v: serde_json::Value = req.send().await?.error_for_status()?.json().await?;
        let next = v["next"].as_str().unwrap_or_default().to_owned();
        if next.is_empty() {
            return Ok((cursor, depth));
        }
        cursor = Some(next);
        depth += 1;
    }
}

#[derive(serde::Serialize)]
pub struct Run {
    pub database: Backend,
    pub counts: seed::Counts,
    pub seeding_seconds: f64,
    pub seeding: Vec<seed::Phase>,
    pub database_bytes_after_seeding: Option<u64>,
    pub rss_after_seeding_mb: Option<f64>,
    pub rss_at_end_mb: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    pub deep_page: usize,
    pub cells: Vec<Cell>,
    /// Pairs (user, integration) activated by the HTTP activation cells and by the raw ceiling.
    pub activation_pairs_used: u64,
    /// Whether ANALYZE ran during and after seeding (PostgreSQL without --no-analyze).
    pub analyzed: bool,
    /// SQLite only: the server's and the raw ceiling's `synchronous` (`full` or `normal`).
    pub sqlite_synchronous: Option<&'static str>,
}

pub const OP_HEALTHZ: &str = "GET /healthz (HTTP ceiling)";
pub const OP_ACTIVATE: &str = "ActivateIntegration (2 new API-key connections)";
pub const OP_RAW: &str = "raw DB: activation writes, 1 tx (DB ceiling)";
pub const OP_RAW_NORMAL: &str =
    "raw DB: activation writes, 1 tx, SQLite synchronous=NORMAL (for comparison)";
pub const OP_LIST_FIRST: &str = "ListEndUserIntegrations, first page (10 items)";
pub const OP_LIST_DEEP: &str = "ListEndUserIntegrations, deep page";
pub const OP_LIST_SMALL: &str =
    "ListEndUserIntegrations, first page (10 items), 10-integration hub";
pub const OP_GET: &str = "GetActivation";
pub const OP_RAW_GET: &str = "raw DB: GetActivation reads (DB ceiling)";
pub const OP_RAW_LIST: &str = "raw DB: ListEndUserIntegrations first-page reads (DB ceiling)";

async fn run_backend(args: &Args, backend: Backend, bin: &std::path::Path) -> Result<Run> {
    eprintln!("== {}", backend.label());
    let db = Database::create(backend, &args.postgres_url, &args.postgres_db, args.keep).await?;
    let result = run_on(args, backend, bin, &db).await;
    if let Err(e) = db.drop_all().await {
        eprintln!("could not remove the benchmark database: {e}");
    }
    result
}

async fn run_on(
    args: &Args,
    backend: Backend,
    bin: &std::path::Path,
    db: &Database,
) -> Result<Run> {
    let (org, key) = server::create_org(bin, db)?;
    let synchronous = (backend == Backend::Sqlite).then_some(args.sqlite_synchronous);
    let mut server = Server::start(bin, db, synchronous)?;
    eprintln!("server pid {} at {}", server.pid, server.url);
    let api = Api::new(&server.url, &org, &key)?;
    let sizes = Sizes::at_scale(args.scale);
    let analyzing = backend == Backend::Postgres && !args.no_analyze;
    let analyzer = analyzing.then(|| {
        let url = db.url.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(20)).await;
                if let Err(e) = analyze(&url).await {
                    eprintln!("ANALYZE failed: {e}");
                }
            }
        })
    });
    let seeded = seed::seed(&api, &sizes, args.seed_concurrency).await;
    if let Some(a) = analyzer {
        a.abort();
    }
    let ds = match seeded {
        Ok(ds) => ds,
        Err(e) => {
            return Err(e.context(format!(
                "seeding failed; server log tail:\n{}",
                server.last_log(20)
            )))
        }
    };
    if analyzing {
        analyze(&db.url).await?;
        eprintln!("ran ANALYZE");
    }
    let mb = |kb: Option<u64>| kb.map(|k| k as f64 / 1024.0);
    let rss_after_seeding_mb = mb(server.status_kb("VmRSS"));
    let database_bytes_after_seeding = db.size_bytes().await;
    eprintln!(
        "seeded in {:.1} s; server RSS {:.1} MB",
        ds.seconds,
        rss_after_seeding_mb.unwrap_or(0.0)
    );

    let big = Arc::new(ds.big);
    let small = Arc::new(ds.small);
    let (deep, deep_page) = deep_cursor(&api, &big.id, &big.external(0)).await?;
    let pairs = Arc::new(Pairs::new(&big, 0, 2));
    let raw_pairs = Arc::new(Pairs::new(&big, 1, 2));
    let mut cells = Vec::new();
    let (warmup, duration) = (args.warmup, args.duration);
    let show = |c: &Cell| {
        eprintln!(
            "  {:<58} c={:<3} {:>9.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  p99.9 {:>8.2} ms  errors {}{}{}",
            c.operation,
            c.concurrency,
            c.throughput,
            c.p50_ms,
            c.p99_ms,
            c.p999_ms,
            c.errors,
            c.server_cpu_ms_per_request.map(|v| format!("  server CPU {v:.3} ms/req")).unwrap_or_default(),
            if c.exhausted { "  (ran out of fresh pairs)" } else { "" }
        );
        for s in &c.error_samples {
            eprintln!("      error: {s}");
        }
    };

    let measures = |op: Operation| args.operations.contains(&op);
    for &c in args
        .concurrency
        .iter()
        .filter(|_| measures(Operation::Healthz))
    {
        let api = api.clone();
        let cell = on_server(
            &server,
            run_cell(OP_HEALTHZ, c, warmup, duration, move |_, _| {
                outcome(api.http.get(api.url("/healthz")))
            }),
        )
        .await;
        show(&cell);
        cells.push(cell);
    }
    for &c in args.concurrency.iter().filter(|_| measures(Operation::Get)) {
        let (api, big) = (api.clone(), big.clone());
        let cell = on_server(
            &server,
            run_cell(OP_GET, c, warmup, duration, move |_, rng| {
                let id = &big.activations[rand::Rng::gen_range(rng, 0..big.activations.len())];
                outcome(
                    api.http
                        .get(api.url(&format!("/api/embedded/v1/activations/{id}"))),
                )
            }),
        )
        .await;
        show(&cell);
        cells.push(cell);
    }
    // The first pages ask for 10 items on both hubs (the small hub has only 10), so that their
    // ratio compares hub sizes at equal page sizes; the deep page is at the default 20.
    let lists = if measures(Operation::List) {
        vec![
            (OP_LIST_FIRST, big.clone(), None, Some("10")),
            (OP_LIST_DEEP, big.clone(), deep.clone(), None),
            (OP_LIST_SMALL, small.clone(), None, Some("10")),
        ]
    } else {
        vec![]
    };
    for (op, hub, cursor, first) in lists {
        for &c in &args.concurrency {
            let (api, hub, cursor) = (api.clone(), hub.clone(), cursor.clone());
            let cell = on_server(
                &server,
                run_cell(op, c, warmup, duration, move |_, rng| {
                    let u = rand::Rng::gen_range(rng, 0..hub.users.len());
                    let mut req = api.http.get(api.url(&format!(
                        "/api/embedded/v1/embed/{}/users/{}/integrations",
                        hub.id,
                        hub.external(u)
                    )));
                    if let Some(cur) = &cursor {
                        req = req.query(&[("after", cur)]);
                    }
                    if let Some(n) = first {
                        req = req.query(&[("first", n)]);
                    }
                    outcome(req)
                }),
            )
            .await;
            show(&cell);
            cells.push(cell);
        }
    }
    for &c in args
        .concurrency
        .iter()
        .filter(|_| measures(Operation::Activate))
    {
        let (api, big, pairs) = (api.clone(), big.clone(), pairs.clone());
        let cell = on_server(
            &server,
            run_cell(OP_ACTIVATE, c, warmup, duration, move |_, _| {
                let next = pairs.next();
                let (api, big) = (api.clone(), big.clone());
                async move {
                    let Some((u, d)) = next else {
                        return Outcome::Exhausted;
                    };
                    let body = seed::activation_body(&big.external(u), &big.deployed[d]);
                    outcome(
                        api.http
                            .post(api.url("/api/embedded/v1/activations"))
                            .json(&body),
                    )
                    .await
                }
            }),
        )
        .await;
        show(&cell);
        cells.push(cell);
    }
    let peak_rss_mb = mb(server.status_kb("VmHWM"));
    let rss_at_end_mb = mb(server.status_kb("VmRSS"));
    eprintln!(
        "server peak RSS (VmHWM) {:.1} MB, RSS now {:.1} MB",
        peak_rss_mb.unwrap_or(0.0),
        rss_at_end_mb.unwrap_or(0.0)
    );
    server.stop();

    // The raw-database ceiling, with the server stopped: the same store code, driver and pool
    // (and SQLite setting). On SQLite with `synchronous=FULL`, once more with NORMAL to compare.
    if measures(Operation::Raw) {
        let mut settings = vec![(OP_RAW, args.sqlite_synchronous)];
        if synchronous == Some(switchyard_store::SqliteSynchronous::Full) {
            settings.push((OP_RAW_NORMAL, switchyard_store::SqliteSynchronous::Normal));
        }
        for (op, sqlite_synchronous) in settings {
            let options = switchyard_store::ConnectOptions { sqlite_synchronous };
            let raw = Arc::new(
                raw::Raw::open(
                    &db.url,
                    &options,
                    &org,
                    &ds.connectors.crm,
                    &ds.connectors.erp,
                    big.clone(),
                    raw_pairs.clone(),
                )
                .await?,
            );
            for &c in &args.concurrency {
                let raw = raw.clone();
                let cell = run_cell(op, c, warmup, duration, move |_, _| {
                    let raw = raw.clone();
                    async move { raw.activate_once().await }
                })
                .await;
                show(&cell);
                cells.push(cell);
            }
            // The read ceilings (reads do not depend on `synchronous`: measured once).
            for &c in args.concurrency.iter().filter(|_| op == OP_RAW) {
                for read in [OP_RAW_GET, OP_RAW_LIST] {
                    let (raw, big) = (raw.clone(), big.clone());
                    let cell = run_cell(read, c, warmup, duration, move |_, rng| {
                        let (raw, big) = (raw.clone(), big.clone());
                        let mut pick = |n: usize| rand::Rng::gen_range(rng, 0..n);
                        let (a, u) = (pick(big.activations.len()), pick(big.users.len()));
                        async move {
                            if read == OP_RAW_GET {
                                raw.get_once(&big.activations[a]).await
                            } else {
                                raw.list_once(&big, u).await
                            }
                        }
                    })
                    .await;
                    show(&cell);
                    cells.push(cell);
                }
            }
            raw.store.close().await;
        }
    }

    Ok(Run {
        database: backend,
        counts: ds.counts,
        seeding_seconds: ds.seconds,
        seeding: ds.phases,
        database_bytes_after_seeding,
        rss_after_seeding_mb,
        rss_at_end_mb,
        peak_rss_mb,
        deep_page,
        cells,
        activation_pairs_used: pairs.used() + raw_pairs.used(),
        analyzed: analyzing,
        sqlite_synchronous: synchronous.map(|s| s.as_str()),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let root = workspace_root();
    let bin = args
        .server_bin
        .clone()
        .unwrap_or_else(|| root.join("target/release/switchyard"));
    anyhow::ensure!(bin.exists(), "no server binary at {} (build it: cargo build --release -p switchyard, or pass --server-bin)", bin.display());
    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| root.join("bench/results"));
    let started = chrono::Utc::now();
    let t0 = Instant::now();
    let mut runs = Vec::new();
    std::fs::create_dir_all(&out_dir)?;
    let mut md = String::new();
    for &b in &args.databases {
        runs.push(
            run_backend(&args, b, &bin)
                .await
                .with_context(|| format!("the {} run failed", b.label()))?,
        );
        // Written after each database, so that a later failure keeps what was measured.
        let rep = report::Report::new(
            &args,
            &bin,
            started,
            t0.elapsed().as_secs_f64(),
            std::mem::take(&mut runs),
        );
        md = rep.markdown();
        std::fs::write(out_dir.join("latest.md"), &md)?;
        std::fs::write(
            out_dir.join("latest.json"),
            serde_json::to_string_pretty(&rep)? + "\n",
        )?;
        runs = rep.runs;
    }
    println!("{md}");
    eprintln!(
        "wrote {} and {}",
        out_dir.join("latest.md").display(),
        out_dir.join("latest.json").display()
    );
    Ok(())
}
