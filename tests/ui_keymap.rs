//! The key table: every default binding dispatches to its action, no key is bound twice, the
//! config's `[keys]` overrides parse and reach dispatch, footer and help, and bad overrides are
//! precise errors.

use std::collections::BTreeMap;

use cra_tui::config::Config;
use cra_tui::keymap::{Action, Key, Keymap, KeymapError};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    press(KeyCode::Char(c))
}

/// The documented defaults (design.md §1), written out independently of the table.
fn documented() -> Vec<(KeyEvent, Action)> {
    let mut v = vec![
        (ch('b'), Action::Buy),
        (ch('s'), Action::Sell),
        (press(KeyCode::Tab), Action::Flip),
        (press(KeyCode::Up), Action::SizeUp),
        (ch('k'), Action::SizeUp),
        (ch('+'), Action::SizeUp),
        (press(KeyCode::Down), Action::SizeDown),
        (ch('j'), Action::SizeDown),
        (ch('-'), Action::SizeDown),
        (ch(']'), Action::StepUp),
        (ch('['), Action::StepDown),
        (ch('e'), Action::EditSize),
        (ch('p'), Action::Pause),
        (ch('?'), Action::Help),
        (ch('q'), Action::Quit),
        (
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Action::Quit,
        ),
        (press(KeyCode::Esc), Action::Back),
        (press(KeyCode::PageUp), Action::ScrollUp),
        (press(KeyCode::PageDown), Action::ScrollDown),
        (ch('f'), Action::CycleFills),
        (ch('d'), Action::Demo),
    ];
    for (i, c) in ('1'..='9').enumerate() {
        v.push((ch(c), Action::ToggleVenue(u8::try_from(i).unwrap())));
    }
    v
}

#[test]
fn every_default_binding_dispatches() {
    let map = Keymap::default();
    let expected = documented();
    for (ev, action) in &expected {
        assert_eq!(map.action_for(ev), Some(*action), "{ev:?}");
    }
    // And nothing else is bound: the table has exactly the documented keys.
    let bound: usize = map.bindings().iter().map(|b| b.keys.len()).sum();
    assert_eq!(bound, expected.len());
    // Unbound keys do nothing.
    for ev in [
        ch('x'),
        ch('0'),
        press(KeyCode::Enter),
        press(KeyCode::Left),
    ] {
        assert_eq!(map.action_for(&ev), None, "{ev:?}");
    }
}

#[test]
fn no_key_is_bound_twice() {
    let map = Keymap::default();
    let mut seen: Vec<Key> = Vec::new();
    for b in map.bindings() {
        for k in &b.keys {
            assert!(!seen.contains(k), "{k} bound twice");
            seen.push(*k);
        }
    }
    // Every action has a key.
    for a in Action::all() {
        assert!(!map.keys_for(a).is_empty(), "{a} unbound");
    }
}

#[test]
fn overrides_from_the_config_replace_an_actions_keys() {
    let cfg = Config::from_user_toml(
        r#"
[keys]
quit = ["x", "ctrl-q"]
flip = ["space"]
size-up = ["shift-up", "alt-k"]
venue-2 = ["F2"]
"#,
    )
    .unwrap();
    let map = Keymap::from_overrides(&cfg.keys).unwrap();
    assert_eq!(map.action_for(&ch('x')), Some(Action::Quit));
    assert_eq!(
        map.action_for(&KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    // The replaced keys are free now.
    assert_eq!(map.action_for(&ch('q')), None);
    assert_eq!(map.action_for(&press(KeyCode::Tab)), None);
    assert_eq!(map.action_for(&press(KeyCode::Up)), None);
    assert_eq!(map.action_for(&ch(' ')), Some(Action::Flip));
    assert_eq!(
        map.action_for(&KeyEvent::new(KeyCode::Up, KeyModifiers::SHIFT)),
        Some(Action::SizeUp)
    );
    assert_eq!(
        map.action_for(&KeyEvent::new(KeyCode::Char('k'), KeyModifiers::ALT)),
        Some(Action::SizeUp)
    );
    assert_eq!(
        map.action_for(&press(KeyCode::F(2))),
        Some(Action::ToggleVenue(1))
    );
    // Other actions keep their defaults.
    assert_eq!(map.action_for(&ch('b')), Some(Action::Buy));
    // Footer and help follow the remap.
    let hints = map.footer_hints(3);
    assert!(hints.contains(&("x".to_owned(), "quit")), "{hints:?}");
    assert!(hints.contains(&("Space".to_owned(), "flip")), "{hints:?}");
    assert!(hints.contains(&("1-3".to_owned(), "venues")), "{hints:?}");
    let help = map.help_rows();
    assert!(
        help.contains(&("x / Ctrl-Q".to_owned(), "quit".to_owned())),
        "{help:?}"
    );
    assert!(
        help.iter()
            .any(|(k, _)| k == "1 / F2 / 3 / 4 / 5 / 6 / 7 / 8 / 9"),
        "{help:?}"
    );
}

#[test]
fn bad_overrides_are_precise_errors() {
    let one = |name: &str, keys: &[&str]| {
        let mut m = BTreeMap::new();
        m.insert(
            name.to_owned(),
            keys.iter().map(|k| (*k).to_owned()).collect(),
        );
        Keymap::from_overrides(&m)
    };
    let err = one("jump", &["x"]).unwrap_err();
    assert!(matches!(&err, KeymapError::UnknownAction { name, .. } if name == "jump"));
    assert!(
        err.to_string()
            .starts_with("keys: unknown action \"jump\" (known actions: buy, sell, flip,"),
        "{err}"
    );

    let err = one("quit", &["ctrl-banana"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "keys.quit: cannot use key \"ctrl-banana\": unknown key name \"banana\" in \"ctrl-banana\""
    );
    assert!(one("quit", &[""]).is_err());
    assert!(one("quit", &["f13"]).is_err());
    assert_eq!(
        one("help", &[]).unwrap_err().to_string(),
        "keys.help: no key given (every action needs at least one key)"
    );
    // `b` already buys.
    assert_eq!(
        one("sell", &["b"]).unwrap_err(),
        KeymapError::Duplicate {
            key: "b".to_owned(),
            first: "buy".to_owned(),
            second: "sell".to_owned()
        }
    );
    assert_eq!(
        one("pause", &["x", "x"]).unwrap_err().to_string(),
        "keys: x is bound to both \"pause\" and \"pause\""
    );
    // Moving a key away and reusing it elsewhere is fine.
    let mut m = BTreeMap::new();
    m.insert("buy".to_owned(), vec!["B".to_owned()]);
    m.insert("sell".to_owned(), vec!["b".to_owned()]);
    let map = Keymap::from_overrides(&m).unwrap();
    assert_eq!(map.action_for(&ch('b')), Some(Action::Sell));
    assert_eq!(
        map.action_for(&KeyEvent::new(KeyCode::Char('B'), KeyModifiers::SHIFT)),
        Some(Action::Buy)
    );
}
