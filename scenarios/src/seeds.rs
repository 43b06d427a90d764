//! Which seeds `cargo test` runs. Tests ask for their default count; two environment variables
//! narrow or widen that without editing a test:
//!
//! - `REPLSIM_SEED=S`: only seed `S` (reproduce one failure under `cargo test`);
//! - `REPLSIM_SEEDS=N`: seeds `0..N` instead of the test's default (a longer soak).

pub const SEED_VARIABLE: &str = "REPLSIM_SEED";
pub const SEEDS_VARIABLE: &str = "REPLSIM_SEEDS";

/// The seeds a test should run: `0..default`, unless the environment says otherwise.
///
/// Panics with a message naming the variable when it is set but not a number: inside a test that
/// is the clearest way to say so.
pub fn test_seeds(default: u64) -> Vec<u64> {
    if let Some(seed) = number_from(SEED_VARIABLE) {
        return vec![seed];
    }
    let count = number_from(SEEDS_VARIABLE).unwrap_or(default);
    (0..count).collect()
}

fn number_from(variable: &str) -> Option<u64> {
    let text = std::env::var(variable).ok()?;
    match text.trim().parse() {
        Ok(number) => Some(number),
        Err(_) => panic!("{variable}={text:?} is not a non-negative integer"),
    }
}
