//! Work spread over a few threads, results in their original order.
//!
//! The report phase of a run with several analysis workers uses this for
//! what is independent per device (building its report, checking it,
//! rendering it). With one thread everything stays on the calling thread,
//! in order, so a single-core run does exactly what it did before.

use std::sync::mpsc;

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
/// consecutive ones, block `b` rendered by thread `b % threads` into one
/// buffer (the calling thread is thread 0, and does all the writing). Each
/// other thread renders its blocks in order, at most [`AHEAD`] of them
/// before the writer takes them, and gets its spent buffers back: a run
/// allocates a few buffers per thread, the threads start once, and a
/// thread hands over a block, not an item (waking the writer for each of
/// 4,000 short findings cost more than rendering them).
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
    let mut own = Vec::new();
    if threads == 1 {
        return (0..items.len()).try_for_each(|i| {
            own.clear();
            render(i, &items[i], &mut own)?;
            w.write_all(&own)
        });
    }
    let render_block = &render_block;
    std::thread::scope(|s| {
        let lanes: Vec<Lane> = (1..threads)
            .map(|t| {
                let (done, rendered) = mpsc::sync_channel(AHEAD);
                let (give_back, spent) = mpsc::channel::<Vec<u8>>();
                s.spawn(move || {
                    for b in (t..blocks).step_by(threads) {
                        let mut buf = spent.try_recv().unwrap_or_default();
                        let r = render_block(b, &mut buf).map(|()| buf);
                        let failed = r.is_err();
                        // The writer hung up (it failed): stop.
                        if done.send(r).is_err() || failed {
                            return;
                        }
                    }
                });
                Lane {
                    rendered,
                    give_back,
                }
            })
            .collect();
        let mut written = || -> std::io::Result<()> {
            for b in 0..blocks {
                let t = b % threads;
                if t == 0 {
                    render_block(b, &mut own)?;
                    w.write_all(&own)?;
                    continue;
                }
                let lane = &lanes[t - 1];
                // A closed lane is a thread that panicked: the scope
                // re-raises the panic when it ends.
                let buf = lane
                    .rendered
                    .recv()
                    .map_err(|_| std::io::Error::other("a rendering thread stopped"))??;
                w.write_all(&buf)?;
                // The thread may have finished: then the buffer just goes.
                let _ = lane.give_back.send(buf);
            }
            Ok(())
        };
        let result = written();
        // Threads still waiting to hand over a buffer see the lane closed
        // and stop, so the scope can end.
        drop(lanes);
        result
    })
}

/// Blocks of items per thread in [`write_each`].
const BLOCKS_PER_THREAD: usize = 16;

/// Rendered blocks a thread of [`write_each`] holds before the writer takes
/// them.
const AHEAD: usize = 4;

/// The writer's end of one rendering thread of [`write_each`].
struct Lane {
    rendered: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    give_back: mpsc::Sender<Vec<u8>>,
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
    fn written_in_order_whatever_the_threads() {
        let items: Vec<usize> = (0..300).collect();
        let render = |i: usize, x: &usize, b: &mut Vec<u8>| {
            assert_eq!(i, *x);
            b.extend_from_slice(format!("{x},").as_bytes());
            Ok(())
        };
        let mut one = Vec::new();
        write_each(&items, 1, &mut one, render).unwrap();
        for threads in [2, 3, 5] {
            let mut many = Vec::new();
            write_each(&items, threads, &mut many, render).unwrap();
            assert_eq!(many, one);
        }
        assert!(String::from_utf8(one).unwrap().starts_with("0,1,2,"));
    }

    #[test]
    fn every_block_size_keeps_the_order() {
        // Item counts around the block boundaries of 2 and 3 threads.
        for n in [1usize, 2, 31, 32, 33, 64, 65, 97, 1000] {
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
            for threads in [2, 3, 4] {
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
