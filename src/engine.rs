//! The engine: wires the stages and owns the per-packet loop.
//!
//! `process` takes one frame through decode, the flow table, the app-layer
//! parsers and the inventory. It allocates nothing per packet (tables grow
//! when a new flow, device or name first appears) and reads no clock: the
//! frame's timestamp is the only time it knows.

use crate::app::AppLayer;
use crate::capture::{Frame, Nanos};
use crate::decode::{self, DecodeError, Fragment, L4};
use crate::device::Inventory;
use crate::flow::{FlowConfig, FlowTable, FrameRef};
use serde::Serialize;
use std::collections::BTreeMap;

/// Engine limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineConfig {
    pub flow: FlowConfig,
}

/// Counters over everything read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureStats {
    pub packets: u64,
    pub bytes: u64,
    /// Frames that could not be decoded, by reason.
    pub undecodable: u64,
    pub undecodable_reasons: BTreeMap<&'static str, u64>,
    /// Frames cut by the snap length.
    pub truncated: u64,
    /// IP fragments, and those after the first (no L4 header).
    pub fragments: u64,
    pub later_fragments: u64,
    /// 802.11 frames (radiotap or raw 802.11 link types).
    pub wifi_frames: u64,
    /// Frames without IP (ARP, EAPOL, LLDP, ...).
    pub non_ip: u64,
    /// Frames `--filter` left out.
    pub filtered_out: u64,
    #[serde(skip)]
    pub first_ts: Option<Nanos>,
    #[serde(skip)]
    pub last_ts: Option<Nanos>,
}

/// The whole analysis state.
pub struct Engine {
    pub flows: FlowTable,
    pub inventory: Inventory,
    pub app: AppLayer,
    pub stats: CaptureStats,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        Engine {
            flows: FlowTable::new(cfg.flow),
            inventory: Inventory::default(),
            app: AppLayer::default(),
            stats: CaptureStats::default(),
        }
    }

    /// Takes one frame through every stage.
    pub fn process(&mut self, frame: &Frame<'_>) {
        let s = &mut self.stats;
        s.packets += 1;
        s.bytes += frame.orig_len as u64;
        s.first_ts = Some(s.first_ts.map_or(frame.ts, |t| t.min(frame.ts)));
        s.last_ts = Some(s.last_ts.map_or(frame.ts, |t| t.max(frame.ts)));
        if frame.is_truncated() {
            s.truncated += 1;
        }
        let pkt = match decode::decode(frame) {
            Ok(p) => p,
            Err(e) => {
                self.undecodable(e);
                return;
            }
        };
        let fref = FrameRef {
            file: frame.file,
            number: frame.number,
        };
        if let Some(wifi) = pkt.wifi {
            self.stats.wifi_frames += 1;
            self.app
                .on_wifi(frame.link, wifi, frame.ts, fref, &mut self.inventory);
            // Only an open network's data frames carry IP to follow.
            if pkt.ip.is_none() {
                return;
            }
        }
        self.inventory.observe_frame(&pkt, frame);
        let Some(ip) = pkt.ip else {
            self.stats.non_ip += 1;
            return;
        };
        if ip.fragment != Fragment::Whole {
            self.stats.fragments += 1;
            if ip.fragment == Fragment::Later {
                self.stats.later_fragments += 1;
                return;
            }
        }
        let placed = self
            .flows
            .update(&pkt, fref, frame.ts, frame.orig_len, &mut self.inventory);
        if let Some(placed) = placed {
            if placed.new {
                if let Some(flow) = self.flows.get_mut(placed.slot) {
                    self.app.on_new_flow(flow, frame.ts);
                }
            }
            if !pkt.payload.is_empty() && matches!(pkt.l4, L4::Tcp(_) | L4::Udp { .. }) {
                if let Some(flow) = self.flows.get_mut(placed.slot) {
                    self.app
                        .on_payload(flow, placed, &pkt, frame.ts, fref, &mut self.inventory);
                }
            }
        }
    }

    fn undecodable(&mut self, e: DecodeError) {
        self.stats.undecodable += 1;
        let reason = match e {
            DecodeError::UnsupportedLink(_) => "unsupported link type",
            DecodeError::ShortLink => "frame shorter than its link-layer header",
            DecodeError::BadIp => "damaged or cut-off IP header",
            DecodeError::UnknownFamily(_) => "loopback frame of another address family",
        };
        *self.stats.undecodable_reasons.entry(reason).or_default() += 1;
    }

    /// The report as it stands now, for a capture still running: a copy of
    /// the inventory with every open flow summarised as if the capture
    /// ended at the last frame seen (attempts within their timeout stay
    /// pending). The engine itself is not changed, so a snapshot taken at
    /// the end equals the final report of the same frames.
    pub fn snapshot(
        &self,
        files: &[String],
        problems: Vec<String>,
        checks: crate::report::Checks<'_>,
    ) -> crate::report::Report {
        let mut inv = self.inventory.clone();
        for flow in self.flows.iter_drain_order() {
            crate::flow::FlowSink::flow_ended(&mut inv, flow, crate::flow::EndReason::CaptureEnd);
        }
        crate::report::build_with(self, &inv, files, problems, checks)
    }

    /// Ends the run: every flow still open is summarised.
    pub fn finish(&mut self) {
        let end = self.stats.last_ts.unwrap_or(0);
        self.app.finish(end, &mut self.inventory);
        self.flows.drain(&mut self.inventory);
    }
}
