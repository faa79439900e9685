//! When each API key was last used (`lastUsedAt`), written off the request path: a request only
//! notes the use in memory; a task writes the noted uses in the background, at most one write
//! per key a minute (the precision `lastUsedAt` promises), and the first use of a key at once.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchyard_domain::model::ApiKey;
use switchyard_domain::time::{self, Timestamp};
use switchyard_store::DynStore;
use tokio::sync::Notify;

/// How stale `lastUsedAt` may be.
const PRECISION: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Noted {
    /// Uses not written yet, by key id.
    pending: HashMap<String, Timestamp>,
    /// When each key's use was last written (forgotten after [`PRECISION`]).
    written: HashMap<String, Instant>,
}

#[derive(Default)]
pub struct KeyUses {
    noted: Mutex<Noted>,
    wake: Notify,
}

impl KeyUses {
    /// Notes a use of `key` (as the request found it).
    pub fn record(&self, key: &ApiKey) {
        let now = time::now();
        if key
            .last_used_at
            .is_some_and(|t| now - t < chrono::Duration::seconds(60))
        {
            return;
        }
        let mut noted = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        if noted
            .written
            .get(&key.id)
            .is_some_and(|at| at.elapsed() < PRECISION)
        {
            return;
        }
        if noted.pending.insert(key.id.clone(), now).is_none() {
            self.wake.notify_one();
        }
    }

    /// Writes noted uses for as long as the process runs.
    pub async fn write_forever(&self, store: DynStore) {
        loop {
            self.wake.notified().await;
            let batch = {
                let mut noted = self.noted.lock().unwrap_or_else(|e| e.into_inner());
                let batch = std::mem::take(&mut noted.pending);
                let now = Instant::now();
                noted
                    .written
                    .retain(|_, at| now.duration_since(*at) < PRECISION);
                for id in batch.keys() {
                    noted.written.insert(id.clone(), now);
                }
                batch
            };
            for (id, at) in batch {
                if let Err(e) = store.touch_api_key(&id, at).await {
                    tracing::debug!(error = %e, "could not record API key use");
                }
            }
            // Uses noted meanwhile wait for the next round: one batch a second at most.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
