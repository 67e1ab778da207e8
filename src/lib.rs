//! egresswatch: a passive network sensor that tells a site, device by
//! device, whether its network gives each IoT device the outbound access its
//! vendor documents.
//!
//! Data flows one way, and the modules follow it:
//!
//! ```text
//! capture ─Frame─▶ decode ─Packet─▶ flow ─▶ app (proto parsers) ─▶ device
//!    ─▶ report (findings) ─▶ output (text / markdown / JSON / NDJSON)
//! ```
//!
//! [`capture`] streams frames from pcap/pcapng files through a reused buffer;
//! [`decode`] slices link, VLAN, IP and L4 headers laxly; [`flow`] keeps the
//! bounded table of conversations with TCP handshake state; [`app`] runs the
//! pure parsers of [`proto`] on the packets that can carry their messages;
//! [`device`] holds the inventory and the per-destination outcomes;
//! [`report`] builds the one report every [`output`] renders. [`engine`]
//! wires the stages and owns the per-packet loop; [`live`] runs engines on
//! live interfaces, sharded by host across threads. Capture time is the
//! only clock below the CLI.

#![forbid(unsafe_code)]

pub mod analyze;
pub mod app;
pub mod capture;
pub mod check;
pub mod cli;
pub mod decode;
pub mod device;
pub mod engine;
pub mod finding;
pub mod flow;
pub mod fuzzing;
pub mod live;
pub mod output;
pub mod par;
pub mod plain;
pub mod profile;
pub mod proto;
pub mod report;
pub mod testgen;
pub mod trust;
pub mod tui;
