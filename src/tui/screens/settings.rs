//! The Settings screen: the lane's settings, saved into the config file.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Padding, Paragraph};

use super::shared::Key;
use crate::config::{Config, Saved};
use crate::discover::Terminal;
use crate::ecr::Receipts;
use crate::lane::{Refusal, Target};
use crate::mask;
use crate::pair;
use crate::tui::desk::{Desk, PinFor};
use crate::tui::field::TextField;
use crate::tui::flows::{pin_modal, top_level};
use crate::tui::msg::Effect;
use crate::tui::msg::PairNews;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 20);

#[derive(Clone, Debug, Default)]
pub(crate) struct SettingsForm {
    pub(crate) fields: Vec<Setting>,
    pub(crate) focus: usize,
    pub(crate) message: Option<String>,
    /// Terminals looked for by mDNS, to pick one as `url`.
    pub(crate) finding: Finding,
    /// Terminal-initiated pairing (Ctrl-P), while it runs.
    pub(crate) pairing: Pairing,
}

/// The Settings screen's pairing: the register's pairing server runs in the background
/// for as long as this is not `Off`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Pairing {
    #[default]
    Off,
    /// Waiting for a terminal to ask; `at` is where the server listens, once it does.
    Waiting { at: Option<String> },
    /// A terminal asks to pair: y accepts, n refuses.
    Asks {
        at: Option<String>,
        name: String,
        address: String,
    },
    /// Accepted: the terminal is being saved, then told yes.
    Keeping { name: String },
}

impl Pairing {
    /// Where the pairing server listens, when known.
    pub(crate) fn at(&self) -> Option<String> {
        match self {
            Pairing::Waiting { at } | Pairing::Asks { at, .. } => at.clone(),
            Pairing::Off | Pairing::Keeping { .. } => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Finding {
    #[default]
    Off,
    Looking,
    /// What answered; Enter makes the one at `at` the url.
    Found {
        terminals: Vec<Terminal>,
        at: usize,
    },
}

/// One line of the Settings screen: a config key and its value as edited.
#[derive(Clone, Debug)]
pub(crate) struct Setting {
    pub(crate) key: &'static str,
    pub(crate) value: SettingValue,
    /// What the screen opened with (the file's, or the command line's): only a value
    /// the cashier changed is written.
    pub(crate) initial: Saved,
}

#[derive(Clone, Debug)]
pub(crate) enum SettingValue {
    Text(TextField),
    /// One of a few values, picked with ←/→ (never typed): what is shown, what is saved.
    Choice {
        choices: Vec<(String, Saved)>,
        at: usize,
    },
}

impl Setting {
    pub(crate) fn text(key: &'static str, text: &str, max: usize) -> Setting {
        let mut field = TextField::with_max(max);
        field.set(text);
        Setting {
            key,
            value: SettingValue::Text(field),
            initial: Saved::Unset,
        }
        .opened()
    }

    /// The value as it is now is the one it opened with.
    fn opened(mut self) -> Setting {
        self.initial = self.saved();
        self
    }

    /// Whether the cashier changed it since it opened (or was last saved).
    pub(crate) fn changed(&self) -> bool {
        self.saved() != self.initial
    }

    /// A choice, at the one that saves `current` (else the first).
    pub(crate) fn choice(
        key: &'static str,
        choices: Vec<(String, Saved)>,
        current: &Saved,
    ) -> Setting {
        let at = choices.iter().position(|(_, s)| s == current).unwrap_or(0);
        Setting {
            key,
            value: SettingValue::Choice { choices, at },
            initial: Saved::Unset,
        }
        .opened()
    }

    /// A lane default of the terminal's: on, off, or left to the terminal.
    pub(crate) fn flag(key: &'static str, current: Option<bool>) -> Setting {
        let choices = vec![
            ("terminal decides".into(), Saved::Unset),
            ("yes".into(), Saved::Flag(true)),
            ("no".into(), Saved::Flag(false)),
        ];
        Setting::choice(key, choices, &current.map_or(Saved::Unset, Saved::Flag))
    }

    /// What saving writes: trimmed text (nothing typed removes the key) or the choice.
    pub(crate) fn saved(&self) -> Saved {
        match &self.value {
            SettingValue::Text(f) => match f.text.trim() {
                "" => Saved::Unset,
                text => Saved::Text(text.to_string()),
            },
            SettingValue::Choice { choices, at } => choices
                .get(*at)
                .map_or(Saved::Unset, |(_, saved)| saved.clone()),
        }
    }

    /// The value as the screen shows it; a focused choice shows its arrows.
    pub(crate) fn shown(&self, focused: bool) -> String {
        match &self.value {
            SettingValue::Text(f) => f.shown(focused),
            SettingValue::Choice { choices, at } => {
                let name = choices.get(*at).map_or("", |(name, _)| name.as_str());
                if focused {
                    format!("‹ {name} ›")
                } else {
                    name.to_string()
                }
            }
        }
    }
}

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
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
    // Ctrl: letters are typed into the text settings.
    Key {
        keys: "Ctrl-F",
        does: "find terminals",
    },
    Key {
        keys: "Ctrl-P",
        does: "pair",
    },
];

/// The keys while a terminal asks to pair.
pub(crate) const ASKED_KEYS: &[Key] = &[
    Key {
        keys: "y",
        does: "pair with it",
    },
    Key {
        keys: "n",
        does: "refuse",
    },
    Key {
        keys: "Esc",
        does: "stop pairing",
    },
];

/// The keys while pairing waits for a terminal.
pub(crate) const PAIRING_KEYS: &[Key] = &[Key {
    keys: "Esc",
    does: "stop pairing",
}];

/// The keys while the terminals found are listed.
pub(crate) const FOUND_KEYS: &[Key] = &[
    Key {
        keys: "↑/↓",
        does: "terminal",
    },
    Key {
        keys: "Enter",
        does: "use as url",
    },
    Key {
        keys: "Esc",
        does: "close the list",
    },
];

/// The keys as the screen is now: pairing and the terminals found have their own.
pub(crate) fn keys(s: &SettingsForm) -> &'static [Key] {
    match (&s.pairing, &s.finding) {
        (Pairing::Asks { .. }, _) => ASKED_KEYS,
        (Pairing::Waiting { .. }, _) => PAIRING_KEYS,
        (Pairing::Keeping { .. }, _) => &[],
        (Pairing::Off, Finding::Found { .. }) => FOUND_KEYS,
        (Pairing::Off, _) => KEYS,
    }
}

/// The screen's lines, from the config as loaded; the themes are those found.
pub(crate) fn fields(config: &Config, themes: Vec<String>) -> Vec<Setting> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let themes = themes
        .into_iter()
        .map(|t| (t.clone(), Saved::Text(t)))
        .collect();
    let mut receipts = vec![("terminal decides".to_string(), Saved::Unset)];
    receipts.extend(
        Receipts::ALL
            .iter()
            .map(|r| (r.name().to_string(), Saved::Text(r.name().to_string()))),
    );
    let receipt = config
        .receipt
        .value
        .map_or(Saved::Unset, |r| Saved::Text(r.name().to_string()));
    vec![
        Setting::text("url", &text(&config.url.value), 200),
        Setting::text("app_id", &text(&config.app_id.value), 200),
        Setting::text("lane", &config.lane.value, 8),
        Setting::text("currency", &config.currency.value, 3),
        Setting::choice("theme", themes, &Saved::Text(config.theme.value.clone())),
        Setting::text("confirm_above", &config.confirm_above.value, 20),
        Setting::flag("on_screen_tip", config.on_screen_tip.value),
        Setting::flag("on_screen_signature", config.on_screen_signature.value),
        Setting::flag("confirm_on_terminal", config.confirm_on_terminal.value),
        Setting::choice("receipt", receipts, &receipt),
    ]
}

/// The config file changed: the screen shows its values, unless the cashier is editing
/// them.
pub(crate) fn config_changed(s: &mut SettingsForm, fields: Vec<Setting>) {
    if unsaved(s).is_none() {
        s.fields = fields;
    }
}

/// What each setting does, said under the list for the focused one.
fn about(key: &str) -> &'static str {
    match key {
        "url" => {
            "the terminal's address as shown on its screen (ws://IP:PORT or IP), or sn:SERIAL[/path] (Ctrl-F finds them)"
        }
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

// Long on purpose: the Settings screen's keys, one arm each.
pub(crate) fn on_key(s: &mut SettingsForm, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    if s.pairing != Pairing::Off {
        return pairing_key(s, key);
    }
    if key.code == KeyCode::Char('p') && key.modifiers.contains(KeyModifiers::CONTROL) {
        if d.demo {
            s.message = Some("demo mode: no pairing (the demo terminal is temporary)".into());
            return vec![];
        }
        if d.supervisor.pin.is_some() {
            return ask_pin(d, PinFor::Pairing, "pairing a terminal");
        }
        return start_pairing(s);
    }
    if let Finding::Found { terminals, at } = &mut s.finding {
        match key.code {
            KeyCode::Up => *at = at.saturating_sub(1),
            KeyCode::Down => *at = (*at + 1).min(terminals.len().saturating_sub(1)),
            KeyCode::Enter => {
                let url = terminals.get(*at).map(|t| format!("sn:{}", t.serial));
                s.finding = Finding::Off;
                if let Some(url) = url {
                    use_as_url(s, &url);
                }
            }
            KeyCode::Esc => s.finding = Finding::Off,
            _ => {}
        }
        return vec![];
    }
    let len = s.fields.len().max(1);
    if key.code == KeyCode::Char('f') && key.modifiers.contains(KeyModifiers::CONTROL) {
        if s.finding == Finding::Looking {
            return vec![];
        }
        s.finding = Finding::Looking;
        s.message = None;
        return vec![Effect::FindTerminals];
    }
    match key.code {
        KeyCode::Esc => return top_level(d, key),
        KeyCode::Up | KeyCode::BackTab => {
            s.focus = (s.focus + len - 1) % len;
            s.message = None;
        }
        KeyCode::Down | KeyCode::Tab => {
            s.focus = (s.focus + 1) % len;
            s.message = None;
        }
        KeyCode::Enter if d.demo => {
            s.message =
                Some("demo mode: settings are not saved (the demo terminal is temporary)".into());
        }
        KeyCode::Enter => {
            // Only what the cashier changed: a value from the command line stays a
            // one-off.
            let values: Vec<_> = s
                .fields
                .iter()
                .filter(|f| f.changed())
                .map(|f| (f.key, f.saved()))
                .collect();
            if values.is_empty() {
                s.message = Some("nothing changed: nothing to save".into());
                return vec![];
            }
            if d.supervisor.pin.is_some() {
                return ask_pin(d, PinFor::Settings(values), "saving settings");
            }
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

/// Leaving the screen stops a pairing that waits (a terminal already accepted is still
/// saved and told). Values changed and not saved are kept while till runs, and said so:
/// a cashier who looks something up elsewhere comes back to the edit, not a blank.
pub(crate) fn leave(s: &mut SettingsForm, d: &mut Desk) -> Vec<Effect> {
    if let Some(unsaved) = unsaved(s) {
        d.notice = Some(format!(
            "settings not saved ({unsaved}): kept for when you come back (F10, Enter saves)"
        ));
    }
    if !matches!(s.pairing, Pairing::Waiting { .. } | Pairing::Asks { .. }) {
        return vec![];
    }
    s.pairing = Pairing::Off;
    vec![Effect::StopPairing]
}

/// The screen opens: values left unsaved on an earlier visit are said to be so.
pub(crate) fn open(s: &mut SettingsForm) {
    s.message = unsaved(s).map(|keys| format!("unsaved: {keys} (Enter saves)"));
}

/// The keys of the values changed and not saved, if any.
pub(crate) fn unsaved(s: &SettingsForm) -> Option<String> {
    let keys: Vec<&str> = s
        .fields
        .iter()
        .filter(|f| f.changed())
        .map(|f| f.key)
        .collect();
    (!keys.is_empty()).then(|| keys.join(", "))
}

/// Waiting for a terminal to ask to pair starts.
pub(crate) fn start_pairing(s: &mut SettingsForm) -> Vec<Effect> {
    s.finding = Finding::Off;
    s.pairing = Pairing::Waiting { at: None };
    s.message = None;
    vec![Effect::StartPairing]
}

/// With a supervisor PIN set, what changes the lane's config waits for it.
fn ask_pin(d: &mut Desk, then: PinFor, why: &str) -> Vec<Effect> {
    d.modal = Some(pin_modal(d, then, why));
    vec![]
}

/// The values saved are the ones the screen now opens with.
pub(crate) fn saved(s: &mut SettingsForm, values: &[(&str, Saved)]) {
    for field in &mut s.fields {
        if let Some((_, value)) = values.iter().find(|(k, _)| *k == field.key) {
            field.initial = value.clone();
        }
    }
}

/// While pairing runs the screen is about it alone: y or n for a terminal that asks,
/// Esc stops the wait.
fn pairing_key(s: &mut SettingsForm, key: KeyEvent) -> Vec<Effect> {
    match (&s.pairing, key.code) {
        // Saving it and telling it yes takes a moment; stopping halfway could leave
        // the terminal saved but never told.
        (Pairing::Keeping { .. }, _) => vec![],
        (Pairing::Asks { name, .. }, KeyCode::Char('y' | 'Y')) => {
            s.pairing = Pairing::Keeping { name: name.clone() };
            vec![Effect::AnswerPair(true)]
        }
        (Pairing::Asks { at, .. }, KeyCode::Char('n' | 'N')) => {
            s.pairing = Pairing::Waiting { at: at.clone() };
            vec![Effect::AnswerPair(false)]
        }
        (pairing, KeyCode::Esc) => {
            s.message = Some(match pairing {
                Pairing::Asks { name, .. } => format!("pairing stopped; {name} was refused"),
                _ => "pairing stopped".into(),
            });
            s.pairing = Pairing::Off;
            vec![Effect::StopPairing]
        }
        _ => vec![],
    }
}

/// What the pairing server said. An accepted terminal is already saved as `url`: the
/// form shows it and the lane moves to it.
pub(crate) fn pair_news(s: &mut SettingsForm, news: PairNews) -> Vec<Effect> {
    // Stopped: a word the server sent before it stopped is old news.
    if s.pairing == Pairing::Off {
        return vec![];
    }
    match news {
        PairNews::Waiting { at } => s.pairing = Pairing::Waiting { at: Some(at) },
        PairNews::Asks { name, address } => {
            let at = s.pairing.at();
            s.pairing = Pairing::Asks { at, name, address };
        }
        PairNews::Refused { name } => {
            s.message = Some(format!("refused {name}; the config is unchanged"));
        }
        PairNews::Unpaired { name, address } => {
            s.message = Some(format!(
                "terminal {name} at {address} unpaired from this register; url is unchanged"
            ));
        }
        PairNews::Malformed(error) => {
            s.message = Some(format!("refused a malformed pairing frame from {error}"));
        }
        PairNews::Failed(why) => {
            s.pairing = Pairing::Off;
            s.message = Some(format!("pairing stopped: {why}"));
        }
        PairNews::Paired { name, url, told } => {
            s.pairing = Pairing::Off;
            use_as_url(s, &url);
            // The pairing server saved it already: it is no unsaved edit.
            saved(s, &[("url", Saved::Text(url.clone()))]);
            s.message = Some(if told {
                format!("paired with {name}: url = {url} saved; connecting to it")
            } else {
                format!(
                    "url = {url} saved, but {name} left before it heard yes: pair again from the terminal"
                )
            });
            return Target::parse(&url)
                .map(Effect::Retarget)
                .into_iter()
                .collect();
        }
    }
    vec![]
}

/// The url was saved but the lane could not move to it.
pub(crate) fn not_moved(d: &mut Desk, refusal: &Refusal) {
    d.notice = Some(format!(
        "saved, but the lane stays on {}: {refusal}; save again once it is settled",
        d.link.target
    ));
}

/// Sets the url setting to `url` and focuses it; saving is left to the cashier.
fn use_as_url(s: &mut SettingsForm, url: &str) {
    let Some(i) = s.fields.iter().position(|f| f.key == "url") else {
        return;
    };
    s.focus = i;
    if let Some(Setting {
        value: SettingValue::Text(field),
        ..
    }) = s.fields.get_mut(i)
    {
        field.set(url);
    }
    s.message = Some(format!("url is {url}: Enter saves it"));
}

/// What the mDNS look found: a list to pick from, or why there is none.
pub(crate) fn found(s: &mut SettingsForm, found: Result<Vec<Terminal>, String>) {
    s.finding = Finding::Off;
    match found {
        Ok(terminals) if terminals.is_empty() => {
            s.message = Some(
                "no terminal answered by mDNS: is it on, in ECR Hub mode, and is mdns_interface this register's address on its network?".into(),
            );
        }
        Ok(terminals) => s.finding = Finding::Found { terminals, at: 0 },
        Err(e) => s.message = Some(format!("cannot look for terminals: {e}")),
    }
}

pub(crate) fn draw(frame: &mut Frame, area: Rect, s: &SettingsForm, d: &Desk, theme: &Theme) {
    if s.pairing != Pairing::Off {
        return draw_pairing(frame, area, s, d, theme);
    }
    let mut lines = vec![Line::from("")];
    for (i, setting) in s.fields.iter().enumerate() {
        let focused = i == s.focus;
        let value = match &setting.value {
            SettingValue::Text(field) if setting.key == "app_id" && !focused => {
                mask::mask_app_id(&field.text)
            }
            _ if theme.ascii => setting.shown(focused).replace('‹', "<").replace('›', ">"),
            _ => setting.shown(focused),
        };
        lines.push(Line::from(vec![
            Span::styled(
                // A star marks a value changed and not saved.
                format!(
                    "{:<19}{}",
                    setting.key,
                    if setting.changed() { '*' } else { ' ' }
                ),
                if focused { theme.focus } else { theme.text },
            ),
            Span::styled(format!(" {value}"), theme.input),
        ]));
    }
    lines.push(Line::from(""));
    if let Some(setting) = s.fields.get(s.focus) {
        lines.push(Line::from(Span::styled(about(setting.key), theme.muted)));
    }
    match &s.finding {
        Finding::Off => {}
        Finding::Looking => lines.push(Line::from(Span::styled(
            "looking for terminals by mDNS…",
            theme.muted,
        ))),
        Finding::Found { terminals, at } => {
            lines.push(Line::from(Span::styled("terminals found:", theme.text)));
            for (i, t) in terminals.iter().enumerate() {
                let app = [t.app_name.as_deref(), t.app_version.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let (mark, style) = match i == *at {
                    true => ('>', theme.focus),
                    false => (' ', theme.text),
                };
                lines.push(Line::from(Span::styled(
                    format!(
                        "{mark} {:<20} {:<22} {}",
                        mask::outside_line(&t.serial),
                        t.address,
                        mask::outside_line(&app)
                    ),
                    style,
                )));
            }
        }
    }
    if let Some(msg) = &s.message {
        lines.push(Line::from(Span::styled(msg.as_str(), theme.warning)));
    }
    frame.render_widget(text(lines), area);
}

/// Pairing in place of the settings, so that it fits the screen's smallest size.
fn draw_pairing(frame: &mut Frame, area: Rect, s: &SettingsForm, d: &Desk, theme: &Theme) {
    let name = pair::default_name(&d.lane_id);
    let muted = |text: String| Line::from(Span::styled(text, theme.muted));
    let mut lines = vec![
        Line::from(""),
        Line::from(Span::styled(
            "Pair with a terminal (WLAN mode)",
            theme.title,
        )),
        muted(format!(
            "this register is {name}: start pairing on the terminal and pick it there"
        )),
        muted(match s.pairing.at() {
            Some(at) => format!("listening at {at}, advertised by mDNS"),
            None => "starting the pairing server…".to_string(),
        }),
        Line::from(""),
    ];
    match &s.pairing {
        Pairing::Off => {}
        Pairing::Waiting { .. } => lines.push(Line::from(Span::styled(
            "waiting for a terminal to pair…",
            theme.text,
        ))),
        Pairing::Asks { name, address, .. } => {
            lines.push(Line::from(Span::styled(
                format!("terminal {name} at {address} asks to pair"),
                theme.focus,
            )));
            lines.push(Line::from(Span::styled(
                "pair with it? y yes, n no",
                theme.text,
            )));
        }
        Pairing::Keeping { name } => lines.push(Line::from(Span::styled(
            format!("pairing with {name}: saving it as url and telling it yes…"),
            theme.text,
        ))),
    }
    if let Some(msg) = &s.message {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(msg.as_str(), theme.warning)));
    }
    frame.render_widget(text(lines), area);
}

/// The screen's lines one column in from the border, wrapped lines too.
fn text(lines: Vec<Line<'_>>) -> Paragraph<'_> {
    Paragraph::new(lines)
        .block(Block::new().padding(Padding::left(1)))
        .wrap(ratatui::widgets::Wrap { trim: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(s: &mut SettingsForm, d: &mut Desk, code: KeyCode) -> Vec<Effect> {
        on_key(s, d, KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn settings_find_terminals_and_enter_makes_the_picked_one_the_url() {
        let mut d = Desk::new("L01", "USD", 2, "127.0.0.1:35779", false);
        let mut s = SettingsForm {
            fields: vec![
                Setting::text("url", "192.168.1.20", 200),
                Setting::text("lane", "L01", 8),
            ],
            focus: 1,
            ..SettingsForm::default()
        };
        let ctrl_f = || KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(
            on_key(&mut s, &mut d, ctrl_f()),
            vec![Effect::FindTerminals]
        );
        assert_eq!(s.finding, Finding::Looking);
        assert!(
            on_key(&mut s, &mut d, ctrl_f()).is_empty(),
            "one look at a time"
        );

        let terminal = |serial: &str, port: u16| crate::discover::Terminal {
            serial: serial.into(),
            address: format!("ws://10.0.0.7:{port}"),
            app_name: Some("CodePay Register".into()),
            app_version: None,
        };
        found(
            &mut s,
            Ok(vec![terminal("SNA1", 35779), terminal("SNB2", 35780)]),
        );
        press(&mut s, &mut d, KeyCode::Down);
        press(&mut s, &mut d, KeyCode::Down);
        assert_eq!(s.focus, 1, "the arrows move in the list, not the form");
        press(&mut s, &mut d, KeyCode::Enter);
        assert_eq!(s.finding, Finding::Off);
        assert_eq!(s.focus, 0);
        assert_eq!(s.fields[0].saved(), Saved::Text("sn:SNB2".into()));
        // The usual Enter saves it.
        assert_eq!(
            press(&mut s, &mut d, KeyCode::Enter),
            vec![Effect::SaveSettings(vec![(
                "url",
                Saved::Text("sn:SNB2".into())
            )])]
        );

        // Nothing found, or no mDNS: said, the url untouched; Esc closes a list.
        on_key(&mut s, &mut d, ctrl_f());
        found(&mut s, Ok(vec![]));
        let said = s.message.clone().unwrap_or_default();
        assert!(said.contains("no terminal answered"), "{said}");
        on_key(&mut s, &mut d, ctrl_f());
        found(&mut s, Err("mDNS interface 10.9.9.9: no".into()));
        let said = s.message.clone().unwrap_or_default();
        assert!(said.contains("cannot look for terminals"), "{said}");
        on_key(&mut s, &mut d, ctrl_f());
        found(&mut s, Ok(vec![terminal("SNC3", 1)]));
        press(&mut s, &mut d, KeyCode::Esc);
        assert_eq!(s.finding, Finding::Off);
        assert!(d.modal.is_none(), "Esc closed the list, not the screen");
        assert_eq!(s.fields[0].saved(), Saved::Text("sn:SNB2".into()));
    }
}
