//! Live capture with libpcap: opening an interface (with the one-line
//! errors of the command line), and the capture thread's loop.
//!
//! A capture is opened promiscuous (a mirror port's interface has no
//! address and receives frames for every MAC; `any` cannot be), in
//! immediate mode (frames are delivered as they arrive, not when a kernel
//! block fills), and non-blocking: the loop reads until the ring is empty,
//! then waits in `poll(2)` for at most [`POLL_MS`], so it notices a stop
//! request, flushes its batches and answers snapshot requests while the
//! link is quiet (libpcap's own read timeout does not start on Linux until
//! a first frame arrives). Each frame borrows libpcap's buffer until the
//! next read.
//!
//! An interface that goes down and up again keeps its capture. One that
//! disappears (deleted, a USB adapter pulled) ends libpcap's capture: the
//! thread reports it, then tries to reopen it every second until it is back
//! or the run stops. Counters (libpcap's `pcap_stats`) are kept across
//! reopenings.

use super::shard::{Gone, Router, Worker};
use crate::capture::{Frame, LinkType, Nanos};
use crate::engine::Tally;
use pcap::{Active, Capture};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to open an interface.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub snaplen: i32,
    pub buffer_size: i32,
    pub filter: Option<String>,
    pub promisc: bool,
}

/// How long a quiet link holds the loop, in milliseconds.
const POLL_MS: u16 = 50;

/// The one line a user sees for a capture that cannot be opened.
fn explain(iface: &str, e: &pcap::Error) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let what = if lower.contains("no such device") {
        "no such interface (`ip link` lists them)".to_string()
    } else if lower.contains("permission") || lower.contains("not permitted") {
        "no permission to capture: run as root, or give the binary the capture capabilities \
         (sudo setcap cap_net_raw,cap_net_admin=eip $(command -v egresswatch))"
            .to_string()
    } else if lower.contains("not up") || lower.contains("went down") {
        format!("the interface is down (ip link set {iface} up)")
    } else {
        format!("cannot capture: {text}")
    };
    format!("{iface}: {what}")
}

/// Opens one interface, its filter compiled by libpcap for its link type.
pub fn open(iface: &str, o: &OpenOptions) -> Result<(Capture<Active>, LinkType), String> {
    let cap = Capture::from_device(iface)
        .map_err(|e| explain(iface, &e))?
        .promisc(o.promisc && iface != "any")
        .snaplen(o.snaplen)
        .buffer_size(o.buffer_size)
        .immediate_mode(true)
        .timeout(POLL_MS as i32);
    let mut cap = cap
        .open()
        .and_then(|c| c.setnonblock())
        .map_err(|e| explain(iface, &e))?;
    if let Some(expr) = &o.filter {
        cap.filter(expr, true)
            .map_err(|e| format!("--filter: cannot compile {expr:?} for {iface}: {e}"))?;
    }
    let dlt = cap.get_datalink().0;
    // libpcap's DLT_RAW is 12 on Linux; the decoder knows it by that value.
    let link = LinkType(dlt as u32);
    if !link.is_supported() {
        return Err(format!(
            "{iface}: link type {dlt} is not one egresswatch decodes"
        ));
    }
    Ok((cap, link))
}

/// One interface's counters, shared with the main thread.
#[derive(Debug, Default)]
pub struct IfaceStats {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    /// libpcap's counters, summed over every opening of the interface.
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    pub if_dropped: AtomicU64,
    /// Frames to the broadcast MAC (ARP, DHCP): a mirror of the uplink
    /// alone may not carry them.
    pub broadcast: AtomicU64,
    pub up: AtomicBool,
}

/// Something the main thread reports as an event.
#[derive(Debug, Clone)]
pub enum IfaceEvent {
    Lost { iface: String, problem: String },
    Back { iface: String },
}

/// Where a capture thread's frames go.
pub enum Dest {
    /// One worker, run by the capture thread itself: frames are analysed
    /// in libpcap's buffer, nothing is copied. Snapshot requests arrive on
    /// the receiver.
    Inline(Box<Worker>, Receiver<Sender<Tally>>),
    /// Routed to worker threads, each frame copied into a batch.
    Routed(Router),
}

impl Dest {
    fn frame(&mut self, f: &Frame<'_>) -> Result<(), Gone> {
        match self {
            Dest::Inline(w, _) => {
                w.frame(f);
                Ok(())
            }
            Dest::Routed(r) => r.route(f),
        }
    }

    fn idle(&mut self) -> Result<(), Gone> {
        match self {
            Dest::Inline(w, requests) => {
                while let Ok(reply) = requests.try_recv() {
                    let _ = reply.send(w.tally());
                }
                Ok(())
            }
            Dest::Routed(r) => r.flush(),
        }
    }
}

/// What a capture thread was given.
pub struct Job {
    pub iface: String,
    pub index: u16,
    pub cap: Capture<Active>,
    pub link: LinkType,
    pub opts: OpenOptions,
    pub dest: Dest,
    pub stop: Arc<AtomicBool>,
    pub stats: Arc<IfaceStats>,
    pub events: Sender<IfaceEvent>,
}

/// libpcap's counters since the capture was opened, added to what earlier
/// openings counted.
struct Counters {
    base: [u64; 3],
    last: [u64; 3],
}

impl Counters {
    fn update(&mut self, cap: &mut Capture<Active>, s: &IfaceStats) {
        if let Ok(st) = cap.stats() {
            self.last = [st.received as u64, st.dropped as u64, st.if_dropped as u64];
        }
        s.received.store(self.base[0] + self.last[0], Relaxed);
        s.dropped.store(self.base[1] + self.last[1], Relaxed);
        s.if_dropped.store(self.base[2] + self.last[2], Relaxed);
    }

    fn reopened(&mut self) {
        for i in 0..3 {
            self.base[i] += self.last[i];
        }
        self.last = [0; 3];
    }
}

/// The capture thread: reads until told to stop, then hands back its
/// destination (the inline worker, or the router to close).
pub fn run(job: Job) -> Dest {
    let Job {
        iface,
        index,
        cap,
        mut link,
        opts,
        mut dest,
        stop,
        stats,
        events,
    } = job;
    let mut cap = Some(cap);
    let mut counters = Counters {
        base: [0; 3],
        last: [0; 3],
    };
    stats.up.store(true, Relaxed);
    let mut number = 0u64;
    let mut since_idle = 0u32;
    let mut last_stats = Instant::now();
    'run: while !stop.load(Relaxed) {
        let Some(c) = cap.as_mut() else {
            // The interface went away: try again every second.
            std::thread::sleep(Duration::from_millis(200));
            if last_stats.elapsed() >= Duration::from_secs(1) {
                last_stats = Instant::now();
                if let Ok((c, l)) = super::privs::with_net_raw(|| open(&iface, &opts)) {
                    counters.reopened();
                    cap = Some(c);
                    link = l;
                    stats.up.store(true, Relaxed);
                    let _ = events.send(IfaceEvent::Back {
                        iface: iface.clone(),
                    });
                }
            }
            if dest.idle().is_err() {
                break 'run;
            }
            continue;
        };
        let mut wait = false;
        let failed = match c.next_packet() {
            Ok(p) => {
                number += 1;
                let h = p.header;
                // time_t and suseconds_t are narrower on some targets.
                #[allow(clippy::useless_conversion)]
                let ts: Nanos = i64::from(h.ts.tv_sec)
                    .saturating_mul(1_000_000_000)
                    .saturating_add(i64::from(h.ts.tv_usec).saturating_mul(1000));
                let frame = Frame {
                    file: index,
                    number,
                    ts,
                    link,
                    orig_len: h.len,
                    data: p.data,
                };
                stats.packets.fetch_add(1, Relaxed);
                stats.bytes.fetch_add(h.len as u64, Relaxed);
                if link == LinkType::ETHERNET && p.data.get(..6) == Some(&[0xff; 6]) {
                    stats.broadcast.fetch_add(1, Relaxed);
                }
                if dest.frame(&frame).is_err() {
                    break 'run;
                }
                since_idle += 1;
                if since_idle < 1024 {
                    continue;
                }
                None
            }
            Err(pcap::Error::TimeoutExpired) => {
                wait = true;
                None
            }
            Err(e) => Some(e.to_string()),
        };
        since_idle = 0;
        if last_stats.elapsed() >= Duration::from_millis(500) {
            last_stats = Instant::now();
            counters.update(c, &stats);
        }
        if let Some(problem) = failed {
            counters.update(c, &stats);
            cap = None;
            stats.up.store(false, Relaxed);
            let _ = events.send(IfaceEvent::Lost {
                iface: iface.clone(),
                problem,
            });
        }
        if dest.idle().is_err() {
            break;
        }
        if let (true, Some(c)) = (wait, cap.as_ref()) {
            use nix::poll::{poll, PollFd, PollFlags};
            use std::os::fd::AsFd;
            let _ = poll(&mut [PollFd::new(c.as_fd(), PollFlags::POLLIN)], POLL_MS);
        }
    }
    if let Some(c) = cap.as_mut() {
        counters.update(c, &stats);
    }
    dest
}
