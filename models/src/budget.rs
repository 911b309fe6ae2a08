//! Case budgets for the randomized suites (proptest), shared so that every
//! suite scales the same way.
//!
//! Defaults keep `cargo test --release` quick on 2 cores; soak runs scale them:
//! `RUFT_PROPTEST_SCALE=k` multiplies each suite's default by `k`, and
//! `PROPTEST_CASES=n` sets every suite to `n` cases.

/// The number of cases for a suite whose default is `default`.
pub fn cases(default: u32) -> u32 {
    let from_env = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u32>().ok());
    if let Some(n) = from_env("PROPTEST_CASES") {
        return n;
    }
    default.saturating_mul(from_env("RUFT_PROPTEST_SCALE").unwrap_or(1))
}
