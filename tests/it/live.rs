//! The live sensor: the sharded engines against `analyze`, the command's
//! errors, and (as root, with `ip netns` and `tcpreplay`) captures replayed
//! on a veth pair.

use crate::common::{analyze, fixture, shared_captures};
use egresswatch::capture::merge::Merge;
use egresswatch::engine::EngineConfig;
use egresswatch::live::shard::{self, Sharded};
use egresswatch::profile::{self, Site};
use egresswatch::report::{self, Checks, Report};
use serde_json::Value;
use std::path::PathBuf;

/// Every capture the sharded path is held to: the fixtures that open, the
/// site pairs, and the shared real captures.
fn cases() -> Vec<Vec<PathBuf>> {
    let mut out = Vec::new();
    let dir = fixture("basic.pcap").parent().unwrap().to_path_buf();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".pcap") || n.ends_with(".pcapng")) && !n.starts_with("bad-"))
        .collect();
    names.sort();
    for n in names {
        out.push(vec![dir.join(n)]);
    }
    out.push(vec![
        fixture("site-zaptec-broken.pcap"),
        fixture("site-zaptec-broken-wifi.pcap"),
    ]);
    out.push(vec![fixture("merge-a.pcap"), fixture("merge-b.pcap")]);
    let shared = shared_captures();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    names.sort();
    for p in names {
        out.push(vec![p]);
    }
    out
}

/// The report of a finished engine over `files`, with the built-in profiles.
fn report_of(engine: &egresswatch::engine::Engine, files: &[PathBuf]) -> Report {
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let profiles = profile::builtin().unwrap();
    let site = Site::default();
    report::build(
        engine,
        &names,
        Vec::new(),
        Checks {
            profiles: &profiles,
            site: &site,
        },
    )
}

fn sharded(files: &[PathBuf], workers: usize) -> Report {
    let mut merge = Merge::open(files).unwrap();
    let mut s = Sharded::new(EngineConfig::default(), workers);
    while let Some(f) = merge.next_frame() {
        s.push(&f);
    }
    report_of(&s.finish(), files)
}

/// The parts of a report the shards must reproduce exactly: every finding
/// and every device, received-frame counters included (each frame in a
/// batch carries the capture time reached before it: see
/// src/live/shard.rs).
fn comparable(r: &Report) -> (Value, Value) {
    let findings = serde_json::to_value(&r.findings).unwrap();
    let devices = serde_json::to_value(&r.devices).unwrap();
    (findings, devices)
}

/// Where two JSON values first differ, as a path and both values.
fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                first_diff(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_diff(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} != {b}")),
    }
}

/// `analyze --workers N`: every worker reads the files and analyses its
/// share of hosts, told the time of every other frame; the merged report
/// is the one-engine report byte for byte, for every fixture, site pair and
/// shared capture, with and without a filter.
#[test]
fn analyze_reports_the_same_bytes_with_any_number_of_workers() {
    let profiles = profile::builtin().unwrap();
    let json = |files: &[PathBuf], workers: usize, filter: Option<&str>| {
        let opts = egresswatch::analyze::Options {
            files: files.to_vec(),
            filter: filter.map(str::to_string),
            profiles: Some(profiles.clone()),
            workers,
            ..Default::default()
        };
        let r = egresswatch::analyze::run(&opts, &mut |_| {}).unwrap();
        serde_json::to_string(&r).unwrap()
    };
    let mut compared = 0;
    for files in cases() {
        for filter in [None, Some("not port 53")] {
            let one = json(&files, 1, filter);
            for workers in [2, 3, 5] {
                let many = json(&files, workers, filter);
                if many != one {
                    let (a, b): (Value, Value) = (
                        serde_json::from_str(&one).unwrap(),
                        serde_json::from_str(&many).unwrap(),
                    );
                    let at = first_diff(&b, &a, "report").unwrap_or_else(|| "key order".into());
                    panic!("{files:?} filter {filter:?}: {workers} workers (left) and 1 differ at {at}");
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "only {compared} comparisons");
}

/// The text and JSON written on several threads are the bytes written on
/// one, and the JSON is serde_json's own pretty printing of the report.
#[test]
fn reports_are_written_the_same_on_any_number_of_threads() {
    use egresswatch::output::{write_on, Format};
    let mut compared = 0;
    for files in cases() {
        let r = analyze(&files);
        let mut pretty = serde_json::to_vec_pretty(&r).unwrap();
        pretty.push(b'\n');
        for format in [Format::Json, Format::Text] {
            let mut one = Vec::new();
            write_on(&r, format, &mut one, 1).unwrap();
            if format == Format::Json {
                assert!(one == pretty, "{files:?}: JSON differs from serde_json's");
            }
            for threads in [2, 3] {
                let mut many = Vec::new();
                write_on(&r, format, &mut many, threads).unwrap();
                assert!(many == one, "{files:?} {format:?} on {threads} threads");
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "only {compared} comparisons");
}

#[test]
fn sharded_engines_report_what_analyze_reports() {
    for files in cases() {
        let want = analyze(&files);
        let (wf, wd) = comparable(&want);
        for workers in [1, 2, 3] {
            let got = sharded(&files, workers);
            let (gf, gd) = comparable(&got);
            if let Some(d) = first_diff(&gf, &wf, "findings").or(first_diff(&gd, &wd, "devices")) {
                panic!("{files:?} with {workers} workers (left) and analyze differ at {d}");
            }
            assert_eq!(got.capture.packets, want.capture.packets);
            let whole = |r: &Report| {
                let c = &r.capture;
                serde_json::to_value((&c.stats, &c.flows, &c.app, &c.dropped)).unwrap()
            };
            if let Some(d) = first_diff(&whole(&got), &whole(&want), "capture") {
                panic!("{files:?} with {workers} workers (left) and analyze differ at {d}");
            }
        }
    }
}

/// Engines fed by a shard function other than the product's: the host key
/// ([`shard::host_key`], which keeps what must meet on one engine) mixed
/// with `salt`, so flows and hosts fall on other engines than
/// [`shard::shard_of`] puts them; every engine told the time of every
/// frame, and the final states merged in an order that also depends on
/// `salt`. What the merged report holds must not depend on either.
fn salted(files: &[PathBuf], workers: usize, salt: u64) -> Report {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let cfg = EngineConfig::default();
    let mut engines: Vec<shard::Worker> = (0..workers).map(|_| shard::Worker::new(cfg)).collect();
    let mut merge = Merge::open(files).unwrap();
    let mut now = i64::MIN;
    while let Some(f) = merge.next_frame() {
        let mut h = DefaultHasher::new();
        (salt, shard::host_key(&f)).hash(&mut h);
        let i = (h.finish() % workers as u64) as usize;
        now = now.max(f.ts);
        engines[i].advance(now);
        engines[i].frame(&f);
        for w in &mut engines {
            w.advance(now);
        }
    }
    let mut tallies: Vec<_> = engines.into_iter().map(shard::Worker::finish).collect();
    tallies.rotate_left(salt as usize % workers);
    if salt % 2 == 1 {
        tallies.reverse();
    }
    report_of(
        &egresswatch::engine::Engine::from_tallies(cfg, tallies),
        files,
    )
}

/// Devices and findings do not depend on which engine saw what: with 1, 2,
/// 3 and 5 engines under several shard functions and merge orders, every
/// fixture and shared capture (tcpdump__ntp.pcap among them: its NTP
/// strata and evidence once came out in the order of the engine that saw
/// the server first) reports what one engine reports.
#[test]
fn merged_facts_do_not_depend_on_the_shard_function_or_merge_order() {
    let mut compared = 0;
    for files in cases() {
        let want = analyze(&files);
        let (wf, wd) = comparable(&want);
        for workers in [1, 2, 3, 5] {
            for salt in 0..4u64 {
                let got = salted(&files, workers, salt);
                let (gf, gd) = comparable(&got);
                if let Some(d) =
                    first_diff(&gf, &wf, "findings").or(first_diff(&gd, &wd, "devices"))
                {
                    panic!("{files:?}: {workers} engines, salt {salt} (left) and one engine differ at {d}");
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 200, "only {compared} comparisons");
}

#[test]
fn the_fast_shard_key_agrees_with_the_decoder() {
    for files in cases() {
        let mut merge = Merge::open(&files).unwrap();
        while let Some(f) = merge.next_frame() {
            assert_eq!(
                shard::host_key(&f),
                shard::host_key_decoded(&f),
                "{files:?} frame {}",
                f.number
            );
        }
    }
}

// ---------------------------------------------------------------------
// Live capture on a veth pair in a network namespace.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why the veth tests cannot run here, if they cannot.
fn veth_unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not running as root (network namespaces need it)".into());
    }
    let works = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !works("ip", "-V") {
        return Some("`ip` (iproute2) is not installed".into());
    }
    if !works("tcpreplay", "--version") {
        return Some("`tcpreplay` is not installed (.ci/run installs it)".into());
    }
    // Unique per call: tests run in parallel threads of one process, and
    // two probes with one name make one of them fail (and skip).
    static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = format!("ewprobe{}-{n}", std::process::id());
    if !works_args("ip", &["netns", "add", &probe]) {
        return Some("`ip netns add` fails here (no network namespaces in this container?)".into());
    }
    works_args("ip", &["netns", "del", &probe]);
    None
}

fn works_args(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Says loudly, past the test harness's capture, that a test did not run.
fn skipped(test: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED live::{test}: {why}. It did not run; it proves nothing here. ***\n"
    );
}

fn run_ok(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A namespace with a veth pair `rep` (replay) and `cap` (capture), both up,
/// IPv6 off so the kernel sends nothing of its own. Deleted on drop.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("ew-{}-{tag}", std::process::id());
        run_ok("ip", &["netns", "add", &name]);
        let ns = Netns(name);
        // (No IPv6 in the kernel at all is as good.)
        ns.exec_ok(&[
            "sh",
            "-c",
            "for k in default all; do echo 1 > /proc/sys/net/ipv6/conf/$k/disable_ipv6; done 2>/dev/null; true",
        ]);
        ns.veth();
        ns
    }

    fn veth(&self) {
        run_ok(
            "ip",
            &[
                "-n", &self.0, "link", "add", "name", "rep", "type", "veth", "peer", "name", "cap",
            ],
        );
        run_ok("ip", &["-n", &self.0, "link", "set", "rep", "up"]);
        run_ok("ip", &["-n", &self.0, "link", "set", "cap", "up"]);
    }

    fn exec_ok(&self, args: &[&str]) {
        let mut all = vec!["netns", "exec", &self.0];
        all.extend_from_slice(args);
        run_ok("ip", &all);
    }

    fn sensor(&self, out: &std::path::Path, extra: &[&str]) -> Child {
        let bin = env!("CARGO_BIN_EXE_egresswatch");
        let out = out.to_str().unwrap();
        let mut args = vec![
            "netns",
            "exec",
            &self.0,
            bin,
            "live",
            "-i",
            "cap",
            "--format",
            "ndjson",
            "-o",
            out,
            "--stats-interval",
            "1",
            "--mirror-check",
            "5",
        ];
        args.extend_from_slice(extra);
        Command::new("ip")
            .args(&args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        works_args("ip", &["netns", "del", &self.0]);
    }
}

fn events(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn wait_for(path: &std::path::Path, what: &str, pred: impl Fn(&[Value]) -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !pred(&events(path)) {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn has(ev: &[Value], event_type: &str) -> bool {
    ev.iter().any(|e| e["event_type"] == event_type)
}

/// Stops the sensor with SIGINT and returns its exit status and stderr.
fn interrupt(mut child: Child) -> (i32, String) {
    run_ok("kill", &["-INT", &child.id().to_string()]);
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the sensor did not stop within 30 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    (status.code().unwrap_or(-1), err)
}

/// A finding without what replay cannot keep: times and frame numbers.
fn finding_core(f: &Value) -> Value {
    let mut f = f.clone();
    let m = f.as_object_mut().unwrap();
    for k in [
        "first_seen",
        "last_seen",
        "evidence",
        "event_type",
        "timestamp",
        "status",
    ] {
        m.remove(k);
    }
    f
}

fn device_core(d: &Value) -> Value {
    let statuses: Vec<Value> = d["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::json!([r["id"], r["status"]]))
        .collect();
    serde_json::json!([
        d["mac"],
        d["ips"],
        d["profile"],
        d["identified_by"],
        d["names"],
        statuses
    ])
}

/// Replays `capture` onto the veth pair at its own pace while `live`
/// captures the other end with `workers`, and holds the live report to
/// what `analyze` says of the same capture.
fn replay_and_compare(tag: &str, capture: &str, workers: &str) -> Vec<Value> {
    let ns = Netns::new(tag);
    let dir = std::env::temp_dir().join(format!("ew-live-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("events.ndjson");
    let _ = std::fs::remove_file(&out);
    let child = ns.sensor(&out, &["--workers", workers]);
    wait_for(&out, "the sensor's first stats event", |e| has(e, "stats"));

    // Privileges: after opening the capture the sensor keeps CAP_NET_RAW
    // (permitted only, to reopen an interface) and nothing else.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let cap = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
    };
    assert_eq!(
        cap("CapEff:").as_deref(),
        Some("0000000000000000"),
        "{status}"
    );
    assert_eq!(
        cap("CapPrm:").as_deref(),
        Some("0000000000002000"),
        "{status}"
    );

    let path = fixture(capture);
    ns.exec_ok(&["tcpreplay", "-q", "-i", "rep", path.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(500));
    let (code, err) = interrupt(child);
    assert_eq!(code, 0, "sensor exit status; stderr: {err}");
    let ev = events(&out);
    let _ = std::fs::remove_dir_all(&dir);

    let report = ev
        .iter()
        .rev()
        .find(|e| e["event_type"] == "report")
        .expect("the last line is the report event");
    let want = serde_json::to_value(analyze(&[path])).unwrap();
    let core = |r: &Value| -> Vec<Value> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(finding_core)
            .collect()
    };
    assert_eq!(
        core(report),
        core(&want),
        "findings of live vs analyze ({capture})"
    );
    let devs = |r: &Value| -> Vec<Value> {
        r["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(device_core)
            .collect()
    };
    assert_eq!(
        devs(report),
        devs(&want),
        "devices of live vs analyze ({capture})"
    );
    assert_eq!(report["capture"]["packets"], want["capture"]["packets"]);
    let live = &report["capture"]["live"];
    assert_eq!(live["dropped"], 0, "kernel drops at replay speed");

    // Each finding was raised once as an event.
    for f in report["findings"].as_array().unwrap() {
        let raised = ev
            .iter()
            .filter(|e| {
                e["event_type"] == "finding"
                    && e["status"] == "new"
                    && finding_core(e)["kind"] == f["kind"]
                    && e["device"] == f["device"]
                    && e["port"] == f["port"]
                    && e["how"] == f["how"]
            })
            .count();
        assert_eq!(raised, 1, "finding {f} raised once");
    }
    assert!(has(&ev, "mirror"), "the mirror self-check is reported");
    ev
}

/// Three sites replayed at once (each at its own pace, about 90 s), each
/// on its own veth pair: the broken ZapCharger site with two workers, the
/// broken Cassia site analysed on the capture thread, and a one-way mirror
/// with one worker.
#[test]
fn veth_replays_report_what_analyze_reports() {
    if let Some(why) = veth_unavailable() {
        return skipped("veth_replays_report_what_analyze_reports", &why);
    }
    let zap = std::thread::spawn(|| {
        let ev = replay_and_compare("zap", "site-zaptec-broken.pcap", "2");
        let mirror = ev.iter().find(|e| e["event_type"] == "mirror").unwrap();
        assert_eq!(mirror["both_directions"], true, "{mirror}");
    });
    let cas = std::thread::spawn(|| {
        replay_and_compare("cas", "site-cassia-broken.pcap", "0");
    });
    let one = std::thread::spawn(|| {
        let ev = replay_and_compare("one", "site-zaptec-oneway.pcap", "1");
        let mirror = ev.iter().find(|e| e["event_type"] == "mirror").unwrap();
        assert_eq!(mirror["both_directions"], false, "{mirror}");
        let verdict = mirror["verdict"].as_str().unwrap();
        assert!(verdict.starts_with("one-way mirror"), "{mirror}");
    });
    for (name, t) in [("zaptec", zap), ("cassia", cas), ("one-way", one)] {
        if let Err(e) = t.join() {
            std::panic::resume_unwind(Box::new(format!("{name} replay: {e:?}")));
        }
    }
}

#[test]
fn veth_interface_that_goes_away_is_reported_and_waited_for() {
    if let Some(why) = veth_unavailable() {
        return skipped(
            "veth_interface_that_goes_away_is_reported_and_waited_for",
            &why,
        );
    }
    let ns = Netns::new("gone");
    let dir = std::env::temp_dir().join(format!("ew-live-{}-gone", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("events.ndjson");
    let _ = std::fs::remove_file(&out);
    let child = ns.sensor(&out, &["--workers", "2"]);
    wait_for(&out, "the first stats event", |e| has(e, "stats"));
    // logrotate moves the file and sends SIGHUP: the sensor starts a new one.
    let rotated = dir.join("events.ndjson.1");
    std::fs::rename(&out, &rotated).unwrap();
    run_ok("kill", &["-HUP", &child.id().to_string()]);
    wait_for(&out, "a stats event in the reopened file", |e| {
        has(e, "stats")
    });
    assert!(has(&events(&rotated), "stats"));
    // Down and up again: the capture goes on.
    run_ok("ip", &["-n", &ns.0, "link", "set", "cap", "down"]);
    run_ok("ip", &["-n", &ns.0, "link", "set", "cap", "up"]);
    // Deleted (a veth end takes its peer with it), then made again.
    run_ok("ip", &["-n", &ns.0, "link", "del", "rep"]);
    wait_for(&out, "an interface-gone event", |e| {
        e.iter()
            .any(|x| x["event_type"] == "interface" && x["state"] == "gone")
    });
    ns.veth();
    wait_for(&out, "an interface-up event", |e| {
        e.iter()
            .any(|x| x["event_type"] == "interface" && x["state"] == "up")
    });
    // Frames after the return are captured.
    let path = fixture("site-zaptec-oneway.pcap");
    ns.exec_ok(&[
        "tcpreplay",
        "-q",
        "--topspeed",
        "-i",
        "rep",
        path.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(500));
    let (code, err) = interrupt(child);
    assert_eq!(code, 0, "{err}");
    let ev = events(&out);
    let _ = std::fs::remove_dir_all(&dir);
    let report = ev
        .iter()
        .rev()
        .find(|e| e["event_type"] == "report")
        .unwrap();
    assert_eq!(report["capture"]["packets"], 27, "{}", report["capture"]);
}

#[test]
fn live_errors_are_one_line_and_exit_2() {
    let bin = env!("CARGO_BIN_EXE_egresswatch");
    let out = Command::new(bin)
        .args(["live", "-i", "no-such-if0", "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-if0: no such interface"), "{err}");
    // A filter that does not compile (on loopback, which always exists;
    // without root the same command fails on permission: one line, 2).
    let out = Command::new(bin)
        .args([
            "live",
            "-i",
            "lo",
            "--filter",
            "tcp port",
            "--duration",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--filter") || err.contains("no permission"),
        "{err}"
    );
}

#[test]
fn a_finding_is_raised_once_updated_later_and_cleared_only_at_the_end() {
    use egresswatch::live::events::Tracker;
    let r = analyze(&[fixture("site-zaptec-broken.pcap")]);
    assert!(!r.findings.is_empty());
    let mut t = Tracker::default();
    let first = t.snapshot(&r);
    let kinds = |ev: &[Value], ty: &str| ev.iter().filter(|e| e["event_type"] == ty).count();
    assert_eq!(kinds(&first, "finding"), r.findings.len());
    assert_eq!(kinds(&first, "device"), r.devices.len());
    assert!(first
        .iter()
        .all(|e| e["status"] == "new" && e["timestamp"].is_string()));
    // The same snapshot again: nothing to say.
    assert!(t.snapshot(&r).is_empty());
    assert!(t.updates(&r, false).is_empty());
    // A count that grows is sent once, at the next update.
    let mut grown = r.clone();
    grown.findings[0].count += 3;
    assert!(t.snapshot(&grown).is_empty());
    let up = t.updates(&grown, false);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0]["status"], "updated");
    assert_eq!(up[0]["count"], grown.findings[0].count);
    assert!(t.updates(&grown, false).is_empty());
    // Gone from a snapshot: not withdrawn while the capture runs...
    let mut gone = grown.clone();
    gone.findings.remove(0);
    assert!(t.snapshot(&gone).is_empty());
    assert!(t.updates(&gone, false).is_empty());
    // ...and back: not raised again.
    assert!(t.snapshot(&grown).is_empty());
    // Gone from the final report: cleared.
    t.snapshot(&gone);
    let end = t.updates(&gone, true);
    assert_eq!(end.len(), 1);
    assert_eq!(end[0]["status"], "cleared");
}
