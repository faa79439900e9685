//! The report: the machine, the command, the tables, the ratios against the aims.
use crate::{
    Args, Run, OP_ACTIVATE, OP_GET, OP_HEALTHZ, OP_LIST_DEEP, OP_LIST_FIRST, OP_LIST_SMALL, OP_RAW,
    OP_RAW_GET, OP_RAW_LIST, OP_RAW_NORMAL,
};
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub ram_gb: f64,
    pub os: String,
    pub kernel: String,
}

impl Machine {
    fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0);
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kb: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let os = os_release
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| std::env::consts::OS.into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned();
        Machine {
            cpu,
            cores,
            ram_gb: (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            os,
            kernel,
        }
    }
}

#[derive(Serialize)]
pub struct Ratios {
    pub database: String,
    pub concurrency: usize,
    /// Activation throughput as a % of the raw-database ceiling (aim: ≥ 60).
    pub activation_pct_of_raw: Option<f64>,
    /// Activation throughput as a % of the /healthz ceiling.
    pub activation_pct_of_healthz: Option<f64>,
    /// p50 of the first page at 1,000 integrations ÷ p50 at 10 (aim: ≤ 1.5).
    pub list_p50_ratio_big_vs_small: Option<f64>,
    /// GetActivation throughput as a % of its raw-read ceiling (aim: ≥ 60).
    pub get_pct_of_raw: Option<f64>,
    /// ListEndUserIntegrations (first page) throughput as a % of its raw-read ceiling (aim: ≥ 60).
    pub list_pct_of_raw: Option<f64>,
}

#[derive(Serialize)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub git_commit: String,
    pub git_dirty: bool,
    pub machine: Machine,
    pub server_bin: String,
    pub scale: f64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub concurrency: Vec<usize>,
    pub seed_concurrency: usize,
    pub total_seconds: f64,
    pub runs: Vec<Run>,
    pub ratios: Vec<Ratios>,
}

fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn shell_quote(a: &str) -> String {
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@".contains(c))
    {
        a.to_owned()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

impl Report {
    pub fn new(
        args: &Args,
        bin: &std::path::Path,
        started: chrono::DateTime<chrono::Utc>,
        total_seconds: f64,
        runs: Vec<Run>,
    ) -> Report {
        let mut argv: Vec<String> = std::env::args().collect();
        // Show the program by name, not by its build path.
        if let Some(first) = argv.first_mut() {
            if first.ends_with("/switchyard-bench") {
                *first = "switchyard-bench".into();
            }
        }
        let command = argv
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut ratios = Vec::new();
        for r in &runs {
            for &c in &args.concurrency {
                let tp = |op: &str| {
                    r.cells
                        .iter()
                        .find(|x| x.operation == op && x.concurrency == c)
                        .map(|x| x.throughput)
                };
                let p50 = |op: &str| {
                    r.cells
                        .iter()
                        .find(|x| x.operation == op && x.concurrency == c)
                        .map(|x| x.p50_ms)
                };
                let pct = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) if b > 0.0 => Some((a / b * 1000.0).round() / 10.0),
                    _ => None,
                };
                let ratio = match (p50(OP_LIST_FIRST), p50(OP_LIST_SMALL)) {
                    (Some(a), Some(b)) if b > 0.0 => Some((a / b * 100.0).round() / 100.0),
                    _ => None,
                };
                ratios.push(Ratios {
                    database: r.database.label().into(),
                    concurrency: c,
                    activation_pct_of_raw: pct(tp(OP_ACTIVATE), tp(OP_RAW)),
                    activation_pct_of_healthz: pct(tp(OP_ACTIVATE), tp(OP_HEALTHZ)),
                    list_p50_ratio_big_vs_small: ratio,
                    get_pct_of_raw: pct(tp(OP_GET), tp(OP_RAW_GET)),
                    list_pct_of_raw: pct(tp(OP_LIST_FIRST), tp(OP_RAW_LIST)),
                });
            }
        }
        Report {
            date: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            command,
            git_commit: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
            git_dirty: git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty()),
            machine: Machine::detect(),
            server_bin: bin.display().to_string(),
            scale: args.scale,
            duration_s: args.duration.as_secs_f64(),
            warmup_s: args.warmup.as_secs_f64(),
            concurrency: args.concurrency.clone(),
            seed_concurrency: args.seed_concurrency,
            total_seconds,
            runs,
            ratios,
        }
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(
            s,
            "Switchyard benchmark, {} — commit `{}`{}",
            self.date,
            &self.git_commit[..self.git_commit.len().min(12)],
            if self.git_dirty {
                " (with uncommitted changes)"
            } else {
                ""
            }
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "- Machine: {}, {} cores, {} GB RAM, {} (Linux {}); load generator, server and database on the same machine",
            m.cpu, m.cores, m.ram_gb, m.os, m.kernel
        );
        let _ = writeln!(s, "- Command: `{}`", self.command);
        let _ = writeln!(s, "- Scale {}; {} s measured per cell after {} s warm-up; closed-loop clients; latency of successful requests; errors = non-2xx or transport failures", self.scale, self.duration_s, self.warmup_s);
        for r in &self.runs {
            let c = &r.counts;
            let _ = writeln!(s);
            let _ = writeln!(s, "### {}", r.database.label());
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "Dataset: {} integrations ({} deployed, {} templates), {} end users, {} activations in the main hub; {} integrations, {} end users, {} activations in the small hub. Seeded over HTTP in {:.0} s{}.",
                c.integrations,
                c.deployed,
                c.templates,
                c.end_users,
                c.activations,
                c.small_hub_integrations,
                c.small_hub_end_users,
                c.small_hub_activations,
                r.seeding_seconds,
                r.database_bytes_after_seeding.map(|b| format!(" (database {:.0} MB)", b as f64 / 1e6)).unwrap_or_default()
            );
            let seeding: Vec<String> = r
                .seeding
                .iter()
                .filter(|p| p.items > 5)
                .map(|p| {
                    let retried = if p.retries > 0 {
                        format!(" ({} requests retried after 503)", p.retries)
                    } else {
                        String::new()
                    };
                    format!(
                        "{} {:.0}/s in {:.0} s{retried}",
                        p.phase,
                        p.items as f64 / p.seconds.max(1e-9),
                        p.seconds
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "Seeding ({} concurrent requests): {}.",
                self.seed_concurrency,
                seeding.join("; ")
            );
            let f = |v: Option<f64>| {
                v.map(|v| format!("{v:.1} MB"))
                    .unwrap_or_else(|| "n/a".into())
            };
            let _ = writeln!(
                s,
                "Server RSS after seeding {}; peak RSS (VmHWM) over the run {}. Deep page = page {} of the list (20 per page).{}",
                f(r.rss_after_seeding_mb),
                f(r.peak_rss_mb),
                r.deep_page,
                if r.analyzed { " ANALYZE ran every 20 s during seeding and once after it." } else { "" }
            );
            if let Some(sync) = r.sqlite_synchronous {
                let _ = writeln!(
                    s,
                    "SQLite `synchronous={}` for the server and the raw ceiling{}.",
                    sync.to_ascii_uppercase(),
                    if sync == "full" {
                        " (the server's default), and NORMAL in the row that says so"
                    } else {
                        ""
                    }
                );
            }
            let _ = writeln!(s);
            let _ = writeln!(s, "| operation | c | req/s | p50 ms | p99 ms | p99.9 ms | server CPU ms/req | errors |");
            let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|--:|");
            for op in [
                OP_ACTIVATE,
                OP_RAW,
                OP_RAW_NORMAL,
                OP_LIST_FIRST,
                OP_LIST_DEEP,
                OP_LIST_SMALL,
                OP_RAW_LIST,
                OP_GET,
                OP_RAW_GET,
                OP_HEALTHZ,
            ] {
                for cell in r.cells.iter().filter(|x| x.operation == op) {
                    let _ = writeln!(
                        s,
                        "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {}{} |",
                        op,
                        cell.concurrency,
                        cell.throughput,
                        cell.p50_ms,
                        cell.p99_ms,
                        cell.p999_ms,
                        cell.server_cpu_ms_per_request
                            .map(|v| format!("{v:.2}"))
                            .unwrap_or_else(|| "–".into()),
                        cell.errors,
                        if cell.exhausted {
                            " (ran out of pairs)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "### Against the aims");
        let _ = writeln!(s);
        let _ = writeln!(s, "| database | c | activation % of raw DB (aim ≥ 80) | activation % of /healthz | list % of raw reads (aim ≥ 60) | get % of raw reads (aim ≥ 60) | list p50 1,000 ÷ 10 integrations (aim ≤ 1.5) |");
        let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|");
        let o = |v: Option<f64>, suffix: &str| {
            v.map(|v| format!("{v}{suffix}"))
                .unwrap_or_else(|| "n/a".into())
        };
        for r in &self.ratios {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.database,
                r.concurrency,
                o(r.activation_pct_of_raw, "%"),
                o(r.activation_pct_of_healthz, "%"),
                o(r.list_pct_of_raw, "%"),
                o(r.get_pct_of_raw, "%"),
                o(r.list_p50_ratio_big_vs_small, "x")
            );
        }
        let rss: Vec<String> = self
            .runs
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r.database.label(),
                    r.peak_rss_mb
                        .map(|v| format!("{v:.1} MB"))
                        .unwrap_or_else(|| "n/a".into())
                )
            })
            .collect();
        let _ = writeln!(s);
        let _ = writeln!(s, "Server peak RSS (aim < 100 MB): {}.", rss.join(", "));
        s
    }
}
