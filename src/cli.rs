//! The command line (clap derive). CONTRACT.md is the reference.

use crate::output::Format;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "egresswatch",
    version,
    about = "Checks IoT devices' network access against their vendors' requirements, from captures or live traffic"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse one site capture made of one or more pcap or pcapng files.
    Analyze(AnalyzeArgs),
    /// Sensor mode on a mirror port: events as they happen, a report at the end.
    Live(crate::live::LiveArgs),
    /// The expected egress profiles: list them, show one, check a folder.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List the profiles in use.
    List(ProfileSource),
    /// Show one profile: how it is recognised and what it requires.
    Show {
        /// The profile id (see `profiles list`).
        id: String,
        #[command(flatten)]
        source: ProfileSource,
    },
    /// Check every profile file in a folder; every error is reported as
    /// file:line: what is wrong.
    Lint {
        /// The folder of profile files (*.toml).
        dir: PathBuf,
    },
}

/// Where profiles come from, and how to print them.
#[derive(Debug, clap::Args)]
pub struct ProfileSource {
    /// Profiles to use instead of the built-in ones (a folder of *.toml).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// text or json.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// The lowest severity that makes the exit status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng, known by their header); together they are one site.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only frames matching this BPF expression (tcpdump syntax).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
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
