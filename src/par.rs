//! Work spread over a few threads, results in their original order.
//!
//! The report phase of a run with several analysis workers uses this for
//! what is independent per device (building its report, checking it,
//! rendering it). With one thread everything stays on the calling thread,
//! in order, so a single-core run does exactly what it did before.

use std::sync::{Condvar, Mutex, MutexGuard};

/// `f` applied to every item, on up to `threads` threads (the calling one
/// included). Items are dealt round-robin, so long and short items mix;
/// the results come back in the items' order.
pub fn map<T: Send, U: Send>(items: Vec<T>, threads: usize, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let n = items.len();
    let mut hands: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, x) in items.into_iter().enumerate() {
        hands[i % threads].push((i, x));
    }
    let f = &f;
    let done: Vec<Vec<(usize, U)>> = std::thread::scope(|s| {
        let mut hands = hands.into_iter();
        let mine = hands.next().unwrap_or_default();
        let others: Vec<_> = hands
            .map(|h| s.spawn(move || h.into_iter().map(|(i, x)| (i, f(x))).collect()))
            .collect();
        let mut done: Vec<Vec<(usize, U)>> =
            vec![mine.into_iter().map(|(i, x)| (i, f(x))).collect()];
        for h in others {
            // A panic in `f` is a bug: let it surface as one.
            done.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        done
    });
    let mut slots: Vec<Option<U>> = (0..n).map(|_| None).collect();
    for (i, u) in done.into_iter().flatten() {
        slots[i] = Some(u);
    }
    slots.into_iter().flatten().collect()
}

/// [`map`] beside other work: `first` runs on the calling thread while up
/// to `threads - 1` other threads map the items; then the calling thread
/// maps what is left. The threads take the items one at a time, in order,
/// from a shared queue, so they finish close together however long `first`
/// and each item take. The results come back in the items' order. With
/// one thread, `first` runs and then every item, in order.
pub fn map_beside<T: Send, U: Send, R>(
    items: Vec<T>,
    threads: usize,
    first: impl FnOnce() -> R,
    f: impl Fn(T) -> U + Sync,
) -> (R, Vec<U>) {
    let helpers = threads.max(1).min(items.len() + 1) - 1;
    if helpers == 0 {
        let r = first();
        return (r, items.into_iter().map(f).collect());
    }
    let n = items.len();
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    // Nothing panics while holding the lock: a poisoned one is still whole.
    let next = || queue.lock().unwrap_or_else(|e| e.into_inner()).next();
    let drain = || {
        let mut done = Vec::new();
        while let Some((i, x)) = next() {
            done.push((i, f(x)));
        }
        done
    };
    let (r, done) = std::thread::scope(|s| {
        let others: Vec<_> = (0..helpers).map(|_| s.spawn(drain)).collect();
        let r = first();
        let mut done = vec![drain()];
        for h in others {
            // A panic in `f` is a bug: let it surface as one.
            done.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        (r, done)
    });
    let mut slots: Vec<Option<U>> = (0..n).map(|_| None).collect();
    for (i, u) in done.into_iter().flatten() {
        slots[i] = Some(u);
    }
    (r, slots.into_iter().flatten().collect())
}

/// Renders each item into a buffer with `render` and writes the buffers to
/// `w` in order. With several threads the items go in blocks of
/// consecutive ones, each rendered into one buffer by whichever thread
/// takes it first, in order, at most `AHEAD * threads` blocks past the last
/// one written. The calling thread does all the writing, and renders the
/// next block not taken whenever the block it is to write next is not ready:
/// so it renders less than the others, as much less as writing costs, and
/// the threads finish close together (dealing block `b` to thread
/// `b % threads` left the writer, rendering its full share and writing,
/// 20 ms behind the other thread on the site mix's 47 MB of devices). A run
/// allocates a few buffers per thread, the threads start once, and a thread
/// hands over a block, not an item (waking the writer for each of 4,000
/// short findings cost more than rendering them).
pub fn write_each<T: Sync>(
    items: &[T],
    threads: usize,
    w: &mut dyn std::io::Write,
    render: impl Fn(usize, &T, &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    let threads = threads.clamp(1, items.len().max(1));
    // About BLOCKS_PER_THREAD blocks a thread: enough that threads finish
    // close together, few enough that handing over is rare.
    let block = items.len().div_ceil(threads * BLOCKS_PER_THREAD).max(1);
    let blocks = items.len().div_ceil(block);
    let render_block = |b: usize, buf: &mut Vec<u8>| -> std::io::Result<()> {
        buf.clear();
        let start = b * block;
        let end = (start + block).min(items.len());
        (start..end).try_for_each(|i| render(i, &items[i], buf))
    };
    if threads == 1 {
        let mut own = Vec::new();
        return (0..items.len()).try_for_each(|i| {
            own.clear();
            render(i, &items[i], &mut own)?;
            w.write_all(&own)
        });
    }
    let desk = Desk {
        state: Mutex::new(Blocks {
            next: 0,
            written: 0,
            ready: (0..blocks).map(|_| None).collect(),
            spent: Vec::new(),
            stop: false,
            failed: false,
        }),
        changed: Condvar::new(),
    };
    let window = AHEAD * threads;
    let (desk, render_block) = (&desk, &render_block);
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(move || {
                let _failed = desk.fail_on_panic();
                let mut st = desk.lock();
                loop {
                    if st.stop || st.next >= blocks {
                        return;
                    }
                    if st.next >= st.written + window {
                        st = desk.wait(st);
                        continue;
                    }
                    let b = st.next;
                    st.next += 1;
                    let mut buf = st.spent.pop().unwrap_or_default();
                    drop(st);
                    let r = render_block(b, &mut buf).map(|()| buf);
                    let failed = r.is_err();
                    st = desk.lock();
                    st.ready[b] = Some(r);
                    desk.changed.notify_all();
                    // The writer stops at the error: nothing after it is
                    // wanted.
                    if failed {
                        return;
                    }
                }
            });
        }
        // However the writer leaves (done, failed, panicking), the other
        // threads stop, so the scope can end.
        let _stop = desk.stop_on_drop();
        let mut st = desk.lock();
        while st.written < blocks {
            let b = st.written;
            if let Some(r) = st.ready[b].take() {
                drop(st);
                let buf = r?;
                w.write_all(&buf)?;
                st = desk.lock();
                st.spent.push(buf);
                st.written = b + 1;
                desk.changed.notify_all();
                continue;
            }
            if st.failed {
                // The scope re-raises the thread's panic when it ends.
                return Err(std::io::Error::other("a rendering thread stopped"));
            }
            // Block `b` is being rendered: render the next one meanwhile.
            if st.next < blocks && st.next < b + window {
                let c = st.next;
                st.next += 1;
                let mut buf = st.spent.pop().unwrap_or_default();
                drop(st);
                let r = render_block(c, &mut buf).map(|()| buf);
                st = desk.lock();
                st.ready[c] = Some(r);
                continue;
            }
            st = desk.wait(st);
        }
        Ok(())
    })
}

/// Blocks of items per thread in [`write_each`].
const BLOCKS_PER_THREAD: usize = 32;

/// Blocks a thread of [`write_each`] may take past the last one written
/// (times the threads): what bounds the buffers held.
const AHEAD: usize = 4;

/// What the threads of [`write_each`] share.
struct Desk {
    state: Mutex<Blocks>,
    /// Signalled when a block is rendered or written, or the run stops.
    changed: Condvar,
}

struct Blocks {
    /// The first block no thread has taken.
    next: usize,
    /// Blocks written.
    written: usize,
    /// Blocks rendered by the other threads, until written.
    ready: Vec<Option<std::io::Result<Vec<u8>>>>,
    /// Written blocks' buffers, to render into again.
    spent: Vec<Vec<u8>>,
    /// The writer has finished or failed.
    stop: bool,
    /// A rendering thread panicked.
    failed: bool,
}

impl Desk {
    fn lock(&self) -> MutexGuard<'_, Blocks> {
        // Nothing panics while holding the lock: a poisoned one is whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, st: MutexGuard<'a, Blocks>) -> MutexGuard<'a, Blocks> {
        self.changed.wait(st).unwrap_or_else(|e| e.into_inner())
    }

    fn stop_on_drop(&self) -> OnDrop<'_> {
        OnDrop {
            desk: self,
            panic_only: false,
        }
    }

    fn fail_on_panic(&self) -> OnDrop<'_> {
        OnDrop {
            desk: self,
            panic_only: true,
        }
    }
}

/// Stops the run when dropped: always for the writer, when panicking for a
/// rendering thread (whose block the writer would wait for).
struct OnDrop<'a> {
    desk: &'a Desk,
    panic_only: bool,
}

impl Drop for OnDrop<'_> {
    fn drop(&mut self) {
        if self.panic_only && !std::thread::panicking() {
            return;
        }
        let mut st = self.desk.lock();
        if self.panic_only {
            st.failed = true;
        } else {
            st.stop = true;
        }
        drop(st);
        self.desk.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_their_order_on_any_number_of_threads() {
        let items: Vec<u32> = (0..101).collect();
        let want: Vec<u64> = items.iter().map(|x| u64::from(*x) * 3).collect();
        for threads in [0, 1, 2, 3, 7, 200] {
            assert_eq!(map(items.clone(), threads, |x| u64::from(x) * 3), want);
        }
        assert!(map(Vec::<u8>::new(), 4, |x| x).is_empty());
    }

    #[test]
    fn beside_first_the_results_keep_their_order() {
        // Uneven items: some take far longer than others.
        let items: Vec<u64> = (0..101).collect();
        let slow = |x: u64| (0..(x % 13) * 1000).fold(x, |a, b| a.wrapping_add(b % 3)) * 3;
        let want: Vec<u64> = items.iter().map(|x| slow(*x)).collect();
        for threads in [0, 1, 2, 3, 7, 200] {
            let mut ran = false;
            let (r, got) = map_beside(
                items.clone(),
                threads,
                || {
                    ran = true;
                    "first"
                },
                slow,
            );
            assert!(ran, "{threads} threads");
            assert_eq!(r, "first");
            assert_eq!(got, want, "{threads} threads");
        }
        let (r, none) = map_beside(Vec::<u8>::new(), 4, || 7, |x| x);
        assert_eq!((r, none.len()), (7, 0));
    }

    #[test]
    fn every_block_size_keeps_the_order() {
        // Item counts around the block boundaries of 2 to 5 threads.
        for n in [1usize, 2, 31, 32, 33, 64, 65, 97, 300, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let render = |i: usize, x: &usize, b: &mut Vec<u8>| {
                assert_eq!(i, *x);
                // Uneven sizes: some items are long.
                let reps = if x.is_multiple_of(7) { 50 } else { 1 };
                for _ in 0..reps {
                    b.extend_from_slice(format!("{x};").as_bytes());
                }
                Ok(())
            };
            let mut one = Vec::new();
            write_each(&items, 1, &mut one, render).unwrap();
            // One thread writes every item in order.
            let mut want = Vec::new();
            for x in &items {
                render(*x, x, &mut want).unwrap();
            }
            assert_eq!(one, want, "{n} items on one thread");
            for threads in [2, 3, 4, 5] {
                let mut many = Vec::new();
                write_each(&items, threads, &mut many, render).unwrap();
                assert_eq!(many, one, "{n} items on {threads} threads");
            }
        }
    }

    #[test]
    fn a_render_error_on_any_thread_is_returned_and_nothing_after_it_written() {
        let items: Vec<usize> = (0..500).collect();
        for bad in [0usize, 1, 17, 250, 499] {
            for threads in [1, 2, 3] {
                let mut out = Vec::new();
                let err = write_each(&items, threads, &mut out, |_, x, b| {
                    if *x == bad {
                        return Err(std::io::Error::other(format!("item {x}")));
                    }
                    b.extend_from_slice(format!("{x},").as_bytes());
                    Ok(())
                })
                .unwrap_err();
                assert_eq!(err.to_string(), format!("item {bad}"));
                // What was written is a prefix of the items before the bad one.
                let text = String::from_utf8(out).unwrap();
                let written: Vec<usize> = text
                    .split_terminator(',')
                    .map(|v| v.parse().unwrap())
                    .collect();
                assert!(written.len() <= bad, "{threads} threads wrote past {bad}");
                assert!(written.iter().enumerate().all(|(i, v)| i == *v));
            }
        }
    }

    #[test]
    fn a_render_that_panics_on_any_thread_panics_the_call_and_hangs_nothing() {
        let items: Vec<usize> = (0..300).collect();
        for bad in [0usize, 1, 150, 299] {
            for threads in [2, 3] {
                let run = std::panic::catch_unwind(|| {
                    let mut out = Vec::new();
                    write_each(&items, threads, &mut out, |_, x, b| {
                        assert_ne!(*x, bad, "item {bad}");
                        b.extend_from_slice(format!("{x},").as_bytes());
                        Ok(())
                    })
                });
                assert!(run.is_err(), "item {bad} on {threads} threads");
            }
        }
    }

    /// A writer that fails after `left` bytes.
    struct Failing {
        left: usize,
    }

    impl std::io::Write for Failing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if b.len() > self.left {
                return Err(std::io::Error::other("disk full"));
            }
            self.left -= b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_writer_stops_every_thread_with_its_error() {
        let items: Vec<usize> = (0..2000).collect();
        for threads in [1, 2, 3] {
            let mut w = Failing { left: 1000 };
            let err = write_each(&items, threads, &mut w, |_, x, b| {
                b.extend_from_slice(format!("{x:08},").as_bytes());
                Ok(())
            })
            .unwrap_err();
            assert_eq!(err.to_string(), "disk full");
        }
    }
}
