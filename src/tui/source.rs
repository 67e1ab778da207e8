//! Where the screen's frames come from: capture files replayed in capture
//! time, or a live interface.
//!
//! Both are opened before the screen is taken over, so an input that cannot
//! be used is one line on stderr and exit status 2, as for `analyze` and
//! `live`. A live capture sits behind [`LiveSource`], so another capture
//! implementation (the `live` sensor's) can replace [`PcapSource`] without
//! touching the capture thread or the screen.

use crate::capture::filter::Filter;
use crate::capture::merge::Merge;
use crate::capture::{CaptureError, Frame, LinkType, Nanos};
use std::fs::File;
use std::path::PathBuf;

/// Bytes kept of each live frame: whole frames, so TLS and DNS parse.
const SNAPLEN: i32 = 262_144;
/// How long a live read waits for a frame before the capture thread looks
/// at its controls and its snapshot timer again. (libpcap's own timeout
/// does not end a read on Linux when no frame arrives at all, so the
/// capture is non-blocking and waits in `poll`.)
const READ_TIMEOUT_MS: i32 = 100;
/// The kernel buffer for a live capture: a few seconds of a busy port.
const BUFFER_BYTES: i32 = 16 * 1024 * 1024;

/// An input, opened and checked.
pub enum Source {
    /// Files replayed as one site, merged in time order.
    Files {
        merge: Merge<File>,
        names: Vec<String>,
    },
    /// A live capture; its filter runs in the kernel.
    Live(Box<dyn LiveSource>),
}

impl Source {
    /// Opens the files or the interface the command line names. For files,
    /// the filter comes back compiled, to be applied per frame as `analyze`
    /// does; a live capture runs it in the kernel.
    pub fn open(
        files: &[PathBuf],
        interface: Option<&str>,
        filter: Option<&str>,
    ) -> Result<(Source, Option<Filter>), CaptureError> {
        match interface {
            Some(iface) => Ok((
                Source::Live(Box::new(PcapSource::open(iface, filter)?)),
                None,
            )),
            None => {
                // The filter first, as `analyze` checks it.
                let filter = filter.map(Filter::new).transpose()?;
                let merge = Merge::open(files)?;
                let names = files.iter().map(|p| p.display().to_string()).collect();
                Ok((Source::Files { merge, names }, filter))
            }
        }
    }

    /// The names the report gives as `capture.files`.
    pub fn names(&self) -> Vec<String> {
        match self {
            Source::Files { names, .. } => names.clone(),
            Source::Live(l) => vec![l.name().to_string()],
        }
    }
}

/// A live capture, as the capture thread uses it.
pub trait LiveSource: Send {
    /// The interface, as the user named it.
    fn name(&self) -> &str;
    /// The next frame; `Ok(None)` when the read timed out with nothing, so
    /// the caller can look at its controls. An error ends the capture (the
    /// interface went away).
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError>;
    /// Frames lost before they were read (kernel buffer and interface), when
    /// the capture can tell.
    fn drops(&mut self) -> Option<u64>;
}

/// A libpcap capture on an interface: promiscuous, immediate mode,
/// non-blocking.
pub struct PcapSource {
    cap: pcap::Capture<pcap::Active>,
    name: String,
    link: LinkType,
    frames: u64,
    /// The last read found a frame: read again before waiting.
    ready: bool,
}

impl PcapSource {
    /// Opens `iface`; unknown interfaces, missing permission, unsupported
    /// link types and filters that do not compile are the errors.
    pub fn open(iface: &str, filter: Option<&str>) -> Result<PcapSource, CaptureError> {
        let err = |problem: String| CaptureError {
            source: iface.to_string(),
            problem,
        };
        let known =
            pcap::Device::list().map_err(|e| err(format!("cannot list interfaces: {e}")))?;
        if !known.iter().any(|d| d.name == iface) {
            let names: Vec<&str> = known.iter().map(|d| d.name.as_str()).collect();
            return Err(err(format!(
                "no such interface (interfaces: {})",
                names.join(", ")
            )));
        }
        let cap = pcap::Capture::from_device(iface)
            .map_err(|e| err(e.to_string()))?
            .promisc(true)
            .immediate_mode(true)
            .snaplen(SNAPLEN)
            .buffer_size(BUFFER_BYTES)
            .timeout(READ_TIMEOUT_MS)
            .open()
            .map_err(|e| err(open_problem(&e.to_string())))?
            .setnonblock()
            .map_err(|e| err(e.to_string()))?;
        let mut cap = cap;
        let link = LinkType(cap.get_datalink().0 as u32);
        if !link.is_supported() {
            return Err(err(format!("link type {link} is not supported")));
        }
        if let Some(expr) = filter {
            cap.filter(expr, true).map_err(|e| CaptureError {
                source: "--filter".into(),
                problem: format!("cannot compile {expr:?}: {e}"),
            })?;
        }
        Ok(PcapSource {
            cap,
            name: iface.to_string(),
            link,
            frames: 0,
            ready: false,
        })
    }
}

/// libpcap's words, with what to do where the cause is permission.
fn open_problem(pcap: &str) -> String {
    if pcap.to_ascii_lowercase().contains("permission") {
        format!("no permission to capture (run as root, or give egresswatch CAP_NET_RAW): {pcap}")
    } else {
        pcap.to_string()
    }
}

impl LiveSource for PcapSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if !self.ready {
            use rustix::event::{poll, PollFd, PollFlags, Timespec};
            let wait = Timespec {
                tv_sec: 0,
                tv_nsec: READ_TIMEOUT_MS as i64 * 1_000_000,
            };
            let mut fds = [PollFd::new(&self.cap, PollFlags::IN)];
            match poll(&mut fds, Some(&wait)) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => return Ok(None),
                Err(e) => {
                    return Err(CaptureError {
                        source: self.name.clone(),
                        problem: format!("capture ended: {e}"),
                    })
                }
            }
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.ready = true;
                self.frames += 1;
                let ts = p.header.ts.tv_sec as Nanos * 1_000_000_000
                    + p.header.ts.tv_usec as Nanos * 1_000;
                Ok(Some(Frame {
                    file: 0,
                    number: self.frames,
                    ts,
                    link: self.link,
                    orig_len: p.header.len,
                    data: p.data,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => {
                self.ready = false;
                Ok(None)
            }
            Err(e) => Err(CaptureError {
                source: self.name.clone(),
                problem: format!("capture ended: {e}"),
            }),
        }
    }

    fn drops(&mut self) -> Option<u64> {
        self.cap
            .stats()
            .ok()
            .map(|s| s.dropped as u64 + s.if_dropped as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_problems_say_what_to_do() {
        let p = open_problem("eth1: You don't have permission to perform this capture");
        assert!(p.starts_with("no permission to capture"), "{p}");
        assert_eq!(open_problem("eth1: No such device"), "eth1: No such device");
    }
}
