//! The job workers every `serve` process runs: they claim due jobs from the store's queue (any
//! node's, and a dead node's once its lease runs out), renew each job's lease while it runs, and
//! complete, retry (exponential backoff with jitter, or the handler's own delay) or fail it.
//!
//! A kind of job is run by a [`JobHandler`]; the handlers are registered when the workers start
//! ([`spawn`]).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_store::jobs::{now_millis, Job};
use switchyard_store::DynStore;

/// What became of one run of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobResult {
    Done,
    /// Run it again after `after` (None: the default backoff), unless its attempts are used.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Never again (kept in the failed state).
    Fail(String),
}

/// Runs one kind of job.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    async fn run(&self, job: &Job) -> JobResult;
}

/// How the workers of this process work.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs run at once in this process; 0: no workers (the node only serves the API).
    pub concurrency: usize,
    /// How often an idle worker looks for due jobs.
    pub poll_interval: Duration,
    /// How long a claim holds a job before another node may take it over; renewed every third
    /// of it while the job runs.
    pub lease: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(60),
        }
    }
}

/// The default delay before attempt `attempts + 1`: 5 s doubling, at most an hour, with up to
/// ±20 % jitter.
pub fn backoff(attempts: i32) -> Duration {
    let base = 5u64.saturating_mul(1u64 << attempts.clamp(0, 20).saturating_sub(1) as u32);
    jitter(Duration::from_secs(base.min(3600)))
}

/// `d` plus or minus up to 20 %.
pub fn jitter(d: Duration) -> Duration {
    use rand::Rng;
    let f: f64 = rand::thread_rng().gen_range(0.8..1.2);
    d.mul_f64(f)
}

/// Starts the workers: `settings.concurrency` tasks that claim jobs of the registered kinds. A
/// woken [`tokio::sync::Notify`] (from [`Workers::wake`]) makes them look at once.
pub fn spawn(
    store: DynStore,
    settings: WorkerSettings,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
) -> Workers {
    let wake = Arc::new(tokio::sync::Notify::new());
    spawn_queue_metrics(store.clone(), Duration::from_secs(5));
    if settings.concurrency == 0 || handlers.is_empty() {
        return Workers { wake };
    }
    let handlers = Arc::new(handlers);
    let node = switchyard_domain::new_id();
    tracing::info!(node = %node, concurrency = settings.concurrency, kinds = ?handlers.keys().collect::<Vec<_>>(), "job workers started");
    for _ in 0..settings.concurrency {
        let (store, settings, handlers, wake) = (
            store.clone(),
            settings.clone(),
            handlers.clone(),
            wake.clone(),
        );
        tokio::spawn(async move { worker(store, settings, handlers, wake).await });
    }
    Workers { wake }
}

/// A handle on the running workers.
#[derive(Clone)]
pub struct Workers {
    wake: Arc<tokio::sync::Notify>,
}

impl Workers {
    /// Makes an idle worker look for jobs now (a job was just enqueued by this process).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

async fn worker(
    store: DynStore,
    settings: WorkerSettings,
    handlers: Arc<HashMap<&'static str, Arc<dyn JobHandler>>>,
    wake: Arc<tokio::sync::Notify>,
) {
    let kinds: Vec<&str> = handlers.keys().copied().collect();
    let lease_ms = settings.lease.as_millis() as i64;
    loop {
        let now = now_millis();
        let claimed = match store.claim_jobs(&kinds, 1, now, now + lease_ms).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim jobs");
                tokio::time::sleep(settings.poll_interval).await;
                continue;
            }
        };
        let Some(job) = claimed.into_iter().next() else {
            tokio::select! {
                _ = tokio::time::sleep(settings.poll_interval) => {}
                _ = wake.notified() => {}
            }
            continue;
        };
        let Some(handler) = handlers.get(job.kind.as_str()).cloned() else {
            continue;
        };
        run_one(&store, &settings, handler, job).await;
    }
}

async fn run_one(
    store: &DynStore,
    settings: &WorkerSettings,
    handler: Arc<dyn JobHandler>,
    job: Job,
) {
    let kind = job.kind.clone();
    let started = std::time::Instant::now();
    metrics::histogram!("switchyard_job_age_seconds", "kind" => kind.clone())
        .record(((now_millis() - job.created_at).max(0) as f64) / 1000.0);
    // The lease is renewed while the job runs; a job whose lease was lost is left to its new owner.
    let renew = {
        let (store, id, token, lease) = (
            store.clone(),
            job.id.clone(),
            job.lease_token.clone(),
            settings.lease,
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = now_millis() + lease.as_millis() as i64;
                match store.renew_job(&id, &token, until).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, job = %id, "could not renew a job's lease")
                    }
                }
            }
        })
    };
    let result = handler.run(&job).await;
    renew.abort();
    let now = now_millis();
    let (outcome, ended) = match &result {
        JobResult::Done => ("done", store.complete_job(&job.id, &job.lease_token).await),
        JobResult::Retry { after, error } => {
            let delay = after.unwrap_or_else(|| backoff(job.attempts));
            let outcome = if job.attempts >= job.max_attempts {
                "failed"
            } else {
                "retried"
            };
            let run_at = now + delay.as_millis() as i64;
            (
                outcome,
                store
                    .retry_job(&job.id, &job.lease_token, run_at, error, now)
                    .await,
            )
        }
        JobResult::Fail(error) => (
            "failed",
            store.fail_job(&job.id, &job.lease_token, error, now).await,
        ),
    };
    metrics::counter!("switchyard_job_runs_total", "kind" => kind.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("switchyard_job_run_seconds", "kind" => kind.clone())
        .record(started.elapsed().as_secs_f64());
    match ended {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(job = %job.id, kind = %kind, "a job's lease was taken over before it ended")
        }
        Err(e) => tracing::warn!(error = %e, job = %job.id, "could not record a job's end"),
    }
}

/// Every `every`, the queue's depth per kind and state (`switchyard_jobs`) and the age of its
/// oldest unfinished job (`switchyard_job_oldest_age_seconds`), as gauges.
fn spawn_queue_metrics(store: DynStore, every: Duration) {
    tokio::spawn(async move {
        loop {
            let now = now_millis();
            match store.queue_stats(now).await {
                Ok(stats) => {
                    for s in stats {
                        for (state, n) in [
                            ("ready", s.ready),
                            ("due", s.due),
                            ("running", s.running),
                            ("failed", s.failed),
                        ] {
                            metrics::gauge!("switchyard_jobs", "kind" => s.kind.clone(), "state" => state)
                                .set(n as f64);
                        }
                        let age = s
                            .oldest_created_at
                            .map(|t| ((now - t).max(0) as f64) / 1000.0)
                            .unwrap_or(0.0);
                        metrics::gauge!("switchyard_job_oldest_age_seconds", "kind" => s.kind)
                            .set(age);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "could not read the queue's figures"),
            }
            tokio::time::sleep(every).await;
        }
    });
}
