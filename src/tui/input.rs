//! Keys to actions. What a key means depends on the mode: while a filter or
//! a file name is typed, letters are text.

use super::app::{Action, Mode, View};
use super::feed::Control;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The action a key press asks for, if any.
pub fn action(mode: &Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
        return Some(Action::Quit);
    }
    let typing = matches!(mode, Mode::Filter | Mode::Export(_));
    if typing && ctrl && key.code == KeyCode::Char('u') {
        return Some(Action::EraseAll);
    }
    let a = match key.code {
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Enter if typing => Action::Submit,
        KeyCode::Esc if typing => Action::Cancel,
        KeyCode::Backspace if typing => Action::Erase,
        KeyCode::Char(c) if typing && !ctrl => Action::Type(c),
        _ if typing => return None,
        KeyCode::Home => Action::Top,
        KeyCode::End => Action::Bottom,
        KeyCode::Enter => Action::Open,
        KeyCode::Esc | KeyCode::Backspace | KeyCode::Left => Action::Back,
        KeyCode::Right => Action::Open,
        KeyCode::Tab => Action::NextView,
        KeyCode::BackTab => Action::PrevView,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char(c) => match c {
            'j' => Action::Down,
            'k' => Action::Up,
            'g' => Action::Top,
            'G' => Action::Bottom,
            'l' => Action::Open,
            'h' => Action::Back,
            '1' => Action::Show(View::Devices),
            '2' => Action::Show(View::Device),
            '3' => Action::Show(View::Findings),
            '/' => Action::StartFilter,
            'f' => Action::ErrorsOnly,
            'e' => Action::StartExport,
            '?' => Action::Help,
            'q' => Action::Quit,
            ' ' | 'p' => Action::Replay(Control::TogglePause),
            's' | '.' => Action::Replay(Control::Step),
            '>' => Action::Replay(Control::JumpToEnd),
            '+' | '=' => Action::Replay(Control::Faster),
            '-' => Action::Replay(Control::Slower),
            _ => return None,
        },
        _ => return None,
    };
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn letters_are_commands_unless_typing() {
        let q = press(KeyCode::Char('q'));
        assert_eq!(action(&Mode::Normal, q), Some(Action::Quit));
        assert_eq!(action(&Mode::Filter, q), Some(Action::Type('q')));
        assert_eq!(
            action(&Mode::Export("x".into()), press(KeyCode::Enter)),
            Some(Action::Submit)
        );
        assert_eq!(
            action(&Mode::Filter, press(KeyCode::Down)),
            Some(Action::Down)
        );
    }

    #[test]
    fn ctrl_c_always_quits() {
        let k = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action(&Mode::Filter, k), Some(Action::Quit));
    }
}
