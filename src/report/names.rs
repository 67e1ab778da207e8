//! A device's names in the report: one table, sorted by name, that the
//! report's three name-keyed fields (`names`, `name_sources`, `dns`) share.
//!
//! Each view serializes exactly as the collection it replaces (`names` as a
//! list of the names the device used; `name_sources` and `dns` as maps by
//! name, in name order), so the JSON is unchanged; each name is held once,
//! where a device on the site mix has hundreds of names and each was copied
//! for each field (and the maps' nodes made besides).
//!
//! Invariants: the entries are sorted by name and the names are distinct;
//! every entry has a source, a question, or both; the counts are the
//! entries with each.

use crate::device::facts::DnsQuestion;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Where a name came from: [`crate::device::facts::source::names`] of its bits.
pub type Sources = &'static [&'static str];

/// One of a device's names: where it came from, when the device used it,
/// and its DNS question, when the device asked for it.
#[derive(Debug, Clone)]
pub struct NameEntry {
    pub name: String,
    pub sources: Option<Sources>,
    pub question: Option<Box<DnsQuestion>>,
}

/// The entries, sorted by name, and how many have each part.
#[derive(Debug, Default)]
struct Table {
    entries: Vec<NameEntry>,
    sourced: usize,
    asked: usize,
}

/// Makes the three views of one table of `entries` (sorted by name, the
/// names distinct).
pub(super) fn views(entries: Vec<NameEntry>) -> (Names, NameSources, DnsQuestions) {
    let sourced = entries.iter().filter(|e| e.sources.is_some()).count();
    let asked = entries.iter().filter(|e| e.question.is_some()).count();
    let t = Arc::new(Table {
        entries,
        sourced,
        asked,
    });
    (
        Names(Arc::clone(&t)),
        NameSources(Arc::clone(&t)),
        DnsQuestions(t),
    )
}

/// The names the device used (a source noted it), in name order.
#[derive(Clone, Default)]
pub struct Names(Arc<Table>);

/// Where each name the device used came from, by name.
#[derive(Clone, Default)]
pub struct NameSources(Arc<Table>);

/// The device's DNS questions, by name.
#[derive(Clone, Default)]
pub struct DnsQuestions(Arc<Table>);

impl Names {
    pub fn len(&self) -> usize {
        self.0.sourced
    }

    pub fn is_empty(&self) -> bool {
        self.0.sourced == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &String> + Clone {
        self.0
            .entries
            .iter()
            .filter(|e| e.sources.is_some())
            .map(|e| &e.name)
    }
}

impl NameSources {
    pub fn len(&self) -> usize {
        self.0.sourced
    }

    pub fn is_empty(&self) -> bool {
        self.0.sourced == 0
    }

    /// (name, sources) in name order.
    pub fn iter(&self) -> SourcesIter<'_> {
        SourcesIter(self.0.entries.iter())
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> + Clone {
        self.iter().map(|(n, _)| n)
    }

    pub fn get(&self, name: &str) -> Option<&Sources> {
        find(&self.0, name)?.sources.as_ref()
    }
}

impl DnsQuestions {
    pub fn len(&self) -> usize {
        self.0.asked
    }

    pub fn is_empty(&self) -> bool {
        self.0.asked == 0
    }

    /// (name, question) in name order.
    pub fn iter(&self) -> QuestionsIter<'_> {
        QuestionsIter(self.0.entries.iter())
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> + Clone {
        self.iter().map(|(n, _)| n)
    }

    pub fn values(&self) -> impl Iterator<Item = &DnsQuestion> + Clone {
        self.iter().map(|(_, q)| q)
    }

    pub fn get(&self, name: &str) -> Option<&DnsQuestion> {
        find(&self.0, name)?.question.as_deref()
    }
}

/// The entry for `name`, by binary search of the sorted entries.
fn find<'t>(t: &'t Table, name: &str) -> Option<&'t NameEntry> {
    let i = t
        .entries
        .binary_search_by(|e| e.name.as_str().cmp(name))
        .ok()?;
    t.entries.get(i)
}

/// The entries with a source, as (name, sources).
#[derive(Clone)]
pub struct SourcesIter<'a>(std::slice::Iter<'a, NameEntry>);

impl<'a> Iterator for SourcesIter<'a> {
    type Item = (&'a String, &'a Sources);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.find_map(|e| Some((&e.name, e.sources.as_ref()?)))
    }
}

/// The entries with a question, as (name, question).
#[derive(Clone)]
pub struct QuestionsIter<'a>(std::slice::Iter<'a, NameEntry>);

impl<'a> Iterator for QuestionsIter<'a> {
    type Item = (&'a String, &'a DnsQuestion);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.find_map(|e| Some((&e.name, e.question.as_deref()?)))
    }
}

impl<'a> IntoIterator for &'a NameSources {
    type Item = (&'a String, &'a Sources);
    type IntoIter = SourcesIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a DnsQuestions {
    type Item = (&'a String, &'a DnsQuestion);
    type IntoIter = QuestionsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Serialize for Names {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for n in self.iter() {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

impl Serialize for NameSources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (n, src) in self.iter() {
            map.serialize_entry(n, src)?;
        }
        map.end()
    }
}

impl Serialize for DnsQuestions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (n, q) in self.iter() {
            map.serialize_entry(n, q)?;
        }
        map.end()
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Debug for NameSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Debug for DnsQuestions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, sources: Option<Sources>, asked: bool) -> NameEntry {
        NameEntry {
            name: name.into(),
            sources,
            question: asked.then(|| Box::new(DnsQuestion::default())),
        }
    }

    #[test]
    fn views_serialize_as_the_collections_they_replace() {
        const DNS: Sources = &["dns"];
        const SNI: Sources = &["dns", "sni"];
        let entries = vec![
            entry("a.example", Some(DNS), true),
            entry("b.example", None, true),
            entry("c.example", Some(SNI), false),
        ];
        let (names, sources, dns) = views(entries.clone());
        let want_names: Vec<String> = vec!["a.example".into(), "c.example".into()];
        let want_sources: std::collections::BTreeMap<String, Sources> =
            [("a.example".into(), DNS), ("c.example".into(), SNI)].into();
        let want_dns: std::collections::BTreeMap<String, Box<DnsQuestion>> = entries
            .into_iter()
            .filter_map(|e| Some((e.name, e.question?)))
            .collect();
        let json = |v: serde_json::Result<String>| v.unwrap();
        assert_eq!(
            json(serde_json::to_string_pretty(&names)),
            json(serde_json::to_string_pretty(&want_names))
        );
        assert_eq!(
            json(serde_json::to_string_pretty(&sources)),
            json(serde_json::to_string_pretty(&want_sources))
        );
        assert_eq!(
            json(serde_json::to_string_pretty(&dns)),
            json(serde_json::to_string_pretty(&want_dns))
        );
        assert_eq!((names.len(), sources.len(), dns.len()), (2, 2, 2));
        assert_eq!(dns.keys().collect::<Vec<_>>(), ["a.example", "b.example"]);
        assert!(dns.get("b.example").is_some());
        assert!(dns.get("c.example").is_none());
        assert_eq!(sources.get("c.example"), Some(&SNI));
        assert!(sources.get("b.example").is_none());
    }

    #[test]
    fn empty_views_serialize_empty() {
        let (names, sources, dns) = views(Vec::new());
        assert!(names.is_empty() && sources.is_empty() && dns.is_empty());
        assert_eq!(serde_json::to_string(&names).unwrap(), "[]");
        assert_eq!(serde_json::to_string(&sources).unwrap(), "{}");
        assert_eq!(serde_json::to_string(&dns).unwrap(), "{}");
    }
}
