//! The live path without libpcap: how analysis throughput scales with
//! worker threads.
//!
//! Every frame of a trace held in memory goes through what a capture
//! thread does with it, then through the engines:
//!
//! - `inline`: the engine on the calling thread, frames analysed where they
//!   lie (what `live --workers 0` does: no copy, one core);
//! - `workers/N`: [`Sharded`] with N worker threads: the calling thread
//!   routes each frame by host and copies it into its worker's batch (as a
//!   capture thread does), the workers analyse, and their engines are
//!   merged at the end (the merge is timed too);
//! - `handoff`: routing and copying alone, batches recycled on the calling
//!   thread: the capture thread's own cost per frame.
//!
//! Traces: a synthetic site of 512 hosts (64,000 TCP connections of five
//! frames each, 320,000 frames, built in memory with
//! [`egresswatch::testgen::build`]), where sharding by host has work to
//! spread; and the real smart-lock capture
//! `../shared/captures/tjoconnor__schlage-lock-01.pcap`, nearly all one
//! host's traffic, where it has not (one worker does it all). A missing
//! trace panics: benchmarks never skip.
//!
//! Criterion's means need an otherwise idle machine; on a shared one other
//! processes take the second core as often as the second worker does. So
//! the bench also prints, before criterion runs, the best of ten runs of
//! each configuration on the 512-host site (the run least disturbed) and
//! the process CPU time per run (from `/proc/self/stat`, which contention
//! does not inflate): the scaling and the cost of the hand-off.
//!
//! Run: `cargo bench --bench live_shards -- --warm-up-time 1 --measurement-time 5`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use egresswatch::capture::file::FileReader;
use egresswatch::capture::{Frame, LinkType, Nanos};
use egresswatch::engine::{Engine, EngineConfig};
use egresswatch::live::shard::{self, Batch, Sharded};
use egresswatch::testgen::build::{ethernet, filler, tcpflags, Ip, Ipv4, Tcp, Vlan};
use std::hint::black_box;
use std::path::Path;

/// Frames held in memory, their bytes in one arena.
#[derive(Default)]
struct Trace {
    data: Vec<u8>,
    /// (link, ts, orig_len, start, len)
    recs: Vec<(LinkType, Nanos, u32, usize, usize)>,
}

impl Trace {
    fn push(&mut self, link: LinkType, ts: Nanos, orig_len: u32, bytes: &[u8]) {
        self.recs
            .push((link, ts, orig_len, self.data.len(), bytes.len()));
        self.data.extend_from_slice(bytes);
    }

    fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        self.recs
            .iter()
            .enumerate()
            .map(|(i, &(link, ts, orig_len, at, len))| Frame {
                file: 0,
                number: i as u64 + 1,
                ts,
                link,
                orig_len,
                data: &self.data[at..at + len],
            })
    }
}

fn real_trace(rel: &str) -> Trace {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    assert!(
        p.is_file(),
        "benchmark trace {} is missing; benchmarks do not skip",
        p.display()
    );
    let mut r = FileReader::open(&p, 0).expect("trace opens");
    let mut t = Trace::default();
    while let Some(f) = r.next_frame() {
        t.push(f.link, f.ts, f.orig_len, f.data);
    }
    t
}

/// 512 hosts, each opening 125 TCP connections (SYN, SYN-ACK, ACK, 300
/// bytes of data, FIN) to 64 servers, interleaved in waves as a site's
/// traffic is.
fn site_of_hosts() -> Trace {
    const HOSTS: u32 = 512;
    const CONNS: u32 = 64_000;
    const WAVE: u32 = 2_000;
    const GW: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    use tcpflags::{ACK, FIN, PSH, SYN};
    let request = filler(11, 300);
    let mut t = Trace::default();
    let mut ts: Nanos = 1_767_225_600_000_000_000;
    for wave in 0..CONNS / WAVE {
        for phase in 0..5 {
            for i in wave * WAVE..(wave + 1) * WAVE {
                let h = i % HOSTS;
                let ip = [10, 2, (h >> 8) as u8, h as u8 + 1];
                let mac = [0x02, 0x20, 0, 0, (h >> 8) as u8, h as u8];
                let srv = [198, 51, 100, (i % 64) as u8 + 1];
                let sport = 30_000 + (i / HOSTS) as u16;
                let (c0, s0) = (i.wrapping_mul(40_503) >> 2, i.wrapping_mul(69_069) >> 2);
                let (out, tcp, payload): (bool, Tcp, &[u8]) = match phase {
                    0 => (true, Tcp::new(sport, 443, c0, 0, SYN), &[]),
                    1 => (false, Tcp::new(443, sport, s0, c0 + 1, SYN | ACK), &[]),
                    2 => (true, Tcp::new(sport, 443, c0 + 1, s0 + 1, ACK), &[]),
                    3 => (
                        true,
                        Tcp::new(sport, 443, c0 + 1, s0 + 1, PSH | ACK),
                        &request,
                    ),
                    _ => (true, Tcp::new(sport, 443, c0 + 301, s0 + 1, FIN | ACK), &[]),
                };
                let (l3, src, dst) = if out {
                    (Ip::V4(Ipv4::new(ip, srv)), mac, GW)
                } else {
                    (Ip::V4(Ipv4::new(srv, ip)), GW, mac)
                };
                let f = ethernet(
                    dst,
                    src,
                    Vlan::Untagged,
                    l3.ethertype(),
                    &l3.tcp(&tcp, payload),
                );
                t.push(LinkType::ETHERNET, ts, f.len() as u32, &f);
                ts += 20_000;
            }
        }
    }
    t
}

fn inline(t: &Trace) -> Engine {
    let mut e = Engine::new(EngineConfig::default());
    for f in t.frames() {
        e.process(&f);
    }
    e.finish();
    e
}

fn sharded(t: &Trace, n: usize) -> Engine {
    let mut s = Sharded::new(EngineConfig::default(), n);
    for f in t.frames() {
        s.push(&f);
    }
    s.finish()
}

/// Routing and copying alone: what the capture thread spends per frame.
fn handoff(t: &Trace, n: usize) -> usize {
    let mut batches: Vec<Batch> = (0..n).map(|_| Batch::new()).collect();
    let mut sent = 0;
    for f in t.frames() {
        let i = shard::shard_of(&f, n);
        if !batches[i].push(&f) {
            sent += batches[i].len();
            batches[i].clear();
            batches[i].push(&f);
        }
    }
    sent
}

/// Process CPU time (user + system), in clock ticks.
fn cpu_ticks() -> u64 {
    let st = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &st[st.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

/// Best-of-ten wall time and mean CPU time per run, per configuration.
fn scaling_report(name: &str, t: &Trace) {
    const RUNS: u32 = 10;
    let mut base = None;
    println!("{name}: best of {RUNS} runs (wall), CPU per run (user + system)");
    for (label, n) in [("inline", 0), ("workers/1", 1), ("workers/2", 2)] {
        let c0 = cpu_ticks();
        let mut best = std::time::Duration::MAX;
        for _ in 0..RUNS {
            let t0 = std::time::Instant::now();
            let packets = if n == 0 {
                inline(t).stats.packets
            } else {
                sharded(t, n).stats.packets
            };
            black_box(packets);
            best = best.min(t0.elapsed());
        }
        // Clock ticks are 10 ms on Linux.
        let cpu_ms = (cpu_ticks() - c0) * 10 / RUNS as u64;
        let rate = t.recs.len() as f64 / best.as_secs_f64();
        let vs = match (n, base) {
            (1, _) => {
                base = Some(rate);
                String::new()
            }
            (2, Some(b)) => format!("  ({:.2}x workers/1)", rate / b),
            _ => String::new(),
        };
        println!(
            "  {label:<10} {:>6.2} M frames/s   {cpu_ms:>5} ms CPU{vs}",
            rate / 1e6
        );
    }
}

fn bench(c: &mut Criterion) {
    // `benches/live-veth.sh` replays the 512-host site on a veth pair:
    // LIVE_SHARDS_WRITE=FILE writes it as a pcap and benchmarks nothing.
    if let Some(path) = std::env::var_os("LIVE_SHARDS_WRITE") {
        let t = site_of_hosts();
        let mut w = egresswatch::testgen::writer::PcapWriter::ethernet_le();
        for f in t.frames() {
            w.push(f.ts as u64, f.data);
        }
        std::fs::write(&path, w.finish()).expect("write the site pcap");
        return;
    }
    let traces = [
        ("site-512-hosts", site_of_hosts()),
        (
            "schlage-lock-01",
            real_trace("../shared/captures/tjoconnor__schlage-lock-01.pcap"),
        ),
    ];
    scaling_report("site-512-hosts", &traces[0].1);
    let mut g = c.benchmark_group("live_shards");
    g.sample_size(10);
    for (name, t) in &traces {
        g.throughput(Throughput::Elements(t.recs.len() as u64));
        g.bench_with_input(BenchmarkId::new("inline", name), t, |b, t| {
            b.iter(|| black_box(inline(t).stats.packets))
        });
        for n in [1, 2] {
            g.bench_with_input(BenchmarkId::new(format!("workers/{n}"), name), t, |b, t| {
                b.iter(|| black_box(sharded(t, n).stats.packets))
            });
        }
        g.bench_with_input(BenchmarkId::new("handoff", name), t, |b, t| {
            b.iter(|| black_box(handoff(t, 2)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
