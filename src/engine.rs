//! The engine: wires the stages and owns the per-packet loop.
//!
//! `process` takes one frame through decode, the flow table, the app-layer
//! parsers and the inventory. It allocates nothing per packet (tables grow
//! when a new flow, device or name first appears) and reads no clock: the
//! frame's timestamp is the only time it knows.

use crate::app::{AppLayer, ProtoCounts};
use crate::capture::{Frame, Nanos};
use crate::decode::{self, DecodeError, Fragment, L4};
use crate::device::Inventory;
use crate::flow::{FlowConfig, FlowStats, FlowTable, FrameRef};
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

/// What an engine has seen, detached from it: the inventory and every
/// counter the report shows. The shards of a live capture each run an
/// engine and send these to be merged into one report
/// ([`Engine::from_tallies`]).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub inventory: Inventory,
    pub stats: CaptureStats,
    pub flows: FlowStats,
    pub app: ProtoCounts,
    pub cache_dropped: u64,
    pub pending_dropped: u64,
    /// Flows still in the table.
    pub open_flows: usize,
}

impl CaptureStats {
    /// Adds another engine's counters (a shard's) to these.
    pub fn merge(&mut self, o: &CaptureStats) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.undecodable += o.undecodable;
        for (reason, n) in &o.undecodable_reasons {
            *self.undecodable_reasons.entry(reason).or_default() += n;
        }
        self.truncated += o.truncated;
        self.fragments += o.fragments;
        self.later_fragments += o.later_fragments;
        self.wifi_frames += o.wifi_frames;
        self.non_ip += o.non_ip;
        self.filtered_out += o.filtered_out;
        self.first_ts = match (self.first_ts, o.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = self.last_ts.max(o.last_ts);
    }
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
        // Every frame brings the time, whatever it holds: timeouts are a
        // function of capture time alone (see [`Engine::advance`]).
        self.advance(frame.ts);
        let s = &mut self.stats;
        s.packets += 1;
        s.bytes += frame.orig_len as u64;
        s.first_ts = Some(s.first_ts.map_or(frame.ts, |t| t.min(frame.ts)));
        s.last_ts = Some(s.last_ts.map_or(frame.ts, |t| t.max(frame.ts)));
        if frame.is_truncated() {
            s.truncated += 1;
        }
        let mut pkt = decode::Packet::empty();
        if let Err(e) = decode::decode_into(frame, &mut pkt) {
            self.undecodable(e);
            return;
        }
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
        let Some(ip) = &pkt.ip else {
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
                if let Some(flow) = self.flows.placed_mut(&placed) {
                    self.app.on_new_flow(flow, frame.ts);
                }
            }
            if !pkt.payload.is_empty() && matches!(pkt.l4, L4::Tcp(_) | L4::Udp { .. }) {
                if let Some(flow) = self.flows.placed_mut(&placed) {
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
        let inv = self.snapshot_inventory();
        crate::report::build_with(self, &inv, files, problems, checks)
    }

    /// A copy of the inventory with every open flow summarised as if the
    /// capture ended now.
    fn snapshot_inventory(&self) -> Inventory {
        let mut inv = self.inventory.clone();
        for flow in self.flows.iter_drain_order() {
            crate::flow::FlowSink::flow_ended(&mut inv, flow, crate::flow::EndReason::CaptureEnd);
        }
        inv
    }

    /// Capture time has reached `now`: what waited past its timeout ends,
    /// and a snapshot or the end of the run judges pending attempts against
    /// `now`. Every frame calls this first; so does a shard for each frame
    /// another shard analyses (or, live, for the newest time any shard has
    /// seen), which is what makes the shards' merged state equal one
    /// engine's.
    pub fn advance(&mut self, now: Nanos) {
        if now <= self.inventory.last_ts {
            return;
        }
        self.inventory.last_ts = now;
        self.flows.tick(now, &mut self.inventory);
        self.app.tick(now, &mut self.inventory);
    }

    /// Ends the run: every flow still open is summarised.
    pub fn finish(&mut self) {
        // The inventory's clock is only ahead of the last frame when a live
        // shard was told a later time by [`Engine::advance`].
        let end = self.stats.last_ts.unwrap_or(0).max(self.inventory.last_ts);
        self.app.finish(end, &mut self.inventory);
        self.flows.drain(&mut self.inventory);
    }

    /// The state as it stands, detached: for a running capture, open flows
    /// summarised as in [`Engine::snapshot`].
    pub fn tally(&self) -> Tally {
        Tally {
            inventory: self.snapshot_inventory(),
            stats: self.stats.clone(),
            flows: self.flows.stats(),
            app: self.app.counts.clone(),
            cache_dropped: self.app.cache_dropped,
            pending_dropped: self.app.pending_dropped,
            open_flows: self.flows.len(),
        }
    }

    /// Ends the run and gives up its state without copying it.
    pub fn into_tally(self) -> Tally {
        self.into_tally_and_rest().0
    }

    /// [`Engine::into_tally`], and what is left of the engine (its app
    /// layer's caches), for the caller to free when it suits: freeing a
    /// shard's DNS caches, many small allocations, took 5 to 7 ms at the end
    /// of a 2-worker run on the 1M-packet site mix. The flow table's few
    /// large blocks are given back at once.
    pub fn into_tally_and_rest(mut self) -> (Tally, Engine) {
        self.finish();
        self.flows.release();
        let tally = Tally {
            inventory: std::mem::take(&mut self.inventory),
            stats: std::mem::take(&mut self.stats),
            flows: self.flows.stats(),
            app: std::mem::take(&mut self.app.counts),
            cache_dropped: self.app.cache_dropped,
            pending_dropped: self.app.pending_dropped,
            open_flows: 0,
        };
        (tally, self)
    }

    /// One engine holding the merged state of several (the shards of a
    /// live capture), for [`crate::report::build`]. Its flow table is
    /// empty: every flow is already summarised in the tallies.
    pub fn from_tallies(cfg: EngineConfig, tallies: Vec<Tally>) -> Engine {
        Engine::from_tallies_on(cfg, tallies, 1)
    }

    /// [`Engine::from_tallies`] with the inventories merged on up to
    /// `threads` threads ([`crate::device::merge_shards_on`]): the same
    /// engine.
    pub fn from_tallies_on(cfg: EngineConfig, tallies: Vec<Tally>, threads: usize) -> Engine {
        let mut e = Engine::new(cfg);
        let mut inventories = Vec::new();
        for t in tallies {
            inventories.push(t.inventory);
            e.stats.merge(&t.stats);
            e.flows.add_stats(&t.flows);
            e.app.add_counts(&t.app);
            e.app.cache_dropped += t.cache_dropped;
            e.app.pending_dropped += t.pending_dropped;
        }
        e.inventory = crate::device::merge_shards_on(inventories, threads);
        e
    }
}
