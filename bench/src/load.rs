//! The load generator: a closed loop of `c` workers for a fixed time, after a warm-up, each
//! request's latency recorded in an HDR histogram.
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one request came to.
pub enum Outcome {
    Ok,
    /// Any non-2xx status or transport failure: counted, and the first few kept as samples.
    Err(String),
    /// The workload has nothing left to do (for example no fresh (user, integration) pair left).
    Exhausted,
}

/// One measured cell: an operation at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub operation: String,
    pub concurrency: usize,
    /// Successful requests in the measured window.
    pub requests: u64,
    pub errors: u64,
    /// Successful requests per second.
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub seconds: f64,
    /// The workload ran out before the window ended.
    pub exhausted: bool,
    /// Requests completed over the whole cell, warm-up included (successes and errors).
    pub completed: u64,
    /// The server process's CPU time (user + system) over the whole cell divided by `completed`:
    /// how much of a request's latency is the server computing rather than waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_ms_per_request: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error_samples: Vec<String>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds")
}

/// Runs `op` with `concurrency` workers: `warmup` unrecorded, then `duration` recorded. Latency
/// (µs) is that of successful requests; errors are counted apart.
pub async fn run_cell<F, Fut>(
    operation: &str,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    op: F,
) -> Cell
where
    F: Fn(usize, &mut StdRng) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let exhausted = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let op = op.clone();
        let exhausted = exhausted.clone();
        let samples = samples.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(
                0x5eed_0000 + w as u64 * 7919 + start.elapsed().as_nanos() as u64,
            );
            let mut h = histogram();
            let mut errors = 0u64;
            let mut completed = 0u64;
            let mut last_end = measure_from;
            loop {
                let t0 = Instant::now();
                if t0 >= end || exhausted.load(Ordering::Relaxed) {
                    break;
                }
                let outcome = op(w, &mut rng).await;
                let t1 = Instant::now();
                let measured = t0 >= measure_from;
                if !matches!(outcome, Outcome::Exhausted) {
                    completed += 1;
                }
                match outcome {
                    Outcome::Ok => {
                        if measured {
                            h.saturating_record((t1 - t0).as_micros().max(1) as u64);
                            last_end = last_end.max(t1);
                        }
                    }
                    Outcome::Err(e) => {
                        if measured {
                            errors += 1;
                            last_end = last_end.max(t1);
                        }
                        let mut s = samples.lock().unwrap();
                        if s.len() < 5 {
                            s.push(if measured {
                                e
                            } else {
                                format!("(warm-up) {e}")
                            });
                        }
                    }
                    Outcome::Exhausted => {
                        exhausted.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            }
            (h, errors, last_end, completed)
        }));
    }
    let mut total = histogram();
    let mut errors = 0;
    let mut last = measure_from;
    let mut completed = 0;
    for t in tasks {
        let (h, e, l, n) = t.await.expect("a load worker panicked");
        total.add(&h).expect("same bounds");
        errors += e;
        last = last.max(l);
        completed += n;
    }
    let exhausted = exhausted.load(Ordering::Relaxed);
    // The window is the configured duration, or shorter when the workload ran out (or longer by
    // the requests still in flight at its end).
    let seconds = if exhausted {
        last.saturating_duration_since(measure_from).as_secs_f64()
    } else {
        last.saturating_duration_since(measure_from)
            .as_secs_f64()
            .max(duration.as_secs_f64())
    };
    let requests = total.len();
    let error_samples = samples.lock().unwrap().clone();
    let ms = |us: u64| us as f64 / 1000.0;
    let q = |p: f64| {
        if requests == 0 {
            0.0
        } else {
            ms(total.value_at_quantile(p))
        }
    };
    Cell {
        operation: operation.to_owned(),
        concurrency,
        requests,
        errors,
        throughput: if seconds > 0.0 {
            requests as f64 / seconds
        } else {
            0.0
        },
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        p999_ms: q(0.999),
        max_ms: if requests == 0 { 0.0 } else { ms(total.max()) },
        mean_ms: if requests == 0 {
            0.0
        } else {
            total.mean() / 1000.0
        },
        seconds,
        exhausted,
        completed,
        server_cpu_ms_per_request: None,
        error_samples,
    }
}

/// Runs `f(i)` for `i` in `0..n` with `concurrency` workers; the results in index order. The first
/// error stops the others.
pub async fn par<T, F, Fut>(n: usize, concurrency: usize, f: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1).min(n.max(1)) {
        let (f, next, failed) = (f.clone(), next.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || failed.load(Ordering::Relaxed) {
                    break;
                }
                match f(i).await {
                    Ok(v) => out.push((i, v)),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e.context(format!("item {i}")));
                    }
                }
            }
            Ok(out)
        }));
    }
    let mut all = Vec::with_capacity(n);
    let mut first_err = None;
    for t in tasks {
        match t.await? {
            Ok(v) => all.extend(v),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}
