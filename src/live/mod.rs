//! `egresswatch live`: the sensor on a mirror port.
//!
//! ```text
//! capture thread per interface ─(route by host, copy into a batch)─▶ worker 0..N (Engine each)
//!        │ (or, with --workers 0, the engine runs on the capture thread: no copy)
//! main thread: every 2 s a snapshot of every engine, merged ─▶ events (NDJSON)
//!              every --stats-interval: stats and finding updates
//!              on --duration, SIGINT, SIGTERM: stop, merge, final report
//! ```
//!
//! The engines are the offline path's own ([`crate::engine::Engine`]):
//! capture time is the clock, so a timeout (a SYN never answered) is raised
//! by the first snapshot after it passed in capture time, and a replayed
//! capture gives the findings `analyze` gives. How frames are spread over
//! workers, and what that costs, is in [`shard`]; the events are in
//! [`events`]; the capture loop and its errors in [`source`]; capabilities
//! in [`privs`].

pub mod events;
pub mod privs;
pub mod shard;
pub mod source;

use crate::cli::FailOn;
use crate::engine::{Engine, EngineConfig, Tally};
use crate::finding::Severity;
use crate::output::{self, Format};
use crate::profile::{ProfileSet, Site};
use crate::report::{self, Checks, Report};
use events::{Sink, Tracker};
use serde::Serialize;
use serde_json::json;
use source::{Dest, IfaceEvent, IfaceStats, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `egresswatch live` options.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// Interface to capture on; repeat for several (`any`: every interface).
    #[arg(short = 'i', long = "interface", required = true, value_name = "IFACE")]
    pub interfaces: Vec<String>,
    /// Format of the final report (events are always NDJSON).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Append events and the final report to FILE (reopened on SIGHUP).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Capture only frames matching this BPF expression (tcpdump syntax).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Bytes kept of each frame.
    #[arg(long, default_value_t = 262_144, value_name = "BYTES")]
    pub snaplen: i32,
    /// libpcap's kernel buffer per interface.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
    pub buffer_size: i32,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Analysis threads; 0 analyses on the capture thread (one interface
    /// only; no copy). Default: one per core.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    #[command(flatten)]
    pub limits: crate::cli::Limits,
    /// Seconds between `stats` events (and finding updates).
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub stats_interval: f64,
    /// Seconds of capture after which the mirror self-check is reported.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub mirror_check: f64,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Profiles to use instead of the built-in ones (a folder of *.toml).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Site settings: values the profiles leave to the site (TOML).
    #[arg(long, value_name = "FILE")]
    pub site: Option<PathBuf>,
    /// Exit with status 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value = "never")]
    pub fail_on: FailOn,
}

/// A live capture's interfaces, in the report (`capture.live`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveSummary {
    /// Analysis threads (0: on the capture thread).
    pub workers: usize,
    pub interfaces: Vec<IfaceSummary>,
    /// libpcap's counters over every interface: frames the filter passed,
    /// dropped by the kernel (buffer full), dropped by the interface.
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IfaceSummary {
    pub interface: String,
    pub link_type: String,
    pub up: bool,
    pub packets: u64,
    pub bytes: u64,
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
    pub broadcast: u64,
}

/// How often the engines are snapshotted for events.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(2);

/// Where snapshots come from.
enum Analysis {
    Inline(Sender<Sender<Tally>>),
    Threads(Vec<SyncSender<shard::Msg>>),
}

impl Analysis {
    fn tallies(&self) -> Vec<Tally> {
        let (tx, rx) = mpsc::channel();
        let n = match self {
            Analysis::Inline(req) => usize::from(req.send(tx).is_ok()),
            Analysis::Threads(ws) => ws
                .iter()
                .filter(|w| w.send(shard::Msg::Tally(tx.clone())).is_ok())
                .count(),
        };
        (0..n)
            .filter_map(|_| rx.recv_timeout(Duration::from_secs(10)).ok())
            .collect()
    }
}

struct Iface {
    name: String,
    link: crate::capture::LinkType,
    stats: Arc<IfaceStats>,
}

fn summary(ifaces: &[Iface], workers: usize) -> LiveSummary {
    let interfaces: Vec<IfaceSummary> = ifaces
        .iter()
        .map(|i| IfaceSummary {
            interface: i.name.clone(),
            link_type: i.link.name().into(),
            up: i.stats.up.load(Relaxed),
            packets: i.stats.packets.load(Relaxed),
            bytes: i.stats.bytes.load(Relaxed),
            received: i.stats.received.load(Relaxed),
            dropped: i.stats.dropped.load(Relaxed),
            if_dropped: i.stats.if_dropped.load(Relaxed),
            broadcast: i.stats.broadcast.load(Relaxed),
        })
        .collect();
    LiveSummary {
        workers,
        received: interfaces.iter().map(|i| i.received).sum(),
        dropped: interfaces.iter().map(|i| i.dropped).sum(),
        if_dropped: interfaces.iter().map(|i| i.if_dropped).sum(),
        interfaces,
    }
}

/// The report of merged tallies, with the live additions.
fn build(
    tallies: Vec<Tally>,
    files: &[String],
    problems: Vec<String>,
    checks: Checks<'_>,
    live: LiveSummary,
) -> (Report, usize) {
    let open_flows = tallies.iter().map(|t| t.open_flows).sum();
    // The merged engine's own table stays empty: every flow is in the tallies.
    let engine = Engine::from_tallies(EngineConfig::default(), tallies);
    let mut r = report::build(&engine, files, problems, checks);
    let broadcast = live.interfaces.iter().map(|i| i.broadcast).sum();
    r.capture.mirror = crate::check::mirror::assess(&r.devices, Some(broadcast));
    r.capture.live = Some(live);
    (r, open_flows)
}

fn stats_event(r: &Report, open_flows: usize, started: Instant) -> serde_json::Value {
    let live = r.capture.live.as_ref();
    events::event(
        json!({
            "capture_time": r.capture.end.map(report::format_time),
            "uptime_s": started.elapsed().as_secs(),
            "packets": live.map_or(0, |l| l.interfaces.iter().map(|i| i.packets).sum::<u64>()),
            "bytes": live.map_or(0, |l| l.interfaces.iter().map(|i| i.bytes).sum::<u64>()),
            "received": live.map_or(0, |l| l.received),
            "dropped": live.map_or(0, |l| l.dropped),
            "if_dropped": live.map_or(0, |l| l.if_dropped),
            "flows": open_flows,
            "flows_created": r.capture.flows.created,
            "devices": r.devices.len(),
            "findings": r.findings.len(),
            "interfaces": live.map(|l| &l.interfaces),
        }),
        "stats",
        Some(events::wall_time()),
    )
}

/// Runs the sensor until `--duration`, SIGINT or SIGTERM.
pub fn run(args: LiveArgs, profiles: ProfileSet, site: Site) -> Result<ExitCode, String> {
    if args.interfaces.len() > u16::MAX as usize {
        return Err("too many interfaces".into());
    }
    let bad = |x: f64| x.is_nan() || x < 0.0;
    if bad(args.stats_interval) || args.stats_interval == 0.0 || args.duration.is_some_and(bad) {
        return Err("--stats-interval and --duration take a positive number of seconds".into());
    }
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)));
    if workers == 0 && args.interfaces.len() > 1 {
        return Err("--workers 0 analyses on the capture thread: one interface only".into());
    }
    let mut sink = Sink::open(args.output.clone())?;
    let opts = OpenOptions {
        snaplen: args.snaplen,
        buffer_size: args.buffer_size,
        filter: args.filter.clone(),
        promisc: !args.no_promisc,
    };
    let mut opened = Vec::new();
    for name in &args.interfaces {
        opened.push((name.clone(), source::open(name, &opts)?));
    }
    // Every capture is open: from here on the process needs no privilege
    // but reopening one (see privs). No other thread exists yet.
    if let Err(e) = privs::drop_after_open() {
        eprintln!("egresswatch: warning: {e}; running with the privileges it was given");
    }

    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping ends the process at once.
        signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
            .map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())
        .map_err(|e| format!("cannot handle signals: {e}"))?;

    let cfg = args.limits.engine();
    let (ev_tx, ev_rx) = mpsc::channel::<IfaceEvent>();
    let mut ifaces = Vec::new();
    let mut captures = Vec::new();
    let mut worker_threads = Vec::new();
    let analysis;
    let mut worker_txs = Vec::new();
    let mut inline = None;
    if workers == 0 {
        let (req_tx, req_rx) = mpsc::channel();
        inline = Some(req_rx);
        analysis = Analysis::Inline(req_tx);
    } else {
        for i in 0..workers {
            let (tx, rx) = mpsc::sync_channel(8);
            worker_txs.push(tx);
            worker_threads.push(
                std::thread::Builder::new()
                    .name(format!("shard-{i}"))
                    .spawn(move || shard::work(cfg, rx))
                    .map_err(|e| format!("cannot start a worker thread: {e}"))?,
            );
        }
        analysis = Analysis::Threads(worker_txs.clone());
    }
    for (index, (name, (cap, link))) in opened.into_iter().enumerate() {
        let stats = Arc::new(IfaceStats::default());
        ifaces.push(Iface {
            name: name.clone(),
            link,
            stats: stats.clone(),
        });
        let dest = match inline.take() {
            Some(req_rx) => Dest::Inline(Box::new(shard::Worker::new(cfg)), req_rx),
            None => Dest::Routed(shard::Router::new(worker_txs.clone())),
        };
        let job = source::Job {
            iface: name.clone(),
            index: index as u16,
            cap,
            link,
            opts: opts.clone(),
            dest,
            stop: stop.clone(),
            stats,
            events: ev_tx.clone(),
        };
        captures.push(
            std::thread::Builder::new()
                .name(format!("capture-{name}"))
                .spawn(move || source::run(job))
                .map_err(|e| format!("cannot start a capture thread: {e}"))?,
        );
    }
    drop(worker_txs);

    let files: Vec<String> = args.interfaces.clone();
    let checks = Checks {
        profiles: &profiles,
        site: &site,
    };
    let io = |e: std::io::Error| format!("{}: cannot write: {e}", "events");
    let started = Instant::now();
    let stats_every = Duration::from_secs_f64(args.stats_interval);
    let duration = args.duration.map(Duration::from_secs_f64);
    let mirror_after = (args.mirror_check.max(0.0) * 1e9) as i64;
    let mut tracker = Tracker::default();
    let mut next_snapshot = started + SNAPSHOT_EVERY.min(stats_every);
    let mut next_stats = started + stats_every;
    let mut write_failed = None;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let mut lines = Vec::new();
        while let Ok(e) = ev_rx.try_recv() {
            lines.push(match e {
                IfaceEvent::Lost { iface, problem } => {
                    events::interface(&iface, "gone", Some(&problem))
                }
                IfaceEvent::Back { iface } => events::interface(&iface, "up", None),
            });
        }
        if hup.swap(false, Relaxed) {
            if let Err(e) = sink.reopen() {
                eprintln!("egresswatch: {}: cannot reopen: {e}", sink.name());
            }
        }
        let now = Instant::now();
        let stopping = stop.load(Relaxed) || duration.is_some_and(|d| now >= started + d);
        if stopping {
            for l in &lines {
                sink.line(l).map_err(io)?;
            }
            break;
        }
        if now >= next_snapshot {
            next_snapshot = now + SNAPSHOT_EVERY.min(stats_every);
            let (r, open_flows) = build(
                analysis.tallies(),
                &files,
                Vec::new(),
                checks,
                summary(&ifaces, workers),
            );
            lines.extend(tracker.snapshot(&r));
            if let (Some(s), Some(e)) = (r.capture.start, r.capture.end) {
                if e - s >= mirror_after {
                    lines.extend(tracker.mirror(&r));
                }
            }
            if now >= next_stats {
                next_stats = now + stats_every;
                lines.extend(tracker.updates(&r, false));
                lines.push(stats_event(&r, open_flows, started));
            }
        }
        if !lines.is_empty() {
            let written = lines
                .iter()
                .try_for_each(|l| sink.line(l))
                .and_then(|_| sink.flush());
            if let Err(e) = written {
                // A full disk must not stop the capture: say so once.
                if write_failed.is_none() {
                    eprintln!("egresswatch: {}: cannot write events: {e}", sink.name());
                }
                write_failed = Some(e);
            }
        }
    }

    // Stop: every capture thread flushes and hands back its destination.
    stop.store(true, Relaxed);
    let mut tallies = Vec::new();
    let mut problems = Vec::new();
    for c in captures {
        match c.join() {
            Ok(Dest::Inline(w, _)) => tallies.push(w.finish()),
            Ok(Dest::Routed(r)) => {
                if r.close().is_err() {
                    problems
                        .push("a worker thread failed; its share of the traffic is missing".into());
                }
            }
            Err(_) => problems.push("a capture thread failed".into()),
        }
    }
    drop(analysis);
    for w in worker_threads {
        match w.join() {
            Ok(t) => tallies.push(t),
            Err(_) => {
                problems.push("a worker thread failed; its share of the traffic is missing".into())
            }
        }
    }
    let live = summary(&ifaces, workers);
    if live.dropped + live.if_dropped > 0 {
        problems.push(format!(
            "libpcap dropped {} frames (kernel buffer full) and the interfaces {}: the analysis misses them",
            live.dropped, live.if_dropped
        ));
    }
    let (r, open_flows) = build(tallies, &files, problems, checks, live);
    let mut lines = tracker.snapshot(&r);
    lines.extend(tracker.mirror(&r));
    lines.extend(tracker.updates(&r, true));
    lines.push(stats_event(&r, open_flows, started));
    for l in &lines {
        sink.line(l).map_err(io)?;
    }
    match args.format {
        Format::Ndjson => {
            let v = serde_json::to_value(&r).map_err(|e| e.to_string())?;
            sink.line(&events::event(
                v,
                "report",
                r.capture.end.map(report::format_time),
            ))
            .map_err(io)?;
        }
        f => output::write(&r, f, sink.writer()).map_err(io)?,
    }
    sink.flush().map_err(io)?;
    let _ = std::io::stdout().flush();
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    let failed = threshold.is_some_and(|t| r.findings.iter().any(|f| f.severity >= t));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
