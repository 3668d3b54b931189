//! Locking that survives a panicked holder.
//!
//! Every mutex in this crate guards data that stays valid if a thread panicked while
//! holding it (a counter, a first error, a jitter state, a note of the upload ID), and
//! the panic itself is reported where it happened. So a poisoned lock is taken as it
//! is, one way, here, instead of `lock().unwrap_or_else(|p| p.into_inner())` at each
//! use.

use std::sync::{Mutex, MutexGuard};

/// `lock_unpoisoned` on a [`Mutex`].
pub trait LockExt<T> {
    /// Locks, taking the data as it is if a holder panicked.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;

    /// Consumes the mutex and returns its data, even if a holder panicked.
    fn into_inner_unpoisoned(self) -> T;
}

impl<T> LockExt<T> for Mutex<T> {
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn into_inner_unpoisoned(self) -> T {
        self.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_still_gives_its_data() {
        let m = Mutex::new(1);
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                let mut g = m.lock_unpoisoned();
                *g = 2;
                panic!("holder panics");
            })
            .join()
        });
        assert!(r.is_err());
        assert!(m.is_poisoned());
        assert_eq!(*m.lock_unpoisoned(), 2);
        assert_eq!(m.into_inner_unpoisoned(), 2);
    }
}
