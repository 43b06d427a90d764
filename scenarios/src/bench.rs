//! What a seed costs, measured: the default scenario end to end (generation, simulation, every
//! check), and a bare madsim baseline to compare it with — two nodes exchanging 200 datagrams and
//! applying them to a store, each apply taking a random 1–4 ms of simulated time as the replica's
//! do, nothing else. Numbers, never pass/fail: speed targets live here and
//! in the README, not in timed tests.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use madsim::net::Endpoint;
use replsim_model::command::{Command, Db};
use replsim_model::store::Store;
use replsim_sim::config::ApplyMode;
use replsim_sim::time::random_between;

use replsim_sim::behaviour::Behaviours;

use crate::runner::{self, Case, RunOptions};
use crate::scenario::Scenario;

/// Datagrams the baseline sends per seed.
pub const BASELINE_DATAGRAMS: usize = 200;

/// Seeds per second of `scenario` under `mode` and `behaviours` over `seeds` seeds, on the
/// calling thread.
pub fn scenario_rate(scenario: &Scenario, mode: ApplyMode, behaviours: &Behaviours, seeds: u64) -> Rate {
    let started = Instant::now();
    let mut failed = 0;
    for seed in 0..seeds {
        let case = Case::new(scenario, mode, seed).with_behaviours(behaviours.clone());
        failed += u64::from(!runner::run_case(&case, RunOptions::default()).is_pass());
    }
    Rate { seeds, elapsed: started.elapsed(), failed }
}

/// Seeds per second of the bare baseline over `seeds` seeds, on the calling thread.
pub fn baseline_rate(seeds: u64) -> Rate {
    let started = Instant::now();
    for seed in 0..seeds {
        let applied = baseline_seed(seed);
        assert_eq!(applied, BASELINE_DATAGRAMS, "the baseline lost datagrams");
    }
    Rate { seeds, elapsed: started.elapsed(), failed: 0 }
}

#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub seeds: u64,
    pub elapsed: Duration,
    /// Seeds that did not pass (scenario rates only).
    pub failed: u64,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        self.seeds as f64 / self.elapsed.as_secs_f64()
    }
}

/// One baseline seed: node A sends `kN` datagrams, node B applies each to a store as `SET kN kN`.
fn baseline_seed(seed: u64) -> usize {
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    runtime.block_on(async {
        let handle = madsim::runtime::Handle::current();
        let receiver_ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let receiver_address = SocketAddr::new(receiver_ip, 9000);
        let receiver = handle.create_node().name("b").ip(receiver_ip).build();
        let sender = handle.create_node().name("a").ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))).build();
        let applied = receiver.spawn(async move {
            let endpoint = Endpoint::bind(receiver_address).await.expect("bind");
            let mut store = Store::default();
            let mut buffer = [0u8; 64];
            for _ in 0..BASELINE_DATAGRAMS {
                let (length, _) = endpoint.recv_from(0, &mut buffer).await.expect("receive");
                let text = std::str::from_utf8(&buffer[..length]).expect("utf-8");
                madsim::time::sleep(random_between(Duration::from_millis(1), Duration::from_millis(4))).await;
                store.execute(&Command::set(Db(0), text, text));
            }
            store.len()
        });
        sender.spawn(async move {
            let endpoint = Endpoint::bind("0.0.0.0:0").await.expect("bind");
            for index in 0..BASELINE_DATAGRAMS {
                endpoint.send_to(receiver_address, 0, format!("k{index}").as_bytes()).await.expect("send");
            }
        });
        applied.await.expect("receiver finished")
    })
}
