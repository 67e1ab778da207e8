//! Several capture files read as one site, merged in timestamp order.
//!
//! Each file is streamed by its own [`FileReader`]; the merge only peeks at
//! every reader's next timestamp and delivers the earliest frame (ties go to
//! the file given first), so memory stays that of the readers' buffers.

use super::file::{Chunk, FileReader};
use super::{CaptureError, Frame};
use std::io::Read;
use std::path::Path;

/// A time-ordered merge of capture files.
pub struct Merge<R> {
    readers: Vec<FileReader<R>>,
}

impl Merge<std::fs::File> {
    /// Opens every file; the first that cannot be used is the error.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<Self, CaptureError> {
        if paths.len() > u16::MAX as usize {
            return Err(CaptureError {
                source: "input".into(),
                problem: format!("too many files ({}), at most {}", paths.len(), u16::MAX),
            });
        }
        let readers = paths
            .iter()
            .enumerate()
            .map(|(i, p)| FileReader::open(p.as_ref(), i as u16))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Merge { readers })
    }
}

impl<R: Read> Merge<R> {
    pub fn from_readers(readers: Vec<FileReader<R>>) -> Self {
        Merge { readers }
    }

    pub fn readers(&self) -> &[FileReader<R>] {
        &self.readers
    }

    /// Bytes consumed across all files.
    pub fn position(&self) -> u64 {
        self.readers.iter().map(|r| r.position()).sum()
    }

    /// The earliest next frame across all files.
    #[inline(always)]
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        self.next_frame_in().map(|(f, _)| f)
    }

    /// [`Merge::next_frame`], with the buffer its bytes are in
    /// ([`FileReader::next_frame_in`]).
    #[inline(always)]
    pub fn next_frame_in(&mut self) -> Option<(Frame<'_>, &Chunk)> {
        if self.readers.len() == 1 {
            return self.readers.first_mut()?.next_frame_in();
        }
        self.next_of_several()
    }

    /// [`Merge::next_frame_in`] with no file or several.
    #[inline(never)]
    fn next_of_several(&mut self) -> Option<(Frame<'_>, &Chunk)> {
        let best = {
            let mut best: Option<(usize, i64)> = None;
            for (i, r) in self.readers.iter_mut().enumerate() {
                if let Some(ts) = r.peek_ts() {
                    if best.is_none_or(|(_, b)| ts < b) {
                        best = Some((i, ts));
                    }
                }
            }
            best?.0
        };
        self.readers.get_mut(best)?.next_frame_in()
    }
}
