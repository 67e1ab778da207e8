//! MUD import and export: files written by hand after RFC 8520's examples
//! (the RFC form and the older draft form), round trips of every built-in
//! profile, errors, and hostile input.

use super::*;
use crate::profile::{
    builtin, parse_profile, Check, NtpSource, Profile, ProfileErrors, Proto, Target,
};
use serde_json::{json, Value};

fn imported(text: &str) -> (Profile, Vec<String>, String) {
    let got = import("x.json", text).unwrap_or_else(|e| panic!("{e}"));
    let p = parse_profile("x.toml", &got.toml).unwrap_or_else(|e| panic!("{e}\n{}", got.toml));
    (p, got.notes, got.toml)
}

fn errors(text: &str) -> Vec<String> {
    let e: ProfileErrors = import("x.json", text).unwrap_err();
    e.0.iter().map(|e| e.to_string()).collect()
}

/// (names or site, proto, ports) of every egress requirement.
fn egress(p: &Profile) -> Vec<(String, Proto, Vec<u16>)> {
    p.requirements
        .iter()
        .filter_map(|r| match &r.check {
            Check::Egress {
                proto,
                ports,
                target,
            } => {
                let to = match target {
                    Target::Names(n) => n
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    Target::Site(k) => format!("site:{k}"),
                };
                let mut ports = ports.clone();
                ports.sort_unstable();
                Some((to, *proto, ports))
            }
            _ => None,
        })
        .collect()
}

/// The example of RFC 8520 §9, written out by hand: a light bulb that may
/// open HTTPS to its manufacturer's service, over IPv6.
const RFC_EXAMPLE: &str = r#"{
  "ietf-mud:mud": {
    "mud-version": 1,
    "mud-url": "https://lighting.example.com/lightbulb2000",
    "last-update": "2019-01-28T11:20:51+01:00",
    "cache-validity": 48,
    "is-supported": true,
    "systeminfo": "The BMS Example Light Bulb",
    "from-device-policy": {
      "access-lists": { "access-list": [ { "name": "mud-76100-v6fr" } ] }
    },
    "to-device-policy": {
      "access-lists": { "access-list": [ { "name": "mud-76100-v6to" } ] }
    }
  },
  "ietf-access-control-list:acls": {
    "acl": [
      {
        "name": "mud-76100-v6to",
        "type": "ipv6-acl-type",
        "aces": {
          "ace": [
            {
              "name": "cl0-todev",
              "matches": {
                "ipv6": {
                  "ietf-acldns:src-dnsname": "service.bms.example.com",
                  "protocol": 6
                },
                "tcp": {
                  "ietf-mud:direction-initiated": "from-device",
                  "source-port": { "operator": "eq", "port": 443 }
                }
              },
              "actions": { "forwarding": "accept" }
            }
          ]
        }
      },
      {
        "name": "mud-76100-v6fr",
        "type": "ipv6-acl-type",
        "aces": {
          "ace": [
            {
              "name": "cl0-frdev",
              "matches": {
                "ipv6": {
                  "ietf-acldns:dst-dnsname": "service.bms.example.com",
                  "protocol": 6
                },
                "tcp": {
                  "ietf-mud:direction-initiated": "from-device",
                  "destination-port": { "operator": "eq", "port": 443 }
                }
              },
              "actions": { "forwarding": "accept" }
            }
          ]
        }
      }
    ]
  }
}"#;

#[test]
fn the_rfc_example_becomes_a_profile() {
    let (p, notes, toml) = imported(RFC_EXAMPLE);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(p.id, "lightbulb2000");
    assert_eq!(p.name, "The BMS Example Light Bulb");
    assert_eq!(p.vendor, "lighting.example.com");
    assert_eq!(
        p.documents[0].source,
        "https://lighting.example.com/lightbulb2000"
    );
    assert!(p.documents[0].title.contains("The BMS Example Light Bulb"));
    assert_eq!(
        egress(&p),
        [("service.bms.example.com".to_string(), Proto::Tcp, vec![443])]
    );
    let r = &p.requirements[0];
    assert!(r.required);
    assert_eq!(r.cite, "mud-file");
    assert!(r.quote.as_deref().unwrap().contains("cl0-frdev"), "{r:?}");
    // The URL the bulb announces decides; the name alone does not.
    let sig = serde_json::to_value(&p.identify.signals).unwrap();
    assert_eq!(
        sig,
        json!([
            {"mud_url": ["https://lighting.example.com/lightbulb2000"], "weight": 3},
            {"name": ["service.bms.example.com"], "weight": 1}
        ])
    );
    assert_eq!(p.identify.min_score, 3);
    assert!(
        toml.starts_with("# Imported from the MUD file x.json"),
        "{toml}"
    );
}

/// A fuller file in the RFC form: the standard DNS and NTP controllers, a
/// controller class (`lighting-controller`), `my-controller`, a local CoAP
/// service, a port range, and what a profile cannot hold.
const RFC_FULL: &str = r#"{
  "ietf-mud:mud": {
    "mud-version": 1,
    "mud-url": "https://lighting.example.com/lightbulb2000.json",
    "last-update": "2019-01-28T11:20:51+01:00",
    "systeminfo": "The BMS Example Light Bulb",
    "mfg-name": "BMS Example",
    "model-name": "Lightbulb 2000",
    "from-device-policy": { "access-lists": { "access-list": [ { "name": "v4fr" } ] } },
    "to-device-policy": { "access-lists": { "access-list": [ { "name": "v4to" } ] } }
  },
  "ietf-access-control-list:acls": { "acl": [
    { "name": "v4fr", "type": "ipv4-acl-type", "aces": { "ace": [
      { "name": "dns", "matches": {
          "ietf-mud:mud": { "controller": "urn:ietf:params:mud:dns" },
          "ipv4": { "protocol": 17 },
          "udp": { "destination-port": { "operator": "eq", "port": 53 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "ntp", "matches": {
          "ietf-mud:mud": { "controller": "urn:ietf:params:mud:ntp" },
          "ipv4": { "protocol": 17 },
          "udp": { "destination-port": { "operator": "eq", "port": 123 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "lc", "matches": {
          "ietf-mud:mud": { "controller": "https://lighting.example.com/lighting-controller" },
          "ipv4": { "protocol": 17 },
          "udp": { "destination-port": { "lower-port": 5683, "upper-port": 5684 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "mine", "matches": {
          "ietf-mud:mud": { "my-controller": [null] },
          "ipv4": { "protocol": 6 },
          "tcp": { "ietf-mud:direction-initiated": "from-device",
                   "destination-port": { "operator": "eq", "port": 8443 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "cloud", "matches": {
          "ipv4": { "ietf-acldns:dst-dnsname": "service.bms.example.com.", "protocol": 6 },
          "tcp": { "ietf-mud:direction-initiated": "from-device",
                   "destination-port": { "operator": "eq", "port": 443 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "cloud-alt", "matches": {
          "ipv4": { "ietf-acldns:dst-dnsname": "SERVICE.bms.example.com", "protocol": 6 },
          "tcp": { "destination-port": { "operator": "eq", "port": 8883 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "coap-reply", "matches": {
          "ietf-mud:mud": { "local-networks": [null] },
          "ipv4": { "protocol": 17 },
          "udp": { "source-port": { "operator": "eq", "port": 5683 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "peers", "matches": {
          "ietf-mud:mud": { "same-manufacturer": [null] },
          "ipv4": { "protocol": 6 } },
        "actions": { "forwarding": "accept" } },
      { "name": "ping", "matches": {
          "ipv4": { "ietf-acldns:dst-dnsname": "service.bms.example.com", "protocol": 1 } },
        "actions": { "forwarding": "accept" } },
      { "name": "wide", "matches": {
          "ipv4": { "ietf-acldns:dst-dnsname": "media.bms.example.com", "protocol": 17 },
          "udp": { "destination-port": { "lower-port": 10000, "upper-port": 20000 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "above", "matches": {
          "ipv4": { "ietf-acldns:dst-dnsname": "media.bms.example.com", "protocol": 6 },
          "tcp": { "destination-port": { "operator": "gte", "port": 1024 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "net", "matches": {
          "ipv4": { "destination-ipv4-network": "192.0.2.0/24", "protocol": 6 },
          "tcp": { "destination-port": { "operator": "eq", "port": 22 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "blocked", "matches": {
          "ipv4": { "ietf-acldns:dst-dnsname": "ads.example.net", "protocol": 6 } },
        "actions": { "forwarding": "drop" } }
    ] } },
    { "name": "v4to", "type": "ipv4-acl-type", "aces": { "ace": [
      { "name": "cloud-back", "matches": {
          "ipv4": { "ietf-acldns:src-dnsname": "service.bms.example.com", "protocol": 6 },
          "tcp": { "ietf-mud:direction-initiated": "from-device",
                   "source-port": { "operator": "eq", "port": 443 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "coap", "matches": {
          "ietf-mud:mud": { "local-networks": [null] },
          "ipv4": { "protocol": 17 },
          "udp": { "destination-port": { "operator": "eq", "port": 5683 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "admin", "matches": {
          "ipv4": { "ietf-acldns:src-dnsname": "admin.bms.example.com", "protocol": 6 },
          "tcp": { "ietf-mud:direction-initiated": "to-device",
                   "destination-port": { "operator": "eq", "port": 22 } } },
        "actions": { "forwarding": "accept" } },
      { "name": "stray", "matches": {
          "ipv4": { "ietf-acldns:src-dnsname": "other.example.com", "protocol": 17 },
          "udp": { "source-port": { "operator": "eq", "port": 9999 } } },
        "actions": { "forwarding": "accept" } }
    ] } }
  ] }
}"#;

#[test]
fn controllers_local_networks_and_what_a_profile_cannot_hold() {
    let (p, notes, _) = imported(RFC_FULL);
    assert_eq!(p.id, "lightbulb2000");
    assert_eq!(p.name, "Lightbulb 2000");
    assert_eq!(p.vendor, "BMS Example");
    assert_eq!(p.device, "The BMS Example Light Bulb");
    let kinds: Vec<(&str, &str)> = p
        .requirements
        .iter()
        .map(|r| (r.id.as_str(), r.check.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("dns", "dns"),
            ("ntp", "ntp"),
            ("lighting-controller-udp", "egress"),
            ("my-controller-tcp", "egress"),
            ("service-bms-example-com", "egress"),
            ("local-udp", "local_only"),
        ]
    );
    assert!(matches!(
        p.requirements[1].check,
        Check::Ntp {
            server: NtpSource::Any
        }
    ));
    assert_eq!(
        egress(&p),
        [
            (
                "site:lighting-controller".to_string(),
                Proto::Udp,
                vec![5683, 5684]
            ),
            ("site:my-controller".to_string(), Proto::Tcp, vec![8443]),
            (
                "service.bms.example.com".to_string(),
                Proto::Tcp,
                vec![443, 8883]
            ),
        ]
    );
    assert!(matches!(
        &p.requirements[5].check,
        Check::LocalOnly { proto: Proto::Udp, ports } if ports == &[5683]
    ));
    let keys: Vec<&str> = p.site.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["lighting-controller", "my-controller"]);

    let said = |what: &str| {
        assert!(
            notes.iter().any(|n| n.contains(what)),
            "no note says {what:?}: {notes:#?}"
        )
    };
    said("ACE `peers` (from-device) is about devices of the same manufacturer");
    said("ACE `ping` (from-device): ICMP");
    said("ACE `wide` (from-device): ports 10000 to 20000 of media.bms.example.com is more than a profile lists");
    said("ACE `above` (from-device): ports from 1024");
    said("ACE `net` (from-device) is about addresses (`destination-ipv4-network`)");
    said("ACE `blocked` drops traffic");
    said("ACE `admin` (to-device): admin.bms.example.com opening TCP 22 on the device is not carried");
    said("ACE `stray` lets other.example.com answer from UDP 9999, but no from-device ACE opens that");
    said("the controller https://lighting.example.com/lighting-controller becomes the site value `lighting-controller`");
    assert_eq!(notes.len(), 10, "{notes:#?}");
}

/// The older draft form still found in the wild: `access-lists`,
/// `acl-name`, `access-list-entries`, `rule-name`, `*-acl` match containers
/// and `destination-port-range`.
const DRAFT_FORM: &str = r#"{
  "ietf-mud:mud": {
    "mud-url": "https://things.example.org/thermostat",
    "systeminfo": "Example thermostat",
    "from-device-policy": { "access-lists": { "access-list": [
      { "acl-name": "mud-53134-v4fr", "acl-type": "ietf-access-control-list:ipv4-acl" } ] } },
    "to-device-policy": { "access-lists": { "access-list": [
      { "acl-name": "mud-53134-v4to", "acl-type": "ietf-access-control-list:ipv4-acl" } ] } }
  },
  "ietf-access-control-list:access-lists": {
    "acl": [
      { "acl-name": "mud-53134-v4fr", "acl-type": "ipv4-acl",
        "access-list-entries": { "ace": [
          { "rule-name": "cl0-frdev",
            "matches": {
              "ipv4-acl": { "ietf-acldns:dst-dnsname": "cloud.things.example.org", "protocol": 6,
                            "destination-port-range": { "lower-port": 443, "upper-port": 443 } },
              "tcp-acl": { "ietf-mud:direction-initiated": "from-device" } },
            "actions": { "forwarding": "accept" } },
          { "rule-name": "cl1-frdev",
            "matches": {
              "ietf-mud:mud-acl": { "controller": "urn:ietf:params:mud:ntp" },
              "ipv4-acl": { "protocol": 17, "destination-port-range": { "lower-port": 123 } } },
            "actions": { "permit": [null] } },
          { "rule-name": "cl2-frdev",
            "matches": { "protocol": 17, "ietf-acldns:dst-dnsname": "time.things.example.org",
                         "destination-port-range": { "lower-port": 4000, "upper-port": 4001 } },
            "actions": { "forwarding": "accept" } }
        ] } },
      { "acl-name": "mud-53134-v4to", "acl-type": "ipv4-acl",
        "access-list-entries": { "ace": [
          { "rule-name": "cl0-todev",
            "matches": {
              "ipv4-acl": { "ietf-acldns:src-dnsname": "cloud.things.example.org", "protocol": 6,
                            "source-port-range": { "lower-port": 443 } },
              "tcp-acl": { "ietf-mud:direction-initiated": "from-device" } },
            "actions": { "forwarding": "accept" } }
        ] } }
    ]
  }
}"#;

#[test]
fn the_older_draft_form_is_read() {
    let (p, notes, _) = imported(DRAFT_FORM);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(p.id, "thermostat");
    assert_eq!(
        egress(&p),
        [
            (
                "cloud.things.example.org".to_string(),
                Proto::Tcp,
                vec![443]
            ),
            (
                "time.things.example.org".to_string(),
                Proto::Udp,
                vec![4000, 4001]
            ),
        ]
    );
    assert!(p.requirements.iter().any(|r| matches!(
        r.check,
        Check::Ntp {
            server: NtpSource::Any
        }
    )));
}

/// A generator's habit: the same ACEs under other names in an IPv4 and an
/// IPv6 list, a named NTP server, and the same name on several ports.
#[test]
fn duplicate_lists_merge_into_one_requirement_per_destination() {
    let ace = |name: &str, fam: &str, dns: &str, proto: u8, port: u16| {
        let l4 = if proto == 6 { "tcp" } else { "udp" };
        json!({"name": name, "matches": {
            fam: {"ietf-acldns:dst-dnsname": dns, "protocol": proto},
            l4: {"destination-port": {"operator": "eq", "port": port}}},
            "actions": {"forwarding": "accept"}})
    };
    let mut acls = Vec::new();
    for fam in ["ipv4", "ipv6"] {
        acls.push(json!({"name": format!("from-{fam}"), "aces": {"ace": [
            ace(&format!("{fam}-0"), fam, "pool.ntp.org", 17, 123),
            ace(&format!("{fam}-1"), fam, "api.example.com", 6, 443),
            ace(&format!("{fam}-2"), fam, "api.example.com", 6, 8443),
        ]}}));
    }
    let file = json!({
        "ietf-mud:mud": {"mud-url": "https://example.com/plug",
            "from-device-policy": {"access-lists": {"access-list": [
                {"name": "from-ipv4"}, {"name": "from-ipv6"}]}}},
        "ietf-access-control-list:acls": {"acl": acls}
    });
    let (p, notes, _) = imported(&file.to_string());
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        egress(&p),
        [("api.example.com".to_string(), Proto::Tcp, vec![443, 8443])]
    );
    assert!(matches!(&p.requirements[0].check,
        Check::Ntp { server: NtpSource::Name(n) } if n.as_str() == "pool.ntp.org"));
    // The NTP pool is everyone's: not a signal.
    let sig = serde_json::to_string(&p.identify.signals).unwrap();
    assert!(!sig.contains("pool.ntp.org"), "{sig}");
}

#[test]
fn errors_say_where_and_why() {
    let e = errors("{\n  \"ietf-mud:mud\": {\n    \"mud-url\": ,\n  }\n}");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("x.json:3: not JSON: expected value"),
        "{e:?}"
    );

    let e = errors("[1, 2]");
    assert_eq!(e, ["x.json: not a MUD file: the JSON is not an object"]);
    let e = errors(r#"{"ietf-access-control-list:acls": {"acl": []}}"#);
    assert_eq!(e, ["x.json: not a MUD file: no `ietf-mud:mud` object"]);

    let e = errors(&RFC_EXAMPLE.replace(
        "{ \"name\": \"mud-76100-v6to\" }",
        "{ \"name\": \"mud-76100-v6to\" }, { \"name\": \"nowhere\" }",
    ));
    assert_eq!(
        e,
        ["x.json: to-device-policy names the access list `nowhere`, which the file does not define"]
    );

    let bad_port = |port: &str| {
        errors(&RFC_EXAMPLE.replace(
            "\"destination-port\": { \"operator\": \"eq\", \"port\": 443 }",
            &format!("\"destination-port\": {{ \"operator\": \"eq\", \"port\": {port} }}"),
        ))
    };
    let e = bad_port("70000");
    assert_eq!(
        e,
        ["x.json: ACE `cl0-frdev`: `destination-port`: 70000 is not a port"]
    );
    let e = bad_port("\"https\"");
    assert!(e[0].contains("\"https\" is not a port"), "{e:?}");
    let e = bad_port("0");
    assert!(e[0].contains("port 0 is not a service port"), "{e:?}");
    let e = errors(&RFC_EXAMPLE.replace(
        "\"destination-port\": { \"operator\": \"eq\", \"port\": 443 }",
        "\"destination-port\": { \"lower-port\": 500, \"upper-port\": 400 }",
    ));
    assert!(
        e[0].contains("lower-port 500 is above upper-port 400"),
        "{e:?}"
    );
    let e = errors(&RFC_EXAMPLE.replace("\"operator\": \"eq\"", "\"operator\": \"about\""));
    assert!(
        e.iter().all(|m| m.contains("unknown operator `about`")),
        "{e:?}"
    );
    assert_eq!(e.len(), 2, "{e:?}");

    // Nothing a profile can hold.
    let e = errors(
        r#"{"ietf-mud:mud": {"mud-url": "https://example.com/x",
            "from-device-policy": {"access-lists": {"access-list": [{"name": "a"}]}}},
            "ietf-access-control-list:acls": {"acl": [{"name": "a", "aces": {"ace": [
              {"name": "icmp", "matches": {"ipv4": {"protocol": 1}}}]}}]}}"#,
    );
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("x.json: nothing in the MUD file could be carried into a profile"),
        "{e:?}"
    );
}

#[test]
fn export_is_a_valid_mud_file() {
    let set = builtin().unwrap();
    for p in &set.profiles {
        let (v, _) = export(p);
        let mud = &v["ietf-mud:mud"];
        assert_eq!(mud["mud-version"], 1, "{}", p.id);
        assert!(mud["mud-url"].as_str().unwrap().starts_with("https://"));
        assert_eq!(mud["last-update"], FIXED_LAST_UPDATE);
        assert!(mud["systeminfo"].as_str().unwrap().chars().count() <= 60);
        assert_eq!(mud["extensions"], json!([EXTENSION]));
        assert!(mud[EXTENSION_NODE].is_object());
        let acls = v["ietf-access-control-list:acls"]["acl"]
            .as_array()
            .unwrap();
        for policy in ["from-device-policy", "to-device-policy"] {
            for a in mud[policy]["access-lists"]["access-list"]
                .as_array()
                .unwrap()
            {
                let name = a["name"].as_str().unwrap();
                assert!(acls.iter().any(|x| x["name"] == name), "{name}");
            }
        }
        for acl in acls {
            let aces = acl["aces"]["ace"].as_array().unwrap();
            let mut names: Vec<&str> = aces.iter().map(|a| a["name"].as_str().unwrap()).collect();
            assert!(names.iter().all(|n| n.len() <= 64));
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                aces.len(),
                "ACE names repeat in {}",
                acl["name"]
            );
            for a in aces {
                let text = a.to_string();
                assert!(!text.contains('*'), "a wildcard in an ACE: {text}");
                assert_eq!(a["actions"]["forwarding"], "accept");
                let m = &a["matches"];
                let tcp = &m["tcp"];
                if tcp.is_object() {
                    assert!(tcp["ietf-mud:direction-initiated"].is_string(), "{text}");
                }
            }
        }
    }
}

#[test]
fn export_shapes_of_the_zaptec_profile() {
    let set = builtin().unwrap();
    let (v, notes) = export_with(
        set.get("zaptec-pro").unwrap(),
        &ExportOptions {
            mud_url: Some("https://mud.zaptec.example/pro.json".into()),
            last_update: "2026-03-01T10:00:00Z".into(),
        },
    );
    let mud = &v["ietf-mud:mud"];
    assert_eq!(mud["mud-url"], "https://mud.zaptec.example/pro.json");
    assert_eq!(mud["last-update"], "2026-03-01T10:00:00Z");
    let acls = v["ietf-access-control-list:acls"]["acl"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = acls.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "zaptec-pro-v4fr",
            "zaptec-pro-v4to",
            "zaptec-pro-v6fr",
            "zaptec-pro-v6to"
        ]
    );
    let fr = &acls[0]["aces"]["ace"][0];
    assert_eq!(
        fr["matches"],
        json!({
            "ipv4": {"ietf-acldns:dst-dnsname": "zapcloud.azure-devices.net", "protocol": 6},
            "tcp": {"destination-port": {"operator": "eq", "port": 8883},
                    "ietf-mud:direction-initiated": "from-device"}
        })
    );
    let to = &acls[1]["aces"]["ace"][0];
    assert_eq!(
        to["matches"],
        json!({
            "ipv4": {"ietf-acldns:src-dnsname": "zapcloud.azure-devices.net", "protocol": 6},
            "tcp": {"source-port": {"operator": "eq", "port": 8883},
                    "ietf-mud:direction-initiated": "from-device"}
        })
    );
    let all = v.to_string();
    assert!(
        all.contains(r#"{"controller":"urn:ietf:params:mud:dns"}"#),
        "{all}"
    );
    assert!(all.contains(r#""ietf-acldns:dst-dnsname":"no.pool.ntp.org""#));
    // No placeholder note: the URL was given.
    assert!(
        !notes.iter().any(|n| n.contains("placeholder")),
        "{notes:?}"
    );
    for what in [
        "`wifi-channel` (wifi)",
        "`dhcp` (dhcp)",
        "`no-inbound` (no_inbound)",
    ] {
        assert!(notes.iter().any(|n| n.contains(what)), "{what}: {notes:#?}");
    }
}

/// Normalised requirements: ports and names sorted, as JSON.
fn normal(p: &Profile) -> Value {
    let mut v = serde_json::to_value(&p.requirements).unwrap();
    for r in v.as_array_mut().unwrap() {
        for k in ["ports", "channels"] {
            if let Some(Value::Array(a)) = r.get_mut(k) {
                a.sort_by_key(|x| x.as_u64());
            }
        }
        if let Some(Value::Array(a)) = r.get_mut("target").and_then(|t| t.get_mut("names")) {
            a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
        }
    }
    v
}

#[test]
fn every_builtin_profile_survives_a_round_trip() {
    let set = builtin().unwrap();
    for p in &set.profiles {
        let (v, export_notes) = export(p);
        let (back, notes, toml) = imported(&v.to_string());
        assert!(notes.is_empty(), "{}: {notes:#?}", p.id);
        assert_eq!(back.id, p.id);
        assert_eq!(
            (&back.name, &back.vendor, &back.device),
            (&p.name, &p.vendor, &p.device)
        );
        assert_eq!(normal(&back), normal(p), "{}:\n{toml}", p.id);
        // The URL the file is served from is the new, decisive signal.
        assert!(
            toml.contains("mud_url = \"https://mud.example.com/"),
            "{toml}"
        );
        assert_eq!(back.identify.signals.len(), p.identify.signals.len() + 1);
        let keys: Vec<&str> = back.site.iter().map(|s| s.key.as_str()).collect();
        let want: Vec<&str> = p.site.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, want);
        assert!(export_notes.iter().any(|n| n.contains("placeholder")));
    }
}

/// Without the extension (a MUD manager's view, or a file edited without
/// it), what MUD holds still survives: literal names with their protocols
/// and ports, DNS, NTP, local-only services and site controllers.
#[test]
fn what_mud_holds_survives_without_the_extension() {
    let set = builtin().unwrap();
    for p in &set.profiles {
        let (mut v, _) = export(p);
        v["ietf-mud:mud"]
            .as_object_mut()
            .unwrap()
            .remove(EXTENSION_NODE);
        let (back, _, toml) = imported(&v.to_string());
        let mut want: Vec<(String, Proto, u16)> = Vec::new();
        for r in &p.requirements {
            if let Check::Egress {
                proto,
                ports,
                target,
            } = &r.check
            {
                let to: Vec<String> = match target {
                    Target::Names(n) => n
                        .iter()
                        .filter(|x| x.is_literal())
                        .map(|x| x.to_string())
                        .collect(),
                    Target::Site(_) => vec!["site:my-controller".into()],
                };
                for t in to {
                    for port in ports {
                        want.push((t.clone(), *proto, *port));
                    }
                }
            }
        }
        let mut got: Vec<(String, Proto, u16)> = Vec::new();
        for (to, proto, ports) in egress(&back) {
            for port in ports {
                got.push((to.clone(), proto, port));
            }
        }
        want.sort_by(|a, b| (&a.0, a.1.as_str(), a.2).cmp(&(&b.0, b.1.as_str(), b.2)));
        got.sort_by(|a, b| (&a.0, a.1.as_str(), a.2).cmp(&(&b.0, b.1.as_str(), b.2)));
        want.dedup();
        assert_eq!(got, want, "{}:\n{toml}", p.id);
        let kinds = |x: &Profile, k: &str| {
            x.requirements
                .iter()
                .filter(|r| r.check.kind() == k)
                .count()
        };
        for k in ["dns", "ntp", "local_only"] {
            assert_eq!(kinds(&back, k), kinds(p, k).min(1), "{} {k}:\n{toml}", p.id);
        }
        for (a, b) in p.requirements.iter().zip(&back.requirements) {
            if let (
                Check::Ntp {
                    server: NtpSource::Name(n),
                },
                Check::Ntp { server },
            ) = (&a.check, &b.check)
            {
                assert!(matches!(server, NtpSource::Name(m) if m == n));
            }
        }
    }
}

/// A profile with what the built-in ones lack: two site values, an NTP
/// server by pattern, literal names beside a wildcard in one requirement.
const ODD: &str = r#"
id = "odd-gateway"
name = "Odd gateway"
vendor = "Example"

[[document]]
id = "manual"
title = "Manual"
source = "https://example.com/manual"

[identify]
min_score = 2

[[identify.signal]]
speaks = "capwap"
weight = 2

[[site]]
key = "controller"
description = "the controller"
learn = ["capwap"]

[[site]]
key = "broker"
description = "the MQTT broker"

[[requirement]]
id = "capwap"
kind = "egress"
description = "CAPWAP"
cite = "manual"
proto = "udp"
ports = [5246, 5247]
site = "controller"

[[requirement]]
id = "mqtt"
kind = "egress"
description = "MQTT"
cite = "manual"
ports = [8883]
site = "broker"

[[requirement]]
id = "cloud"
kind = "egress"
description = "the cloud"
cite = "manual"
ports = [443]
names = ["api.example.com", "*.cdn.example.com"]

[[requirement]]
id = "time"
kind = "ntp"
description = "NTP"
cite = "manual"
server = "*.pool.ntp.org"
"#;

#[test]
fn site_values_and_patterns_survive_a_round_trip() {
    let p = parse_profile("odd.toml", ODD).unwrap();
    let (v, notes) = export(&p);
    let text = v.to_string();
    assert!(
        text.contains(r#""controller":"https://mud.example.com/odd-gateway.json#broker""#),
        "{text}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("*.pool.ntp.org is a wildcard")),
        "{notes:#?}"
    );
    let (back, notes, toml) = imported(&text);
    assert!(notes.is_empty(), "{notes:#?}");
    assert_eq!(normal(&back), normal(&p), "{toml}");
    assert_eq!(back.site[0].learn, ["capwap"]);

    // Without the extension the controllers keep their names (the URI's
    // fragment), the literal name its requirement, NTP its requirement.
    let mut v = v;
    v["ietf-mud:mud"]
        .as_object_mut()
        .unwrap()
        .remove(EXTENSION_NODE);
    let (back, _, toml) = imported(&v.to_string());
    assert_eq!(
        egress(&back),
        [
            ("site:controller".to_string(), Proto::Udp, vec![5246, 5247]),
            ("site:broker".to_string(), Proto::Tcp, vec![8883]),
            ("api.example.com".to_string(), Proto::Tcp, vec![443]),
        ],
        "{toml}"
    );
    assert!(back.requirements.iter().any(|r| matches!(
        r.check,
        Check::Ntp {
            server: NtpSource::Any
        }
    )));
}

#[test]
fn wildcards_live_in_the_extension_only() {
    let set = builtin().unwrap();
    let clock = set.get("clock-iot").unwrap();
    let (v, notes) = export(clock);
    let acls = v["ietf-access-control-list:acls"].to_string();
    assert!(!acls.contains('*'), "{acls}");
    assert!(acls.contains("ruby-gems.clock-software.com"));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("*.clock-software.com is a wildcard")),
        "{notes:#?}"
    );
    let ext = &v["ietf-mud:mud"][EXTENSION_NODE];
    let reqs = ext["requirement"].as_array().unwrap();
    let r = reqs.iter().find(|r| r["id"] == "clock-software").unwrap();
    assert_eq!(r["names"], json!(["*.clock-software.com"]));
    assert!(r.get("aces").is_none());
    let (back, _, _) = imported(&v.to_string());
    assert!(egress(&back).contains(&(
        "*.clock-software.com".to_string(),
        Proto::Tcp,
        vec![22, 80, 443]
    )));
}

#[test]
fn an_undeclared_or_broken_extension_is_ignored_with_a_note() {
    let set = builtin().unwrap();
    let (mut v, _) = export(set.get("cemm").unwrap());
    v["ietf-mud:mud"]["extensions"] = json!([]);
    let (p, notes, _) = imported(&v.to_string());
    assert!(
        notes
            .iter()
            .any(|n| n.contains("does not declare `egresswatch`")),
        "{notes:?}"
    );
    assert_eq!(p.id, "cemm");
    assert!(p.requirements.iter().all(|r| r.check.kind() != "wifi"));

    let (mut v, _) = export(set.get("cemm").unwrap());
    v["ietf-mud:mud"][EXTENSION_NODE]["requirement"][0]["colour"] = json!("red");
    let (p, notes, _) = imported(&v.to_string());
    assert!(
        notes
            .iter()
            .any(|n| n.contains("extension does not make a valid profile") && n.contains("colour")),
        "{notes:?}"
    );
    assert!(p
        .requirements
        .iter()
        .any(|r| r.check.kind() == "local_only"));
}

#[test]
fn slugs_and_url_parts() {
    assert_eq!(
        slug("The BMS Example Light Bulb!", 64),
        "the-bms-example-light-bulb"
    );
    assert_eq!(slug("--Ünïcode--", 64), "n-code");
    assert_eq!(slug("abcdef", 3), "abc");
    assert_eq!(slug("ab-cdef", 3), "ab");
    assert_eq!(
        url_stem("https://lighting.example.com/lightbulb2000"),
        "lightbulb2000"
    );
    assert_eq!(url_stem("https://x.example/a/b.json?v=1#f"), "b");
    assert_eq!(url_stem("https://x.example/"), "x.example");
    assert_eq!(url_host("https://u@x.example:8443/a"), "x.example:8443");
}

proptest::proptest! {
    #[test]
    fn random_text_never_panics(s in "\\PC{0,300}") {
        let _ = import("r.json", &s);
    }

    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = import("r.json", &String::from_utf8_lossy(&b));
    }

    #[test]
    fn mangled_mud_files_never_panic_and_what_loads_parses(
        cut in 0usize..4000,
        junk in "[ -~]{0,12}",
        which in 0usize..3,
    ) {
        let base = [RFC_EXAMPLE, RFC_FULL, DRAFT_FORM][which];
        let mut s = base.to_string();
        let at = cut.min(s.len());
        if s.is_char_boundary(at) {
            s.insert_str(at, &junk);
        }
        if let Ok(got) = import("m.json", &s) {
            proptest::prop_assert!(parse_profile("m.toml", &got.toml).is_ok());
        }
    }

    #[test]
    fn json_values_in_odd_places_never_panic(
        path in 0usize..6,
        value in proptest::prop_oneof![
            proptest::strategy::Just(json!(null)),
            proptest::strategy::Just(json!(-1)),
            proptest::strategy::Just(json!(1.5)),
            proptest::strategy::Just(json!("x")),
            proptest::strategy::Just(json!([])),
            proptest::strategy::Just(json!({})),
            proptest::strategy::Just(json!([{"name": 7}])),
        ],
    ) {
        let mut v: Value = serde_json::from_str(RFC_FULL).unwrap();
        let slot = match path {
            0 => &mut v["ietf-mud:mud"]["from-device-policy"],
            1 => &mut v["ietf-access-control-list:acls"]["acl"][0]["aces"],
            2 => &mut v["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"][2]["matches"]["udp"],
            3 => &mut v["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"][4]["matches"]["ipv4"]["ietf-acldns:dst-dnsname"],
            4 => &mut v["ietf-mud:mud"]["mud-url"],
            _ => &mut v["ietf-access-control-list:acls"]["acl"][1]["aces"]["ace"][0]["matches"],
        };
        *slot = value;
        if let Ok(got) = import("v.json", &v.to_string()) {
            proptest::prop_assert!(parse_profile("v.toml", &got.toml).is_ok());
        }
    }
}
