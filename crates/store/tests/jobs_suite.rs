//! The job queue on SQLite and on PostgreSQL: enqueue and deduplication, claims with leases,
//! renewal, takeover of a dead node's job, retries, the failed state, and concurrent claimers
//! that never share a job.
use std::collections::HashSet;
use switchyard_domain::new_id;
use switchyard_store::jobs::{now_millis, NewJob};
use switchyard_store::{testing, DynStore};

fn job(kind: &str, dedup: Option<&str>, run_at: i64, max_attempts: i32) -> NewJob {
    NewJob {
        id: new_id(),
        kind: kind.into(),
        dedup_key: dedup.map(Into::into),
        payload: r#"{"n":1}"#.into(),
        max_attempts,
        run_at,
    }
}

async fn queue_story(store: DynStore) {
    let t0 = now_millis();
    // Enqueue; a second job with the same (kind, dedup key) is a no-op, another kind is not.
    let a = job("test.a", Some("k1"), t0, 3);
    assert!(store.enqueue_job(&a).await.unwrap());
    assert!(!store
        .enqueue_job(&job("test.a", Some("k1"), t0, 3))
        .await
        .unwrap());
    assert!(store
        .enqueue_job(&job("test.b", Some("k1"), t0, 3))
        .await
        .unwrap());
    // A job not yet due is not claimed.
    let later = job("test.a", None, t0 + 60_000, 3);
    assert!(store.enqueue_job(&later).await.unwrap());

    // Claim: only the due job of the kind asked for, leased, its attempt counted.
    let claimed = store
        .claim_jobs(&["test.a"], 10, t0, t0 + 1_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let c = &claimed[0];
    assert_eq!(
        (c.id.as_str(), c.attempts, c.payload.as_str()),
        (a.id.as_str(), 1, r#"{"n":1}"#)
    );
    // Leased: nobody else claims it before the lease runs out.
    assert!(store
        .claim_jobs(&["test.a"], 10, t0 + 500, t0 + 1_500)
        .await
        .unwrap()
        .is_empty());
    // Renewed: still not claimable after the first lease would have run out.
    assert!(store
        .renew_job(&c.id, &c.lease_token, t0 + 5_000)
        .await
        .unwrap());
    assert!(store
        .claim_jobs(&["test.a"], 10, t0 + 2_000, t0 + 3_000)
        .await
        .unwrap()
        .is_empty());

    // The node dies: after the lease, another node takes the job over (a second attempt).
    let taken = store
        .claim_jobs(&["test.a"], 10, t0 + 5_001, t0 + 10_000)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    let t = &taken[0];
    assert_eq!((t.id.as_str(), t.attempts), (a.id.as_str(), 2));
    assert_ne!(t.lease_token, c.lease_token);
    // The first claim can no longer renew, retry, fail or complete it.
    assert!(!store
        .renew_job(&c.id, &c.lease_token, t0 + 99_000)
        .await
        .unwrap());
    assert!(!store.complete_job(&c.id, &c.lease_token).await.unwrap());
    assert!(!store
        .retry_job(&c.id, &c.lease_token, t0, "x", t0)
        .await
        .unwrap());
    assert!(!store
        .fail_job(&c.id, &c.lease_token, "x", t0)
        .await
        .unwrap());

    // Retry: ready again at its time, not before.
    assert!(store
        .retry_job(&t.id, &t.lease_token, t0 + 20_000, "boom", t0 + 6_000)
        .await
        .unwrap());
    assert!(store
        .claim_jobs(&["test.a"], 10, t0 + 19_999, t0 + 30_000)
        .await
        .unwrap()
        .is_empty());
    let third = store
        .claim_jobs(&["test.a"], 10, t0 + 20_000, t0 + 30_000)
        .await
        .unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].attempts, 3);
    // Its last attempt failing: the job fails for good, kept for inspection with its error.
    assert!(store
        .retry_job(
            &third[0].id,
            &third[0].lease_token,
            t0 + 21_000,
            "boom again",
            t0 + 20_500
        )
        .await
        .unwrap());
    assert!(store
        .claim_jobs(&["test.a"], 10, t0 + 50_000, t0 + 51_000)
        .await
        .unwrap()
        .iter()
        .all(|j| j.id != a.id));
    let failed = store.failed_jobs(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, a.id);
    assert_eq!(failed[0].attempts, 3);
    assert_eq!(failed[0].last_error.as_deref(), Some("boom again"));
    // A failed job still holds its deduplication key.
    assert!(!store
        .enqueue_job(&job("test.a", Some("k1"), t0, 3))
        .await
        .unwrap());

    // Completing deletes the job (and frees its key); fail_job is terminal whatever the attempts.
    let b = store
        .claim_jobs(&["test.b"], 10, t0, t0 + 1_000)
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert!(store
        .complete_job(&b[0].id, &b[0].lease_token)
        .await
        .unwrap());
    assert!(!store
        .complete_job(&b[0].id, &b[0].lease_token)
        .await
        .unwrap());
    assert!(store
        .enqueue_job(&job("test.b", Some("k1"), t0, 3))
        .await
        .unwrap());
    let b2 = store
        .claim_jobs(&["test.b"], 10, t0, t0 + 1_000)
        .await
        .unwrap();
    assert!(store
        .fail_job(&b2[0].id, &b2[0].lease_token, "bad input", t0)
        .await
        .unwrap());
    assert_eq!(store.failed_jobs(10).await.unwrap().len(), 2);

    // Stats per kind: test.a has the one not-yet-due job and one failed.
    let stats = store.queue_stats(t0).await.unwrap();
    let sa = stats.iter().find(|s| s.kind == "test.a").unwrap();
    assert_eq!((sa.ready, sa.due, sa.running, sa.failed), (1, 0, 0, 1));
    assert!(sa.oldest_created_at.is_some());
    let sb = stats.iter().find(|s| s.kind == "test.b").unwrap();
    assert_eq!(
        (sb.ready, sb.running, sb.failed, sb.oldest_created_at),
        (0, 0, 1, None)
    );

    // Concurrent claimers: 200 jobs, 8 claimers in parallel; every job claimed exactly once.
    let kind = "test.many";
    for _ in 0..200 {
        store.enqueue_job(&job(kind, None, t0, 1)).await.unwrap();
    }
    let mut handles = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_jobs(&[kind], 7, t0, t0 + 600_000)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                for j in got {
                    assert!(store.complete_job(&j.id, &j.lease_token).await.unwrap());
                    mine.push(j.id);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (200, 200));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn job_queue_sqlite() {
    let store = switchyard_store::connect(&testing::sqlite_url(&std::env::temp_dir()))
        .await
        .unwrap();
    queue_story(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn job_queue_postgres() {
    let Some(url) = testing::postgres_url().await else {
        return;
    };
    let _dropped_at_the_end = testing::DropDatabase(url.clone());
    let store = switchyard_store::connect(&url).await.unwrap();
    queue_story(store).await;
}
