//! The Settings screen: the lane's settings, saved into the config file.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::*;
use crate::tui::model::*;
use crate::tui::theme::Theme;
use crate::tui::update::*;

/// The keys of this screen, shown in its footer and on the help screen.
pub const KEYS: &[Key] = &[
    Key {
        keys: "↑/↓",
        does: "field",
    },
    Key {
        keys: "type",
        does: "a value",
    },
    Key {
        keys: "Enter",
        does: "save",
    },
];

pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let s = &mut m.settings;
    let len = s.fields.len();
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Up | KeyCode::BackTab => s.focus = (s.focus + len.max(1) - 1) % len.max(1),
        KeyCode::Down | KeyCode::Tab => s.focus = (s.focus + 1) % len.max(1),
        KeyCode::Enter if m.demo => {
            s.message =
                Some("demo mode: settings are not saved (the demo terminal is temporary)".into());
        }
        KeyCode::Enter => {
            let values = s
                .fields
                .iter()
                .map(|(k, f)| (k.clone(), f.text.trim().to_string()))
                .collect();
            return vec![Effect::SaveSettings(values)];
        }
        KeyCode::Left | KeyCode::Right if focused_on(s, "theme") && !s.themes.is_empty() => {
            let themes = &s.themes;
            if let Some((_, f)) = s.fields.get_mut(s.focus) {
                let at = themes.iter().position(|t| *t == f.text).unwrap_or(0);
                let next = if key.code == KeyCode::Right {
                    (at + 1) % themes.len()
                } else {
                    (at + themes.len() - 1) % themes.len()
                };
                f.set(&themes[next]);
            }
        }
        _ if focused_on(s, "theme") => {
            s.message = Some(format!("pick a theme with ←/→: {}", s.themes.join(", ")));
        }
        _ => {
            if let Some((_, f)) = s.fields.get_mut(s.focus) {
                f.edit(key);
            }
        }
    }
    vec![]
}

fn focused_on(s: &SettingsForm, name: &str) -> bool {
    s.fields.get(s.focus).is_some_and(|(k, _)| k == name)
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let s = &m.settings;
    let mut lines = vec![Line::from("")];
    for (i, (name, field)) in s.fields.iter().enumerate() {
        let focused = i == s.focus;
        let value = if name == "app_id" && !focused {
            crate::mask::mask_app_id(&field.text)
        } else {
            field.shown(focused)
        };
        lines.push(Line::from(vec![
            label(name, focused, theme),
            Span::styled(format!(" {value}"), theme.input),
        ]));
    }
    lines.push(Line::from(""));
    if let Some(msg) = &s.message {
        lines.push(Line::from(Span::styled(format!(" {msg}"), theme.warning)));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
