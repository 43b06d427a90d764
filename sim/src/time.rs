//! Simulated-time helpers usable inside `Send` tasks (madsim's own `timeout` is not `Send`).

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use replsim_model::check::SimTime;

/// Simulated time since the runtime started.
pub fn now() -> SimTime {
    SimTime(madsim::time::TimeHandle::current().elapsed().as_nanos() as u64)
}

/// Runs `future` for at most `duration` of simulated time; `None` if the time ran out first.
///
/// The deadline is polled once, to arm its timer, and afterwards only read: every pending poll of
/// a madsim `Sleep` adds another timer to the simulation's heap, and a request's future is polled
/// on every message it waits for, so the heap grew by several timers per request.
pub async fn within<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut deadline = pin!(madsim::time::sleep(duration));
    let mut armed = false;
    poll_fn(|context| {
        if let Poll::Ready(output) = future.as_mut().poll(context) {
            return Poll::Ready(Some(output));
        }
        let expired = if armed {
            deadline.is_elapsed()
        } else {
            armed = true;
            deadline.as_mut().poll(context).is_ready()
        };
        if expired {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A uniformly random duration in `[min, max]`, drawn from the simulation's seeded RNG.
pub fn random_between(min: Duration, max: Duration) -> Duration {
    use madsim::rand::Rng;
    if max <= min {
        return min;
    }
    let nanos = madsim::rand::thread_rng().gen_range(min.as_nanos() as u64..=max.as_nanos() as u64);
    Duration::from_nanos(nanos)
}
