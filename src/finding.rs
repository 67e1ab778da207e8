//! The one `Finding` type every output consumes.

use crate::capture::Nanos;
use crate::flow::FrameRef;
use serde::Serialize;
use std::net::IpAddr;

/// The kinds of problem, as CONTRACT.md names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    BlockedPort,
    DnsFailure,
    NtpFailure,
    DhcpFailure,
    BadWifiChannel,
    SubnetClash,
    TlsInterception,
    TlsFailure,
    MqttRejected,
    InboundExposure,
    UnexpectedEgress,
    StaticAddress,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BlockedPort => "blocked_port",
            Kind::DnsFailure => "dns_failure",
            Kind::NtpFailure => "ntp_failure",
            Kind::DhcpFailure => "dhcp_failure",
            Kind::BadWifiChannel => "bad_wifi_channel",
            Kind::SubnetClash => "subnet_clash",
            Kind::TlsInterception => "tls_interception",
            Kind::TlsFailure => "tls_failure",
            Kind::MqttRejected => "mqtt_rejected",
            Kind::InboundExposure => "inbound_exposure",
            Kind::UnexpectedEgress => "unexpected_egress",
            Kind::StaticAddress => "static_address",
        }
    }
}

/// How much a finding costs the site. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A frame that proves a finding: `file` is the index of the file in the
/// order given, `frame` its 1-based number in that file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    pub file: u16,
    pub frame: u64,
}

impl From<FrameRef> for Evidence {
    fn from(f: FrameRef) -> Self {
        Evidence {
            file: f.file,
            frame: f.number,
        }
    }
}

/// One problem found, with the facts that prove it and the fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    /// The device's MAC, or its IP where it has none.
    pub device: String,
    pub profile: Option<String>,
    pub requirement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub how: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bssid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forbidden: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
    pub message: String,
    #[serde(serialize_with = "crate::report::ser_time")]
    pub first_seen: Nanos,
    #[serde(serialize_with = "crate::report::ser_time")]
    pub last_seen: Nanos,
    pub count: u64,
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// A finding with only the common fields set; callers fill the rest.
    pub fn new(kind: Kind, severity: Severity, device: String, message: String) -> Self {
        Finding {
            kind,
            severity,
            device,
            profile: None,
            requirement: None,
            proto: None,
            port: None,
            remote_ip: None,
            name: None,
            how: None,
            channel: None,
            ssid: None,
            bssid: None,
            subnet: None,
            forbidden: None,
            issuer: None,
            code: None,
            message,
            first_seen: 0,
            last_seen: 0,
            count: 1,
            evidence: Vec::new(),
        }
    }
}

/// The name of an IP protocol number, for findings and reports.
pub fn proto_name(proto: u8) -> &'static str {
    match proto {
        6 => "tcp",
        17 => "udp",
        1 | 58 => "icmp",
        _ => "ip",
    }
}
