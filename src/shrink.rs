//! Generated inputs driven by hand: a proptest runner seeded for repeatability, and shrinking
//! one step at a time. proptest's own runner shrinks inside a synchronous closure; here each
//! step is an exchange with a live service (a webhook delivered, a request sent), so the loop
//! is ours, async, and bounded in steps and time.

use std::time::Instant;

use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A runner whose values follow from `seed` alone (no persistence of failures on disk).
pub fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// The smallest value found, what it showed, and the steps taken.
pub struct Shrunk<T, E> {
    pub value: T,
    pub evidence: E,
    pub steps: usize,
}

/// Shrinks from `tree`'s current value (which showed `evidence`): each simpler value is tried
/// with `still`, which says what it shows when it still holds (`Some`) or that it does not
/// (`None`); simpler values are followed while it holds, and the tree complicates back when
/// it does not. At most `max_steps` tries, none after `deadline`; an error of `still` stops.
pub async fn shrink<T: std::fmt::Debug, E, X>(
    tree: &mut dyn ValueTree<Value = T>,
    evidence: E,
    max_steps: usize,
    deadline: Option<Instant>,
    mut still: impl AsyncFnMut(T) -> Result<Option<E>, X>,
) -> Result<Shrunk<T, E>, X> {
    let mut best = Shrunk {
        value: tree.current(),
        evidence,
        steps: 0,
    };
    if !tree.simplify() {
        return Ok(best);
    }
    while best.steps < max_steps && deadline.is_none_or(|d| Instant::now() < d) {
        best.steps += 1;
        let candidate = tree.current();
        let more = match still(candidate).await? {
            Some(e) => {
                best.value = tree.current();
                best.evidence = e;
                tree.simplify()
            }
            None => tree.complicate(),
        };
        if !more {
            break;
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy as _;

    use super::*;

    /// "Fails" for every number of 10 or more: shrinking must land on exactly 10, and the same
    /// seed must give the same first value.
    #[tokio::test]
    async fn shrinks_to_the_boundary_and_repeats_from_a_seed() {
        let strategy = 0u32..10_000;
        let first = |seed| strategy.new_tree(&mut runner(seed)).map(|t| t.current()).ok();
        assert_eq!(first(7), first(7));
        let mut r = runner(7);
        let mut tree = loop {
            let t = strategy.new_tree(&mut r).unwrap();
            if t.current() >= 10 {
                break t;
            }
        };
        let start = tree.current();
        let got = shrink(&mut tree, start, 200, None, async |v: u32| {
            Ok::<_, ()>((v >= 10).then_some(v))
        })
        .await
        .unwrap_or_else(|_| unreachable!());
        assert_eq!(got.value, 10);
        assert_eq!(got.evidence, 10);
        assert!(got.steps > 0);

        // An error of the check stops at once.
        let mut tree = loop {
            let t = strategy.new_tree(&mut r).unwrap();
            if t.current() > 0 {
                break t;
            }
        };
        let start = tree.current();
        let err = shrink(&mut tree, start, 200, None, async |_| Err::<Option<u32>, _>("gone")).await;
        assert!(matches!(err, Err("gone")));
    }
}
