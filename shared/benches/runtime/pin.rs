//! CPU pinning: the service under test runs on core 0, the load generator on core 1.
//!
//! Affinity is per thread and inherited by threads and processes it creates, so a thread
//! pinned to core 0 that spawns the service gives the service core 0 (no `taskset` exec in
//! the cold-start path), and a runtime built on a core-1 thread keeps its threads there.

use nix::{
    sched::{sched_setaffinity, CpuSet},
    unistd::Pid,
};

/// The core the service under test runs on.
pub const SERVICE_CORE: usize = 0;
/// The core the load generator and the cold-start client run on.
pub const CLIENT_CORE: usize = 1;

/// Whether this machine has the two cores the method needs (else nothing is pinned).
pub fn available() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Pins the calling thread to `core` (a no-op on a one-core machine).
pub fn pin_current_thread(core: usize) {
    if !available() {
        return;
    }
    let mut set = CpuSet::new();
    set.set(core).expect("core index within CpuSet");
    // Pid 0 is the calling thread.
    sched_setaffinity(Pid::from_raw(0), &set).expect("sched_setaffinity");
}

/// Runs `f` on a new thread pinned to `core` and returns its result.
pub fn on_core<T: Send>(core: usize, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                pin_current_thread(core);
                f()
            })
            .join()
            .expect("pinned thread panicked")
    })
}
