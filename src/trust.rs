//! Whether a TLS server's certificate chain is the real site's, judged at
//! the time it was captured.
//!
//! [`judge`] is pure: chain bytes, the name the client asked for (its SNI)
//! and the capture time in; a [`Verdict`] out. It reads no clock, no file
//! and no network, and never panics, whatever the bytes. It runs once per
//! TLS session at report time, never on the per-packet path.
//!
//! The order of the questions, and why:
//!
//! 1. **Inspection product**: does an issuer name in the chain (the leaf's
//!    issuer, or a CA certificate's subject or issuer) name a TLS-inspection
//!    product? Asked first because an inspection CA is in no public store:
//!    the chain would otherwise be merely `Untrusted`, and the product's name
//!    is what tells a site what to fix. The leaf's own subject is not read
//!    (a vendor's real site, e.g. Fortinet's, has its name there).
//! 2. **Public root**: does the chain lead to an anchor of `webpki-roots`
//!    (Mozilla's root program, as shipped by the maintained crate) at the
//!    capture time, through signatures `rustls-webpki` accepts, for server
//!    authentication? If not, the verdict is [`Verdict::Untrusted`] with a
//!    [`Why`] that tells a private CA from a chain the server sent
//!    incomplete.
//! 3. **Name**: is the leaf valid for the name? (subjectAltName only, as
//!    the CA/Browser Forum requires; an IP address literal is matched against
//!    iPAddress entries.)
//! 4. **Time**: a chain that leads to a public root when checked inside its
//!    validity, but not at the capture time, is [`Verdict::Expired`] or
//!    [`Verdict::NotYetValid`]. That is the real site's certificate, left to
//!    expire (or a device whose clock is wrong): a fault, but **not
//!    interception**. A chain that leads to no public root at any time stays
//!    `Untrusted`, expired or not.
//!
//! Limits of the method, for the reader of a verdict:
//!
//! - The store is today's. A root removed from Mozilla's program since the
//!   capture makes a then-valid chain fail. When the chain stops at a root
//!   named in [`REMOVED_ROOTS`], `why` is `Why::RemovedRoot` (by name only:
//!   the store no longer holds that root's key), not `UnknownRoot` or
//!   `IncompleteChain`; `stops_at` names the root. On the shared real
//!   captures (2015-2020) this is the case of every real chain but two
//!   sites' (Go Daddy G2 and COMODO RSA, still in the store): DigiCert High
//!   Assurance EV, GlobalSign R1 and R2, VeriSign G5, StartCom, Thawte
//!   Premium Server. Signatures `rustls-webpki` no longer accepts (SHA-1,
//!   RSA under 2048 bits) give `Why::UnsupportedAlgorithm`.
//! - A server that leaves out an intermediate is `Why::IncompleteChain`:
//!   browsers often fetch the missing certificate, an IoT client does not.
//! - Revocation is not checked (no network).
//!
//! Bounds: at most [`MAX_CHAIN_CERTS`] certificates of at most
//! [`MAX_CERT_DER`] bytes each are kept and judged ([`bounded_chain`]);
//! path building is bounded by `rustls-webpki`'s own budget.
//!
//! The product list ([`PRODUCTS`]) is matched case-insensitively on the
//! organizationName, organizationalUnitName and commonName of issuer names.
//! Its sources are the vendors' own documentation of the CA names their
//! products generate or ship: Fortinet (FortiGate), Palo Alto Networks,
//! Zscaler, Sophos, Check Point, Cisco (Umbrella, Firepower), Blue Coat /
//! Symantec (ProxySG), Netskope, Barracuda, WatchGuard, SonicWall,
//! Forcepoint (Websense), McAfee / Skyhigh (Web Gateway), Untangle, Netgate
//! (pfSense), Deciso (OPNsense), Smoothwall, iboss, Lightspeed Systems,
//! Securly, Cato Networks, Menlo Security, Cloudflare (Zero Trust Gateway),
//! Kaspersky, Avast, AVG, ESET, Bitdefender, mitmproxy, PortSwigger (Burp
//! Suite), XK72 (Charles Proxy) and Telerik (Fiddler). Names that a public CA
//! also uses (Symantec, Cisco, Cloudflare alone, Trustwave) are not
//! patterns; a test checks that no anchor of the store matches any pattern.
//!
//! ```
//! use egresswatch::trust::{judge, Verdict};
//! // Bytes that are no certificate: nothing to judge, and no panic.
//! let chain: Vec<Box<[u8]>> = vec![Box::from(&b"not DER"[..])];
//! assert_eq!(judge(&chain, Some("update.knx.org"), 1_700_000_000), Verdict::Unparsable);
//! ```

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use std::time::Duration;
use webpki::{EndEntityCert, Error as PkiError, KeyUsage, ALL_VERIFICATION_ALGS};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

/// At most this many certificates of a chain are kept and judged (a leaf
/// and three CA certificates: more than any public chain needs).
pub const MAX_CHAIN_CERTS: usize = 4;
/// A certificate larger than this is not kept (public leaves are 1-8 KiB).
pub const MAX_CERT_DER: usize = 16 * 1024;

/// A TLS-inspection product, and the lowercase fragments of an issuer's
/// O, OU or CN that name it.
pub struct Product {
    pub name: &'static str,
    pub patterns: &'static [&'static str],
}

/// Known TLS-inspection products (firewalls, secure web gateways, antivirus
/// HTTPS scanning, debugging proxies). See the module docs for the sources.
pub const PRODUCTS: &[Product] = &[
    Product {
        name: "Fortinet FortiGate",
        patterns: &["fortinet", "fortigate"],
    },
    Product {
        name: "Palo Alto Networks",
        patterns: &["palo alto networks"],
    },
    Product {
        name: "Zscaler",
        patterns: &["zscaler"],
    },
    Product {
        name: "Sophos",
        patterns: &["sophos"],
    },
    Product {
        name: "Check Point",
        patterns: &["check point"],
    },
    Product {
        name: "Cisco Umbrella",
        patterns: &["cisco umbrella", "opendns"],
    },
    Product {
        name: "Cisco Firepower",
        patterns: &["firepower"],
    },
    Product {
        name: "Blue Coat / Symantec ProxySG",
        patterns: &["blue coat", "bluecoat", "proxysg"],
    },
    Product {
        name: "Netskope",
        patterns: &["netskope", "goskope"],
    },
    Product {
        name: "Barracuda",
        patterns: &["barracuda"],
    },
    Product {
        name: "WatchGuard",
        patterns: &["watchguard"],
    },
    Product {
        name: "SonicWall",
        patterns: &["sonicwall"],
    },
    Product {
        name: "Forcepoint / Websense",
        patterns: &["forcepoint", "websense"],
    },
    Product {
        name: "McAfee / Skyhigh Web Gateway",
        patterns: &["mcafee", "skyhigh"],
    },
    Product {
        name: "Untangle",
        patterns: &["untangle"],
    },
    Product {
        name: "pfSense (Squid)",
        patterns: &["pfsense"],
    },
    Product {
        name: "OPNsense (Squid)",
        patterns: &["opnsense"],
    },
    Product {
        name: "Smoothwall",
        patterns: &["smoothwall"],
    },
    Product {
        name: "iboss",
        patterns: &["iboss"],
    },
    Product {
        name: "Lightspeed Systems",
        patterns: &["lightspeed systems"],
    },
    Product {
        name: "Securly",
        patterns: &["securly"],
    },
    Product {
        name: "Cato Networks",
        patterns: &["cato networks"],
    },
    Product {
        name: "Menlo Security",
        patterns: &["menlo security"],
    },
    Product {
        name: "Cloudflare Gateway",
        patterns: &["cloudflare for teams", "cloudflare managed"],
    },
    Product {
        name: "Kaspersky",
        patterns: &["kaspersky"],
    },
    Product {
        name: "Avast",
        patterns: &["avast"],
    },
    Product {
        name: "AVG",
        patterns: &["avg web", "avg technologies"],
    },
    Product {
        name: "ESET",
        patterns: &["eset ssl filter", "eset, spol", "eset spol"],
    },
    Product {
        name: "Bitdefender",
        patterns: &["bitdefender"],
    },
    Product {
        name: "mitmproxy",
        patterns: &["mitmproxy"],
    },
    Product {
        name: "Burp Suite (PortSwigger)",
        patterns: &["portswigger"],
    },
    Product {
        name: "Charles Proxy",
        patterns: &["charles proxy", "xk72"],
    },
    Product {
        name: "Fiddler",
        patterns: &["do_not_trust", "fiddler"],
    },
    Product {
        name: "an SSL/TLS inspection CA (generic name)",
        patterns: &[
            "ssl inspection",
            "tls inspection",
            "ssl-inspection",
            "tls-inspection",
        ],
    },
];

/// Why a chain does not lead to a public root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// One certificate, its own issuer: made on the device or appliance.
    SelfSigned,
    /// The chain ends in a self-issued CA certificate that is not in the
    /// store: a private CA, or a root since removed from the store.
    UnknownRoot,
    /// The last certificate's issuer is neither in the chain nor in the
    /// store: an intermediate the server did not send, or a private CA whose
    /// root it did not send.
    IncompleteChain,
    /// The chain stops (as for `UnknownRoot` or `IncompleteChain`) at a
    /// root Mozilla's program once included and has since removed (see
    /// [`REMOVED_ROOTS`]): most likely the real site's chain, on an old
    /// capture or an unmaintained server. Matched by name only: the store
    /// no longer holds the root's key, so the last signature is unchecked.
    RemovedRoot,
    /// A signature in the chain does not verify.
    BadSignature,
    /// A certificate or root the store explicitly distrusts.
    Distrusted,
    /// A signature algorithm or key no longer accepted (e.g. SHA-1).
    UnsupportedAlgorithm,
    /// The leaf's extended key usage excludes server authentication.
    NotForServerAuth,
    /// The leaf or the path breaks another rule (constraints, a CA
    /// certificate as leaf, a malformed certificate, too long a path).
    InvalidChain,
}

impl Why {
    /// A stable snake_case name, as serialized.
    pub fn name(self) -> &'static str {
        match self {
            Why::SelfSigned => "self_signed",
            Why::UnknownRoot => "unknown_root",
            Why::IncompleteChain => "incomplete_chain",
            Why::RemovedRoot => "removed_root",
            Why::BadSignature => "bad_signature",
            Why::Distrusted => "distrusted",
            Why::UnsupportedAlgorithm => "unsupported_algorithm",
            Why::NotForServerAuth => "not_for_server_auth",
            Why::InvalidChain => "invalid_chain",
        }
    }
}

/// What a chain is, for one name at one time. Names (`issuer`, `root`,
/// `stops_at`) are written as x509-parser writes them, e.g.
/// `C=US, O=Let's Encrypt, CN=R3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Leads to a public root at that time and is valid for the name: the
    /// real site's certificate.
    Public { issuer: String, root: String },
    /// An issuer name in the chain names a known TLS-inspection product.
    Inspection {
        product: &'static str,
        issuer: String,
    },
    /// Leads to no public root (at any time); `stops_at` is the last issuer
    /// the chain reaches (the unknown root, or the missing certificate).
    Untrusted {
        issuer: String,
        why: Why,
        stops_at: String,
    },
    /// Leads to a public root, but the leaf is not valid for the name.
    WrongName { issuer: String },
    /// Leads to a public root, but a certificate of the path had expired at
    /// that time (`not_after`, Unix seconds). Not interception.
    Expired { issuer: String, not_after: i64 },
    /// Leads to a public root, but a certificate of the path was not valid
    /// yet (`not_before`, Unix seconds): usually a device's clock. Not
    /// interception.
    NotYetValid { issuer: String, not_before: i64 },
    /// No chain, or a leaf that is no X.509 certificate.
    Unparsable,
}

impl Verdict {
    /// A stable snake_case name, as serialized in `verdict`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Public { .. } => "public",
            Verdict::Inspection { .. } => "inspection",
            Verdict::Untrusted { .. } => "untrusted",
            Verdict::WrongName { .. } => "wrong_name",
            Verdict::Expired { .. } => "expired",
            Verdict::NotYetValid { .. } => "not_yet_valid",
            Verdict::Unparsable => "unparsable",
        }
    }
}

/// Copies a chain (leaf first) within the bounds: at most
/// [`MAX_CHAIN_CERTS`] certificates, stopping before the first one larger
/// than [`MAX_CERT_DER`], so what is kept is always a prefix of what was
/// sent (an oversized leaf keeps nothing).
pub fn bounded_chain<'a>(certs: impl IntoIterator<Item = &'a [u8]>) -> Vec<Box<[u8]>> {
    certs
        .into_iter()
        .take(MAX_CHAIN_CERTS)
        .take_while(|der| der.len() <= MAX_CERT_DER)
        .map(Box::from)
        .collect()
}

/// Judges a chain (leaf first, as sent) for `name` (the SNI; `None` skips
/// the name check) at `at_unix_secs`, the capture time of the handshake.
/// Only the first [`MAX_CHAIN_CERTS`] certificates are read, up to the
/// first larger than [`MAX_CERT_DER`].
pub fn judge(chain_der: &[Box<[u8]>], name: Option<&str>, at_unix_secs: i64) -> Verdict {
    let certs: Vec<CertificateDer<'_>> = chain_der
        .iter()
        .take(MAX_CHAIN_CERTS)
        .take_while(|d| d.len() <= MAX_CERT_DER)
        .map(|d| CertificateDer::from(d.as_ref()))
        .collect();
    let Some((leaf_der, intermediates)) = certs.split_first() else {
        return Verdict::Unparsable;
    };
    let parsed: Vec<Option<X509Certificate<'_>>> = certs
        .iter()
        .map(|c| X509Certificate::from_der(c.as_ref()).ok().map(|(_, x)| x))
        .collect();
    if let Some(v) = inspection(&parsed) {
        return v;
    }
    let Some(Some(leaf_x509)) = parsed.first() else {
        return Verdict::Unparsable;
    };
    let issuer = leaf_x509.issuer().to_string();
    let leaf = match EndEntityCert::try_from(leaf_der) {
        Ok(l) => l,
        Err(e) => {
            return Verdict::Untrusted {
                issuer: issuer.clone(),
                why: classify(&e),
                stops_at: issuer,
            }
        }
    };
    let at = unix_time(at_unix_secs);
    let path_ok = |t: UnixTime| -> Result<String, PkiError> {
        leaf.verify_for_usage(
            ALL_VERIFICATION_ALGS,
            webpki_roots::TLS_SERVER_ROOTS,
            intermediates,
            t,
            KeyUsage::server_auth(),
            None,
            None,
        )
        .map(|p| {
            let top = p
                .intermediate_certificates()
                .next_back()
                .map(|c| c.issuer())
                .unwrap_or_else(|| leaf.issuer());
            name_string(top)
        })
    };
    let (root, timing) = match path_ok(at) {
        Ok(root) => (root, None),
        Err(e @ (PkiError::CertExpired { .. } | PkiError::CertNotValidYet { .. })) => {
            // Is it a public chain outside its validity? Check it at a time
            // inside the leaf's validity, then inside the failing
            // certificate's.
            let lv = leaf_x509.validity();
            let (nb, na) = (lv.not_before.timestamp(), lv.not_after.timestamp());
            let other = match e {
                PkiError::CertExpired { not_after, .. } => secs(not_after),
                PkiError::CertNotValidYet { not_before, .. } => secs(not_before),
                _ => at_unix_secs,
            };
            let clamped = at_unix_secs.clamp(nb.min(na), na.max(nb));
            let mut last = None;
            let mut found = None;
            for t in [clamped, other] {
                match path_ok(unix_time(t)) {
                    Ok(root) => {
                        found = Some(root);
                        break;
                    }
                    // A reason other than time is the one to give.
                    Err(e2) if !is_time(&e2) || last.is_none() => last = Some(e2),
                    Err(_) => {}
                }
            }
            match found {
                Some(root) => (root, Some(e)),
                None => return untrusted(&certs, issuer, &last.unwrap_or(e)),
            }
        }
        Err(e) => return untrusted(&certs, issuer, &e),
    };
    if let Some(n) = name {
        let valid = ServerName::try_from(n)
            .map(|sn| leaf.verify_is_valid_for_subject_name(&sn).is_ok())
            .unwrap_or(false);
        if !valid {
            return Verdict::WrongName { issuer };
        }
    }
    match timing {
        Some(PkiError::CertExpired { not_after, .. }) => Verdict::Expired {
            issuer,
            not_after: secs(not_after),
        },
        Some(PkiError::CertNotValidYet { not_before, .. }) => Verdict::NotYetValid {
            issuer,
            not_before: secs(not_before),
        },
        _ => Verdict::Public { issuer, root },
    }
}

/// The first issuer-side name in the chain that names a product.
fn inspection(parsed: &[Option<X509Certificate<'_>>]) -> Option<Verdict> {
    for (i, cert) in parsed.iter().enumerate() {
        let Some(cert) = cert else { continue };
        let mut names = vec![cert.issuer()];
        if i > 0 {
            names.push(cert.subject());
        }
        for n in names {
            if let Some(product) = product_in(n) {
                return Some(Verdict::Inspection {
                    product,
                    issuer: n.to_string(),
                });
            }
        }
    }
    None
}

/// The product an X.509 name's O, OU or CN names, if any.
fn product_in(name: &X509Name<'_>) -> Option<&'static str> {
    let values = name
        .iter_organization()
        .chain(name.iter_organizational_unit())
        .chain(name.iter_common_name())
        .filter_map(|a| a.as_str().ok());
    for v in values {
        if let Some(p) = product_for_text(v) {
            return Some(p);
        }
    }
    None
}

/// The product a piece of name text names, matched case-insensitively.
pub fn product_for_text(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    PRODUCTS
        .iter()
        .find(|p| p.patterns.iter().any(|pat| lower.contains(pat)))
        .map(|p| p.name)
}

/// An `Untrusted` verdict for a path-building error.
fn untrusted(certs: &[CertificateDer<'_>], issuer: String, e: &PkiError) -> Verdict {
    let mut why = classify(e);
    let (shape, stop) = walk(certs);
    if why == Why::IncompleteChain {
        why = shape;
        if matches!(why, Why::UnknownRoot | Why::IncompleteChain) && names_removed_root(&stop) {
            why = Why::RemovedRoot;
        }
    }
    Verdict::Untrusted {
        issuer,
        why,
        stops_at: name_string(&stop),
    }
}

/// What a webpki error says about the chain. `UnknownIssuer` is refined by
/// [`walk`].
fn classify(e: &PkiError) -> Why {
    #[allow(deprecated)]
    match e {
        PkiError::UnknownIssuer => Why::IncompleteChain,
        PkiError::InvalidSignatureForPublicKey => Why::BadSignature,
        PkiError::CertDistrusted => Why::Distrusted,
        PkiError::UnsupportedSignatureAlgorithm
        | PkiError::UnsupportedSignatureAlgorithmContext(_)
        | PkiError::UnsupportedSignatureAlgorithmForPublicKey
        | PkiError::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            Why::UnsupportedAlgorithm
        }
        PkiError::RequiredEkuNotFound
        | PkiError::RequiredEkuNotFoundContext(_)
        | PkiError::EmptyEkuExtension => Why::NotForServerAuth,
        _ => Why::InvalidChain,
    }
}

/// Follows the chain as sent from the leaf, by issuer name, to where it
/// stops: a self-issued certificate ([`Why::SelfSigned`] for the leaf,
/// [`Why::UnknownRoot`] above it) or an issuer that is neither sent nor in
/// the store ([`Why::IncompleteChain`]). Returns the shape and the last
/// issuer's name (DER content, no outer SEQUENCE).
fn walk(certs: &[CertificateDer<'_>]) -> (Why, Vec<u8>) {
    let parsed: Vec<EndEntityCert<'_>> = certs
        .iter()
        .map_while(|c| EndEntityCert::try_from(c).ok())
        .collect();
    let mut visited = vec![false; parsed.len()];
    let mut at = 0;
    // Each step moves to a certificate not visited yet: at most len steps.
    while let Some(cur) = parsed.get(at) {
        if let Some(v) = visited.get_mut(at) {
            *v = true;
        }
        if cur.issuer() == cur.subject() {
            let why = if at == 0 {
                Why::SelfSigned
            } else {
                Why::UnknownRoot
            };
            return (why, cur.issuer().to_vec());
        }
        let in_store = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .any(|a| a.subject.as_ref() == cur.issuer());
        let next = parsed
            .iter()
            .zip(visited.iter())
            .position(|(c, seen)| !*seen && c.subject() == cur.issuer());
        match next {
            Some(i) if !in_store => at = i,
            // Reaches nothing sent; or reaches a store root, yet did not
            // verify, for a reason the caller keeps.
            _ => return (Why::IncompleteChain, cur.issuer().to_vec()),
        }
    }
    (Why::InvalidChain, Vec::new())
}

/// Roots Mozilla's root program once included for TLS and has since
/// removed, by the commonName or organizationalUnitName that tells them
/// apart (matched whole, case-insensitively). Sources: the release notes of
/// `webpki-roots` (which follows Mozilla's store through CCADB) and
/// Mozilla's announced root removals and distrusts (Symantec, StartCom and
/// WoSign, Entrust, the 2025 and 2026 root-lifecycle removals). A test
/// checks that none names an anchor of today's store.
pub const REMOVED_ROOTS: &[&str] = &[
    // The 2026 root-lifecycle removals.
    "DigiCert Global Root CA",
    "DigiCert High Assurance EV Root CA",
    "DigiCert Assured ID Root CA",
    "COMODO Certification Authority",
    "Certigna",
    "FIRMAPROFESIONAL CA ROOT-A WEB",
    "GTS Root R2",
    "QuoVadis Root CA 2",
    "QuoVadis Root CA 3",
    "Secure Global CA",
    "SecureTrust CA",
    "SwissSign Gold CA - G2",
    "TeliaSonera Root CA v1",
    "Trustwave Global Certification Authority",
    "Trustwave Global ECC P256 Certification Authority",
    "Trustwave Global ECC P384 Certification Authority",
    "certSIGN ROOT CA",
    "SecureSign Root CA12",
    // The 2025 root-lifecycle removals.
    "AAA Certificate Services",
    "Baltimore CyberTrust Root",
    "Entrust.net Certification Authority (2048)",
    "GlobalSign Root CA",
    "Go Daddy Class 2 Certification Authority",
    "Starfield Class 2 Certification Authority",
    "XRamp Global Certification Authority",
    "SwissSign Silver CA - G2",
    // Entrust and AffirmTrust (distrusted from 2024), GLOBALTRUST,
    // SECOM and Cybertrust Japan.
    "Entrust Root Certification Authority",
    "Entrust Root Certification Authority - G2",
    "Entrust Root Certification Authority - EC1",
    "Entrust Root Certification Authority - G4",
    "AffirmTrust Commercial",
    "AffirmTrust Networking",
    "AffirmTrust Premium",
    "AffirmTrust Premium ECC",
    "GLOBALTRUST 2020",
    "Security Communication RootCA3",
    "SecureSign RootCA11",
    // Symantec's roots (VeriSign, GeoTrust, thawte), distrusted 2018.
    "VeriSign Class 3 Public Primary Certification Authority - G5",
    "VeriSign Class 3 Public Primary Certification Authority - G4",
    "VeriSign Class 3 Public Primary Certification Authority - G3",
    "VeriSign Universal Root Certification Authority",
    "Class 3 Public Primary Certification Authority",
    "GeoTrust Global CA",
    "GeoTrust Primary Certification Authority",
    "GeoTrust Primary Certification Authority - G2",
    "GeoTrust Primary Certification Authority - G3",
    "Equifax Secure Certificate Authority",
    "thawte Primary Root CA",
    "thawte Primary Root CA - G2",
    "thawte Primary Root CA - G3",
    "Thawte Premium Server CA",
    "Thawte Server CA",
    // StartCom and WoSign, distrusted 2016.
    "StartCom Certification Authority",
    "StartCom Certification Authority G2",
    "Certification Authority of WoSign",
    "Certification Authority of WoSign G2",
    "CA WoSign ECC Root",
    // Expired and retired.
    "GlobalSign Root CA - R2",
    "DST Root CA X3",
    "AddTrust External CA Root",
    "UTN-USERFirst-Hardware",
    "Cybertrust Global Root",
    "Visa eCommerce Root",
    "ComSign CA",
];

/// True when a name's CN or OU is one of [`REMOVED_ROOTS`].
fn names_removed_root(content: &[u8]) -> bool {
    let der = name_der(content);
    let Ok((_, name)) = X509Name::from_der(&der) else {
        return false;
    };
    let mut values = name
        .iter_common_name()
        .chain(name.iter_organizational_unit())
        .filter_map(|a| a.as_str().ok());
    values.any(|v| REMOVED_ROOTS.iter().any(|r| r.eq_ignore_ascii_case(v)))
}

/// An X.509 Name given as its content (no outer SEQUENCE), as text.
fn name_string(content: &[u8]) -> String {
    X509Name::from_der(&name_der(content))
        .map(|(_, n)| n.to_string())
        .unwrap_or_default()
}

/// A Name's content wrapped in its SEQUENCE header (DER length form).
fn name_der(content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut der = Vec::with_capacity(len + 4);
    der.push(0x30);
    match len {
        0..=0x7f => der.push(len as u8),
        0x80..=0xff => der.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xffff => der.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
        // Larger than any certificate kept: no name.
        _ => return Vec::new(),
    }
    der.extend_from_slice(content);
    der
}

fn is_time(e: &PkiError) -> bool {
    matches!(
        e,
        PkiError::CertExpired { .. } | PkiError::CertNotValidYet { .. }
    )
}

fn unix_time(secs: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

fn secs(t: UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::merge::Merge;
    use crate::engine::{Engine, EngineConfig};
    use std::path::{Path, PathBuf};

    /// A real capture beside the checkout; its absence fails the test.
    fn shared_capture(file: &str) -> PathBuf {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/captures")
            .join(file);
        assert!(
            p.is_file(),
            "{} is missing: the real captures live in ../shared beside the checkout",
            p.display()
        );
        p
    }

    /// One TLS session with a chain: SNI, capture time (s), chain.
    struct Seen {
        sni: Option<String>,
        at: i64,
        chain: Vec<Box<[u8]>>,
    }

    /// Every TLS session with a certificate chain in a capture, by the
    /// project's own pipeline.
    fn chains_in(path: &Path) -> Vec<Seen> {
        let mut merge = Merge::open(&[path]).unwrap();
        let mut engine = Engine::new(EngineConfig::default());
        while let Some(f) = merge.next_frame() {
            engine.process(&f);
        }
        engine.finish();
        let inv = &engine.inventory;
        let mut out = Vec::new();
        for obs in inv.macs.values().chain(inv.macless_ips.values()) {
            let Some(facts) = &obs.facts else { continue };
            for t in facts.tls.iter().filter(|t| !t.chain_der.is_empty()) {
                out.push(Seen {
                    sni: t.sni.clone(),
                    at: t.ts.div_euclid(1_000_000_000),
                    chain: t.chain_der.clone(),
                });
            }
        }
        out.sort_by(|a, b| (a.at, &a.sni).cmp(&(b.at, &b.sni)));
        out
    }

    /// Every chain in the shared captures, with its verdict at its capture
    /// time: the measurement behind the module's "old captures" notes.
    /// Each row: capture, SNI, verdict, why (for `Untrusted`), count.
    const REAL_VERDICTS: &[(&str, &str, &str, &str, usize)] = &[
        (
            "iotsentinel__D-LinkSwitch_Setup-C-12-STA.pcap",
            "-",
            "untrusted",
            "removed_root",
            7,
        ),
        (
            "iotsentinel__TP-LinkPlugHS100_Setup-C-2-STA.pcap",
            "-",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "iotsentinel__WeMoLink_Setup-A-1-STA.pcap",
            "api.xbcs.net",
            "public",
            "",
            7,
        ),
        (
            "zeek__certificate-with-sct.pcap",
            "www.lilawelt.net",
            "untrusted",
            "removed_root",
            1,
        ),
        ("ndpi__http_ipv6.pcap", "www.ntop.org", "wrong_name", "", 4),
        (
            "ndpi__http_ipv6.pcap",
            "s-static.ak.facebook.com",
            "untrusted",
            "removed_root",
            2,
        ),
        (
            "ndpi__KakaoTalk_chat.pcap",
            "-",
            "untrusted",
            "removed_root",
            4,
        ),
        (
            "ndpi__KakaoTalk_chat.pcap",
            "api.facebook.com",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "ndpi__KakaoTalk_chat.pcap",
            "graph.facebook.com",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "ndpi__KakaoTalk_chat.pcap",
            "developers.facebook.com",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "ndpi__android.pcap",
            "clients1.google.com",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "ndpi__android.pcap",
            "connectivitycheck.gstatic.com",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "ndpi__android.pcap",
            "play.googleapis.com",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "ndpi__android.pcap",
            "app-measurement.com",
            "untrusted",
            "removed_root",
            1,
        ),
        (
            "ndpi__android.pcap",
            "www.google.com",
            "untrusted",
            "removed_root",
            1,
        ),
    ];

    fn why_name(v: &Verdict) -> &'static str {
        match v {
            Verdict::Untrusted { why, .. } => why.name(),
            _ => "",
        }
    }

    #[test]
    fn every_chain_in_the_real_captures() {
        let mut files: Vec<&str> = REAL_VERDICTS.iter().map(|r| r.0).collect();
        files.dedup();
        let mut got: Vec<(String, String, &str, &str)> = Vec::new();
        for file in &files {
            for s in chains_in(&shared_capture(file)) {
                assert!(s.chain.len() <= MAX_CHAIN_CERTS);
                assert!(s.chain.iter().all(|c| c.len() <= MAX_CERT_DER));
                let v = judge(&s.chain, s.sni.as_deref(), s.at);
                println!("{file}\t{:?}\t{}\t{v:?}", s.sni, s.at);
                let sni = s.sni.unwrap_or_else(|| "-".into());
                got.push((file.to_string(), sni, v.name(), why_name(&v)));
            }
        }
        for (file, sni, verdict, why, n) in REAL_VERDICTS {
            let count = got
                .iter()
                .filter(|g| g.0 == *file && g.1 == *sni && g.2 == *verdict && g.3 == *why)
                .count();
            assert_eq!(count, *n, "{file} {sni}: {verdict} {why}");
        }
        let expected: usize = REAL_VERDICTS.iter().map(|r| r.4).sum();
        assert_eq!(got.len(), expected, "{got:#?}");
    }

    /// The Belkin WeMo's chain for api.xbcs.net (Go Daddy, April 2016).
    fn wemo() -> Seen {
        let path = shared_capture("iotsentinel__WeMoLink_Setup-A-1-STA.pcap");
        chains_in(&path)
            .into_iter()
            .next()
            .expect("the WeMo capture has a certificate chain")
    }

    const YEAR: i64 = 365 * 24 * 3600;

    #[test]
    fn a_real_chain_is_public_at_its_capture_time_and_expired_later() {
        let s = wemo();
        let name = s.sni.as_deref();
        assert_eq!(name, Some("api.xbcs.net"));
        let v = judge(&s.chain, name, s.at);
        let Verdict::Public { issuer, root } = &v else {
            panic!("{v:?}")
        };
        assert!(issuer.contains("Go Daddy Secure Certificate Authority - G2"));
        assert!(root.contains("Go Daddy Root Certificate Authority - G2"));

        let later = judge(&s.chain, name, s.at + 10 * YEAR);
        let Verdict::Expired { issuer, not_after } = &later else {
            panic!("{later:?}")
        };
        assert!(issuer.contains("Go Daddy"));
        assert!(*not_after > s.at && *not_after < s.at + 10 * YEAR);
        // One second past the leaf's end, and at its last second.
        let after = judge(&s.chain, name, not_after + 1);
        assert!(matches!(after, Verdict::Expired { .. }), "{after:?}");
        let last = judge(&s.chain, name, *not_after);
        assert!(matches!(last, Verdict::Public { .. }), "{last:?}");

        for early in [0, -5, s.at - 10 * YEAR] {
            let v = judge(&s.chain, name, early);
            assert!(matches!(v, Verdict::NotYetValid { .. }), "{early}: {v:?}");
        }
    }

    #[test]
    fn a_real_chain_for_another_name_is_wrong_name() {
        let s = wemo();
        for other in [
            "update.knx.org",
            "xbcs.net.evil.example",
            "127.0.0.1",
            "not a name",
        ] {
            let v = judge(&s.chain, Some(other), s.at);
            assert!(matches!(v, Verdict::WrongName { .. }), "{other}: {v:?}");
        }
        // No name: only the chain is judged.
        assert!(matches!(
            judge(&s.chain, None, s.at),
            Verdict::Public { .. }
        ));
    }

    #[test]
    fn a_real_chain_cut_or_damaged_is_not_public() {
        let s = wemo();
        let leaf_only: Vec<Box<[u8]>> = s.chain.iter().take(1).cloned().collect();
        let v = judge(&leaf_only, s.sni.as_deref(), s.at);
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::IncompleteChain,
                    ..
                }
            ),
            "{v:?}"
        );
        // A flipped bit in the leaf's signature.
        let mut bad = s.chain.clone();
        if let Some(leaf) = bad.first_mut() {
            let n = leaf.len();
            if let Some(b) = leaf.get_mut(n - 3) {
                *b ^= 1;
            }
        }
        let v = judge(&bad, s.sni.as_deref(), s.at);
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::BadSignature,
                    ..
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn an_old_root_is_told_apart() {
        let path = shared_capture("ndpi__android.pcap");
        let s = chains_in(&path)
            .into_iter()
            .find(|s| s.sni.as_deref() == Some("www.google.com"))
            .expect("the Android capture has Google's chain");
        let v = judge(&s.chain, s.sni.as_deref(), s.at);
        let Verdict::Untrusted { why, stops_at, .. } = &v else {
            panic!("{v:?}")
        };
        assert_eq!(*why, Why::RemovedRoot);
        assert!(stops_at.contains("GlobalSign Root CA - R2"), "{stops_at}");
    }

    // --- chains made here -------------------------------------------------

    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
        Issuer, KeyPair, KeyUsagePurpose,
    };

    /// 2024-06-01, inside every validity below.
    const JUNE_2024: i64 = 1_717_200_000;

    struct Ca {
        params: CertificateParams,
        key: KeyPair,
        der: Box<[u8]>,
    }

    fn ca(dn: &[(DnType, &str)]) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        for (t, v) in dn {
            params.distinguished_name.push(t.clone(), *v);
        }
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2030, 1, 1);
        let key = KeyPair::generate().unwrap();
        let der = Box::from(params.self_signed(&key).unwrap().der().as_ref());
        Ca { params, key, der }
    }

    /// A server certificate for `names`, valid 2024, issued by `ca` (or
    /// self-signed).
    fn leaf(names: &[&str], ca: Option<&Ca>) -> Box<[u8]> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "update.knx.org");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = date_time_ymd(2024, 1, 1);
        params.not_after = date_time_ymd(2025, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = match ca {
            Some(ca) => params
                .signed_by(&key, &Issuer::from_params(&ca.params, &ca.key))
                .unwrap(),
            None => params.self_signed(&key).unwrap(),
        };
        Box::from(cert.der().as_ref())
    }

    #[test]
    fn a_fortigate_ca_is_inspection() {
        let forti = ca(&[
            (DnType::CountryName, "US"),
            (DnType::OrganizationName, "Fortinet"),
            (DnType::OrganizationalUnitName, "Certificate Authority"),
            (DnType::CommonName, "FortiGate CA"),
        ]);
        let l = leaf(&["update.knx.org"], Some(&forti));
        for chain in [vec![l.clone()], vec![l.clone(), forti.der.clone()]] {
            let v = judge(&chain, Some("update.knx.org"), JUNE_2024);
            let Verdict::Inspection { product, issuer } = &v else {
                panic!("{v:?}")
            };
            assert_eq!(*product, "Fortinet FortiGate");
            assert!(issuer.contains("CN=FortiGate CA") && issuer.contains("O=Fortinet"));
        }
        // Expired, for another name: still the product (asked first).
        let v = judge(&[l], Some("api.knx.org"), JUNE_2024 + 5 * YEAR);
        assert!(matches!(v, Verdict::Inspection { .. }), "{v:?}");
    }

    #[test]
    fn products_by_the_names_their_cas_use() {
        let cases = [
            ("Zscaler Root CA", "Zscaler"),
            ("DO_NOT_TRUST_FiddlerRoot", "Fiddler"),
            ("mitmproxy", "mitmproxy"),
            ("PortSwigger CA", "Burp Suite (PortSwigger)"),
            ("Charles Proxy CA (1 Jan 2024, host)", "Charles Proxy"),
            ("ESET SSL Filter CA", "ESET"),
            ("avast! Web/Mail Shield Root", "Avast"),
            ("AVG Web/Mail Shield Root", "AVG"),
            (
                "Kaspersky Anti-Virus Personal Root Certificate",
                "Kaspersky",
            ),
            ("Cisco Umbrella Primary SubCA", "Cisco Umbrella"),
            ("SonicWall Firewall DPI-SSL", "SonicWall"),
            (
                "Gateway CA - Cloudflare Managed G1 abc",
                "Cloudflare Gateway",
            ),
        ];
        for (cn, product) in cases {
            let c = ca(&[(DnType::CommonName, cn)]);
            let chain = vec![leaf(&["update.knx.org"], Some(&c)), c.der.clone()];
            let v = judge(&chain, Some("update.knx.org"), JUNE_2024);
            assert!(
                matches!(&v, Verdict::Inspection { product: p, .. } if *p == product),
                "{cn}: {v:?}"
            );
        }
        // Real public CAs and vendors' own names as subjects are not products.
        for text in [
            "Symantec Class 3 Secure Server CA - G4",
            "Cloudflare Inc ECC CA-3",
            "DigiCert Global Root CA",
            "Trustwave Organization Validation SHA256 CA, Level 1",
            "Let's Encrypt",
            "reset preset",
        ] {
            assert_eq!(product_for_text(text), None, "{text}");
        }
    }

    #[test]
    fn a_vendors_own_site_is_not_its_product() {
        // Fortinet's name in the leaf's subject only: a private CA here, so
        // untrusted, but not called FortiGate.
        let c = ca(&[(DnType::CommonName, "Example Private Root")]);
        let mut params = CertificateParams::new(vec!["www.fortinet.com".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Fortinet, Inc.");
        params.not_before = date_time_ymd(2024, 1, 1);
        params.not_after = date_time_ymd(2025, 1, 1);
        let key = KeyPair::generate().unwrap();
        let l = params
            .signed_by(&key, &Issuer::from_params(&c.params, &c.key))
            .unwrap();
        let chain = vec![Box::from(l.der().as_ref()), c.der.clone()];
        let v = judge(&chain, Some("www.fortinet.com"), JUNE_2024);
        assert!(matches!(v, Verdict::Untrusted { .. }), "{v:?}");
    }

    #[test]
    fn an_unknown_private_ca_is_untrusted() {
        let c = ca(&[
            (DnType::OrganizationName, "Example Corp"),
            (DnType::CommonName, "Example Private Root"),
        ]);
        let l = leaf(&["update.knx.org"], Some(&c));
        let with_root = vec![l.clone(), c.der.clone()];
        let v = judge(&with_root, Some("update.knx.org"), JUNE_2024);
        let Verdict::Untrusted {
            issuer,
            why,
            stops_at,
        } = &v
        else {
            panic!("{v:?}")
        };
        assert_eq!(*why, Why::UnknownRoot);
        assert!(issuer.contains("CN=Example Private Root"), "{issuer}");
        assert_eq!(issuer, stops_at);
        let v = judge(std::slice::from_ref(&l), Some("update.knx.org"), JUNE_2024);
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::IncompleteChain,
                    ..
                }
            ),
            "{v:?}"
        );
        // Expired or not, a private chain is untrusted, never `Expired`.
        let v = judge(&with_root, Some("update.knx.org"), JUNE_2024 + 3 * YEAR);
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::UnknownRoot,
                    ..
                }
            ),
            "{v:?}"
        );
        // The wrong name does not matter either: no public root.
        let v = judge(&with_root, Some("api.knx.org"), JUNE_2024);
        assert!(matches!(v, Verdict::Untrusted { .. }), "{v:?}");
        // Extra certificates in any order do not change the answer.
        let shuffled = vec![l, c.der.clone(), c.der.clone()];
        let v = judge(&shuffled, Some("update.knx.org"), JUNE_2024);
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::UnknownRoot,
                    ..
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn a_self_signed_leaf_is_untrusted() {
        let l = leaf(&["update.knx.org"], None);
        let v = judge(&[l], Some("update.knx.org"), JUNE_2024);
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::SelfSigned,
                    ..
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn a_removed_root_is_known_by_name_only() {
        // A self-signed leaf calling itself an old root stays self-signed.
        let mut params = CertificateParams::new(vec!["update.knx.org".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "DigiCert Global Root CA");
        let key = KeyPair::generate().unwrap();
        let l: Box<[u8]> = Box::from(params.self_signed(&key).unwrap().der().as_ref());
        let v = judge(&[l], Some("update.knx.org"), JUNE_2024);
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::SelfSigned,
                    ..
                }
            ),
            "{v:?}"
        );
        // The documented limit: a chain that stops at a removed root's name
        // is called `RemovedRoot`, as its key is no longer known to check.
        let fake = ca(&[(DnType::CommonName, "DigiCert Global Root CA")]);
        let v = judge(
            &[leaf(&["update.knx.org"], Some(&fake))],
            Some("update.knx.org"),
            JUNE_2024,
        );
        assert!(
            matches!(
                v,
                Verdict::Untrusted {
                    why: Why::RemovedRoot,
                    ..
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn nothing_to_judge_is_unparsable() {
        assert_eq!(
            judge(&[], Some("update.knx.org"), JUNE_2024),
            Verdict::Unparsable
        );
        let junk: Vec<Box<[u8]>> = vec![Box::from(&[0x30, 0x03, 1, 2, 3][..])];
        assert_eq!(judge(&junk, None, JUNE_2024), Verdict::Unparsable);
        let huge: Vec<Box<[u8]>> = vec![vec![0x30; MAX_CERT_DER + 1].into_boxed_slice()];
        assert_eq!(judge(&huge, None, JUNE_2024), Verdict::Unparsable);
    }

    #[test]
    fn bounded_chain_keeps_a_prefix_within_the_bounds() {
        let small = vec![1u8; 10];
        let big = vec![2u8; MAX_CERT_DER + 1];
        let five: Vec<&[u8]> = vec![&small; 5].into_iter().map(|v| &v[..]).collect();
        assert_eq!(bounded_chain(five).len(), MAX_CHAIN_CERTS);
        let gap = vec![&small[..], &big[..], &small[..]];
        assert_eq!(bounded_chain(gap).len(), 1);
        let big_leaf = vec![&big[..], &small[..]];
        assert!(bounded_chain(big_leaf).is_empty());
        let edge = vec![0u8; MAX_CERT_DER];
        assert_eq!(bounded_chain([&edge[..]]).len(), 1);
    }

    #[test]
    fn no_public_root_names_a_product_or_a_removed_root() {
        for a in webpki_roots::TLS_SERVER_ROOTS {
            let der = name_der(a.subject.as_ref());
            let (_, name) = X509Name::from_der(&der).unwrap();
            assert_eq!(product_in(&name), None, "{name}");
            assert!(!names_removed_root(a.subject.as_ref()), "{name}");
        }
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }

    #[test]
    fn verdicts_serialize_with_their_names() {
        let v = Verdict::Untrusted {
            issuer: "CN=a".into(),
            why: Why::RemovedRoot,
            stops_at: "CN=b".into(),
        };
        let j = serde_json::to_value(&v).unwrap();
        assert_eq!(j["verdict"], v.name());
        assert_eq!(j["why"], Why::RemovedRoot.name());
        assert_eq!(
            serde_json::to_value(Verdict::Unparsable).unwrap()["verdict"],
            "unparsable"
        );
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn random_bytes_never_panic(
                chain in proptest::collection::vec(
                    proptest::collection::vec(any::<u8>(), 0..300), 0..6),
                at in any::<i64>(),
                name in "[a-z0-9.*-]{0,20}",
            ) {
                let chain: Vec<Box<[u8]>> = chain.into_iter().map(Vec::into_boxed_slice).collect();
                let v = judge(&chain, Some(&name), at);
                prop_assert_ne!(v.name(), "public");
            }

            #[test]
            fn a_damaged_private_chain_never_panics(
                flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
                cut in any::<usize>(),
            ) {
                let c = ca(&[(DnType::CommonName, "Example Private Root")]);
                let mut chain = vec![leaf(&["update.knx.org"], Some(&c)), c.der.clone()];
                for (i, x) in flips {
                    let Some(cert) = chain.get_mut(i % 2) else { continue };
                    let n = cert.len();
                    if let Some(b) = cert.get_mut(i % n.max(1)) {
                        *b ^= x;
                    }
                }
                if let Some(first) = chain.first_mut() {
                    let keep = cut % (first.len() + 1);
                    *first = first.get(..keep).unwrap_or_default().into();
                }
                let v = judge(&chain, Some("update.knx.org"), JUNE_2024);
                prop_assert_ne!(v.name(), "public");
            }
        }
    }
}
