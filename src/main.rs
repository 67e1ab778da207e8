//! The `egresswatch` binary: parse the command line, run, map the outcome to
//! an exit status (0 done, 1 a finding at or above `--fail-on`, 2 the input
//! could not be used).

use clap::Parser;
use egresswatch::analyze::{self, Progress};
use egresswatch::cli::{AnalyzeArgs, Cli, Command, FailOn, ProfilesCommand};
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
    }
    w.flush().map_err(io)?;
    Ok(ExitCode::SUCCESS)
}

fn run_live(args: egresswatch::live::LiveArgs) -> Result<ExitCode, String> {
    let profiles = load_profiles(args.rules.as_deref())?;
    let site = match &args.site {
        Some(path) => Site::load(path, &profiles).map_err(|e| first_error(e, None))?,
        None => Site::default(),
    };
    egresswatch::live::run(args, profiles, site)
}

fn run_analyze(args: AnalyzeArgs) -> Result<ExitCode, String> {
    let profiles = load_profiles(args.rules.as_deref())?;
    let site = match &args.site {
        Some(path) => Site::load(path, &profiles).map_err(|e| first_error(e, None))?,
        None => Site::default(),
    };
    let opts = analyze::Options {
        files: args.files.clone(),
        filter: args.filter.clone(),
        profiles: Some(profiles),
        site,
        ..Default::default()
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
    write_report(&report, args.format, args.output.as_deref())?;
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    let failed = threshold.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes to a temporary file beside the target and renames it into place,
/// so a failed run never leaves a half-written report.
fn write_report(
    report: &egresswatch::report::Report,
    format: output::Format,
    path: Option<&std::path::Path>,
) -> Result<(), String> {
    match path {
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            output::write(report, format, &mut w)
                .and_then(|_| w.flush())
                .map_err(|e| format!("standard output: {e}"))
        }
        Some(p) => {
            let name = p.display();
            let mut tmp = p.as_os_str().to_owned();
            tmp.push(format!(".egresswatch-tmp-{}", std::process::id()));
            let tmp = std::path::PathBuf::from(tmp);
            let result = (|| {
                let file = std::fs::File::create(&tmp)?;
                let mut w = std::io::BufWriter::new(file);
                output::write(report, format, &mut w)?;
                w.flush()?;
                drop(w);
                std::fs::rename(&tmp, p)
            })();
            result.map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("{name}: cannot write: {e}")
            })
        }
    }
}
