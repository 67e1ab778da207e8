//! Helpers shared by the integration tests.

use egresswatch::analyze::{self, Options};
use egresswatch::engine::EngineConfig;
use egresswatch::report::Report;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared real captures, beside the checkout. Their absence is a
/// failure: CI has them, and a test that skips proves nothing.
pub fn shared_captures() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "{} is missing: the real captures live in ../shared beside the checkout",
        dir.display()
    );
    dir
}

/// The project's own fixtures.
pub fn fixture(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

/// One row of MANIFEST.tsv.
pub struct ManifestRow {
    pub file: String,
    pub packets: u64,
    pub description: String,
}

pub fn manifest() -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(shared_captures().join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (f, p, d) = (col("file"), col("packets"), col("description"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            ManifestRow {
                file: cells[f].to_string(),
                packets: cells[p].parse().unwrap(),
                description: cells[d].to_string(),
            }
        })
        .collect()
}

/// Analyses files with the library, as `analyze` does.
pub fn analyze_with(files: &[PathBuf], engine: EngineConfig) -> Report {
    let opts = Options {
        files: files.to_vec(),
        filter: None,
        engine,
        ..Default::default()
    };
    analyze::run(&opts, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"))
}

pub fn analyze(files: &[PathBuf]) -> Report {
    analyze_with(files, EngineConfig::default())
}

/// Runs tshark, which .ci/run installs; its absence is a failure.
pub fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark is needed by these tests (apt-get install tshark; .ci/run does)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The built binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_egresswatch"))
}

/// Analyses files with the library, returning the error instead of panicking.
pub fn try_analyze(files: &[PathBuf]) -> Result<Report, egresswatch::capture::CaptureError> {
    let opts = Options {
        files: files.to_vec(),
        filter: None,
        ..Default::default()
    };
    analyze::run(&opts, &mut |_| {})
}

/// Every valid fixture with the counts fixtures/README.md gives: packets,
/// TCP flows, UDP flows. The flow counts are TShark's conversation counts
/// except where a comment says why egresswatch counts differently.
pub const VALID_FIXTURES: &[(&str, u64, u64, u64)] = &[
    ("basic.pcap", 44, 4, 8),
    ("endian-nano.pcap", 8, 1, 1),
    ("multi-if.pcapng", 13, 2, 3),
    ("linux-sll.pcap", 15, 1, 2),
    ("linux-sll2.pcap", 15, 1, 2),
    ("raw-ip.pcap", 13, 1, 2),
    ("raw-ip-12.pcap", 13, 1, 2),
    ("null-le.pcap", 13, 1, 2),
    ("null-be.pcap", 13, 1, 2),
    ("radiotap.pcap", 15, 1, 1),
    ("vlan-qinq.pcap", 10, 2, 2),
    // TShark: UDP 1, the reassembled IPv4 datagram; it does not dissect the
    // IPv6 datagram of which only the first fragment was captured. That
    // fragment carries the UDP header, so egresswatch keys a flow by its
    // ports (52011 -> [2001:db8:100::22]:7000): UDP 2.
    ("fragments.pcap", 7, 1, 2),
    ("snaplen-64.pcap", 11, 1, 0),
    ("merge-a.pcap", 13, 2, 3),
    ("merge-b.pcap", 12, 2, 4),
    ("empty.pcap", 0, 0, 0),
];

/// Every hostile fixture and the exit status fixtures/README.md allows:
/// `Some(2)` for a file that cannot be used at all, `Some(0)` for damage
/// inside a file, `None` where the README allows either.
pub const HOSTILE_FIXTURES: &[(&str, Option<i32>)] = &[
    ("bad-short-header.pcap", Some(2)),
    ("bad-magic.pcap", Some(2)),
    ("bad-cut-record.pcap", Some(0)),
    ("bad-lying-length.pcap", Some(0)),
    ("bad-caplen-over-snaplen.pcap", Some(0)),
    ("bad-zero-length.pcap", Some(0)),
    ("bad-linktype.pcap", None),
    ("bad-pcapng-block.pcapng", Some(0)),
];

/// The hostile-packet fixtures (well-formed captures whose payloads lie)
/// with the counts fixtures/README.md gives: packets, and TShark's TCP and
/// UDP conversations.
pub const HOSTILE_PACKET_FIXTURES: &[(&str, u64, u64, u64)] = &[
    ("hostile-dns.pcap", 20, 0, 13),
    ("hostile-tls.pcap", 61, 8, 0),
    ("hostile-mqtt.pcap", 35, 5, 0),
    ("hostile-dhcp.pcap", 9, 0, 2),
    ("hostile-ntp-quic.pcap", 6, 0, 5),
];

/// The frame numbers tshark shows for a display filter.
pub fn tshark_frames(path: &Path, display_filter: &str) -> Vec<u64> {
    tshark(&[
        "-r",
        path.to_str().unwrap(),
        "-Y",
        display_filter,
        "-T",
        "fields",
        "-e",
        "frame.number",
    ])
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(|l| l.trim().parse().unwrap())
    .collect()
}

/// The binary, run from the crate root (so `fixtures/x.pcap` is a path as given).
pub fn run_bin(args: &[&str]) -> std::process::Output {
    bin()
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run egresswatch")
}

/// Checks what every run must satisfy: it never panics (status 101 or a
/// "panicked" message), and exits 0, 1 or 2. Returns the status.
pub fn assert_no_panic(out: &std::process::Output, what: &str) -> i32 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what}: panicked: {stderr}");
    let code = out.status.code().unwrap_or_else(|| {
        panic!(
            "{what}: killed by a signal ({:?}); stderr: {stderr}",
            out.status
        )
    });
    assert_ne!(code, 101, "{what}: status 101 (a panic); stderr: {stderr}");
    code
}

/// For an exit status of 2: exactly one line on stderr, naming `subject`, and
/// no report on stdout.
pub fn assert_one_error_line(out: &std::process::Output, subject: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: stderr should be one line, got {stderr:?}"
    );
    assert!(
        lines[0].contains(subject),
        "{what}: {:?} does not name {subject}",
        lines[0]
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: exit 2 but something on stdout"
    );
}

/// True for an RFC 3339 UTC time as the report writes it:
/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(99);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let frac = &b[19..b.len() - 1];
    let frac_ok = frac.is_empty()
        || (frac.len() >= 2 && frac[0] == b'.' && frac[1..].iter().all(u8::is_ascii_digit));
    frac_ok
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 61
}

/// A directory under the system temp dir, unique to this test, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "egresswatch-it-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The file names in the directory, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small deterministic generator (xorshift64*), for garbage and mutations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
