//! Faults on demand: errors, cut connections, latency and request-limit bursts, chosen by a
//! seeded random generator so a failing run can be replayed. Off by default.
//!
//! - [`FaultConfig`]: what to inject; set at runtime through [`RunningOrg::set_faults`]
//!   or `POST /devorg/admin/faults` ([`endpoint`]).
//! - [`middleware`]: applies the configuration to every request except `/devorg/admin/*`.

pub mod endpoint;
mod inject;

use std::sync::{Mutex, PoisonError};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

pub use inject::middleware;

/// Extra time before requests are answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Added to every request.
    pub fixed_ms: u64,
    /// Share of requests (0 to 1) that get a spike on top.
    pub spike_rate: f64,
    /// Length of a spike.
    pub spike_ms: u64,
}

/// What to inject. Every rate is a share of requests, from 0 (never) to 1 (always).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seeds the generator that decides which requests are hit.
    pub seed: u64,
    /// Requests answered with a transient error instead of running: HTTP 500
    /// `UNKNOWN_EXCEPTION`, 503 `SERVER_UNAVAILABLE`, or (for writes) 400 `UNABLE_TO_LOCK_ROW`.
    pub error_rate: f64,
    /// Requests that run, then have their connection cut after the headers and part of
    /// the body were sent.
    pub drop_rate: f64,
    pub latency: Latency,
    /// The next this many requests get 403 `REQUEST_LIMIT_EXCEEDED`.
    pub limit_burst: u32,
}

impl FaultConfig {
    /// Whether the configuration injects anything.
    pub fn is_active(&self) -> bool {
        self.error_rate > 0.0
            || self.drop_rate > 0.0
            || self.latency.fixed_ms > 0
            || (self.latency.spike_rate > 0.0 && self.latency.spike_ms > 0)
            || self.limit_burst > 0
    }

    /// Rates outside 0..=1 (or not numbers) are refused.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("drop_rate", self.drop_rate),
            ("latency.spike_rate", self.latency.spike_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, not {rate}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
struct State {
    config: FaultConfig,
    rng: StdRng,
    burst_left: u32,
    injected: FaultCounts,
}

/// How many faults of each kind were injected since the configuration was last set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    pub errors: u64,
    pub drops: u64,
    pub limit_exceeded: u64,
    pub spikes: u64,
}

/// The live fault configuration of an org.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<State>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::new(FaultConfig::default())
    }
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        Faults { state: Mutex::new(State::from(config)) }
    }

    /// Replaces the configuration; the generator restarts from its seed.
    pub fn set(&self, config: FaultConfig) {
        tracing::info!(active = config.is_active(), seed = config.seed, "fault injection set");
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = State::from(config);
    }

    /// The configuration in force.
    pub fn config(&self) -> FaultConfig {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).config.clone()
    }

    /// What was injected so far.
    pub fn counts(&self) -> FaultCounts {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).injected
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl From<FaultConfig> for State {
    fn from(config: FaultConfig) -> State {
        State {
            rng: StdRng::seed_from_u64(config.seed),
            burst_left: config.limit_burst,
            config,
            injected: FaultCounts::default(),
        }
    }
}

impl crate::RunningOrg {
    /// Switches fault injection (a default [`FaultConfig`] turns it off).
    pub fn set_faults(&self, config: FaultConfig) {
        self.org.faults.set(config);
    }

    /// Faults injected since the configuration was last set.
    pub fn fault_counts(&self) -> FaultCounts {
        self.org.faults.counts()
    }

    /// Expires every access token now: the next call with one gets `INVALID_SESSION_ID`.
    pub fn expire_all_tokens(&self) -> Result<usize, crate::ApiError> {
        self.admin().expire_tokens(None)
    }
}
