//! Capabilities: what the sensor keeps once its captures are open.
//!
//! Capturing needs `CAP_NET_RAW` (a packet socket) and, for some drivers
//! and buffer sizes, `CAP_NET_ADMIN`; root has both, and an unprivileged
//! binary gets them from `setcap cap_net_raw,cap_net_admin=eip` or from
//! systemd's `AmbientCapabilities=`. Once every capture is open, the
//! process keeps only `CAP_NET_RAW`, and only in its permitted set: not
//! effective, so nothing it does uses it by accident, but there to raise for
//! the moment of reopening an interface that went away ([`with_net_raw`]).
//! Everything else (and the inheritable and ambient sets) is cleared, so
//! nothing the process could start inherits a capability.
//!
//! Linux capabilities belong to a thread and are inherited by the threads
//! it starts: [`drop_after_open`] runs on the main thread before any other
//! thread exists. The `caps` crate makes the `capget`/`capset` calls (this
//! crate has no `unsafe`); it is small, pure Rust over libc, and
//! maintained.

use caps::{CapSet, Capability, CapsHashSet};

/// What was kept, for the log: e.g. `"cap_net_raw (permitted only)"`.
pub fn drop_after_open() -> Result<String, String> {
    let permitted =
        caps::read(None, CapSet::Permitted).map_err(|e| format!("reading capabilities: {e}"))?;
    let mut keep = CapsHashSet::new();
    if permitted.contains(&Capability::CAP_NET_RAW) {
        keep.insert(Capability::CAP_NET_RAW);
    }
    // Ambient first (it must stay a subset of permitted and inheritable).
    let _ = caps::clear(None, CapSet::Ambient);
    caps::clear(None, CapSet::Inheritable).map_err(|e| format!("dropping capabilities: {e}"))?;
    caps::clear(None, CapSet::Effective).map_err(|e| format!("dropping capabilities: {e}"))?;
    caps::set(None, CapSet::Permitted, &keep).map_err(|e| format!("dropping capabilities: {e}"))?;
    Ok(if keep.is_empty() {
        "none".into()
    } else {
        "cap_net_raw (permitted, not effective: for reopening an interface)".into()
    })
}

/// Runs `f` with `CAP_NET_RAW` effective when the process kept it, and
/// makes it ineffective again afterwards.
pub fn with_net_raw<T>(f: impl FnOnce() -> T) -> T {
    let raised = caps::raise(None, CapSet::Effective, Capability::CAP_NET_RAW).is_ok();
    let out = f();
    if raised {
        let _ = caps::drop(None, CapSet::Effective, Capability::CAP_NET_RAW);
    }
    out
}
