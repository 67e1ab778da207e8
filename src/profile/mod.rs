//! Expected egress profiles: how to recognise a kind of device, and what its
//! vendor says the network must give it.
//!
//! Profiles are data: one TOML file each in `rules/` (the format is
//! documented in `rules/README.md`), compiled into the binary from there
//! ([`builtin`]) or read from a folder given with `--rules` ([`load_dir`]).
//! Loading checks everything and reports every error as
//! `file:line: what is wrong` ([`ProfileError`]); unknown keys are errors.
//! Site settings (`--site`, values a profile leaves to the site, such as a
//! gateway's controller address) are in [`site`].

pub mod learn;
pub mod load;
pub mod mud;
pub mod pattern;
pub mod site;

pub use load::{builtin, load_dir, parse_profile};
pub use pattern::{MacPrefix, Net, Pattern};
pub use site::Site;

use serde::Serialize;

/// One error in a profile or site file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Line 0: the whole file (or folder), not a line of it.
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Several errors, shown one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileErrors(pub Vec<ProfileError>);

impl std::fmt::Display for ProfileErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The profiles in use, in a stable order (by id).
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    pub profiles: Vec<Profile>,
}

impl ProfileSet {
    pub fn get(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }
}

/// One kind of device and its requirements.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub vendor: String,
    /// What the device is, in a few words.
    pub device: String,
    pub documents: Vec<DocumentRef>,
    pub identify: Identify,
    /// Values the site supplies (`--site`) or the traffic shows.
    pub site: Vec<SiteKey>,
    pub requirements: Vec<Requirement>,
    /// The file it was read from (`rules/zaptec-pro.toml` for built-ins).
    pub source: String,
}

impl Profile {
    /// Every name pattern an egress requirement lists.
    pub fn egress_names(&self) -> impl Iterator<Item = &Pattern> {
        self.requirements.iter().flat_map(|r| match &r.check {
            Check::Egress {
                target: Target::Names(n),
                ..
            } => n.as_slice(),
            _ => &[],
        })
    }
}

/// A vendor document requirements cite.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentRef {
    pub id: String,
    pub title: String,
    /// Where to read it: a path under the shared seeds, or a URL.
    pub source: String,
    pub language: Option<String>,
}

/// How a device is recognised: signals with weights; the best-scoring
/// profile at or above its `min_score` wins.
#[derive(Debug, Clone, Serialize)]
pub struct Identify {
    pub min_score: i32,
    /// Software on a general-purpose computer (it browses the web anyway):
    /// it is not rejected for talking to many domains, and gets no
    /// `unexpected_egress` findings.
    pub general_purpose: bool,
    pub signals: Vec<Signal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    #[serde(flatten)]
    pub what: SignalKind,
    pub weight: i32,
}

/// What a signal looks at. Lists mean "any of these".
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// The MAC address is in one of these IEEE blocks.
    Oui(#[serde(serialize_with = "ser_display_list")] Vec<MacPrefix>),
    /// The OUI registry's organisation name.
    Vendor(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    DhcpHostname(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    DhcpVendorClass(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    /// A name the device used, from any source (DNS, SNI, HTTP Host, ...).
    Name(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    /// A DNS question it asked.
    Dns(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    /// A TLS (or QUIC) SNI it sent.
    Sni(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    MqttClientId(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    /// The MUD URL (RFC 8520) the device announces in DHCP (option 161).
    MudUrl(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    /// It reached one of these ports (`tcp/8883`, `udp/5246`).
    Port(#[serde(serialize_with = "ser_display_list")] Vec<PortSpec>),
    /// It speaks this protocol (`capwap`, `mqtt`, `ssh`, `tls`, `http`).
    Speaks(String),
}

/// A transport and port, written `tcp/8883`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    pub proto: Proto,
    pub port: u16,
}

impl std::fmt::Display for PortSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.proto.as_str(), self.port)
    }
}

/// Transport of a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A value the site supplies, or the traffic shows.
#[derive(Debug, Clone, Serialize)]
pub struct SiteKey {
    pub key: String,
    pub description: String,
    /// Where to learn it from the traffic when `--site` does not give it:
    /// `capwap` (the CAPWAP peer), `mqtt` (the MQTT broker).
    pub learn: Vec<String>,
}

/// One thing the vendor says the network must give the device.
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub id: String,
    pub description: String,
    /// The id of the document it comes from, and the words it rests on.
    pub cite: String,
    pub quote: Option<String>,
    /// False for optional services: their failures are warnings.
    pub required: bool,
    /// Requirements sharing a group are alternatives: one working carries
    /// the others.
    pub group: Option<String>,
    /// What breaks when it fails, for the summary ("cloud unreachable").
    pub impact: Option<String>,
    #[serde(flatten)]
    pub check: Check,
}

/// What a requirement checks.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// Outbound connections to these names (or a site value) on these ports.
    Egress {
        proto: Proto,
        ports: Vec<u16>,
        target: Target,
    },
    /// Name resolution works.
    Dns,
    /// Time from NTP.
    Ntp { server: NtpSource },
    /// The address comes from DHCP (no static address).
    Dhcp,
    /// The WiFi network's channel and band.
    Wifi {
        channels: Vec<u16>,
        bands: Vec<String>,
    },
    /// The local network must not overlap these ranges.
    Subnet {
        #[serde(serialize_with = "ser_display_list")]
        forbidden: Vec<Net>,
    },
    /// Services meant for the LAN only: never reached from a public address.
    LocalOnly { proto: Proto, ports: Vec<u16> },
    /// The device needs no inbound connection from the internet.
    NoInbound,
    /// The certificates shown for these names must be the real sites'.
    NoInterception {
        #[serde(serialize_with = "ser_display_list")]
        names: Vec<Pattern>,
    },
}

impl Check {
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Egress { .. } => "egress",
            Check::Dns => "dns",
            Check::Ntp { .. } => "ntp",
            Check::Dhcp => "dhcp",
            Check::Wifi { .. } => "wifi",
            Check::Subnet { .. } => "subnet",
            Check::LocalOnly { .. } => "local_only",
            Check::NoInbound => "no_inbound",
            Check::NoInterception { .. } => "no_interception",
        }
    }
}

/// Where an egress requirement goes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Names(#[serde(serialize_with = "ser_display_list")] Vec<Pattern>),
    /// A site value's key (`controller`).
    Site(String),
}

/// Which NTP server the device must reach.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NtpSource {
    Any,
    /// The server(s) DHCP option 42 offers.
    Dhcp,
    Name(#[serde(serialize_with = "ser_display")] Pattern),
}

fn ser_display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn ser_display_list<T: std::fmt::Display, S: serde::Serializer>(
    v: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.to_string()))
}
