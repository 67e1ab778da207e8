//! The `egresswatch` binary: parse the command line, run, map the outcome to
//! an exit status (0 done, 1 a finding at or above `--fail-on`, 2 the input
//! could not be used).

use clap::Parser;
use egresswatch::analyze::{self, Progress};
use egresswatch::cli::{AnalyzeArgs, Cli, Command, FailOn};
use egresswatch::finding::Severity;
use egresswatch::output;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => run_analyze(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("egresswatch: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_analyze(args: AnalyzeArgs) -> Result<ExitCode, String> {
    let opts = analyze::Options {
        files: args.files.clone(),
        filter: args.filter.clone(),
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
