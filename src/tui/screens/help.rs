//! The Help screen: every screen and its keys, from the key tables.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::shared::{Key, key_line, wrap_keys};
use crate::tui::desk::ScreenId;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (80, 24);

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
    Key {
        keys: "F2-F10 or Esc then a letter:",
        does: "go to a screen",
    },
    Key {
        keys: "Ctrl-C",
        does: "quit",
    },
];

/// Columns before a screen's keys: " F10 c " and the title.
const LEAD: usize = 19;

/// `keys_of` gives each screen's key table (the screens are above this one).
pub(crate) fn draw(
    frame: &mut Frame,
    area: Rect,
    keys_of: impl Fn(ScreenId) -> &'static [Key],
    theme: &Theme,
) {
    let mut lines = vec![Line::from(Span::styled(
        " Screens: F1-F10, or Esc then the letter (for SSH clients without F-keys)",
        theme.title,
    ))];
    // Each screen's keys wrap under themselves, not under its name.
    let width = usize::from(area.width).saturating_sub(LEAD + 1).max(10);
    for s in ScreenId::ALL {
        let mut keys = wrap_keys(&key_line(keys_of(s)), width).into_iter();
        lines.push(Line::from(vec![
            Span::styled(
                format!(" F{:<2} {} ", s.f_key(), s.letter()),
                theme.key_hint,
            ),
            Span::styled(format!("{:<12}", s.title()), theme.text),
            Span::styled(keys.next().unwrap_or_default(), theme.muted),
        ]));
        for more in keys {
            lines.push(Line::from(Span::styled(
                format!("{:LEAD$}{more}", ""),
                theme.muted,
            )));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        " Ctrl-C quit (asks first while paying) · Esc while paying asks to cancel",
        theme.muted,
    )));

    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
