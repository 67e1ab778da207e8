//! Whole-pipeline throughput on the ~1M-packet synthetic IoT site mix:
//! [`analyze::run`] from the pcap file to the `Report`, in packets/s.
//!
//! The capture is generated, not committed (about 1.04M frames, 730 MB):
//! its path is `$EGRESSWATCH_SITE_MIX`, by default
//! `bench-data/site-mix.pcap` (git-ignored); relative paths are taken from
//! the package root. When it is missing this bench fails and says how to
//! make it (it never skips):
//!
//! ```text
//! pip install scapy
//! mkdir -p bench-data
//! python3 ../shared/bench/gen_mix.py --out bench-data
//! mv bench-data/synthetic-mix.pcap bench-data/site-mix.pcap
//! ```
//!
//! (`gen_mix.py --out DIR` writes `DIR/synthetic-mix.pcap` and
//! `DIR/synthetic-wifi-beacons.pcap`; `--scale` and `--seed` change the mix.)
//! It lives in its own bench target so that `benches/pipeline.rs` runs
//! without it.
//!
//! Run: `cargo bench --bench site_mix -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use egresswatch::analyze;
use std::path::{Path, PathBuf};

const ENV: &str = "EGRESSWATCH_SITE_MIX";
const DEFAULT: &str = "bench-data/site-mix.pcap";

fn site_mix_path() -> PathBuf {
    let given = std::env::var_os(ENV);
    let from_env = given.is_some();
    let rel = given.map_or_else(|| PathBuf::from(DEFAULT), PathBuf::from);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    assert!(
        path.is_file(),
        "\n\nsite-mix capture {} not found ({}).\n\
         Make it from the package root with:\n\
         \n    pip install scapy\
         \n    mkdir -p bench-data\
         \n    python3 ../shared/bench/gen_mix.py --out bench-data\
         \n    mv bench-data/synthetic-mix.pcap bench-data/site-mix.pcap\n\
         \nor point {ENV} at an existing capture. This bench fails rather than skips.\n",
        path.display(),
        if from_env {
            format!("from ${ENV}")
        } else {
            format!("the default; set ${ENV} to use another file")
        },
    );
    path
}

fn bench_site_mix(c: &mut Criterion) {
    let opts = analyze::Options {
        files: vec![site_mix_path()],
        ..Default::default()
    };
    let report = analyze::run(&opts, &mut |_| {}).expect("site mix readable");
    assert!(report.capture.packets > 0, "site mix holds no packets");

    let mut g = c.benchmark_group("site_mix");
    g.sample_size(10);
    g.throughput(Throughput::Elements(report.capture.packets));
    g.bench_function("whole_pipeline", |b| {
        b.iter(|| analyze::run(&opts, &mut |_| {}).expect("site mix readable"))
    });
    g.finish();
}

criterion_group!(benches, bench_site_mix);
criterion_main!(benches);
