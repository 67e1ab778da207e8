//! Work spread over a few threads, results in their original order.
//!
//! The report phase of a run with several analysis workers uses this for
//! what is independent per device (building its report, checking it,
//! rendering it). With one thread everything stays on the calling thread,
//! in order, so a single-core run does exactly what it did before.

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

/// Renders each item into a buffer with `render` and writes the buffers to
/// `w` in order. With several threads the items are rendered a round at a
/// time (a few per thread), so only a round's output is held at once.
pub fn write_each<T: Sync>(
    items: &[T],
    threads: usize,
    w: &mut dyn std::io::Write,
    render: impl Fn(usize, &T, &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    if threads <= 1 {
        let mut buf = Vec::new();
        for (i, x) in items.iter().enumerate() {
            buf.clear();
            render(i, x, &mut buf)?;
            w.write_all(&buf)?;
        }
        return Ok(());
    }
    const PER_THREAD: usize = 16;
    let indexed: Vec<(usize, &T)> = items.iter().enumerate().collect();
    for round in indexed.chunks(threads * PER_THREAD) {
        let bufs = map(round.to_vec(), threads, |(i, x)| {
            let mut buf = Vec::new();
            render(i, x, &mut buf).map(|_| buf)
        });
        for b in bufs {
            w.write_all(&b?)?;
        }
    }
    Ok(())
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
}
