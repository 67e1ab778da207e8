//! Reading profile files: TOML through `toml_edit` (which keeps the byte
//! span of every key and value, so each error names its line), checked key
//! by key. Every error is collected, not only the first, and unknown keys
//! are errors.

use super::{
    Check, DocumentRef, Identify, MacPrefix, Net, NtpSource, Pattern, PortSpec, Profile,
    ProfileError, ProfileErrors, ProfileSet, Proto, Requirement, Signal, SignalKind, SiteKey,
    Target,
};
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use toml_edit::{Item, TableLike};

/// The built-in profiles, compiled in from `rules/`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "rules/cassia-x2000.toml",
        include_str!("../../rules/cassia-x2000.toml"),
    ),
    ("rules/cemm.toml", include_str!("../../rules/cemm.toml")),
    (
        "rules/clock-iot.toml",
        include_str!("../../rules/clock-iot.toml"),
    ),
    (
        "rules/knx-ets6.toml",
        include_str!("../../rules/knx-ets6.toml"),
    ),
    (
        "rules/zaptec-pro.toml",
        include_str!("../../rules/zaptec-pro.toml"),
    ),
];

/// Largest profile file read.
pub const MAX_FILE: u64 = 1 << 20;
/// Most profile files in one folder.
pub const MAX_FILES: usize = 1024;

/// The built-in profiles. They are tested to load; an error here would be a
/// build defect, reported like any bad profile.
pub fn builtin() -> Result<ProfileSet, ProfileErrors> {
    // Parsed once per process (a fraction of a millisecond), then cloned.
    static PARSED: std::sync::OnceLock<Result<ProfileSet, ProfileErrors>> =
        std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            collect(
                BUILTIN
                    .iter()
                    .map(|(f, s)| (f.to_string(), Ok(s.to_string()))),
            )
        })
        .clone()
}

/// Every `*.toml` file in `dir`, checked; all errors are returned.
pub fn load_dir(dir: &Path) -> Result<ProfileSet, ProfileErrors> {
    let name = dir.display().to_string();
    let one = |message: String| {
        ProfileErrors(vec![ProfileError {
            file: name.clone(),
            line: 0,
            message,
        }])
    };
    let rd = std::fs::read_dir(dir).map_err(|e| one(format!("cannot read the folder: {e}")))?;
    let mut paths: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(one("no profile files (*.toml) in the folder".into()));
    }
    if paths.len() > MAX_FILES {
        return Err(one(format!("more than {MAX_FILES} profile files")));
    }
    collect(paths.into_iter().map(|p| {
        let file = p.display().to_string();
        let text = read_text(&p);
        (file, text)
    }))
}

/// Reads a small UTF-8 text file (at most [`MAX_FILE`] bytes), or says why not.
pub fn read_text(p: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_FILE {
        return Err(format!("larger than {MAX_FILE} bytes"));
    }
    let bytes = std::fs::read(p).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

fn collect(
    files: impl Iterator<Item = (String, Result<String, String>)>,
) -> Result<ProfileSet, ProfileErrors> {
    let mut errors = Vec::new();
    let mut profiles: Vec<Profile> = Vec::new();
    for (file, text) in files {
        let text = match text {
            Ok(t) => t,
            Err(message) => {
                errors.push(ProfileError {
                    file,
                    line: 0,
                    message,
                });
                continue;
            }
        };
        match parse_profile(&file, &text) {
            Ok(p) => {
                if let Some(other) = profiles.iter().find(|o| o.id == p.id) {
                    errors.push(ProfileError {
                        file: file.clone(),
                        line: 1,
                        message: format!("profile id `{}` is also used by {}", p.id, other.source),
                    });
                } else {
                    profiles.push(p);
                }
            }
            Err(e) => errors.extend(e.0),
        }
    }
    if errors.is_empty() {
        profiles.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(ProfileSet { profiles })
    } else {
        Err(ProfileErrors(errors))
    }
}

/// Errors gathered while reading one file.
struct Ctx<'s> {
    file: &'s str,
    lines: Lines,
    errors: Vec<ProfileError>,
}

/// The offsets of a file's newlines, so the line of a byte offset costs a
/// binary search, not a scan from the top (a profile asks for the line of
/// every key it reads).
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub fn new(src: &str) -> Lines {
        Lines(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The 1-based line of byte `at`.
    pub fn of(&self, at: usize) -> usize {
        self.0.partition_point(|nl| *nl < at) + 1
    }

    /// The line a span starts on; 1 without a span.
    pub fn of_span(&self, span: Option<Range<usize>>) -> usize {
        span.map_or(1, |r| self.of(r.start))
    }
}

impl Ctx<'_> {
    fn line(&self, span: Option<Range<usize>>) -> usize {
        self.lines.of_span(span)
    }

    fn err(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(ProfileError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }
}

/// One table being read: which keys were asked for, so the rest are
/// reported as unknown.
struct Tbl<'a> {
    t: &'a dyn TableLike,
    line: usize,
    what: &'static str,
}

impl<'a> Tbl<'a> {
    fn get(&self, key: &str) -> Option<&'a Item> {
        self.t.get(key)
    }

    fn key_line(&self, ctx: &Ctx<'_>, key: &str) -> usize {
        match self.t.get_key_value(key) {
            Some((k, v)) => ctx.line(k.span().or_else(|| v.span())),
            None => self.line,
        }
    }

    /// Reports keys outside `allowed`.
    fn only(&self, ctx: &mut Ctx<'_>, allowed: &[&str]) {
        for (k, _) in self.t.iter() {
            if !allowed.contains(&k) {
                let line = self.key_line(ctx, k);
                ctx.err(
                    line,
                    format!(
                        "unknown key `{k}` in {} (allowed: {})",
                        self.what,
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn str_opt(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<String> {
        let item = self.get(key)?;
        match item.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                let line = self.key_line(ctx, key);
                ctx.err(
                    line,
                    format!("`{key}` must be a string, not {}", item.type_name()),
                );
                None
            }
        }
    }

    fn str_req(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<String> {
        if self.get(key).is_none() {
            ctx.err(self.line, format!("{} lacks `{key}`", self.what));
            return None;
        }
        let s = self.str_opt(ctx, key)?;
        if s.trim().is_empty() {
            let line = self.key_line(ctx, key);
            ctx.err(line, format!("`{key}` is empty"));
            return None;
        }
        Some(s)
    }

    fn bool_or(&self, ctx: &mut Ctx<'_>, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(i) => i.as_bool().unwrap_or_else(|| {
                let line = self.key_line(ctx, key);
                ctx.err(line, format!("`{key}` must be true or false"));
                default
            }),
        }
    }

    fn int_in(&self, ctx: &mut Ctx<'_>, key: &str, range: Range<i64>, default: i64) -> i64 {
        match self.get(key) {
            None => default,
            Some(i) => match i.as_integer() {
                Some(n) if range.contains(&n) => n,
                _ => {
                    let line = self.key_line(ctx, key);
                    ctx.err(
                        line,
                        format!(
                            "`{key}` must be an integer from {} to {}",
                            range.start,
                            range.end - 1
                        ),
                    );
                    default
                }
            },
        }
    }

    /// A string or an array of strings.
    fn strs(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<Vec<String>> {
        let item = self.get(key)?;
        let line = self.key_line(ctx, key);
        if let Some(s) = item.as_str() {
            return Some(vec![s.to_string()]);
        }
        let Some(arr) = item.as_array() else {
            ctx.err(
                line,
                format!("`{key}` must be a string or a list of strings"),
            );
            return None;
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => {
                    ctx.err(
                        ctx.line(v.span()).max(line),
                        format!("`{key}` must list strings, not {}", v.type_name()),
                    );
                    return None;
                }
            }
        }
        if out.is_empty() {
            ctx.err(line, format!("`{key}` is empty"));
            return None;
        }
        Some(out)
    }

    fn ints(&self, ctx: &mut Ctx<'_>, key: &str, range: Range<i64>) -> Option<Vec<i64>> {
        let item = self.get(key)?;
        let line = self.key_line(ctx, key);
        let bad = |ctx: &mut Ctx<'_>| {
            ctx.err(
                line,
                format!(
                    "`{key}` must be an integer or a list of integers from {} to {}",
                    range.start,
                    range.end - 1
                ),
            );
            None
        };
        if let Some(n) = item.as_integer() {
            return if range.contains(&n) {
                Some(vec![n])
            } else {
                bad(ctx)
            };
        }
        let Some(arr) = item.as_array() else {
            return bad(ctx);
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match v.as_integer() {
                Some(n) if range.contains(&n) => out.push(n),
                _ => return bad(ctx),
            }
        }
        if out.is_empty() {
            return bad(ctx);
        }
        Some(out)
    }

    fn patterns(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<Vec<Pattern>> {
        let list = self.strs(ctx, key)?;
        let mut out = Vec::new();
        for s in list {
            match Pattern::new(&s) {
                Some(p) => out.push(p),
                None => {
                    let line = self.key_line(ctx, key);
                    ctx.err(line, format!("`{key}`: `{s}` is not a usable pattern"));
                    return None;
                }
            }
        }
        Some(out)
    }

    fn proto(&self, ctx: &mut Ctx<'_>) -> Proto {
        match self.str_opt(ctx, "proto").as_deref() {
            None | Some("tcp") => Proto::Tcp,
            Some("udp") => Proto::Udp,
            Some(other) => {
                let line = self.key_line(ctx, "proto");
                ctx.err(line, format!("`proto` must be tcp or udp, not `{other}`"));
                Proto::Tcp
            }
        }
    }

    fn ports(&self, ctx: &mut Ctx<'_>) -> Vec<u16> {
        if self.get("ports").is_none() {
            ctx.err(self.line, format!("{} lacks `ports`", self.what));
            return Vec::new();
        }
        self.ints(ctx, "ports", 1..65_536)
            .unwrap_or_default()
            .into_iter()
            .map(|n| n as u16)
            .collect()
    }

    /// An array of tables under `key` (`[[key]]`), each with its line.
    fn tables(&self, ctx: &mut Ctx<'_>, key: &str) -> Vec<(usize, &'a dyn TableLike)> {
        let Some(item) = self.get(key) else {
            return Vec::new();
        };
        if let Some(aot) = item.as_array_of_tables() {
            return aot
                .iter()
                .map(|t| (ctx.line(t.span()), t as &dyn TableLike))
                .collect();
        }
        if let Some(arr) = item.as_array() {
            let mut out = Vec::new();
            for v in arr.iter() {
                match v.as_inline_table() {
                    Some(t) => out.push((ctx.line(v.span()), t as &dyn TableLike)),
                    None => {
                        let line = self.key_line(ctx, key);
                        ctx.err(line, format!("`{key}` must be a list of tables"));
                    }
                }
            }
            return out;
        }
        let line = self.key_line(ctx, key);
        ctx.err(
            line,
            format!("`{key}` must be written [[{key}]], a list of tables"),
        );
        Vec::new()
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

const PROFILE_KEYS: &[&str] = &[
    "id",
    "name",
    "vendor",
    "device",
    "document",
    "identify",
    "site",
    "requirement",
];
const DOCUMENT_KEYS: &[&str] = &["id", "title", "source", "language"];
const IDENTIFY_KEYS: &[&str] = &["min_score", "general_purpose", "signal"];
const SIGNAL_KINDS: &[&str] = &[
    "oui",
    "vendor",
    "dhcp_hostname",
    "dhcp_vendor_class",
    "name",
    "dns",
    "sni",
    "mqtt_client_id",
    "mud_url",
    "port",
    "speaks",
];
const SPEAKS: &[&str] = &["capwap", "mqtt", "ssh", "tls", "http", "quic"];
const SITE_KEYS: &[&str] = &["key", "description", "learn"];
const LEARN: &[&str] = &["capwap", "mqtt"];
const COMMON_REQ_KEYS: &[&str] = &[
    "id",
    "kind",
    "description",
    "cite",
    "quote",
    "required",
    "group",
    "impact",
];
const KINDS: &[&str] = &[
    "egress",
    "dns",
    "ntp",
    "dhcp",
    "wifi",
    "subnet",
    "local_only",
    "no_inbound",
    "no_interception",
];

/// Parses and checks one profile file; `file` names it in errors.
pub fn parse_profile(file: &str, src: &str) -> Result<Profile, ProfileErrors> {
    let mut ctx = Ctx {
        file,
        lines: Lines::new(src),
        errors: Vec::new(),
    };
    let doc = match toml_edit::Document::parse(src) {
        Ok(d) => d,
        Err(e) => {
            let line = ctx.line(e.span());
            let msg = e.message().trim().to_string();
            ctx.err(line, format!("not valid TOML: {msg}"));
            return Err(ProfileErrors(ctx.errors));
        }
    };
    let root = Tbl {
        t: doc.as_table(),
        line: 1,
        what: "the profile",
    };
    root.only(&mut ctx, PROFILE_KEYS);
    let id = root.str_req(&mut ctx, "id").unwrap_or_default();
    if !id.is_empty() && !valid_id(&id) {
        let line = root.key_line(&ctx, "id");
        ctx.err(
            line,
            format!("`id` `{id}` must be lowercase letters, digits, `-` or `_`"),
        );
    }
    let name = root.str_req(&mut ctx, "name").unwrap_or_default();
    let vendor = root.str_req(&mut ctx, "vendor").unwrap_or_default();
    let device = root.str_opt(&mut ctx, "device").unwrap_or_default();

    let mut documents = Vec::new();
    for (line, t) in root.tables(&mut ctx, "document") {
        let d = Tbl {
            t,
            line,
            what: "[[document]]",
        };
        d.only(&mut ctx, DOCUMENT_KEYS);
        let (Some(id), Some(title), Some(source)) = (
            d.str_req(&mut ctx, "id"),
            d.str_req(&mut ctx, "title"),
            d.str_req(&mut ctx, "source"),
        ) else {
            continue;
        };
        if documents.iter().any(|x: &DocumentRef| x.id == id) {
            ctx.err(line, format!("document id `{id}` is used twice"));
        }
        documents.push(DocumentRef {
            id,
            title,
            source,
            language: d.str_opt(&mut ctx, "language"),
        });
    }
    if documents.is_empty() {
        ctx.err(
            1,
            "a profile cites at least one [[document]] its requirements come from",
        );
    }

    let identify = read_identify(&mut ctx, &root);
    let site = read_site_keys(&mut ctx, &root);
    let mut requirements: Vec<Requirement> = Vec::new();
    for (line, t) in root.tables(&mut ctx, "requirement") {
        if let Some(r) = read_requirement(&mut ctx, line, t, &documents, &site) {
            if requirements.iter().any(|x| x.id == r.id) {
                ctx.err(line, format!("requirement id `{}` is used twice", r.id));
            }
            requirements.push(r);
        }
    }
    if requirements.is_empty() && ctx.errors.is_empty() {
        ctx.err(1, "a profile lists at least one [[requirement]]");
    }
    check_groups(&mut ctx, &root, &requirements);
    if !ctx.errors.is_empty() {
        return Err(ProfileErrors(ctx.errors));
    }
    Ok(Profile {
        id,
        name,
        vendor,
        device,
        documents,
        identify,
        site,
        requirements,
        source: file.to_string(),
    })
}

fn read_identify(ctx: &mut Ctx<'_>, root: &Tbl<'_>) -> Identify {
    let mut out = Identify {
        min_score: 1,
        general_purpose: false,
        signals: Vec::new(),
    };
    let Some(item) = root.get("identify") else {
        ctx.err(1, "a profile needs an [identify] table with signals");
        return out;
    };
    let Some(t) = item.as_table_like() else {
        let line = root.key_line(ctx, "identify");
        ctx.err(line, "`identify` must be a table");
        return out;
    };
    let line = root.key_line(ctx, "identify");
    let idt = Tbl {
        t,
        line,
        what: "[identify]",
    };
    idt.only(ctx, IDENTIFY_KEYS);
    out.min_score = idt.int_in(ctx, "min_score", 1..1001, 1) as i32;
    out.general_purpose = idt.bool_or(ctx, "general_purpose", false);
    for (line, t) in idt.tables(ctx, "signal") {
        let s = Tbl {
            t,
            line,
            what: "[[identify.signal]]",
        };
        let mut allowed = SIGNAL_KINDS.to_vec();
        allowed.push("weight");
        s.only(ctx, &allowed);
        let weight = s.int_in(ctx, "weight", -1000..1001, 1) as i32;
        let present: Vec<&str> = SIGNAL_KINDS
            .iter()
            .copied()
            .filter(|k| s.get(k).is_some())
            .collect();
        if present.len() != 1 {
            ctx.err(
                line,
                format!(
                    "a signal names exactly one of: {} (this one has {})",
                    SIGNAL_KINDS.join(", "),
                    if present.is_empty() {
                        "none".to_string()
                    } else {
                        present.join(", ")
                    }
                ),
            );
            continue;
        }
        let key = present[0];
        let what = match key {
            "oui" => {
                let Some(list) = s.strs(ctx, key) else {
                    continue;
                };
                let mut prefixes = Vec::new();
                for p in list {
                    match MacPrefix::parse(&p) {
                        Some(m) => prefixes.push(m),
                        None => {
                            let l = s.key_line(ctx, key);
                            ctx.err(
                                l,
                                format!("`oui`: `{p}` is not a 24, 28 or 36-bit MAC prefix such as 3c:dc:03:1"),
                            );
                        }
                    }
                }
                SignalKind::Oui(prefixes)
            }
            "port" => {
                let Some(list) = s.strs(ctx, key) else {
                    continue;
                };
                let mut ports = Vec::new();
                for p in list {
                    match parse_port_spec(&p) {
                        Some(ps) => ports.push(ps),
                        None => {
                            let l = s.key_line(ctx, key);
                            ctx.err(l, format!("`port`: `{p}` is not written like tcp/8883"));
                        }
                    }
                }
                SignalKind::Port(ports)
            }
            "speaks" => {
                let Some(v) = s.str_opt(ctx, key) else {
                    continue;
                };
                if !SPEAKS.contains(&v.as_str()) {
                    let l = s.key_line(ctx, key);
                    ctx.err(
                        l,
                        format!("`speaks` is one of {}, not `{v}`", SPEAKS.join(", ")),
                    );
                }
                SignalKind::Speaks(v)
            }
            _ => {
                let Some(p) = s.patterns(ctx, key) else {
                    continue;
                };
                match key {
                    "vendor" => SignalKind::Vendor(p),
                    "dhcp_hostname" => SignalKind::DhcpHostname(p),
                    "dhcp_vendor_class" => SignalKind::DhcpVendorClass(p),
                    "name" => SignalKind::Name(p),
                    "dns" => SignalKind::Dns(p),
                    "sni" => SignalKind::Sni(p),
                    "mud_url" => SignalKind::MudUrl(p),
                    _ => SignalKind::MqttClientId(p),
                }
            }
        };
        out.signals.push(Signal { what, weight });
    }
    if out.signals.is_empty() {
        ctx.err(line, "[identify] lists no [[identify.signal]]");
    } else if out.signals.iter().map(|s| s.weight.max(0)).sum::<i32>() < out.min_score {
        ctx.err(
            line,
            format!(
                "`min_score` {} can never be reached: the positive weights add up to less",
                out.min_score
            ),
        );
    }
    out
}

fn parse_port_spec(s: &str) -> Option<PortSpec> {
    let (p, n) = s.trim().split_once('/')?;
    let proto = match p {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let port: u16 = n.parse().ok().filter(|n| *n > 0)?;
    Some(PortSpec { proto, port })
}

fn read_site_keys(ctx: &mut Ctx<'_>, root: &Tbl<'_>) -> Vec<SiteKey> {
    let mut out: Vec<SiteKey> = Vec::new();
    for (line, t) in root.tables(ctx, "site") {
        let s = Tbl {
            t,
            line,
            what: "[[site]]",
        };
        s.only(ctx, SITE_KEYS);
        let Some(key) = s.str_req(ctx, "key") else {
            continue;
        };
        if !valid_id(&key) {
            ctx.err(
                line,
                format!("site key `{key}` must be lowercase letters, digits, `-` or `_`"),
            );
        }
        if out.iter().any(|k| k.key == key) {
            ctx.err(line, format!("site key `{key}` is declared twice"));
        }
        let description = s.str_req(ctx, "description").unwrap_or_default();
        let learn = s.strs(ctx, "learn").unwrap_or_default();
        for l in &learn {
            if !LEARN.contains(&l.as_str()) {
                let line = s.key_line(ctx, "learn");
                ctx.err(
                    line,
                    format!("`learn` values are {}, not `{l}`", LEARN.join(", ")),
                );
            }
        }
        out.push(SiteKey {
            key,
            description,
            learn,
        });
    }
    out
}

fn read_requirement(
    ctx: &mut Ctx<'_>,
    line: usize,
    t: &dyn TableLike,
    documents: &[DocumentRef],
    site: &[SiteKey],
) -> Option<Requirement> {
    let r = Tbl {
        t,
        line,
        what: "[[requirement]]",
    };
    let kind = r.str_req(ctx, "kind");
    let extra: &[&str] = match kind.as_deref() {
        Some("egress") => &["proto", "ports", "names", "site"],
        Some("ntp") => &["server"],
        Some("wifi") => &["channels", "bands"],
        Some("subnet") => &["forbidden"],
        Some("local_only") => &["proto", "ports"],
        Some("no_interception") => &["names"],
        Some("dns" | "dhcp" | "no_inbound") => &[],
        Some(other) => {
            let l = r.key_line(ctx, "kind");
            ctx.err(
                l,
                format!(
                    "unknown requirement kind `{other}` (kinds: {})",
                    KINDS.join(", ")
                ),
            );
            return None;
        }
        None => return None,
    };
    let mut allowed = COMMON_REQ_KEYS.to_vec();
    allowed.extend_from_slice(extra);
    r.only(ctx, &allowed);
    let id = r.str_req(ctx, "id");
    if let Some(id) = id.as_deref().filter(|i| !valid_id(i)) {
        let l = r.key_line(ctx, "id");
        ctx.err(
            l,
            format!("requirement id `{id}` must be lowercase letters, digits, `-` or `_`"),
        );
    }
    let description = r.str_req(ctx, "description");
    let cite = r.str_req(ctx, "cite");
    if let Some(c) = &cite {
        if !documents.iter().any(|d| &d.id == c) {
            let l = r.key_line(ctx, "cite");
            ctx.err(
                l,
                format!("`cite` names `{c}`, which is not a [[document]] id of this profile"),
            );
        }
    }
    let quote = r.str_opt(ctx, "quote");
    let required = r.bool_or(ctx, "required", true);
    let group = r.str_opt(ctx, "group");
    let impact = r.str_opt(ctx, "impact");
    let check = match kind.as_deref()? {
        "egress" => {
            let proto = r.proto(ctx);
            let ports = r.ports(ctx);
            let target = match (r.get("names").is_some(), r.get("site").is_some()) {
                (true, false) => Target::Names(r.patterns(ctx, "names")?),
                (false, true) => {
                    let key = r.str_opt(ctx, "site")?;
                    if !site.iter().any(|s| s.key == key) {
                        let l = r.key_line(ctx, "site");
                        ctx.err(
                            l,
                            format!("`site` names `{key}`, which no [[site]] table declares"),
                        );
                    }
                    Target::Site(key)
                }
                _ => {
                    ctx.err(
                        line,
                        "an egress requirement has `names` or `site` (one of them)",
                    );
                    return None;
                }
            };
            Check::Egress {
                proto,
                ports,
                target,
            }
        }
        "dns" => Check::Dns,
        "dhcp" => Check::Dhcp,
        "no_inbound" => Check::NoInbound,
        "ntp" => {
            let server = match r.str_opt(ctx, "server").as_deref() {
                None | Some("any") => NtpSource::Any,
                Some("dhcp") => NtpSource::Dhcp,
                Some(name) => match Pattern::new(name) {
                    Some(p) => NtpSource::Name(p),
                    None => {
                        let l = r.key_line(ctx, "server");
                        ctx.err(l, "`server` is any, dhcp, or a name");
                        return None;
                    }
                },
            };
            Check::Ntp { server }
        }
        "wifi" => {
            if r.get("channels").is_none() {
                ctx.err(line, "a wifi requirement lists `channels`");
            }
            let none = r
                .get("channels")
                .and_then(|i| i.as_array())
                .is_some_and(|a| a.is_empty());
            let channels = if none {
                None
            } else {
                r.ints(ctx, "channels", 1..234)
            };
            let channels = channels
                .unwrap_or_default()
                .into_iter()
                .map(|c| c as u16)
                .collect();
            let bands = r.strs(ctx, "bands").unwrap_or_default();
            for b in &bands {
                if !matches!(b.as_str(), "2.4" | "5" | "6") {
                    let l = r.key_line(ctx, "bands");
                    ctx.err(l, format!("`bands` values are 2.4, 5 and 6, not `{b}`"));
                }
            }
            Check::Wifi { channels, bands }
        }
        "subnet" => {
            if r.get("forbidden").is_none() {
                ctx.err(line, "a subnet requirement lists `forbidden` ranges");
            }
            let mut forbidden = Vec::new();
            for s in r.strs(ctx, "forbidden").unwrap_or_default() {
                match Net::parse(&s) {
                    Some(n) => forbidden.push(n),
                    None => {
                        let l = r.key_line(ctx, "forbidden");
                        ctx.err(
                            l,
                            format!("`forbidden`: `{s}` is not a prefix such as 172.17.0.0/16"),
                        );
                    }
                }
            }
            Check::Subnet { forbidden }
        }
        "local_only" => Check::LocalOnly {
            proto: r.proto(ctx),
            ports: r.ports(ctx),
        },
        _ => Check::NoInterception {
            names: match r.get("names") {
                Some(_) => r.patterns(ctx, "names")?,
                None => Vec::new(),
            },
        },
    };
    if group.is_some() && !matches!(check, Check::Egress { .. }) {
        ctx.err(
            line,
            "only egress requirements can be alternatives (`group`)",
        );
    }
    Some(Requirement {
        id: id?,
        description: description?,
        cite: cite?,
        quote,
        required,
        group,
        impact,
        check,
    })
}

fn check_groups(ctx: &mut Ctx<'_>, root: &Tbl<'_>, reqs: &[Requirement]) {
    let mut seen = HashSet::new();
    for r in reqs {
        let Some(g) = &r.group else { continue };
        if !seen.insert(g.clone()) {
            continue;
        }
        if reqs.iter().filter(|x| x.group.as_ref() == Some(g)).count() < 2 {
            let line = root.key_line(ctx, "requirement");
            ctx.err(
                line,
                format!(
                    "group `{g}` has only requirement `{}`: alternatives need two or more",
                    r.id
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "demo"
name = "Demo device"
vendor = "Example"

[[document]]
id = "doc"
title = "Network requirements"
source = "https://example.com/net"

[identify]
min_score = 2

[[identify.signal]]
oui = ["3c:dc:03:1"]
weight = 2

[[identify.signal]]
name = ["*.example.com", "example.org"]

[[site]]
key = "controller"
description = "the controller"
learn = ["capwap"]

[[requirement]]
id = "cloud"
kind = "egress"
description = "MQTT to the cloud"
cite = "doc"
proto = "tcp"
ports = [8883]
names = ["hub.example.com"]
group = "link"

[[requirement]]
id = "capwap"
kind = "egress"
description = "CAPWAP to the controller"
cite = "doc"
proto = "udp"
ports = [5246, 5247]
site = "controller"
group = "link"
required = false

[[requirement]]
id = "lan"
kind = "subnet"
description = "not Docker's range"
cite = "doc"
forbidden = ["172.17.0.0/16"]
"#;

    #[test]
    fn reads_a_good_profile() {
        let p = parse_profile("demo.toml", GOOD).unwrap();
        assert_eq!(p.id, "demo");
        assert_eq!(p.identify.min_score, 2);
        assert_eq!(p.identify.signals.len(), 2);
        assert_eq!(p.requirements.len(), 3);
        match &p.requirements[1].check {
            Check::Egress {
                proto,
                ports,
                target: Target::Site(k),
            } => {
                assert_eq!(
                    (*proto, ports.as_slice(), k.as_str()),
                    (Proto::Udp, &[5246, 5247][..], "controller")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(!p.requirements[1].required);
        assert_eq!(p.egress_names().count(), 1);
    }

    fn errors(src: &str) -> Vec<String> {
        parse_profile("x.toml", src)
            .unwrap_err()
            .0
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn every_error_with_its_line() {
        let bad = GOOD
            .replace("ports = [8883]", "ports = [8883]\ncolour = \"red\"")
            .replace(
                "forbidden = [\"172.17.0.0/16\"]",
                "forbidden = [\"172.17.0.0/33\"]",
            )
            .replace(
                "cite = \"doc\"\nproto = \"udp\"",
                "cite = \"nodoc\"\nproto = \"udp\"",
            );
        let e = errors(&bad);
        assert_eq!(e.len(), 3, "{e:?}");
        let colour_line = bad.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
        assert!(e.iter().any(|m| m == &format!("x.toml:{colour_line}: unknown key `colour` in [[requirement]] (allowed: id, kind, description, cite, quote, required, group, impact, proto, ports, names, site)")), "{e:?}");
        assert!(
            e.iter().any(|m| m.contains("`forbidden`: `172.17.0.0/33`")),
            "{e:?}"
        );
        let cite_line = bad.lines().position(|l| l == "cite = \"nodoc\"").unwrap() + 1;
        assert!(
            e.iter()
                .any(|m| m.starts_with(&format!("x.toml:{cite_line}: `cite` names `nodoc`"))),
            "{e:?}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = errors("id = \"a\"\nname = \n");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("x.toml:2: not valid TOML"), "{e:?}");
    }

    #[test]
    fn structural_errors() {
        let e = errors(&GOOD.replace("kind = \"subnet\"", "kind = \"firewall\""));
        assert!(
            e.iter()
                .any(|m| m.contains("unknown requirement kind `firewall`")),
            "{e:?}"
        );
        let e = errors(&GOOD.replace("site = \"controller\"", "site = \"nowhere\""));
        assert!(
            e.iter().any(|m| m.contains("no [[site]] table declares")),
            "{e:?}"
        );
        let e = errors(&GOOD.replace("group = \"link\"\nrequired", "required"));
        assert!(
            e.iter().any(|m| m.contains("group `link` has only")),
            "{e:?}"
        );
        let e = errors(&GOOD.replace("min_score = 2", "min_score = 50"));
        assert!(
            e.iter().any(|m| m.contains("can never be reached")),
            "{e:?}"
        );
        let e = errors(&GOOD.replace("weight = 2", "weight = 2\nsni = \"x\""));
        assert!(e.iter().any(|m| m.contains("exactly one of")), "{e:?}");
        let e = errors(&GOOD.replace("ports = [8883]", "ports = [0]"));
        assert!(e.iter().any(|m| m.contains("from 1 to 65535")), "{e:?}");
        let e = errors(&GOOD.replace("ports = [8883]", "ports = \"8883\""));
        assert!(e.iter().any(|m| m.contains("`ports` must be")), "{e:?}");
    }

    #[test]
    fn lines_of_offsets() {
        let l = Lines::new("a\nbc\n\nd");
        let got: Vec<usize> = (0..9).map(|at| l.of(at)).collect();
        // a \n b c \n \n d, then past the end.
        assert_eq!(got, [1, 1, 2, 2, 2, 3, 4, 4, 4]);
        assert_eq!(l.of_span(None), 1);
    }

    #[test]
    fn builtins_load() {
        let set = builtin().unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<&str> = set.profiles.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "cassia-x2000",
                "cemm",
                "clock-iot",
                "knx-ets6",
                "zaptec-pro"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[ -~\n]{0,400}") {
            let _ = parse_profile("p.toml", &s);
        }

        #[test]
        fn mutated_good_never_panics(cut in 0usize..1200, junk in "[ -~\n]{0,8}") {
            let mut s = GOOD.to_string();
            let at = cut.min(s.len());
            if s.is_char_boundary(at) {
                s.insert_str(at, &junk);
            }
            let _ = parse_profile("p.toml", &s);
        }
    }
}
