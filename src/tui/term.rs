//! Taking over the terminal, and giving it back whatever happens: on a
//! normal exit (the guard's drop), on a panic in any thread (a panic hook
//! that restores before the message is printed, so it is readable), and on
//! SIGTERM, SIGHUP or SIGINT (flags the run loop reads). A terminal that
//! went away (its window closed) is noticed by [`is_gone`], so the program
//! ends instead of spinning on a dead terminal.

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, IsTerminal, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard {
    pub terminal: Term,
}

/// True while the screen is ours (the panic hook restores only then).
static TAKEN: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Takes over the terminal: raw mode, the alternate screen, mouse reports.
pub fn enter() -> Result<Guard, String> {
    if !io::stdout().is_terminal() {
        return Err("tui: standard output is not a terminal (use `analyze` for a report)".into());
    }
    install_panic_hook();
    let fail = |e: io::Error| format!("tui: cannot set up the terminal: {e}");
    enable_raw_mode().map_err(fail)?;
    TAKEN.store(true, Ordering::SeqCst);
    let mut out = io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture, cursor::Hide) {
        restore();
        return Err(fail(e));
    }
    match Terminal::new(CrosstermBackend::new(out)) {
        Ok(terminal) => Ok(Guard { terminal }),
        Err(e) => {
            restore();
            Err(fail(e))
        }
    }
}

/// Gives the terminal back. Safe to call more than once.
pub fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            io::stdout(),
            DisableMouseCapture,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = disable_raw_mode();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// A flag raised by SIGTERM, SIGHUP or SIGINT, for the run loop to end on.
pub fn stop_signals() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&flag))
            .map_err(|e| format!("tui: cannot handle signal {sig}: {e}"))?;
    }
    Ok(flag)
}

/// True when the terminal hung up (standard input reports a hangup or an
/// error): there is no one left to draw for. When standard input is not the
/// terminal (keys are then read from /dev/tty), a hangup comes as SIGHUP.
pub fn is_gone() -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    if !io::stdin().is_terminal() {
        return false;
    }
    let stdin = rustix::stdio::stdin();
    let mut fds = [PollFd::from_borrowed_fd(stdin, PollFlags::IN)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&now)) {
        Ok(_) => fds[0]
            .revents()
            .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL),
        Err(_) => true,
    }
}
