//! `switchyard jobs ...`: the job queue as an operator sees it.
use crate::config::{self, Settings};
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum Jobs {
    /// Jobs per kind (ready, due, running, failed, the oldest's age) and the latest failed jobs.
    #[command(after_help = config::ENV_DATABASE)]
    Status {
        /// Print JSON: {"kinds": [...], "failed": [...]}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: config::Args,
    },
}

/// `switchyard jobs status`.
pub async fn status(settings: Settings, json: bool) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    let now = switchyard_store::jobs::now_millis();
    let stats = store.queue_stats(now).await?;
    let failed = store.failed_jobs(20).await?;
    let age = |t: Option<i64>| t.map(|t| (now - t).max(0) as f64 / 1000.0);
    if json {
        let kinds: Vec<_> = stats
            .iter()
            .map(|s| {
                serde_json::json!({
                    "kind": s.kind, "ready": s.ready, "due": s.due, "running": s.running,
                    "failed": s.failed, "oldestAgeSeconds": age(s.oldest_created_at),
                })
            })
            .collect();
        let failed: Vec<_> = failed
            .iter()
            .map(|f| {
                serde_json::json!({
                    "id": f.id, "kind": f.kind, "attempts": f.attempts, "lastError": f.last_error,
                    "ageSeconds": age(Some(f.created_at)),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "kinds": kinds, "failed": failed })
        );
    } else {
        println!(
            "{:<20} {:>8} {:>8} {:>8} {:>8} {:>12}",
            "kind", "ready", "due", "running", "failed", "oldest (s)"
        );
        for s in &stats {
            let oldest = age(s.oldest_created_at)
                .map(|a| format!("{a:.1}"))
                .unwrap_or_else(|| "-".into());
            println!(
                "{:<20} {:>8} {:>8} {:>8} {:>8} {:>12}",
                s.kind, s.ready, s.due, s.running, s.failed, oldest
            );
        }
        if !failed.is_empty() {
            println!("\nlatest failed jobs:");
            for f in &failed {
                println!(
                    "  {} {} after {} attempts: {}",
                    f.id,
                    f.kind,
                    f.attempts,
                    f.last_error.as_deref().unwrap_or("-")
                );
            }
        }
    }
    store.close().await;
    Ok(())
}
