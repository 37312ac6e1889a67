//! One seed for every value a run makes up (webhook payload fillers, generated-data cases,
//! delivery ids, the simulator's tokens and ids), so `CONTRAIL_SEED=N` repeats a run's data
//! exactly. Each use derives its own stream from the run's seed and a label naming the use
//! (scenario, purpose, count): concurrent scenarios draw in any order and still get the same
//! values, and adding a draw in one scenario changes nothing in another.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

static SEED: OnceLock<u64> = OnceLock::new();

/// `CONTRAIL_SEED`, when set.
fn from_env() -> Result<Option<u64>, String> {
    match std::env::var("CONTRAIL_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("CONTRAIL_SEED={s:?} is not a whole number from 0 to {}", u64::MAX)),
        Err(_) => Ok(None),
    }
}

fn from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

/// Fixes the run's seed: `CONTRAIL_SEED`, else the clock. A bad `CONTRAIL_SEED` is bad input.
pub fn init() -> Result<u64, String> {
    let seed = from_env()?.unwrap_or_else(from_clock);
    Ok(*SEED.get_or_init(|| seed))
}

/// The run's seed (fixed on first use if `init` was not called).
pub fn run() -> u64 {
    *SEED.get_or_init(|| from_env().ok().flatten().unwrap_or_else(from_clock))
}

/// A seed of its own for one use, from the run's seed and labels naming the use.
pub fn derive(labels: &[&str]) -> u64 {
    let mut h = Sha256::new();
    h.update(run().to_le_bytes());
    for l in labels {
        h.update((l.len() as u64).to_le_bytes());
        h.update(l.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_depend_on_every_label_and_nothing_else() {
        let a = derive(&["s1", "webhook", "1"]);
        assert_eq!(a, derive(&["s1", "webhook", "1"]));
        assert_ne!(a, derive(&["s1", "webhook", "2"]));
        assert_ne!(a, derive(&["s2", "webhook", "1"]));
        // Labels are length-prefixed: ("ab", "c") is not ("a", "bc").
        assert_ne!(derive(&["ab", "c"]), derive(&["a", "bc"]));
    }
}
