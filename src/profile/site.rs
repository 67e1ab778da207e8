//! Site settings (`--site FILE`): values a profile leaves to the site.
//!
//! A TOML file with one table per profile id, whose keys are the ones that
//! profile declares in its `[[site]]` tables, each an IP address or a DNS
//! name (or a list of them):
//!
//! ```toml
//! [cassia-x2000]
//! controller = "203.0.113.50"     # or "ac.example.com", or a list
//! ```
//!
//! Unknown profiles, unknown keys and unusable values are errors with their
//! line, like profile errors.

use super::load::{read_text, Lines};
use super::{Pattern, ProfileError, ProfileErrors, ProfileSet};
use std::net::IpAddr;
use std::path::Path;

/// One value: an address, or a name the device resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteValue {
    Ip(IpAddr),
    Name(Pattern),
}

impl std::fmt::Display for SiteValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SiteValue::Ip(ip) => ip.fmt(f),
            SiteValue::Name(n) => n.fmt(f),
        }
    }
}

/// The site's values, by profile id and key.
#[derive(Debug, Clone, Default)]
pub struct Site {
    pub values: Vec<(String, String, Vec<SiteValue>)>,
}

impl Site {
    pub fn get(&self, profile: &str, key: &str) -> Option<&[SiteValue]> {
        self.values
            .iter()
            .find(|(p, k, _)| p == profile && k == key)
            .map(|(_, _, v)| v.as_slice())
    }

    /// Reads and checks a site file against the profiles in use.
    pub fn load(path: &Path, profiles: &ProfileSet) -> Result<Site, ProfileErrors> {
        let file = path.display().to_string();
        let text = read_text(path).map_err(|message| {
            ProfileErrors(vec![ProfileError {
                file: file.clone(),
                line: 0,
                message,
            }])
        })?;
        Site::parse(&file, &text, profiles)
    }

    pub fn parse(file: &str, src: &str, profiles: &ProfileSet) -> Result<Site, ProfileErrors> {
        let mut errors = Vec::new();
        let lines = Lines::new(src);
        let line_of = |span: Option<std::ops::Range<usize>>| lines.of_span(span);
        let mut err = |line: usize, message: String| {
            errors.push(ProfileError {
                file: file.to_string(),
                line,
                message,
            })
        };
        let doc = match toml_edit::Document::parse(src) {
            Ok(d) => d,
            Err(e) => {
                err(
                    line_of(e.span()),
                    format!("not valid TOML: {}", e.message().trim()),
                );
                return Err(ProfileErrors(errors));
            }
        };
        let mut site = Site::default();
        for (pid, item) in doc.as_table().iter() {
            let pline = line_of(doc.as_table().key(pid).and_then(|k| k.span()));
            let Some(profile) = profiles.get(pid) else {
                err(pline, format!("no profile has the id `{pid}`"));
                continue;
            };
            let Some(t) = item.as_table_like() else {
                err(
                    pline,
                    format!("`{pid}` must be a table of that profile's site values"),
                );
                continue;
            };
            for (key, v) in t.iter() {
                let line = line_of(t.key(key).and_then(|k| k.span()));
                if !profile.site.iter().any(|s| s.key == key) {
                    let known: Vec<&str> = profile.site.iter().map(|s| s.key.as_str()).collect();
                    err(
                        line,
                        format!(
                            "profile `{pid}` has no site value `{key}` (it has: {})",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                    continue;
                }
                let texts: Option<Vec<&str>> = match (v.as_str(), v.as_array()) {
                    (Some(s), _) => Some(vec![s]),
                    (_, Some(a)) => a.iter().map(|x| x.as_str()).collect(),
                    _ => None,
                };
                let Some(texts) = texts.filter(|t| !t.is_empty()) else {
                    err(
                        line,
                        format!("`{key}` must be an address or name, or a list of them"),
                    );
                    continue;
                };
                let mut values = Vec::new();
                for t in texts {
                    match parse_value(t) {
                        Some(v) => values.push(v),
                        None => err(
                            line,
                            format!("`{key}`: `{t}` is neither an IP address nor a DNS name"),
                        ),
                    }
                }
                site.values.push((pid.to_string(), key.to_string(), values));
            }
        }
        if errors.is_empty() {
            Ok(site)
        } else {
            Err(ProfileErrors(errors))
        }
    }
}

fn parse_value(t: &str) -> Option<SiteValue> {
    let t = t.trim();
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(SiteValue::Ip(ip));
    }
    let ok = !t.is_empty()
        && t.len() <= 253
        && t.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*')
        });
    if ok {
        Pattern::new(t).map(SiteValue::Name)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_rejects_unknowns() {
        let set = crate::profile::builtin().unwrap();
        let s = Site::parse(
            "site.toml",
            "[cassia-x2000]\ncontroller = [\"203.0.113.50\", \"ac.example.com\"]\n",
            &set,
        )
        .unwrap();
        let v = s.get("cassia-x2000", "controller").unwrap();
        assert_eq!(v[0], SiteValue::Ip("203.0.113.50".parse().unwrap()));
        assert_eq!(v[1].to_string(), "ac.example.com");

        let e = Site::parse(
            "site.toml",
            "[cassia-x2000]\ncontroler = \"1.2.3.4\"\n[nosuch]\nx = 1\n[zaptec-pro]\n",
            &set,
        )
        .unwrap_err();
        let lines: Vec<String> = e.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0]
            .starts_with("site.toml:2: profile `cassia-x2000` has no site value `controler`"));
        assert!(lines[1].starts_with("site.toml:3: no profile has the id `nosuch`"));

        let e = Site::parse(
            "s",
            "[cassia-x2000]\ncontroller = \"not an address!\"\n",
            &set,
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("s:2: `controller`: `not an address!`"));
    }
}
