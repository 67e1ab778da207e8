//! The troubleshooting screen: every view rendered against ratatui's
//! `TestBackend` from the fixture captures and compared with the snapshot
//! files in `tests/snapshots/` (at 80×24 and 160×48; `UPDATE_SNAPSHOTS=1`
//! rewrites them, and a mismatch fails), the update's keys and clicks, the
//! capture thread, start-up errors, and the real binary in tmux.

use crate::common::{assert_no_panic, assert_one_error_line, fixture, run_bin};
use egresswatch::capture::merge::Merge;
use egresswatch::profile::{self, Site};
use egresswatch::tui::app::{update, Action, Effect, Msg, State, View};
use egresswatch::tui::feed::{Control, Feed, Feeder, Pipeline, Playback, Snapshot};
use egresswatch::tui::source::Source;
use egresswatch::tui::view;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ZAPTEC: &[&str] = &["site-zaptec-broken.pcap", "site-zaptec-broken-wifi.pcap"];
const CASSIA: &[&str] = &["site-cassia-broken.pcap"];

/// The snapshot of a whole replay of fixtures, built without a thread or a
/// clock: what the screen shows when a replay has ended.
fn replayed(names: &[&str]) -> Snapshot {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let shown: Vec<String> = names.iter().map(|n| format!("fixtures/{n}")).collect();
    let profiles = profile::builtin().expect("built-in profiles");
    let mut pipe = Pipeline::new(shown, None, profiles, Site::default());
    let mut merge = Merge::open(&paths).expect("fixtures open");
    while let Some(frame) = merge.next_frame() {
        pipe.process(&frame);
    }
    let feed = Feed::Replay {
        speed: 1.0,
        playback: Playback::Ended,
    };
    pipe.snapshot(feed, None, None, Vec::new())
}

fn state(names: &[&str], size: (u16, u16), color: bool) -> State {
    let mut s = State::new(size, color);
    update(&mut s, Msg::Snapshot(Box::new(replayed(names))));
    s
}

fn act(s: &mut State, a: Action) -> Option<Effect> {
    update(s, Msg::Action(a))
}

fn draw(s: &State) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    t.draw(|f| view::render(s, f)).unwrap();
    t.backend().buffer().clone()
}

/// The buffer as text, one line per row, trailing spaces trimmed.
fn text(b: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..b.area.height {
        let mut line = String::new();
        for x in 0..b.area.width {
            line.push_str(b[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Compares with `tests/snapshots/NAME.txt`, or rewrites it under
/// `UPDATE_SNAPSHOTS=1`.
fn assert_snapshot(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (UPDATE_SNAPSHOTS=1 cargo test tui writes it)",
            path.display()
        )
    });
    if want != got {
        let first = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "screen {name} differs from {} from line {}:\n--- want\n{want}\n--- got\n{got}\n\
             (if the change is meant, UPDATE_SNAPSHOTS=1 cargo test tui rewrites it)",
            path.display(),
            first + 1
        );
    }
}

/// Renders in colour and without, checks that both say the same in the
/// same symbols (colour only repeats them), that NO_COLOR means no colour
/// at all, and compares with the snapshot file.
fn check_screen(name: &str, s: &mut State) {
    s.color = true;
    let coloured = draw(s);
    s.color = false;
    let plain = draw(s);
    let t = text(&plain);
    assert_eq!(text(&coloured), t, "{name}: colour changed the text");
    for cell in plain.content() {
        assert!(
            cell.fg == Color::Reset && cell.bg == Color::Reset,
            "{name}: a colour under NO_COLOR at {:?}",
            cell.symbol()
        );
    }
    assert_snapshot(name, &t);
}

/// Every requirement's status is a symbol in the text, not a colour.
fn assert_has_colour(b: &Buffer, what: &str) {
    assert!(
        b.content().iter().any(|c| c.fg == Color::Red),
        "{what}: failures are not red"
    );
}

#[test]
fn device_list_screens() {
    for size in [(80, 24), (160, 48)] {
        let mut s = state(ZAPTEC, size, true);
        assert_eq!(s.view, View::Devices);
        assert_has_colour(&draw(&s), "device list");
        let t = text(&draw(&s));
        assert!(t.contains("✗ FAIL 3c:dc:03:1a:bc:01"), "{t}");
        assert!(t.contains("mirror ✓"), "{t}");
        check_screen(&format!("zaptec-devices-{}x{}", size.0, size.1), &mut s);
    }
}

#[test]
fn device_screens() {
    for size in [(80, 24), (160, 48)] {
        let mut s = state(ZAPTEC, size, true);
        act(&mut s, Action::Open);
        assert_eq!(s.view, View::Device);
        assert_eq!(s.device.as_deref(), Some("3c:dc:03:1a:bc:01"));
        check_screen(&format!("zaptec-device-{}x{}", size.0, size.1), &mut s);
    }
    // The Cassia gateway: CAPWAP blocked while MQTT carries it (a warning).
    let mut s = state(CASSIA, (160, 48), true);
    let cassia = egresswatch::tui::rows::device_rows(&s)
        .iter()
        .find(|r| r.device.profile.as_deref() == Some("cassia-x2000"))
        .map(|r| r.device.id())
        .expect("the Cassia gateway is identified");
    s.device = Some(cassia);
    act(&mut s, Action::Open);
    check_screen("cassia-device-160x48", &mut s);
}

#[test]
fn device_view_scrolls_to_its_end_and_no_further() {
    let mut s = state(ZAPTEC, (80, 24), false);
    act(&mut s, Action::Open);
    let top = text(&draw(&s));
    for _ in 0..200 {
        act(&mut s, Action::Down);
    }
    let bottom = text(&draw(&s));
    assert_ne!(top, bottom);
    assert!(bottom.contains("FLOWS"), "{bottom}");
    assert!(
        bottom.contains("udp 192.168.50.1:67"),
        "the last flow is on the last page:\n{bottom}"
    );
    let at_end = s.offsets.detail;
    act(&mut s, Action::Down);
    assert_eq!(s.offsets.detail, at_end, "no scrolling past the end");
    act(&mut s, Action::Top);
    assert_eq!(text(&draw(&s)), top);
}

#[test]
fn findings_screens() {
    for size in [(80, 24), (160, 48)] {
        let mut s = state(ZAPTEC, size, true);
        act(&mut s, Action::Show(View::Findings));
        assert_eq!(s.view, View::Findings);
        check_screen(&format!("zaptec-findings-{}x{}", size.0, size.1), &mut s);
    }
}

#[test]
fn help_screens() {
    for size in [(80, 24), (160, 48)] {
        let mut s = state(ZAPTEC, size, true);
        act(&mut s, Action::Help);
        check_screen(&format!("zaptec-help-{}x{}", size.0, size.1), &mut s);
        act(&mut s, Action::Back);
        assert_eq!(s.mode, egresswatch::tui::app::Mode::Normal);
    }
}

#[test]
fn filter_and_errors_only() {
    let mut s = state(ZAPTEC, (80, 24), true);
    act(&mut s, Action::StartFilter);
    for c in "ubiquiti".chars() {
        act(&mut s, Action::Type(c));
    }
    let rows = egresswatch::tui::rows::device_rows(&s);
    assert_eq!(rows.len(), 2, "two Ubiquiti devices");
    check_screen("zaptec-filter-80x24", &mut s);
    act(&mut s, Action::Submit);
    assert_eq!(s.filter, "ubiquiti", "Enter keeps the filter");
    act(&mut s, Action::Back);
    assert_eq!(s.filter, "", "Esc in the list clears it");

    // By status and by profile.
    for (words, want) in [
        ("fail", 1),
        ("zaptec-pro", 1),
        ("192.168.50.34", 1),
        ("nothing-like-it", 0),
    ] {
        s.filter = words.into();
        let n = egresswatch::tui::rows::device_rows(&s).len();
        assert_eq!(n, want, "filter {words:?}");
    }
    s.filter.clear();
    act(&mut s, Action::ErrorsOnly);
    let rows = egresswatch::tui::rows::device_rows(&s);
    assert_eq!(rows.len(), 1, "only the failing charger");
    assert!(egresswatch::tui::rows::finding_rows(&s)
        .iter()
        .all(|f| f.severity == egresswatch::finding::Severity::Error));
    act(&mut s, Action::ErrorsOnly);
    assert_eq!(egresswatch::tui::rows::device_rows(&s).len(), 5);
}

#[test]
fn keys_move_open_and_switch_views() {
    let mut s = state(ZAPTEC, (80, 24), false);
    let first = s.device.clone().expect("a device is selected");
    act(&mut s, Action::Down);
    assert_ne!(s.device.as_ref(), Some(&first));
    act(&mut s, Action::Up);
    assert_eq!(s.device.as_ref(), Some(&first));
    act(&mut s, Action::Bottom);
    act(&mut s, Action::Down);
    let last = s.device.clone();
    act(&mut s, Action::Top);
    assert_eq!(s.device.as_ref(), Some(&first));
    assert_ne!(last.as_ref(), Some(&first));

    act(&mut s, Action::NextView);
    assert_eq!(s.view, View::Device);
    act(&mut s, Action::NextView);
    assert_eq!(s.view, View::Findings);
    act(&mut s, Action::NextView);
    assert_eq!(s.view, View::Devices);
    act(&mut s, Action::PrevView);
    assert_eq!(s.view, View::Findings);

    // Enter on a finding opens its device.
    act(&mut s, Action::Open);
    assert_eq!(s.view, View::Device);
    assert_eq!(s.device.as_deref(), Some("3c:dc:03:1a:bc:01"));
    act(&mut s, Action::Back);
    assert_eq!(s.view, View::Devices);
    assert_eq!(act(&mut s, Action::Quit), Some(Effect::Quit));
}

#[test]
fn replay_keys_become_controls() {
    let mut s = state(ZAPTEC, (80, 24), false);
    for c in [Control::TogglePause, Control::Step, Control::JumpToEnd] {
        assert_eq!(act(&mut s, Action::Replay(c)), Some(Effect::Control(c)));
    }
}

#[test]
fn export_offers_a_file_named_by_capture_time() {
    let mut s = state(ZAPTEC, (80, 24), false);
    act(&mut s, Action::StartExport);
    let want = "egresswatch-report-20260302T080129Z.md";
    assert_eq!(s.mode, egresswatch::tui::app::Mode::Export(want.into()));
    assert!(text(&draw(&s)).contains(&format!("export to: {want}")));
    for _ in 0..2 {
        act(&mut s, Action::Erase);
    }
    for c in "json".chars() {
        act(&mut s, Action::Type(c));
    }
    let e = act(&mut s, Action::Submit);
    assert_eq!(
        e,
        Some(Effect::Export(
            "egresswatch-report-20260302T080129Z.json".into()
        ))
    );
    update(&mut s, Msg::Exported(Ok("r.json".into())));
    assert!(text(&draw(&s)).contains("✓ report written to r.json"));
}

#[test]
fn clicks_select_then_open() {
    let mut s = state(ZAPTEC, (80, 24), false);
    let t = text(&draw(&s));
    let row = t
        .lines()
        .position(|l| l.contains("8c:85:90:21:7e:4a"))
        .expect("the laptop is listed") as u16;
    let hit = view::hit(&s, 20, row).expect("a row is hit");
    act(&mut s, Action::Click(hit.clone()));
    assert_eq!(s.device.as_deref(), Some("8c:85:90:21:7e:4a"));
    assert_eq!(s.view, View::Devices);
    act(&mut s, Action::Click(hit));
    assert_eq!(s.view, View::Device, "a second click opens");

    let tab = t.lines().next().unwrap().find("Findings").unwrap() as u16;
    let hit = view::hit(&s, tab, 0).expect("a tab is hit");
    act(&mut s, Action::Click(hit));
    assert_eq!(s.view, View::Findings);
}

#[test]
fn small_and_resized_terminals() {
    let mut s = state(ZAPTEC, (40, 10), false);
    assert!(text(&draw(&s)).contains("needs at least"));
    update(&mut s, Msg::Resize(100, 30));
    let t = text(&draw(&s));
    assert!(t.contains("DEVICES"), "{t}");
    // Many rows in few lines: the selection stays in view when moving down.
    update(&mut s, Msg::Resize(80, 16));
    act(&mut s, Action::Bottom);
    let t = text(&draw(&s));
    assert!(
        t.lines().any(|l| l.starts_with('▶')),
        "the selected row is drawn:\n{t}"
    );
}

/// The capture thread, at full speed, ends with the same report as
/// `analyze`; a replay started paused moves one frame per step.
#[test]
fn capture_thread_replays_like_analyze() {
    let paths: Vec<PathBuf> = ZAPTEC.iter().map(|n| fixture(n)).collect();
    let open = |paused: bool| {
        let (source, filter) = Source::open(&paths, None, None).unwrap();
        let pipe = Pipeline::new(
            source.names(),
            filter,
            profile::builtin().unwrap(),
            Site::default(),
        );
        Feeder::spawn(source, pipe, 0.0, paused)
    };
    let wait_for = |f: &Feeder, done: &dyn Fn(&Snapshot) -> bool| -> Snapshot {
        let start = Instant::now();
        loop {
            if let Some(s) = f.snapshots.take() {
                if done(&s) {
                    return s;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no such snapshot in 20 s"
            );
            std::thread::yield_now();
        }
    };
    let feeder = open(false);
    let end = wait_for(&feeder, &|s| {
        matches!(
            s.status.feed,
            Feed::Replay {
                playback: Playback::Ended,
                ..
            }
        )
    });
    feeder.stop(Duration::from_secs(5));
    // The verdicts, the findings with their messages and counts, and the
    // requirements' evidence are analyze's. (Which frames a destination
    // keeps as evidence can differ: a snapshot summarises the open flows in
    // table order, the end of a run in idle order.)
    let want = crate::common::analyze(&paths);
    let key = |r: &egresswatch::report::Report| -> Vec<String> {
        let mut k = vec![format!(
            "{} packets, {} devices",
            r.capture.packets,
            r.devices.len()
        )];
        k.extend(r.findings.iter().map(|f| {
            format!(
                "{} {} {} {} ×{}",
                f.severity.as_str(),
                f.kind.as_str(),
                f.device,
                f.message,
                f.count
            )
        }));
        k.extend(r.devices.iter().flat_map(|d| {
            d.requirements
                .iter()
                .map(move |q| format!("{} {} {}: {}", d.id(), q.id, q.status, q.evidence))
        }));
        k
    };
    assert_eq!(key(&end.report), key(&want));
    assert_eq!(end.status.packets, want.capture.packets);

    let feeder = open(true);
    let first = wait_for(&feeder, &|_| true);
    assert_eq!(first.status.packets, 0, "paused before the first frame");
    feeder.send(Control::Step);
    let one = wait_for(&feeder, &|s| s.status.packets > 0);
    assert_eq!(one.status.packets, 1);
    assert!(matches!(
        one.status.feed,
        Feed::Replay {
            playback: Playback::Paused,
            ..
        }
    ));
    feeder.stop(Duration::from_secs(5));
}

#[test]
fn start_up_errors_come_before_the_screen() {
    let cases: &[(&[&str], &str)] = &[
        (&["tui", "fixtures/no-such-file.pcap"], "no-such-file.pcap"),
        (&["tui", "fixtures/bad-magic.pcap"], "bad-magic.pcap"),
        (
            &["tui", "--filter", "port port", "fixtures/basic.pcap"],
            "--filter",
        ),
        (
            &["tui", "-i", "egresswatch-no-such-if0"],
            "egresswatch-no-such-if0",
        ),
        (&["tui", "-i", "lo", "--filter", "port port"], "--filter"),
        (
            &["tui", "--rules", "no-such-rules-dir", "fixtures/basic.pcap"],
            "no-such-rules-dir",
        ),
        // Files are fine, but there is no terminal to draw on.
        (&["tui", "fixtures/basic.pcap"], "not a terminal"),
    ];
    for (args, subject) in cases {
        let out = run_bin(args);
        let what = args.join(" ");
        assert_eq!(assert_no_panic(&out, &what), 2, "{what}");
        assert_one_error_line(&out, subject, &what);
    }
    for args in [
        &["tui"][..],
        &["tui", "--speed", "-1", "fixtures/basic.pcap"],
        &["tui", "-i", "lo", "fixtures/basic.pcap"],
    ] {
        let out = run_bin(args);
        assert_eq!(assert_no_panic(&out, &args.join(" ")), 2, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// The real binary in a terminal: tmux runs it, keys go in with
/// send-keys, the screen comes out with capture-pane.
mod in_tmux {
    use super::*;
    use std::process::Command;

    /// Runs after the program in the pane: its exit status, and whether
    /// the terminal is back in cooked mode (`icanon` and `echo`, not
    /// `-icanon` and `-echo` as raw mode leaves them); then `cat` keeps the
    /// pane open until the server is killed.
    const AFTER: &str = "echo \"exit status $?\"; \
        stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; \
        echo; echo end-of-test; exec cat";

    /// A private tmux server, killed (and its socket removed) when dropped.
    struct Tmux {
        socket: String,
        path: Option<PathBuf>,
    }

    impl Tmux {
        fn start(tag: &str, width: u16, height: u16, command: &str) -> Tmux {
            use std::os::unix::fs::FileTypeExt;
            // tmux cannot start its server without a /dev/null device.
            assert!(
                std::fs::metadata("/dev/null").is_ok_and(|m| m.file_type().is_char_device()),
                "/dev/null is not a device: something replaced it (see cli::output_to_a_device_writes_through_it)"
            );
            let socket = format!("egresswatch-it-{}-{tag}", std::process::id());
            let mut t = Tmux { socket, path: None };
            let size = (width.to_string(), height.to_string());
            t.run(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                &size.0,
                "-y",
                &size.1,
                command,
            ]);
            t.path = Some(PathBuf::from(t.format("#{socket_path}")));
            t
        }

        fn run(&self, args: &[&str]) -> String {
            let out = Command::new("tmux")
                .arg("-L")
                .arg(&self.socket)
                .args(args)
                .env("TERM", "xterm-256color")
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .expect("tmux is needed by this test (apt-get install tmux; .ci/run does)");
            assert!(
                out.status.success(),
                "tmux {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        }

        fn keys(&self, keys: &[&str]) {
            let mut args = vec!["send-keys", "-t", "0"];
            args.extend_from_slice(keys);
            self.run(&args);
        }

        fn screen(&self) -> String {
            self.run(&["capture-pane", "-p", "-t", "0"])
        }

        fn format(&self, f: &str) -> String {
            self.run(&["display-message", "-p", "-t", "0", f])
                .trim()
                .to_string()
        }

        /// Polls the screen until `done` holds, for at most 20 s. `done`
        /// gets the screen's words joined by single spaces, so that text
        /// wrapped over lines matches.
        fn wait_for(&self, what: &str, done: impl Fn(&str, &str) -> bool) -> String {
            let start = Instant::now();
            loop {
                let screen = self.screen();
                if done(&words(&screen), &screen) {
                    return screen;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "waited 20 s for {what}; the screen:\n{screen}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }

        /// After the program ended: exit status 0, the terminal in cooked
        /// mode, the main screen back, the cursor shown, no mouse reports.
        fn assert_restored(&self, after: &str) {
            assert!(after.contains("exit status 0"), "{after}");
            self.assert_terminal_back(after);
        }

        fn assert_terminal_back(&self, after: &str) {
            let w: Vec<&str> = after.split_whitespace().collect();
            assert!(
                w.contains(&"icanon") && w.contains(&"echo"),
                "the terminal is back in cooked mode:\n{after}"
            );
            assert!(!w.contains(&"-icanon") && !w.contains(&"-echo"), "{after}");
            assert!(
                !after.contains("DEVICES"),
                "the main screen is back:\n{after}"
            );
            assert_eq!(self.format("#{alternate_on}"), "0", "alternate screen left");
            assert_eq!(self.format("#{cursor_flag}"), "1", "cursor shown");
            assert_eq!(self.format("#{mouse_any_flag}"), "0", "mouse reports off");
        }
    }

    impl Drop for Tmux {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["-L", &self.socket, "kill-server"])
                .output();
            if let Some(p) = &self.path {
                let _ = std::fs::remove_file(p);
            }
        }
    }

    fn words(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn replay_keys_and_exit() {
        let bin = env!("CARGO_BIN_EXE_egresswatch");
        let command = format!("{bin} tui fixtures/site-zaptec-broken.pcap --speed 0; {AFTER}");
        let t = Tmux::start("keys", 100, 30, &command);
        let list = t.wait_for("the replay's end", |w, _| w.contains("■ end"));
        assert!(list.contains("✗ FAIL 3c:dc:03:1a:bc:01"), "{list}");
        assert!(list.contains("ZAP051234"), "{list}");

        t.keys(&["Enter"]);
        let device = t.wait_for("the device view", |w, _| w.contains("REQUIREMENTS"));
        let w = words(&device);
        assert!(w.contains("✗ FAIL mqtt-cloud"), "{device}");
        assert!(
            w.contains(
                "allow outbound TCP 8883 to zapcloud.azure-devices.net in the site firewall"
            ),
            "the fix is shown:\n{device}"
        );

        t.keys(&["Tab"]);
        t.wait_for("the findings", |w, _| {
            w.contains("FINDINGS 2 of 2") && w.contains("blocked_port")
        });

        t.keys(&["Tab", "/", "u", "b", "i", "q", "Enter"]);
        t.wait_for("the filtered list", |w, _| w.contains("DEVICES 1 of 3"));
        t.keys(&["Escape"]);
        t.wait_for("the whole list", |w, _| w.contains("DEVICES 3 of 3"));

        // Export to a file named in the prompt (Ctrl-U clears the offer).
        let dir = crate::common::TempDir::new("tui-export");
        let file = dir.path().join("site.md");
        t.keys(&["e", "C-u"]);
        t.keys(&["-l", file.to_str().unwrap()]);
        t.keys(&["Enter"]);
        t.wait_for("the export", |w, _| w.contains("✓ report written to"));
        let md = std::fs::read_to_string(&file).expect("the report is written");
        assert!(md.starts_with("# egresswatch report"), "{md}");
        assert!(md.contains("zapcloud.azure-devices.net"), "{md}");

        t.keys(&["Down"]);
        t.wait_for("the selection on the next row", |_, screen| {
            screen
                .lines()
                .find(|l| l.starts_with('▶'))
                .is_some_and(|l| !l.contains("3c:dc:03:1a:bc:01"))
        });

        t.keys(&["q"]);
        let after = t.wait_for("the shell after exit", |w, _| w.contains("end-of-test"));
        t.assert_restored(&after);
    }

    /// The parent's id of a process, from /proc.
    fn parent_of(pid: u32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid ...: comm may hold spaces, so from its ')'.
        stat[stat.rfind(')')? + 1..]
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    #[test]
    fn sigterm_restores_the_terminal() {
        let bin = env!("CARGO_BIN_EXE_egresswatch");
        let command = format!("{bin} tui fixtures/site-cassia-broken.pcap --speed 0; {AFTER}");
        let t = Tmux::start("sigterm", 80, 24, &command);
        t.wait_for("the screen", |w, _| w.contains("■ end"));
        let shell: u32 = t.format("#{pane_pid}").parse().expect("the pane's pid");
        // The program is the pane shell's child.
        let child = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| parent_of(*pid) == Some(shell))
            .expect("the program runs under the pane's shell");
        let status = Command::new("kill")
            .args(["-TERM", &child.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let after = t.wait_for("the shell after SIGTERM", |w, _| w.contains("end-of-test"));
        t.assert_restored(&after);
    }

    /// A live capture on the loopback interface (capturing needs root or
    /// CAP_NET_RAW, as CI has): datagrams sent by the test show up.
    #[test]
    fn live_capture_on_loopback() {
        let bin = env!("CARGO_BIN_EXE_egresswatch");
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port() + 1;
        let command = format!("{bin} tui -i lo --filter 'udp port {port}'; {AFTER}");
        let t = Tmux::start("live", 100, 30, &command);
        t.wait_for("the live screen", |w, _| w.contains("● live lo"));
        let screen = t.wait_for("the datagrams", |w, _| {
            let _ = sock.send_to(b"egresswatch test", ("127.0.0.1", port));
            w.contains("127.0.0.1") && !w.contains(" 0 pkts")
        });
        assert!(screen.contains("DEVICES"), "{screen}");
        t.keys(&["q"]);
        let after = t.wait_for("the shell after exit", |w, _| w.contains("end-of-test"));
        t.assert_restored(&after);
    }

    /// Not a test by itself: run inside tmux by
    /// `a_panic_restores_the_terminal` (with EGRESSWATCH_PANIC_PROBE set),
    /// it takes the terminal, drops the guard's duty, and panics, so only
    /// the panic hook can give the terminal back.
    #[test]
    fn panic_probe() {
        if std::env::var_os("EGRESSWATCH_PANIC_PROBE").is_none() {
            return;
        }
        let guard = egresswatch::tui::term::enter().expect("a terminal");
        std::mem::forget(guard);
        panic!("panic-probe: the terminal must be restored before this message");
    }

    #[test]
    fn a_panic_restores_the_terminal() {
        let exe = std::env::current_exe().unwrap();
        let command = format!(
            "EGRESSWATCH_PANIC_PROBE=1 RUST_BACKTRACE=0 {} --exact tui::in_tmux::panic_probe --nocapture --test-threads 1; {AFTER}",
            exe.display()
        );
        let t = Tmux::start("panic", 100, 40, &command);
        let after = t.wait_for("the shell after the panic", |w, _| {
            w.contains("end-of-test")
        });
        let w = words(&after);
        assert!(
            w.contains("panic-probe: the terminal must be restored before this message"),
            "the panic message is on the main screen:\n{after}"
        );
        assert!(w.contains("exit status 101"), "{after}");
        t.assert_terminal_back(&after);
    }
}
