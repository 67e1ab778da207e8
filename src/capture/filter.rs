//! `--filter`: BPF expressions, as tcpdump reads them, applied to frames
//! from files. Compiled by libpcap once per link type met in the input.

use super::{CaptureError, Frame, LinkType};
use pcap::{BpfProgram, Capture, Linktype};
use std::collections::HashMap;

/// A compiled filter expression.
pub struct Filter {
    expr: String,
    programs: HashMap<u32, Option<BpfProgram>>,
    /// Link types on which the expression could not be compiled.
    pub problems: Vec<String>,
}

/// libpcap's DLT value for a LINKTYPE_ value.
fn dlt(link: LinkType) -> i32 {
    match link.0 {
        101 | 14 => 12,
        other => other as i32,
    }
}

fn compile(expr: &str, link: LinkType) -> Result<BpfProgram, String> {
    let dead = Capture::dead(Linktype(dlt(link))).map_err(|e| e.to_string())?;
    dead.compile(expr, true).map_err(|e| e.to_string())
}

impl Filter {
    /// Checks the expression's syntax (compiled for Ethernet).
    pub fn new(expr: &str) -> Result<Filter, CaptureError> {
        let program = compile(expr, LinkType::ETHERNET).map_err(|problem| CaptureError {
            source: "--filter".into(),
            problem: format!("cannot compile {expr:?}: {problem}"),
        })?;
        let mut programs = HashMap::new();
        programs.insert(LinkType::ETHERNET.0, Some(program));
        Ok(Filter {
            expr: expr.to_string(),
            programs,
            problems: Vec::new(),
        })
    }

    /// True when the frame matches.
    pub fn matches(&mut self, frame: &Frame<'_>) -> bool {
        let expr = &self.expr;
        let problems = &mut self.problems;
        let program = self.programs.entry(frame.link.0).or_insert_with(|| {
            compile(expr, frame.link)
                .map_err(|e| {
                    problems.push(format!(
                        "--filter {expr:?} does not apply to link type {}: {e}; its frames are left out",
                        frame.link
                    ))
                })
                .ok()
        });
        program.as_ref().is_some_and(|p| p.filter(frame.data))
    }
}
