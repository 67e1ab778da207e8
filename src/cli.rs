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
    /// Write a draft profile from what one device did in a capture.
    Learn(LearnArgs),
    /// The troubleshooting screen: live on an interface, or replaying capture files.
    Tui(TuiArgs),
}

#[derive(Debug, clap::Args)]
pub struct LearnArgs {
    /// Capture files (pcap or pcapng); together they are one site.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The device: its MAC address (or its IP where it has none).
    #[arg(long, value_name = "MAC")]
    pub device: String,
    /// The new profile's id (default: from its hostname or MAC).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Write the profile to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only frames matching this BPF expression (tcpdump syntax).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
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
    /// Write a profile (TOML) from a MUD file (RFC 8520); what the profile
    /// cannot hold is said on standard error as `note: ...`.
    ImportMud {
        /// The MUD file (JSON).
        file: PathBuf,
        /// Write the profile to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a profile as a MUD file (RFC 8520 JSON); what MUD cannot hold
    /// is said on standard error as `note: ...`.
    ExportMud {
        /// The profile id (see `profiles list`).
        id: String,
        /// Profiles to use instead of the built-in ones (a folder of *.toml).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// The https URL the MUD file will be served from (default: a
        /// placeholder under mud.example.com).
        #[arg(long, value_name = "URL")]
        mud_url: Option<String>,
        /// Write the MUD file to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
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
    /// Analysis threads: one reads the files and hands each host's frames
    /// to the engine its address hashes to; all of them analyse, and build
    /// and write the report. The report is the same with any number.
    /// 0: one per core.
    #[arg(long, value_name = "N", default_value = "1")]
    pub workers: usize,
    #[command(flatten)]
    pub limits: Limits,
}

/// The engine's limits an admin may set (`analyze` and `live`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Limits {
    /// Flows held at once (the largest table; 392 bytes a flow; per worker
    /// when live): the oldest idle flow is evicted past it, and counted.
    #[arg(long, value_name = "N", default_value_t = crate::flow::FlowConfig::default().max_flows, value_parser = parse_max_flows)]
    pub max_flows: usize,
}

impl Limits {
    /// The engine configuration with these limits.
    pub fn engine(&self) -> crate::engine::EngineConfig {
        crate::engine::EngineConfig {
            flow: crate::flow::FlowConfig {
                max_flows: self.max_flows,
                ..Default::default()
            },
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["files", "interface"])))]
pub struct TuiArgs {
    /// Capture files to replay (pcap or pcapng); together they are one site.
    #[arg(value_name = "FILE", conflicts_with = "interface")]
    pub files: Vec<PathBuf>,
    /// Watch this interface live (a mirror port) instead of replaying files.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// Replay speed in multiples of capture time; 0 is as fast as possible.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_speed)]
    pub speed: f64,
    /// Only frames matching this BPF expression (tcpdump syntax).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Profiles to use instead of the built-in ones (a folder of *.toml).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Site settings: values the profiles leave to the site (TOML).
    #[arg(long, value_name = "FILE")]
    pub site: Option<PathBuf>,
}

/// A flow table size: 1 to 16,777,216.
fn parse_max_flows(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1 << 24).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a flow count from 1 to 16777216")),
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a speed: a number of times capture time, 0 or more"
        )),
    }
}
