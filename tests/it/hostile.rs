//! Hostile input: the bad-* fixtures, the hostile-* fixtures (whole capture
//! files whose payloads lie), every valid fixture cut short at many points,
//! mutated bytes and garbage. Nothing panics; a file that cannot be used is
//! exit 2 with one line naming it; damage inside a file keeps what came
//! before it and is listed in `capture.problems`; a message whose lengths
//! lie is counted as malformed and gives no facts, and the well-formed
//! messages after it are read as if it had not been there.

use crate::common::{
    assert_no_panic, assert_one_error_line, fixture, run_bin, try_analyze, Rng, TempDir,
    HOSTILE_FIXTURES, HOSTILE_PACKET_FIXTURES, VALID_FIXTURES,
};
use egresswatch::report::Report;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Runs `analyze --format json FILE` under a 1 GiB address-space limit, so a
/// reader that believes a lying length and allocates for it dies here.
fn run_limited(file: &Path) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_egresswatch"))
        .args(["analyze", "--format", "json"])
        .arg(file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run egresswatch")
}

fn report_of(out: &std::process::Output, what: &str) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not the JSON report: {e}"))
}

fn problems(v: &Value) -> Vec<String> {
    v["capture"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

/// Every hostile fixture: the exit status the README allows, no panic, one
/// stderr line naming the file for exit 2, and for damage inside a file the
/// frames before it and a problem naming the damage.
#[test]
fn hostile_fixtures_fail_cleanly() {
    for &(name, allowed) in HOSTILE_FIXTURES {
        let rel = format!("fixtures/{name}");
        let out = run_limited(Path::new(&rel));
        let code = assert_no_panic(&out, name);
        match allowed {
            Some(c) => assert_eq!(
                code,
                c,
                "{name}: stderr {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            None => assert!(code == 0 || code == 2, "{name}: exit {code}"),
        }
        if code == 2 {
            assert_one_error_line(&out, &rel, name);
            continue;
        }
        let v = report_of(&out, name);
        let c = &v["capture"];
        let probs = problems(&v);
        let named = |needles: &[&str]| {
            probs
                .iter()
                .any(|p| p.contains(&rel) && needles.iter().any(|n| p.contains(n)))
        };
        match name {
            "bad-cut-record.pcap" => {
                assert_eq!(c["packets"], 2, "{name}: the two whole records");
                assert_eq!(c["stats"]["non_ip"], 2, "{name}: both ARPs decoded");
                assert!(
                    named(&["frame 3", "record 3"]),
                    "{name}: problems {probs:?}"
                );
            }
            "bad-lying-length.pcap" => {
                assert_eq!(c["packets"], 1, "{name}");
                assert!(
                    named(&["frame 2", "record 2"]),
                    "{name}: problems {probs:?}"
                );
            }
            "bad-caplen-over-snaplen.pcap" => {
                // Accepted (as TShark does), read record by record: the ARP
                // after the long record is still an ARP.
                assert_eq!(c["packets"], 3, "{name}");
                assert_eq!(c["undecodable"], 0, "{name}");
                assert_eq!(c["stats"]["non_ip"], 2, "{name}: the ARPs either side");
                assert_eq!(c["flows"]["tcp"], 1, "{name}: the long TCP record");
                assert_eq!(c["bytes"], 42 + 2000 + 42, "{name}");
            }
            "bad-zero-length.pcap" => {
                assert_eq!(c["packets"], 3, "{name}: keep going past the empty record");
                assert_eq!(c["undecodable"], 1, "{name}: the empty frame");
                assert_eq!(c["stats"]["non_ip"], 2, "{name}: the ARPs either side");
            }
            "bad-linktype.pcap" => {
                // The README allows counting the frame as undecodable.
                assert_eq!(c["packets"], 1, "{name}");
                assert_eq!(c["undecodable"], 1, "{name}");
            }
            "bad-pcapng-block.pcapng" => {
                // Nothing before the bad block; the good EPB after it is not
                // read as if nothing happened.
                assert_eq!(c["packets"], 0, "{name}");
                assert!(
                    named(&["96", "0x60"]),
                    "{name}: the block's offset: {probs:?}"
                );
            }
            other => panic!("{other}: add its expectations"),
        }
    }
}

/// The README's wording for the two unusable files.
#[test]
fn unusable_files_say_why() {
    let out = run_bin(&["analyze", "fixtures/bad-magic.pcap"]);
    let line = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(line.contains("not a"), "{line}");
    let out = run_bin(&["analyze", "fixtures/bad-short-header.pcap"]);
    let line = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(line.contains("header") || line.contains("short"), "{line}");
    let out = run_bin(&["analyze", "fixtures/bad-linktype.pcap"]);
    if out.status.code() == Some(2) {
        assert!(String::from_utf8_lossy(&out.stderr).contains("9999"));
    }
}

#[test]
fn empty_capture_is_zero_packets() {
    let out = run_bin(&["analyze", "--format", "json", "fixtures/empty.pcap"]);
    assert_eq!(assert_no_panic(&out, "empty.pcap"), 0);
    let v = report_of(&out, "empty.pcap");
    assert_eq!(v["capture"]["packets"], 0);
    assert_eq!(v["capture"]["bytes"], 0);
    assert_eq!(v["capture"]["start"], Value::Null);
    assert_eq!(v["capture"]["end"], Value::Null);
    assert_eq!(v["devices"], serde_json::json!([]));
    assert_eq!(v["findings"], serde_json::json!([]));
    assert!(problems(&v).is_empty());
    // And every other format copes with nothing.
    for f in ["text", "markdown", "ndjson"] {
        let out = run_bin(&["analyze", "--format", f, "fixtures/empty.pcap"]);
        assert_eq!(assert_no_panic(&out, f), 0, "{f}");
        assert!(!out.stdout.is_empty(), "{f}");
    }
}

// ---------------------------------------------------------------- hostile packets

const PI: &str = "b8:27:eb:12:34:56";

/// `analyze --format json` on a hostile-packet fixture, under the memory
/// limit: exit 0, the JSON report, every frame read and decoded (the lies
/// are above the transport layer), no damage to the file itself.
fn hostile_packet_report(name: &str) -> Value {
    let rel = format!("fixtures/{name}");
    let out = run_limited(Path::new(&rel));
    let code = assert_no_panic(&out, name);
    assert_eq!(
        code,
        0,
        "{name}: stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = report_of(&out, name);
    let packets = HOSTILE_PACKET_FIXTURES
        .iter()
        .find(|f| f.0 == name)
        .unwrap_or_else(|| panic!("{name} is not in HOSTILE_PACKET_FIXTURES"))
        .1;
    let c = &v["capture"];
    assert_eq!(c["packets"], packets, "{name}");
    assert_eq!((&c["undecodable"], &c["truncated"]), (&0.into(), &0.into()));
    assert!(problems(&v).is_empty(), "{name}: {:?}", problems(&v));
    // Lies are not findings: nothing here is a site problem.
    assert_eq!(v["findings"], serde_json::json!([]), "{name}");
    v
}

/// The report's app-layer counters for `proto`: (messages, malformed).
fn app_counts(v: &Value, proto: &str) -> (u64, u64) {
    let c = &v["capture"]["app"][proto];
    (
        c["messages"].as_u64().unwrap_or(0),
        c["malformed"].as_u64().unwrap_or(0),
    )
}

fn device<'a>(v: &'a Value, mac: &str) -> &'a Value {
    v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mac"] == mac)
        .unwrap_or_else(|| panic!("no device {mac}"))
}

/// What a lie would have given is nowhere in the report.
fn assert_absent(v: &Value, lures: &[&str], name: &str) {
    let text = v.to_string();
    for l in lures {
        assert!(!text.contains(l), "{name}: {l} came out of a lie");
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The frames TShark 4.0 marks with an error (malformed, or an expert error
/// such as "Vector length … is too large"), as the README's "TShark says"
/// column gives them; every other lie it reads without complaint (DNS loops
/// and chains, a TLS or MQTT length it waits on) or, for QUIC #3, warns of.
const TSHARK_ERRORS: &[(&str, &[u64])] = &[
    ("hostile-dns.pcap", &[3, 5, 6, 12, 16, 18]),
    ("hostile-tls.pcap", &[18, 25, 32, 39]),
    ("hostile-mqtt.pcap", &[4, 18, 25]),
    ("hostile-dhcp.pcap", &[1, 2, 3, 4, 5]),
    ("hostile-ntp-quic.pcap", &[1, 2]),
];

/// The README's counts and TShark verdicts for the hostile-packet fixtures:
/// packets, conversations (so every frame decodes as the README says), and
/// which frames TShark flags.
#[test]
fn hostile_packet_fixtures_are_what_the_readme_says() {
    for &(name, packets, tcp, udp) in HOSTILE_PACKET_FIXTURES {
        let path = fixture(name);
        let p = path.to_str().unwrap();
        assert_eq!(
            crate::common::tshark_frames(&path, "frame").len() as u64,
            packets,
            "{name}"
        );
        let conv = |kind: &str| {
            let out = crate::common::tshark(&["-r", p, "-q", "-z", kind]);
            out.lines().filter(|l| l.contains("<->")).count() as u64
        };
        assert_eq!((conv("conv,tcp"), conv("conv,udp")), (tcp, udp), "{name}");
        let errors = TSHARK_ERRORS.iter().find(|e| e.0 == name).unwrap().1;
        assert_eq!(
            crate::common::tshark_frames(&path, "_ws.expert.severity == \"Error\""),
            errors,
            "{name}"
        );
    }
}

/// hostile-dns.pcap: compression loops, a pointer past the end, a chain of
/// 199/201 pointers, a label past the end, counts far above the records:
/// six queries and six responses, all counted malformed. No name comes out
/// of a loop or a chain, no address from a record whose name cannot be
/// read; the names asked for with well-formed questions are kept, and the
/// last, well-formed exchange names its address.
#[test]
fn hostile_dns_gives_no_name_from_a_loop() {
    let name = "hostile-dns.pcap";
    let v = hostile_packet_report(name);
    assert_eq!(app_counts(&v, "dns"), (20, 12), "{name}");
    let pi = device(&v, PI);
    let asked = [
        "api.example.net",
        "chain.example.net",
        "count.example.net",
        "r-chain.example.net",
        "r-count.example.net",
        "r-label.example.net",
        "r-mutual.example.net",
        "r-past.example.net",
        "r-self.example.net",
    ];
    assert_eq!(keys(&pi["dns"]), asked, "{name}");
    assert_eq!(pi["names"], serde_json::json!(asked), "{name}");
    for q in asked {
        let want: &[&str] = match q {
            "api.example.net" => &["203.0.113.10"],
            // 65535 answers counted, one present: that one is read, as in a
            // response cut short, and the message is still malformed.
            "r-count.example.net" => &["203.0.113.96"],
            _ => &[],
        };
        assert_eq!(pi["dns"][q]["addresses"], serde_json::json!(want), "{q}");
    }
    // Each hostile response answered its (well-formed) query.
    for q in asked.iter().filter(|q| q.starts_with("r-")) {
        assert_eq!(pi["dns"][q]["answered"], 1, "{q}");
        assert_eq!(pi["dns"][q]["rcodes"], serde_json::json!({"NOERROR": 1}));
    }
    assert_eq!(pi["dns"]["api.example.net"]["answered"], 1);
    // The A records behind the lies (203.0.113.91-95), the CNAME target, and
    // any escaped binary name.
    assert_absent(
        &v,
        &[
            "203.0.113.91",
            "203.0.113.92",
            "203.0.113.93",
            "203.0.113.94",
            "203.0.113.95",
            "lure",
            // A name with bytes outside a hostname's, as JSON writes `\DDD`.
            "\\\\",
        ],
        name,
    );
}

/// hostile-tls.pcap: six ClientHellos whose record, handshake, extensions,
/// server_name list or entry lengths lie, each counted malformed, and one
/// cut for good (never whole, so never parsed nor counted). No SNI comes
/// out of any of them (TShark shows "t5" for the entry that says 2 bytes);
/// the well-formed session after them gives its SNI, ALPN and version.
#[test]
fn hostile_tls_gives_no_sni_from_a_lying_length() {
    let name = "hostile-tls.pcap";
    let v = hostile_packet_report(name);
    assert_eq!(app_counts(&v, "tls"), (7, 6), "{name}");
    assert_eq!(v["capture"]["flows"]["tcp"], 8, "{name}");
    let pi = device(&v, PI);
    assert_eq!(pi["names"], serde_json::json!(["api.example.net"]));
    let tls = pi["tls"].as_array().unwrap();
    // The hellos whose framing held and whose server_name did not: a
    // session (JA4, suites) without a name; then the good one.
    let snis: Vec<&Value> = tls.iter().map(|t| &t["sni"]).collect();
    assert_eq!(
        snis,
        [
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &"api.example.net".into()
        ]
    );
    let good = &tls[3];
    assert_eq!(good["version"], "TLS 1.2");
    assert_eq!(good["alpn"], serde_json::json!(["h2", "http/1.1"]));
    assert_absent(
        &v,
        &[
            "t1.example",
            "t2.example",
            "t3.example",
            "t4.example",
            "t5.example",
            "\"t5\"",
            "t6.example",
            "t7.example",
        ],
        name,
    );
}

/// hostile-mqtt.pcap: CONNECTs with a 5-byte remaining length, a remaining
/// length of 268435455 over 29 bytes, a protocol-name length of 255 and a
/// client-id length of 1024: recognised as MQTT, counted malformed, no
/// client id. The session after them is read whole.
#[test]
fn hostile_mqtt_gives_no_client_id_from_a_lying_length() {
    let name = "hostile-mqtt.pcap";
    let v = hostile_packet_report(name);
    assert_eq!(app_counts(&v, "mqtt"), (6, 4), "{name}");
    let mqtt = device(&v, PI)["mqtt"].as_array().unwrap().clone();
    assert_eq!(mqtt.len(), 1, "{name}: {mqtt:?}");
    assert_eq!(mqtt[0]["client_id"], "clockrpi-0001");
    assert_eq!(mqtt[0]["username"], "clock");
    assert_eq!(mqtt[0]["port"], 1883);
    assert_eq!(mqtt[0]["connack_code"], 0);
    assert_absent(&v, &["m1-", "m2-", "m3-", "m4-"], name);
}

/// hostile-dhcp.pcap: an option past the packet, no end option, overloaded
/// sname and file fields holding options that run past them, a packet cut
/// inside the fixed header, each from a client of its own: all counted
/// malformed. No host name is read past its area (TShark reads
/// "d3-sname-host" out of sname and into file); well-framed options before
/// the damage are kept. The Pi's DORA after them gives its lease.
#[test]
fn hostile_dhcp_reads_no_option_past_its_area() {
    let name = "hostile-dhcp.pcap";
    let v = hostile_packet_report(name);
    assert_eq!(app_counts(&v, "dhcp"), (9, 5), "{name}");
    let client = |i: u8| device(&v, &format!("02:d4:c0:00:00:{i:02x}"));
    let dhcp = |i: u8| &client(i)["dhcp"];
    for i in 1..=4 {
        assert_eq!(
            dhcp(i)["messages"],
            serde_json::json!({"DISCOVER": 1}),
            "client {i}"
        );
    }
    assert_eq!(dhcp(1)["hostname"], Value::Null);
    // No end option, every option well framed: kept (as TShark shows them).
    assert_eq!(dhcp(2)["hostname"], "d2-no-end");
    assert_eq!(
        dhcp(2)["parameter_request_list"],
        serde_json::json!([1, 3, 6, 15])
    );
    // The good option in the overloaded file field, then sname's lie.
    assert_eq!(dhcp(3)["vendor_class"], "d3-file-vendor");
    assert_eq!(dhcp(3)["hostname"], Value::Null);
    assert_eq!(dhcp(4)["hostname"], Value::Null);
    // Cut inside the fixed header: nothing read, not even the message type.
    assert_eq!(dhcp(5), &Value::Null);
    for i in [1, 3, 4, 5] {
        assert_eq!(client(i)["hostname"], Value::Null, "client {i}");
    }
    let pi = device(&v, PI);
    assert_eq!(pi["hostname"], "clockrpi-0001");
    assert_eq!(pi["dhcp"]["leased_ip"], "192.168.50.23");
    assert_eq!(
        pi["dhcp"]["ntp_servers"],
        serde_json::json!(["192.168.50.1"])
    );
    assert_absent(
        &v,
        &["d1-lying", "d3-sname-host", "d4-file-host", "d5-cut"],
        name,
    );
}

/// hostile-ntp-quic.pcap: an NTP request cut to 20 bytes, QUIC Initials
/// whose token length and Length run past the datagram: counted malformed,
/// no NTP request or TLS session from them. The NTP exchange and the QUIC
/// Initial after them are read (the ClientHello decrypted, its SNI kept).
#[test]
fn hostile_ntp_and_quic_lengths_are_counted_malformed() {
    let name = "hostile-ntp-quic.pcap";
    let v = hostile_packet_report(name);
    assert_eq!(app_counts(&v, "ntp"), (3, 1), "{name}");
    assert_eq!(app_counts(&v, "quic"), (3, 2), "{name}");
    let pi = device(&v, PI);
    let ntp = &pi["ntp"]["198.51.100.123"];
    assert_eq!((&ntp["requests"], &ntp["replies"]), (&1.into(), &1.into()));
    assert_eq!(ntp["stratum"], 2);
    let tls = pi["tls"].as_array().unwrap();
    assert_eq!(tls.len(), 1, "{name}: {tls:?}");
    assert_eq!(tls[0]["transport"], "quic");
    assert_eq!(tls[0]["sni"], "quic.example.net");
    assert_eq!(pi["names"], serde_json::json!(["quic.example.net"]));
}

// ---------------------------------------------------------------- layout

/// Where a capture file may be cut cleanly: the length below which it is
/// unusable (its header, or its first section header block), and the end of
/// every record or block after it with whether it holds a packet.
struct Layout {
    usable_from: usize,
    ends: Vec<(usize, bool)>,
    /// The byte ranges of frame data (where mutations keep the structure).
    data: Vec<std::ops::Range<usize>>,
}

fn layout(b: &[u8]) -> Layout {
    let le32 = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as usize;
    let be32 = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
    let mut l = Layout {
        usable_from: 0,
        ends: Vec::new(),
        data: Vec::new(),
    };
    if b[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let be = b[8..12] == [0x1a, 0x2b, 0x3c, 0x4d];
        let rd = |i: usize| if be { be32(i) } else { le32(i) };
        let mut off = 0;
        while off < b.len() {
            let (ty, len) = (rd(off), rd(off + 4));
            if off == 0 {
                l.usable_from = len;
            } else {
                let packet = matches!(ty, 2 | 3 | 6);
                l.ends.push((off + len, packet));
                if ty == 6 {
                    l.data.push(off + 28..off + 28 + rd(off + 20));
                }
            }
            off += len;
        }
    } else {
        let be = b[..4] == [0xa1, 0xb2, 0xc3, 0xd4] || b[..4] == [0xa1, 0xb2, 0x3c, 0x4d];
        let rd = |i: usize| if be { be32(i) } else { le32(i) };
        l.usable_from = 24;
        let mut off = 24;
        while off < b.len() {
            let caplen = rd(off + 8);
            l.ends.push((off + 16 + caplen, true));
            l.data.push(off + 16..off + 16 + caplen);
            off += 16 + caplen;
        }
    }
    assert_eq!(
        l.ends.last().map_or(l.usable_from, |e| e.0),
        b.len(),
        "layout walk"
    );
    l
}

/// What reading the first `cut` bytes must give: `None` (unusable), or the
/// number of frames and whether a problem must be reported.
fn expected_at(l: &Layout, cut: usize) -> Option<(u64, bool)> {
    if cut < l.usable_from {
        return None;
    }
    let frames = l.ends.iter().filter(|(e, p)| *p && *e <= cut).count() as u64;
    let clean = cut == l.usable_from || l.ends.iter().any(|(e, _)| *e == cut);
    Some((frames, !clean))
}

fn analyze_no_panic(path: &Path) -> Result<Result<Report, String>, String> {
    let p: PathBuf = path.to_path_buf();
    catch_unwind(AssertUnwindSafe(|| {
        try_analyze(&[p]).map_err(|e| e.to_string())
    }))
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// Cut points worth trying: the first 80 bytes one by one, every record end
/// and its neighbours, and 40 points spread over the file.
fn cut_points(l: &Layout, len: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=len.min(80)).collect();
    for &(e, _) in &l.ends {
        v.extend([e.saturating_sub(1), e, e + 1, e.saturating_sub(15), e + 15]);
    }
    v.extend((0..40).map(|k| k * len / 40));
    v.retain(|&c| c <= len);
    v.sort_unstable();
    v.dedup();
    v
}

/// Every valid fixture cut short at many points, through the library: cut
/// inside the header it is unusable (an error, not a panic); cut anywhere
/// else it yields exactly the frames wholly before the cut, with a problem
/// listed if and only if the cut falls inside a record.
#[test]
fn truncated_fixtures_keep_the_frames_before_the_cut() {
    let dir = TempDir::new("cut-lib");
    let mut wrong = Vec::new();
    let mut runs = 0;
    for &(name, ..) in VALID_FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let l = layout(&bytes);
        let path = dir.path().join(name);
        for cut in cut_points(&l, bytes.len()) {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            runs += 1;
            let what = format!("{name} cut at {cut} of {}", bytes.len());
            match (analyze_no_panic(&path), expected_at(&l, cut)) {
                (Err(panic), _) => wrong.push(format!("{what}: PANIC {panic}")),
                (Ok(Err(_)), None) => {}
                (Ok(Err(e)), Some(_)) => wrong.push(format!("{what}: error {e}")),
                (Ok(Ok(r)), None) => wrong.push(format!(
                    "{what}: accepted with {} packets",
                    r.capture.packets
                )),
                (Ok(Ok(r)), Some((frames, damaged))) => {
                    if r.capture.packets != frames {
                        wrong.push(format!(
                            "{what}: {} packets, expected {frames}",
                            r.capture.packets
                        ));
                    }
                    let named = r
                        .capture
                        .problems
                        .iter()
                        .any(|p| p.contains(&path.display().to_string()));
                    if damaged != named {
                        wrong.push(format!(
                            "{what}: damage {} but problems {:?}",
                            if damaged { "expected" } else { "not expected" },
                            r.capture.problems
                        ));
                    }
                }
            }
        }
    }
    assert!(runs > 1000, "{runs} runs");
    assert!(
        wrong.is_empty(),
        "{} of {runs} runs wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The same through the binary, at a few cut points per fixture: exit 2 with
/// one line naming the file while the header is incomplete, else exit 0 with
/// the frames before the cut.
#[test]
fn truncated_fixtures_through_the_binary() {
    let dir = TempDir::new("cut-bin");
    for &(name, ..) in VALID_FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let l = layout(&bytes);
        let len = bytes.len();
        let mid_record = l.ends.first().map(|e| e.0 - 3).unwrap_or(len);
        let mut cuts = vec![
            0,
            1,
            4,
            11,
            23,
            24,
            25,
            40,
            mid_record,
            len / 3,
            len / 2,
            len - 1,
        ];
        cuts.retain(|&c| c <= len);
        cuts.sort_unstable();
        cuts.dedup();
        let path = dir.path().join(format!("cut-{name}"));
        for cut in cuts {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let what = format!("{name} cut at {cut}");
            let out = run_limited(&path);
            let code = assert_no_panic(&out, &what);
            match expected_at(&l, cut) {
                None => {
                    assert_eq!(code, 2, "{what}");
                    assert_one_error_line(&out, path.to_str().unwrap(), &what);
                }
                Some((frames, damaged)) => {
                    assert_eq!(code, 0, "{what}: {}", String::from_utf8_lossy(&out.stderr));
                    let v = report_of(&out, &what);
                    assert_eq!(v["capture"]["packets"], frames, "{what}");
                    assert_eq!(
                        !problems(&v).is_empty(),
                        damaged,
                        "{what}: {:?}",
                        problems(&v)
                    );
                }
            }
        }
    }
}

/// Bytes changed inside the frames (record headers intact) of the valid and
/// the hostile-packet fixtures: the decoders meet every kind of damaged
/// header and payload and never panic; every record is still read and
/// counted, nothing is reported as damage of the file.
#[test]
fn mutated_frames_never_panic() {
    let dir = TempDir::new("mutate");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut wrong = Vec::new();
    let hostile = HOSTILE_PACKET_FIXTURES.iter().map(|f| (f.0, f.1));
    for (name, packets) in VALID_FIXTURES.iter().map(|f| (f.0, f.1)).chain(hostile) {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let l = layout(&bytes);
        if l.data.is_empty() {
            continue;
        }
        let path = dir.path().join(name);
        for round in 0..60 {
            let mut b = bytes.clone();
            let flips = 1 + rng.below(if round < 30 { 4 } else { 40 }) as usize;
            for _ in 0..flips {
                let r = &l.data[rng.below(l.data.len() as u64) as usize];
                if r.is_empty() {
                    continue;
                }
                let i = r.start + rng.below(r.len() as u64) as usize;
                b[i] = rng.next() as u8;
            }
            std::fs::write(&path, &b).unwrap();
            let what = format!("{name} mutation {round}");
            match analyze_no_panic(&path) {
                Err(p) => wrong.push(format!("{what}: PANIC {p}")),
                Ok(Err(e)) => wrong.push(format!("{what}: error {e}")),
                Ok(Ok(r)) => {
                    // A pcapng simple packet block's frames are data too.
                    if r.capture.packets != packets {
                        wrong.push(format!("{what}: {} packets", r.capture.packets));
                    }
                    if !r.capture.problems.is_empty() {
                        wrong.push(format!("{what}: problems {:?}", r.capture.problems));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Bytes changed anywhere, headers and lengths included: an error or a
/// report, never a panic.
#[test]
fn mutated_files_never_panic() {
    let dir = TempDir::new("mutate-any");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut panics = Vec::new();
    for &(name, ..) in VALID_FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let path = dir.path().join(name);
        for round in 0..60 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len() as u64) as usize;
                b[i] = rng.next() as u8;
            }
            std::fs::write(&path, &b).unwrap();
            if let Err(p) = analyze_no_panic(&path) {
                panics.push(format!("{name} mutation {round}: {p}"));
            }
        }
    }
    assert!(panics.is_empty(), "{}", panics.join("\n"));
}

/// Random files of four shapes: pure garbage; a valid pcap header over
/// garbage; a valid pcapng section and interface over garbage; and pcap
/// records of random small lengths whose frames start like Ethernet with
/// IPv4, IPv6 or VLAN, under every supported link type.
fn garbage(rng: &mut Rng, shape: u64) -> Vec<u8> {
    let n = rng.below(3000) as usize;
    match shape {
        0 => rng.bytes(n),
        1 => {
            let mut b = pcap_header(1);
            b.extend(rng.bytes(n));
            b
        }
        2 => {
            let mut b = Vec::new();
            // SHB (28 bytes, LE), IDB Ethernet (20 bytes).
            b.extend([
                0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
            ]);
            b.extend([0xff; 8]);
            b.extend([28, 0, 0, 0]);
            b.extend([1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0]);
            b.extend(rng.bytes(n));
            b
        }
        _ => {
            let links = [0u32, 1, 12, 14, 101, 105, 108, 113, 127, 228, 229, 276];
            let link = links[rng.below(links.len() as u64) as usize];
            let mut b = pcap_header(link);
            for i in 0..rng.below(40) {
                let caplen = rng.below(200) as usize;
                let orig = caplen as u32 + rng.below(3) as u32 * rng.below(1500) as u32;
                b.extend(1_772_359_200u32.to_le_bytes());
                b.extend((i as u32 * 1000).to_le_bytes());
                b.extend((caplen as u32).to_le_bytes());
                b.extend(orig.to_le_bytes());
                let mut f = rng.bytes(caplen);
                let kinds: [&[u8]; 4] = [
                    &[0x08, 0x00, 0x45],
                    &[0x86, 0xdd, 0x60],
                    &[0x81, 0x00],
                    &[0x88, 0xa8],
                ];
                let k = kinds[rng.below(4) as usize];
                if link == 1 && caplen >= 12 + k.len() {
                    f[12..12 + k.len()].copy_from_slice(k);
                } else if caplen > 0 && rng.below(2) == 0 {
                    f[0] = [0x45, 0x60][rng.below(2) as usize];
                }
                b.extend(f);
            }
            b
        }
    }
}

fn pcap_header(link: u32) -> Vec<u8> {
    let mut b = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    b.extend(65535u32.to_le_bytes());
    b.extend(link.to_le_bytes());
    b
}

#[test]
fn garbage_never_panics() {
    let dir = TempDir::new("garbage");
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let path = dir.path().join("garbage.pcap");
    let mut panics = Vec::new();
    for i in 0..800u64 {
        let b = garbage(&mut rng, i % 4);
        std::fs::write(&path, &b).unwrap();
        match analyze_no_panic(&path) {
            Err(p) => panics.push(format!(
                "garbage {i} (shape {}, {} bytes): {p}",
                i % 4,
                b.len()
            )),
            // A valid header over garbage is a usable file with damage inside.
            Ok(Err(e)) if i % 4 != 0 => {
                panics.push(format!("garbage {i} (shape {}): error {e}", i % 4))
            }
            _ => {}
        }
    }
    assert!(panics.is_empty(), "{}", panics.join("\n"));
    // Through the binary: exit 0 or 2, one line naming the file for 2.
    for i in 0..16u64 {
        let b = garbage(&mut rng, i % 4);
        std::fs::write(&path, &b).unwrap();
        let what = format!("garbage file {i} (shape {})", i % 4);
        let out = run_limited(&path);
        let code = assert_no_panic(&out, &what);
        assert!(code == 0 || code == 2, "{what}: exit {code}");
        if code == 2 {
            assert_one_error_line(&out, path.to_str().unwrap(), &what);
        } else {
            report_of(&out, &what);
        }
    }
}

/// A source that hands out at most 7 bytes a read, so the reader seldom
/// holds a whole record at once.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// A frame as read: number, time, link type, length on the wire, bytes.
type OwnedFrame = (u64, i64, u32, u32, Vec<u8>);

/// Every frame and problem a reader gives, owned.
fn read_everything(r: impl std::io::Read) -> Option<(Vec<OwnedFrame>, Vec<String>)> {
    let mut r = egresswatch::capture::file::FileReader::new(r, "f".into(), 0).ok()?;
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame() {
        frames.push((f.number, f.ts, f.link.0, f.orig_len, f.data.to_vec()));
    }
    Some((frames, r.problems().to_vec()))
}

/// [`read_everything`], every frame kept by a clone of the reader's buffer
/// it lies in (as the multi-worker analysis hands frames on) and only read
/// back once the file is done: the reader must never write over a buffer
/// a clone holds.
fn read_everything_held(r: impl std::io::Read) -> Option<(Vec<OwnedFrame>, Vec<String>)> {
    let mut r = egresswatch::capture::file::FileReader::new(r, "f".into(), 0).ok()?;
    let mut held = Vec::new();
    while let Some((f, chunk)) = r.next_frame_in() {
        let off = f.data.as_ptr() as usize - chunk.as_ptr() as usize;
        let meta = (f.number, f.ts, f.link.0, f.orig_len);
        held.push((meta, std::sync::Arc::clone(chunk), off, f.data.len()));
    }
    let frames = held
        .into_iter()
        .map(|((n, ts, link, orig), c, off, len)| (n, ts, link, orig, c[off..off + len].to_vec()))
        .collect();
    Some((frames, r.problems().to_vec()))
}

/// A classic pcap record wholly in the buffer is read straight from its
/// header; one that is not goes the careful way. Both must give the same
/// frames and the same problems, for every valid fixture and for copies
/// with their record headers damaged (lengths past the snap length or the
/// cap, cut records).
#[test]
fn buffered_and_trickled_reads_give_the_same_frames_and_problems() {
    let mut rng = Rng(0x007e_ad0f_f11e);
    let mut compared = 0;
    for (name, ..) in VALID_FIXTURES {
        let bytes = std::fs::read(fixture(name)).expect("read fixture");
        for round in 0..12 {
            let mut b = bytes.clone();
            if round > 0 {
                // Damage a few bytes past the file header, often a length.
                for _ in 0..1 + rng.below(3) {
                    let at = 24 + rng.below(b.len().saturating_sub(24) as u64) as usize;
                    if let Some(x) = b.get_mut(at) {
                        *x = match rng.below(3) {
                            0 => 0xff,
                            1 => 0,
                            _ => rng.next() as u8,
                        };
                    }
                }
                if rng.below(2) == 0 {
                    b.truncate(b.len().saturating_sub(rng.below(40) as usize));
                }
            }
            let whole = read_everything(std::io::Cursor::new(b.as_slice()));
            let trickled = read_everything(Trickle(&b));
            assert_eq!(whole, trickled, "{name}, round {round}");
            let held = read_everything_held(std::io::Cursor::new(b.as_slice()));
            assert_eq!(whole, held, "{name}, round {round}, frames held");
            let held_trickled = read_everything_held(Trickle(&b));
            assert_eq!(
                whole, held_trickled,
                "{name}, round {round}, frames held, trickled"
            );
            compared += usize::from(whole.is_some());
        }
    }
    assert!(compared > 20, "only {compared} files could be opened");

    // A file whose records are longer than its snap length: read anyway,
    // with the problem said once, whichever way the record is read.
    let mut small = Vec::new();
    for w in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 64, 1] {
        small.extend_from_slice(&w.to_le_bytes());
    }
    for (i, len) in [40u32, 100, 64, 65, 10].into_iter().enumerate() {
        for w in [i as u32, 0, len, len] {
            small.extend_from_slice(&w.to_le_bytes());
        }
        small.extend(std::iter::repeat_n(i as u8, len as usize));
    }
    let whole = read_everything(std::io::Cursor::new(small.as_slice()));
    assert_eq!(whole, read_everything(Trickle(&small)));
    let (frames, problems) = whole.expect("a valid header");
    assert_eq!(frames.len(), 5);
    assert_eq!(problems.len(), 1, "{problems:?}");
}
