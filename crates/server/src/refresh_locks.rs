//! One token refresh per credential at a time in this process: the in-process half of
//! refreshing exactly once (the other half is a lease in the database, see [`crate::tokens`]).
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use switchyard_domain::new_id;

/// One in-process flight per credential.
pub struct RefreshLocks {
    /// This process, in lease owner names.
    pub(crate) node: String,
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Default for RefreshLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl RefreshLocks {
    /// Locks for this process, which gets its own id in lease owner names.
    pub fn new() -> Self {
        Self {
            node: new_id(),
            locks: Mutex::default(),
        }
    }

    pub(crate) fn lock_for(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().expect("refresh lock map poisoned");
        if let Some(l) = map.get(id).and_then(Weak::upgrade) {
            return l;
        }
        map.retain(|_, w| w.strong_count() > 0);
        let l = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(id.to_owned(), Arc::downgrade(&l));
        l
    }
}
