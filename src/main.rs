//! The `egresswatch` binary: parse the command line, run, map the outcome to
//! an exit status (0 done, 1 a finding at or above `--fail-on`, 2 the input
//! could not be used).

use clap::Parser;
use egresswatch::analyze::{self, Progress};
use egresswatch::cli::{AnalyzeArgs, Cli, Command, FailOn, LearnArgs, ProfilesCommand, TuiArgs};
use egresswatch::finding::Severity;
use egresswatch::output;
use egresswatch::profile::{self, ProfileErrors, ProfileSet, Site};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => run_analyze(args),
        Command::Profiles(cmd) => run_profiles(cmd),
        Command::Learn(args) => run_learn(args),
        Command::Tui(args) => run_tui(args),
        Command::Live(args) => run_live(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("egresswatch: {message}");
            ExitCode::from(2)
        }
    }
}

/// One line for a bad profile folder or site file: the first error, and
/// how many more `profiles lint` would show.
fn first_error(e: ProfileErrors, dir: Option<&std::path::Path>) -> String {
    let more = e.0.len().saturating_sub(1);
    let first =
        e.0.into_iter()
            .next()
            .map(|e| e.to_string())
            .unwrap_or_default();
    match (more, dir) {
        (0, _) => first,
        (n, Some(d)) => format!(
            "{first} (and {n} more: egresswatch profiles lint {})",
            d.display()
        ),
        (n, None) => format!("{first} (and {n} more)"),
    }
}

fn load_profiles(rules: Option<&std::path::Path>) -> Result<ProfileSet, String> {
    match rules {
        Some(dir) => profile::load_dir(dir).map_err(|e| first_error(e, Some(dir))),
        None => profile::builtin().map_err(|e| first_error(e, None)),
    }
}

fn run_profiles(cmd: ProfilesCommand) -> Result<ExitCode, String> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| format!("standard output: {e}");
    match cmd {
        ProfilesCommand::List(src) => {
            let set = load_profiles(src.rules.as_deref())?;
            output::profiles::list(&set, src.format, &mut w).map_err(io)?;
        }
        ProfilesCommand::Show { id, source } => {
            let set = load_profiles(source.rules.as_deref())?;
            let Some(p) = set.get(&id) else {
                let ids: Vec<&str> = set.profiles.iter().map(|p| p.id.as_str()).collect();
                return Err(format!("no profile `{id}` (profiles: {})", ids.join(", ")));
            };
            output::profiles::show(p, source.format, &mut w).map_err(io)?;
        }
        ProfilesCommand::Lint { dir } => match profile::load_dir(&dir) {
            Ok(set) => {
                writeln!(
                    w,
                    "{}: {} profiles, no errors",
                    dir.display(),
                    set.profiles.len()
                )
                .map_err(io)?;
            }
            Err(errors) => {
                for e in &errors.0 {
                    eprintln!("{e}");
                }
                return Ok(ExitCode::from(2));
            }
        },
        ProfilesCommand::ImportMud { file, output } => {
            let name = file.display().to_string();
            let text = profile::load::read_text(&file).map_err(|e| format!("{name}: {e}"))?;
            let got = profile::mud::import(&name, &text).map_err(|e| first_error(e, None))?;
            for n in &got.notes {
                eprintln!("note: {n}");
            }
            write_out(&mut w, output.as_deref(), &got.toml)?;
        }
        ProfilesCommand::ExportMud {
            id,
            rules,
            mud_url,
            output,
        } => {
            let set = load_profiles(rules.as_deref())?;
            let Some(p) = set.get(&id) else {
                let ids: Vec<&str> = set.profiles.iter().map(|p| p.id.as_str()).collect();
                return Err(format!("no profile `{id}` (profiles: {})", ids.join(", ")));
            };
            if let Some(u) = mud_url.as_deref().filter(|u| !u.starts_with("https://")) {
                return Err(format!(
                    "--mud-url {u}: a MUD URL is an https URL (RFC 8520)"
                ));
            }
            // The only clock read: the file says when it was written.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
            let opts = profile::mud::ExportOptions {
                mud_url,
                last_update: egresswatch::report::format_time(now),
            };
            let (json, notes) = profile::mud::export_with(p, &opts);
            for n in &notes {
                eprintln!("note: {n}");
            }
            let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n";
            write_out(&mut w, output.as_deref(), &text)?;
        }
    }
    w.flush().map_err(io)?;
    Ok(ExitCode::SUCCESS)
}

fn run_live(args: egresswatch::live::LiveArgs) -> Result<ExitCode, String> {
    let (profiles, site) = load_checks(args.rules.as_deref(), args.site.as_deref())?;
    egresswatch::live::run(args, profiles, site)
}

fn run_learn(args: LearnArgs) -> Result<ExitCode, String> {
    let opts = analyze::Options {
        files: args.files.clone(),
        filter: args.filter.clone(),
        ..Default::default()
    };
    let report = analyze::run(&opts, &mut |_| {}).map_err(|e| e.to_string())?;
    let want = args.device.to_ascii_lowercase().replace('-', ":");
    let Some(dev) = report.devices.iter().find(|d| d.id() == want) else {
        return Err(format!(
            "--device {}: no such device in {} (devices: {})",
            args.device,
            report.capture.files.join(", "),
            report
                .devices
                .iter()
                .map(|d| d.id())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let text = profile::learn::learn(dev, args.id.as_deref(), &report.capture.files.join(", "));
    let stdout = std::io::stdout();
    write_out(&mut stdout.lock(), args.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path` whole (see [`output::write_path`]), or to `w`
/// without a path.
fn write_out(w: &mut dyn Write, path: Option<&std::path::Path>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => output::write_path(p, |f| f.write_all(text.as_bytes())),
        None => w
            .write_all(text.as_bytes())
            .map_err(|e| format!("standard output: {e}")),
    }
}

/// The profiles (`--rules`) and the site's values (`--site`) checks use.
fn load_checks(
    rules: Option<&std::path::Path>,
    site: Option<&std::path::Path>,
) -> Result<(ProfileSet, Site), String> {
    let profiles = load_profiles(rules)?;
    let site = match site {
        Some(path) => Site::load(path, &profiles).map_err(|e| first_error(e, None))?,
        None => Site::default(),
    };
    Ok((profiles, site))
}

fn run_tui(args: TuiArgs) -> Result<ExitCode, String> {
    let (profiles, site) = load_checks(args.rules.as_deref(), args.site.as_deref())?;
    egresswatch::tui::run(args, profiles, site)
}

fn run_analyze(args: AnalyzeArgs) -> Result<ExitCode, String> {
    let (profiles, site) = load_checks(args.rules.as_deref(), args.site.as_deref())?;
    let opts = analyze::Options {
        files: args.files.clone(),
        filter: args.filter.clone(),
        profiles: Some(profiles),
        site,
        engine: args.limits.engine(),
        workers: match args.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n.min(64),
        },
        exiting: true,
    };
    let started = Instant::now();
    let show = std::io::stderr().is_terminal();
    let mut last = Instant::now();
    let mut progress = |p: Progress| {
        if show && last.elapsed().as_millis() >= 500 {
            last = Instant::now();
            let pct = if p.bytes_total > 0 {
                p.bytes_read as f64 * 100.0 / p.bytes_total as f64
            } else {
                0.0
            };
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r{pct:5.1}%  {} packets  {:.0} packets/s ",
                p.packets,
                p.packets as f64 / secs
            );
        }
    };
    let report = analyze::run(&opts, &mut progress).map_err(|e| e.to_string())?;
    if show && started.elapsed().as_millis() >= 500 {
        eprintln!();
    }
    write_report(&report, args.format, args.output.as_deref(), opts.workers)?;
    let worst = report.findings.iter().map(|f| f.severity).max();
    // The process ends here: freeing the report would only cost time.
    std::mem::forget(report);
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    let failed = threshold.is_some_and(|t| worst.is_some_and(|w| w >= t));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes the report to standard output, or to a file (see
/// [`output::write_file`]).
fn write_report(
    report: &egresswatch::report::Report,
    format: output::Format,
    path: Option<&std::path::Path>,
    threads: usize,
) -> Result<(), String> {
    match path {
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            output::write_on(report, format, &mut w, threads)
                .and_then(|_| w.flush())
                .map_err(|e| format!("standard output: {e}"))
        }
        Some(p) => output::write_file_on(report, format, p, threads),
    }
}
