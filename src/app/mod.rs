//! App-layer glue: runs the pure parsers in `proto` on the packets that can
//! carry their messages, and records what they learn on the flow and the
//! inventory.

use crate::capture::{LinkType, Nanos};
use crate::decode::Packet;
use crate::device::Inventory;
use crate::flow::table::Placed;
use crate::flow::{Flow, FrameRef};

/// What the app-layer parsers learned about one flow.
#[derive(Debug, Clone, Default)]
pub struct FlowApp {
    /// The destination's name as the device used it (SNI, HTTP Host, ...).
    pub name: Option<Box<str>>,
}

/// App-layer state shared across flows.
#[derive(Debug, Default)]
pub struct AppLayer {}

impl AppLayer {
    /// A TCP or UDP payload on `flow`.
    pub fn on_payload(
        &mut self,
        _flow: &mut Flow,
        _placed: Placed,
        _pkt: &Packet<'_>,
        _ts: Nanos,
        _frame: FrameRef,
        _inv: &mut Inventory,
    ) {
    }

    /// An 802.11 frame (with its radiotap header when `link` is radiotap).
    pub fn on_wifi(
        &mut self,
        _link: LinkType,
        _frame_bytes: &[u8],
        _ts: Nanos,
        _frame: FrameRef,
        _inv: &mut Inventory,
    ) {
    }
}
