//! The one key table: `(keys, Action, description)`.
//!
//! The same [`Keymap`] drives dispatch (key press → [`Action`]), the footer hints and the `?` help
//! overlay, so a remapped key shows up everywhere at once. The defaults are built in; the config's
//! `[keys]` table (action name → key specs such as `"ctrl-c"`, `"tab"`, `"up"`, `"x"`) replaces the
//! keys of the actions it names, and the result is checked for duplicates.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks the dashboard to do. Ticket actions go to the state actor; the rest are UI-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Walk for a market buy (the asks).
    Buy,
    /// Walk for a market sell (the bids).
    Sell,
    /// Buy ↔ sell.
    Flip,
    /// Size + one step.
    SizeUp,
    /// Size − one step.
    SizeDown,
    /// Step × 10.
    StepUp,
    /// Step ÷ 10.
    StepDown,
    /// Open the size prompt (type an exact size).
    EditSize,
    /// Include/exclude venue N (0-based, config order) in the merged walk.
    ToggleVenue(u8),
    /// Freeze/unfreeze the displayed View.
    Pause,
    /// Scroll the fills table up one page.
    ScrollUp,
    /// Scroll the fills table down one page.
    ScrollDown,
    /// Show the next fills table (merged, then each venue).
    CycleFills,
    /// Open/close the key list.
    Help,
    /// Switch to the offline demo (only while the screen offers it).
    Demo,
    /// Quit.
    Quit,
    /// Close the help or the prompt; quit when neither is open.
    Back,
}

/// Venue toggles the keymap knows (`venue-1` … `venue-9`).
pub const MAX_VENUE_KEYS: u8 = 9;

impl Action {
    /// Every action, in table order (the order of the footer and the help overlay).
    #[must_use]
    pub fn all() -> Vec<Action> {
        let mut all = vec![
            Action::Buy,
            Action::Sell,
            Action::Flip,
            Action::SizeUp,
            Action::SizeDown,
            Action::StepUp,
            Action::StepDown,
            Action::EditSize,
        ];
        all.extend((0..MAX_VENUE_KEYS).map(Action::ToggleVenue));
        all.extend([
            Action::Pause,
            Action::ScrollUp,
            Action::ScrollDown,
            Action::CycleFills,
            Action::Help,
            Action::Demo,
            Action::Quit,
            Action::Back,
        ]);
        all
    }

    /// The name used in the config's `[keys]` table (`size-up`, `venue-3`, …).
    #[must_use]
    pub fn name(self) -> String {
        let s = match self {
            Action::Buy => "buy",
            Action::Sell => "sell",
            Action::Flip => "flip",
            Action::SizeUp => "size-up",
            Action::SizeDown => "size-down",
            Action::StepUp => "step-up",
            Action::StepDown => "step-down",
            Action::EditSize => "edit-size",
            Action::ToggleVenue(i) => return format!("venue-{}", u16::from(i) + 1),
            Action::Pause => "pause",
            Action::ScrollUp => "scroll-up",
            Action::ScrollDown => "scroll-down",
            Action::CycleFills => "cycle-fills",
            Action::Help => "help",
            Action::Demo => "demo",
            Action::Quit => "quit",
            Action::Back => "back",
        };
        s.to_owned()
    }

    /// The action named `name` in the config, if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Action> {
        Action::all().into_iter().find(|a| a.name() == name)
    }

    /// One line for the help overlay.
    #[must_use]
    pub fn description(self) -> String {
        let s = match self {
            Action::Buy => "market buy: walk the asks",
            Action::Sell => "market sell: walk the bids",
            Action::Flip => "flip buy ↔ sell",
            Action::SizeUp => "size up one step",
            Action::SizeDown => "size down one step",
            Action::StepUp => "step × 10",
            Action::StepDown => "step ÷ 10",
            Action::EditSize => "type an exact size (Enter applies, Esc cancels)",
            Action::ToggleVenue(i) => {
                return format!(
                    "include/exclude venue {} in the merged walk",
                    u16::from(i) + 1
                );
            }
            Action::Pause => "pause/resume the display",
            Action::ScrollUp => "scroll the fills up",
            Action::ScrollDown => "scroll the fills down",
            Action::CycleFills => "next fills table (merged, per venue)",
            Action::Help => "this help",
            Action::Demo => "switch to the offline demo (when offered)",
            Action::Quit => "quit",
            Action::Back => "close help / prompt, else quit",
        };
        s.to_owned()
    }

    /// The footer label, for actions that have a footer hint. Actions sharing a label are shown as one
    /// hint (`↑/↓ size`).
    #[must_use]
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            Action::Buy => "buy",
            Action::Sell => "sell",
            Action::Flip => "flip",
            Action::SizeUp | Action::SizeDown => "size",
            Action::StepUp | Action::StepDown => "step",
            Action::EditSize => "edit size",
            Action::ToggleVenue(_) => "venues",
            Action::Pause => "pause",
            Action::CycleFills => "fills",
            Action::Help => "help",
            Action::Quit => "quit",
            Action::ScrollUp | Action::ScrollDown | Action::Demo | Action::Back => return None,
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One key with its modifiers, normalised so that it compares equal to the events it matches.
///
/// For character keys only Ctrl and Alt count (Shift is already in the character: `?`, `B`), and a
/// Ctrl/Alt letter is stored lowercase; for other keys Ctrl, Alt and Shift count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Its modifiers (normalised, see the type's doc).
    pub mods: KeyModifiers,
}

impl Key {
    /// A key with no modifier.
    #[must_use]
    pub fn plain(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }

    /// A key with modifiers, normalised.
    #[must_use]
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        match code {
            KeyCode::Char(c) => {
                let mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT);
                let c = if mods.is_empty() {
                    c
                } else {
                    c.to_ascii_lowercase()
                };
                Key {
                    code: KeyCode::Char(c),
                    mods,
                }
            }
            // Terminals report Shift-Tab as BackTab with SHIFT set: the code already says it.
            KeyCode::BackTab => Key {
                code,
                mods: mods & (KeyModifiers::CONTROL | KeyModifiers::ALT),
            },
            _ => Key {
                code,
                mods: mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT),
            },
        }
    }

    /// The key a terminal event stands for.
    #[must_use]
    pub fn from_event(ev: &KeyEvent) -> Key {
        Key::new(ev.code, ev.modifiers)
    }

    /// True for a character typed without Ctrl/Alt (what a text prompt takes as input).
    #[must_use]
    pub fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && self.mods.is_empty()
    }

    /// Parses a key spec: `x`, `?`, `+`, `tab`, `backtab`, `enter`, `esc`, `backspace`, `space`, `up`,
    /// `down`, `left`, `right`, `pageup`, `pagedown`, `home`, `end`, `insert`, `delete`, `f1`…`f12`,
    /// with optional `ctrl-`, `alt-`, `shift-` prefixes (case-insensitive), e.g. `ctrl-c`.
    ///
    /// # Errors
    /// A message saying what could not be understood.
    pub fn parse(spec: &str) -> Result<Key, String> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err("empty key".to_owned());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = spec;
        loop {
            // A single character left is the key itself, even `-` (so `ctrl--` is Ctrl and `-`).
            if rest.chars().count() <= 1 {
                break;
            }
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if mods.contains(m) {
                return Err(format!("modifier repeated in \"{spec}\""));
            }
            mods |= m;
            rest = rest.get(len..).unwrap_or_default();
        }
        if rest.is_empty() {
            return Err(format!("no key after the modifiers in \"{spec}\""));
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if c.is_control() {
                    return Err(format!("control character in \"{spec}\""));
                }
                if mods.contains(KeyModifiers::SHIFT) {
                    if !c.is_ascii_alphabetic() {
                        return Err(format!(
                            "shift- only combines with a letter or a named key, not \"{c}\" (write the shifted character itself)"
                        ));
                    }
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => named_key(&rest.to_ascii_lowercase())
                .ok_or_else(|| format!("unknown key name \"{rest}\" in \"{spec}\""))?,
        };
        Ok(Key::new(code, mods))
    }

    /// How the footer and the help show the key (`Ctrl-C`, `Tab`, `↑`, `PgDn`, `q`).
    #[must_use]
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("Alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            s.push_str("Shift-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("Space"),
            KeyCode::Char(c) if !self.mods.is_empty() => s.push(c.to_ascii_uppercase()),
            KeyCode::Char(c) => s.push(c),
            KeyCode::Up => s.push('↑'),
            KeyCode::Down => s.push('↓'),
            KeyCode::Left => s.push('←'),
            KeyCode::Right => s.push('→'),
            KeyCode::Tab => s.push_str("Tab"),
            KeyCode::BackTab => s.push_str("S-Tab"),
            KeyCode::Enter => s.push_str("Enter"),
            KeyCode::Esc => s.push_str("Esc"),
            KeyCode::Backspace => s.push_str("Bksp"),
            KeyCode::PageUp => s.push_str("PgUp"),
            KeyCode::PageDown => s.push_str("PgDn"),
            KeyCode::Home => s.push_str("Home"),
            KeyCode::End => s.push_str("End"),
            KeyCode::Insert => s.push_str("Ins"),
            KeyCode::Delete => s.push_str("Del"),
            KeyCode::F(n) => s.push_str(&format!("F{n}")),
            other => s.push_str(&format!("{other:?}")),
        }
        s
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "backspace" => KeyCode::Backspace,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "insert" | "ins" => KeyCode::Insert,
        "delete" | "del" => KeyCode::Delete,
        "minus" => KeyCode::Char('-'),
        "plus" => KeyCode::Char('+'),
        f if f.len() >= 2 && f.starts_with('f') => {
            let n: u8 = f.get(1..)?.parse().ok()?;
            if (1..=12).contains(&n) {
                KeyCode::F(n)
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

/// A bad `[keys]` table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    /// The action name is not one the keymap knows.
    #[error("keys: unknown action \"{name}\" (known actions: {known})")]
    UnknownAction {
        /// The name as written.
        name: String,
        /// Every valid name, comma separated.
        known: String,
    },
    /// A key spec could not be parsed.
    #[error("keys.{action}: cannot use key \"{spec}\": {reason}")]
    BadKey {
        /// The action it was given for.
        action: String,
        /// The spec as written.
        spec: String,
        /// Why.
        reason: String,
    },
    /// An action was given an empty list.
    #[error("keys.{action}: no key given (every action needs at least one key)")]
    NoKeys {
        /// The action.
        action: String,
    },
    /// One key ends up bound to two actions (or twice to one).
    #[error("keys: {key} is bound to both \"{first}\" and \"{second}\"")]
    Duplicate {
        /// The key's label.
        key: String,
        /// The first action bound to it, in table order.
        first: String,
        /// The second.
        second: String,
    },
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// What the keys do.
    pub action: Action,
    /// The keys, the first one being the one the footer shows.
    pub keys: Vec<Key>,
}

/// The key table. Build it with [`Keymap::default`] or [`Keymap::from_overrides`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

fn ch(c: char) -> Key {
    Key::plain(KeyCode::Char(c))
}

fn default_keys(action: Action) -> Vec<Key> {
    match action {
        Action::Buy => vec![ch('b')],
        Action::Sell => vec![ch('s')],
        Action::Flip => vec![Key::plain(KeyCode::Tab)],
        Action::SizeUp => vec![Key::plain(KeyCode::Up), ch('k'), ch('+')],
        Action::SizeDown => vec![Key::plain(KeyCode::Down), ch('j'), ch('-')],
        Action::StepUp => vec![ch(']')],
        Action::StepDown => vec![ch('[')],
        Action::EditSize => vec![ch('e')],
        Action::ToggleVenue(i) => vec![ch(char::from(b'1' + i.min(MAX_VENUE_KEYS - 1)))],
        Action::Pause => vec![ch('p')],
        Action::ScrollUp => vec![Key::plain(KeyCode::PageUp)],
        Action::ScrollDown => vec![Key::plain(KeyCode::PageDown)],
        Action::CycleFills => vec![ch('f')],
        Action::Help => vec![ch('?')],
        Action::Demo => vec![ch('d')],
        Action::Quit => vec![ch('q'), Key::new(KeyCode::Char('c'), KeyModifiers::CONTROL)],
        Action::Back => vec![Key::plain(KeyCode::Esc)],
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: Action::all()
                .into_iter()
                .map(|action| Binding {
                    action,
                    keys: default_keys(action),
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with the keys of the named actions replaced (the config's `[keys]` table).
    ///
    /// # Errors
    /// An unknown action name, an unparsable key, an empty key list, or a key bound twice.
    pub fn from_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        for (name, specs) in overrides {
            let Some(action) = Action::from_name(name) else {
                return Err(KeymapError::UnknownAction {
                    name: name.clone(),
                    known: Action::all()
                        .iter()
                        .map(|a| a.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            if specs.is_empty() {
                return Err(KeymapError::NoKeys {
                    action: name.clone(),
                });
            }
            let keys = specs
                .iter()
                .map(|spec| {
                    Key::parse(spec).map_err(|reason| KeymapError::BadKey {
                        action: name.clone(),
                        spec: spec.clone(),
                        reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(b) = map.bindings.iter_mut().find(|b| b.action == action) {
                b.keys = keys;
            }
        }
        map.check_duplicates()?;
        Ok(map)
    }

    fn check_duplicates(&self) -> Result<(), KeymapError> {
        let mut seen: Vec<(Key, Action)> = Vec::new();
        for b in &self.bindings {
            for k in &b.keys {
                if let Some((_, first)) = seen.iter().find(|(key, _)| key == k) {
                    return Err(KeymapError::Duplicate {
                        key: k.label(),
                        first: first.name(),
                        second: b.action.name(),
                    });
                }
                seen.push((*k, b.action));
            }
        }
        Ok(())
    }

    /// The action bound to this key press, if any.
    #[must_use]
    pub fn action_for(&self, ev: &KeyEvent) -> Option<Action> {
        self.action_for_key(Key::from_event(ev))
    }

    /// The action bound to `key`, if any.
    #[must_use]
    pub fn action_for_key(&self, key: Key) -> Option<Action> {
        self.bindings
            .iter()
            .find(|b| b.keys.contains(&key))
            .map(|b| b.action)
    }

    /// The table, in order.
    #[must_use]
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The keys bound to `action` (empty if none).
    #[must_use]
    pub fn keys_for(&self, action: Action) -> &[Key] {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .map_or(&[], |b| b.keys.as_slice())
    }

    /// The first key's label for `action` (`?` if unbound).
    #[must_use]
    pub fn first_label(&self, action: Action) -> String {
        self.keys_for(action)
            .first()
            .map_or_else(|| "?".to_owned(), Key::label)
    }

    /// Footer hints `(keys, label)` in table order: actions sharing a hint label are joined
    /// (`↑/↓ size`), and the venue toggles collapse to `1-N venues` for the `venues` shown.
    #[must_use]
    pub fn footer_hints(&self, venues: usize) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        let mut venue_labels: Vec<String> = Vec::new();
        for b in &self.bindings {
            let Some(hint) = b.action.hint() else {
                continue;
            };
            let Some(first) = b.keys.first() else {
                continue;
            };
            if let Action::ToggleVenue(i) = b.action {
                if !out.iter().any(|(_, h)| *h == hint) {
                    out.push((String::new(), hint));
                }
                if usize::from(i) < venues {
                    venue_labels.push(first.label());
                }
                continue;
            }
            match out.last_mut() {
                Some((keys, last)) if *last == hint => {
                    keys.push('/');
                    keys.push_str(&first.label());
                }
                _ => out.push((first.label(), hint)),
            }
        }
        if let Some(slot) = out.iter_mut().find(|(_, h)| *h == "venues") {
            slot.0 = match venue_labels.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                [first, .., last] => format!("{first}-{last}"),
            };
        }
        out.retain(|(keys, _)| !keys.is_empty());
        out
    }

    /// Rows of the help overlay `(keys, description)`: every binding, the venue toggles folded into
    /// one row.
    #[must_use]
    pub fn help_rows(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut venue_row: Option<usize> = None;
        for b in &self.bindings {
            let keys = b
                .keys
                .iter()
                .map(Key::label)
                .collect::<Vec<_>>()
                .join(" / ");
            if let Action::ToggleVenue(_) = b.action {
                if venue_row.is_none() {
                    venue_row = Some(out.len());
                    out.push((
                        self.venue_keys_label(),
                        "include/exclude venue N in the merged walk".to_owned(),
                    ));
                }
                continue;
            }
            out.push((keys, b.action.description()));
        }
        out
    }

    /// The venue toggles' keys: `1-9` when they are the digits in order, else every key listed.
    fn venue_keys_label(&self) -> String {
        let venue_keys: Vec<&[Key]> = self
            .bindings
            .iter()
            .filter(|b| matches!(b.action, Action::ToggleVenue(_)))
            .map(|b| b.keys.as_slice())
            .collect();
        let digits: Option<Vec<u32>> = venue_keys
            .iter()
            .map(|keys| match keys {
                [
                    Key {
                        code: KeyCode::Char(c),
                        mods,
                    },
                ] if mods.is_empty() => c.to_digit(10),
                _ => None,
            })
            .collect();
        if let Some(digits) = digits
            && let (Some(first), Some(last)) = (digits.first(), digits.last())
            && digits.windows(2).all(|w| w[1] == w[0] + 1)
        {
            return format!("{first}-{last}");
        }
        venue_keys
            .iter()
            .flat_map(|keys| keys.iter().map(Key::label))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn parses_specs() {
        assert_eq!(
            Key::parse("ctrl-c"),
            Ok(Key::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        );
        assert_eq!(
            Key::parse("Ctrl-Shift-Up"),
            Ok(Key::new(
                KeyCode::Up,
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            ))
        );
        assert_eq!(Key::parse("-"), Ok(ch('-')));
        assert_eq!(
            Key::parse("alt--"),
            Ok(Key::new(KeyCode::Char('-'), KeyModifiers::ALT))
        );
        assert_eq!(Key::parse("shift-x"), Ok(ch('X')));
        assert_eq!(Key::parse("F12"), Ok(Key::plain(KeyCode::F(12))));
        assert_eq!(Key::parse("space"), Ok(ch(' ')));
        assert!(Key::parse("f13").is_err());
        assert!(Key::parse("ctrl-").is_err());
        assert!(Key::parse("").is_err());
        assert!(Key::parse("shift-?").is_err());
        assert!(Key::parse("ctrl-ctrl-c").is_err());
        assert_eq!(
            Key::parse("ctrl-foo"),
            Err("unknown key name \"foo\" in \"ctrl-foo\"".to_owned())
        );
    }

    #[test]
    fn events_normalise_shift_on_characters() {
        let map = Keymap::default();
        // Some terminals add SHIFT to '?' and '+'; the character already carries it.
        assert_eq!(
            map.action_for(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::Help)
        );
        assert_eq!(
            map.action_for(&press(KeyCode::Char('C'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action_for(&press(KeyCode::Char('c'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.action_for(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
            None
        );
    }

    #[test]
    fn names_round_trip() {
        for a in Action::all() {
            assert_eq!(Action::from_name(&a.name()), Some(a), "{a}");
        }
        assert_eq!(Action::from_name("venue-10"), None);
        assert_eq!(Action::ToggleVenue(2).name(), "venue-3");
    }

    #[test]
    fn footer_hints_are_grouped() {
        let hints = Keymap::default().footer_hints(3);
        let text: Vec<String> = hints.iter().map(|(k, h)| format!("{k} {h}")).collect();
        assert_eq!(
            text,
            [
                "b buy",
                "s sell",
                "Tab flip",
                "↑/↓ size",
                "]/[ step",
                "e edit size",
                "1-3 venues",
                "p pause",
                "f fills",
                "? help",
                "q quit"
            ]
        );
        let none = Keymap::default().footer_hints(0);
        assert!(none.iter().all(|(_, h)| *h != "venues"));
        let one = Keymap::default().footer_hints(1);
        assert!(one.contains(&("1".to_owned(), "venues")));
    }
}
