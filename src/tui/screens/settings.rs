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

/// The smallest window this screen is drawn in whole.
pub const MIN_SIZE: (u16, u16) = (60, 20);

/// The keys of this screen, shown in its footer and on the help screen.
pub const KEYS: &[Key] = &[
    Key {
        keys: "↑/↓",
        does: "setting",
    },
    Key {
        keys: "type or ←/→",
        does: "value",
    },
    Key {
        keys: "Enter",
        does: "save",
    },
];

/// What each setting does, said under the list for the focused one.
fn about(key: &str) -> &'static str {
    match key {
        "url" => "the terminal's address, as shown on its screen (ws://IP:PORT or IP)",
        "app_id" => "the ECR Hub app id the terminal was set up with",
        "lane" => "this register's lane, 1 to 8 letters or digits (applies on the next start)",
        "currency" => "three-letter ISO 4217 code (applies on the next start)",
        "theme" => "the screen's colours; applies at once",
        "confirm_above" => "sales and tips above this amount ask the cashier first",
        "on_screen_tip" => "the terminal asks the customer for a tip (sales)",
        "on_screen_signature" => "the terminal asks the customer to sign (sales)",
        "confirm_on_terminal" => "the cashier confirms on the terminal (sales, refunds, voids)",
        "receipt" => "which receipts the terminal prints (sales, refunds, voids)",
        _ => "",
    }
}

pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let s = &mut m.settings;
    let len = s.fields.len().max(1);
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Up | KeyCode::BackTab => {
            s.focus = (s.focus + len - 1) % len;
            s.message = None;
        }
        KeyCode::Down | KeyCode::Tab => {
            s.focus = (s.focus + 1) % len;
            s.message = None;
        }
        KeyCode::Enter if m.demo => {
            s.message =
                Some("demo mode: settings are not saved (the demo terminal is temporary)".into());
        }
        KeyCode::Enter => {
            let values = s.fields.iter().map(|f| (f.key, f.saved())).collect();
            return vec![Effect::SaveSettings(values)];
        }
        _ => {
            let Some(setting) = s.fields.get_mut(s.focus) else {
                return vec![];
            };
            match &mut setting.value {
                SettingValue::Text(field) => {
                    field.edit(key);
                }
                SettingValue::Choice { choices, at } => {
                    let n = choices.len().max(1);
                    match key.code {
                        KeyCode::Right | KeyCode::Char(' ') => *at = (*at + 1) % n,
                        KeyCode::Left => *at = (*at + n - 1) % n,
                        _ => {
                            let names: Vec<_> = choices.iter().map(|(n, _)| n.as_str()).collect();
                            s.message = Some(format!("pick with ←/→: {}", names.join(", ")));
                        }
                    }
                }
            }
        }
    }
    vec![]
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let s = &m.settings;
    let mut lines = vec![Line::from("")];
    for (i, setting) in s.fields.iter().enumerate() {
        let focused = i == s.focus;
        let value = match &setting.value {
            SettingValue::Text(field) if setting.key == "app_id" && !focused => {
                crate::mask::mask_app_id(&field.text)
            }
            _ if theme.ascii => setting.shown(focused).replace('‹', "<").replace('›', ">"),
            _ => setting.shown(focused),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {:<20}", setting.key),
                if focused { theme.focus } else { theme.text },
            ),
            Span::styled(format!(" {value}"), theme.input),
        ]));
    }
    lines.push(Line::from(""));
    if let Some(setting) = s.fields.get(s.focus) {
        lines.push(Line::from(Span::styled(
            format!(" {}", about(setting.key)),
            theme.muted,
        )));
    }
    if let Some(msg) = &s.message {
        lines.push(Line::from(Span::styled(format!(" {msg}"), theme.warning)));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
}
