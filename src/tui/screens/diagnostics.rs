//! The Diagnostics screen: link state, device, round trips, the wire log and a raw console.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Sparkline, Wrap};

use super::shared::{Key, rtt_text};
use crate::ecr::{Answer, Direction};
use crate::lane::Refusal;
use crate::terminal_reach::Check;
use crate::tui::desk::{Desk, WireLine};
use crate::tui::field::{Edit, TextField};
use crate::tui::flows::{move_sel, top_level};
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;
use crate::visible;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (80, 22);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum DiagFocus {
    #[default]
    Log,
    Console,
}

#[derive(Clone, Debug)]
pub(crate) struct DiagScreen {
    pub(crate) focus: DiagFocus,
    pub(crate) console: TextField,
    /// Index into the wire log from the newest end.
    pub(crate) selected: usize,
    pub(crate) console_result: Option<String>,
    /// Frames the console sent, for each one's own request id.
    pub(crate) console_sent: u32,
    /// The wire log without heartbeats, to see the traffic that matters.
    pub(crate) hide_heartbeats: bool,
    pub(crate) checkup: Checkup,
    /// When the check-up shown was made (local `HH:MM:SS`).
    pub(crate) checked_at: Option<String>,
}

/// An empty form (its text fields take what they hold).
impl Default for DiagScreen {
    fn default() -> Self {
        DiagScreen {
            focus: Default::default(),
            console: TextField::with_max(4096),
            selected: Default::default(),
            console_result: Default::default(),
            console_sent: Default::default(),
            hide_heartbeats: Default::default(),
            checkup: Default::default(),
            checked_at: Default::default(),
        }
    }
}

/// The step-by-step check of the way to the terminal, as far as it has gone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Checkup {
    #[default]
    NotRun,
    Running,
    Done(Vec<Check>),
}

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
    Key {
        keys: "↑/↓",
        does: "frame",
    },
    Key {
        keys: "i",
        does: "console",
    },
    Key {
        keys: "Enter",
        does: "send",
    },
    Key {
        keys: "h",
        does: "heartbeats",
    },
    Key {
        keys: "r",
        does: "reconnect",
    },
    Key {
        keys: "t",
        does: "check-up",
    },
];

pub(crate) fn on_key(f: &mut DiagScreen, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    if f.focus == DiagFocus::Console {
        match key.code {
            KeyCode::Esc | KeyCode::Tab => f.focus = DiagFocus::Log,
            KeyCode::Enter if !f.console.text.trim().is_empty() => {
                return send_console(f);
            }
            _ => {
                if f.console.edit(key) == Edit::Full {
                    f.console_result = Some("the console takes frames up to 4 KiB".into());
                }
            }
        }
        return vec![];
    }
    let len = wire_lines(f, d).len();
    let page = d.list_rows();
    if move_sel(&mut f.selected, len, page, key.code) {
        return vec![];
    }
    match key.code {
        KeyCode::Esc => top_level(d, key),
        KeyCode::Char('h') => {
            f.hide_heartbeats = !f.hide_heartbeats;
            f.selected = 0;
            vec![]
        }
        KeyCode::Char('r') if !d.link.up => {
            d.notice = Some("trying to reach the terminal now".into());
            vec![Effect::Reconnect]
        }
        KeyCode::Char('r') => {
            d.notice = Some("the link is up: nothing to reconnect".into());
            vec![]
        }
        KeyCode::Char('t') if f.checkup == Checkup::Running => vec![],
        KeyCode::Char('t') => {
            f.checkup = Checkup::Running;
            vec![Effect::Checkup]
        }
        KeyCode::Tab | KeyCode::Char('i') => {
            f.focus = DiagFocus::Console;
            if f.console.text.is_empty() {
                f.console
                    .prefill(r#"{"topic":"ecrhub.heartbeat","request_id":"console-1"}"#);
            }
            vec![]
        }
        _ => vec![],
    }
}

/// What became of the console's frame.
pub(crate) fn raw_sent(f: &mut DiagScreen, result: Result<Option<Answer>, Refusal>) {
    f.console_result = Some(match result {
        Ok(Some(a)) => match &a.reply {
            Some(r) => format!(
                "reply to {} in {} ms: code {} {}",
                a.request_id,
                a.elapsed.as_millis(),
                r.response_code.as_deref().unwrap_or("-"),
                r.message()
            ),
            None => format!("no reply to {}: {}", a.request_id, a.why),
        },
        Ok(None) => "sent (no request_id: replies show in the wire log)".into(),
        Err(e) => format!("not sent: {e}"),
    });
}

/// The check-up's steps, done at `at` (local time).
pub(crate) fn checked(f: &mut DiagScreen, steps: Vec<Check>, at: String) {
    f.checkup = Checkup::Done(steps);
    f.checked_at = Some(at);
}

/// Sends the console's frame if it is a JSON object, under a request id of its own so
/// its reply can be told from the last one's.
fn send_console(f: &mut DiagScreen) -> Vec<Effect> {
    let mut frame = match serde_json::from_str::<serde_json::Value>(&f.console.text) {
        Ok(serde_json::Value::Object(frame)) => frame,
        Ok(_) => {
            f.console_result = Some("not sent: a frame is one JSON object {…}".into());
            return vec![];
        }
        Err(e) => {
            f.console_result = Some(format!("not sent: not JSON ({e})"));
            return vec![];
        }
    };
    f.console_sent += 1;
    let id = format!("console-{}", f.console_sent);
    if !frame.contains_key("msg_id") {
        frame.insert("request_id".into(), id.clone().into());
    }
    let text = serde_json::Value::Object(frame).to_string();
    f.console.set(&text);
    f.console_result = Some(format!("sending as {id}…"));
    vec![Effect::Raw(text)]
}

/// The wire log newest first, without heartbeats when they are hidden.
fn wire_lines<'a>(f: &DiagScreen, d: &'a Desk) -> Vec<&'a WireLine> {
    d.wire
        .iter()
        .rev()
        .filter(|w| !(f.hide_heartbeats && w.text.contains("\"ecrhub.heartbeat\"")))
        .collect()
}

/// One line of the wire log: direction, topic and what it said, not the raw JSON.
fn wire_summary(w: &WireLine) -> String {
    let arrow = if w.dir == Direction::In { "<-" } else { "->" };
    let summary = serde_json::from_str::<serde_json::Value>(&w.text)
        .ok()
        .map(|v| {
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
            let topic = field("topic").trim_start_matches("ecrhub.");
            let order = v
                .get("biz_data")
                .and_then(|b| b.get("merchant_order_no"))
                .and_then(|o| o.as_str())
                .unwrap_or("");
            format!(
                "{topic} {} {} {order}",
                field("response_code"),
                field("response_msg")
            )
        })
        .unwrap_or_else(|| format!("(not JSON) {}", w.text));
    visible::visible(&format!("{} {arrow} {summary}", w.at.format("%H:%M:%S"))).into_owned()
}

/// The steps the check-up found, then what the lane's own link shows of the session
/// (handshake and heartbeats), since the check-up stops short of opening one.
fn checkup_steps(f: &DiagScreen, d: &Desk) -> Vec<Check> {
    let Checkup::Done(steps) = &f.checkup else {
        return vec![];
    };
    let mut steps = steps.clone();
    if steps.iter().all(|s| s.ok) {
        if d.link.up {
            let rtt = d.link.rtts_us.back().map_or("-".into(), |v| rtt_text(*v));
            steps.push(Check::pass(
                "session",
                format!("the lane's link is up, heartbeat {rtt}"),
            ));
        } else {
            steps.push(Check::fail(
                "session",
                format!(
                    "the terminal takes WebSocket connections, but the lane's link is {}",
                    d.link.state
                ),
                "press r to reconnect now; if it fails again check the app id (Settings), then restart the CodePay Register app".into(),
            ));
        }
    }
    steps
}

/// The link's state; a down link's next attempt counted down.
fn link_text(d: &Desk) -> String {
    match d.link.retry_at.filter(|_| !d.link.up) {
        Some(at) => match at.checked_duration_since(std::time::Instant::now()) {
            Some(left) => format!("{}; retry in {}s", d.link.state, left.as_secs() + 1),
            None => format!("{}; trying again", d.link.state),
        },
        None => d.link.state.clone(),
    }
}

/// The answer to "why won't it take payments?", first, with what to do about it. In
/// `rows` wrapped lines of `width`, the steps that passed share one line if need be,
/// so that a failed step's fix always shows whole.
fn verdict_lines(
    f: &DiagScreen,
    d: &Desk,
    theme: &Theme,
    width: usize,
    rows: usize,
) -> Vec<Line<'static>> {
    let all = verdict_lines_all(f, d, theme, false);
    let used: usize = all.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    // Only a failed step's fix is worth the detail of the steps that passed.
    if used <= rows || checkup_steps(f, d).iter().all(|s| s.ok) {
        all
    } else {
        verdict_lines_all(f, d, theme, true)
    }
}

fn verdict_lines_all(f: &DiagScreen, d: &Desk, theme: &Theme, brief: bool) -> Vec<Line<'static>> {
    let mut lines = vec![if d.link.up {
        Line::from(Span::styled(
            "verdict: the terminal answers; it can take payments",
            theme.approved,
        ))
    } else if brief {
        // The check-up below says where it stops and the fix: room for it whole.
        Line::from(Span::styled(
            "verdict: no link; the check-up says where it stops",
            theme.warning,
        ))
    } else {
        Line::from(Span::styled(
            "verdict: no link. fix: ECR Hub on (Settings > General > ECR Hub > WLAN/LAN)? address right? same network? t checks step by step, r reconnects",
            theme.warning,
        ))
    }];
    if f.checkup == Checkup::Running {
        lines.push(Line::from(Span::styled(
            "checking the way to the terminal…",
            theme.muted,
        )));
    }
    let steps = checkup_steps(f, d);
    if !steps.is_empty()
        && let Some(at) = &f.checked_at
    {
        lines.push(Line::from(Span::styled(
            format!("check-up at {at} (t checks again):"),
            theme.muted,
        )));
    }
    if brief {
        let passed: Vec<&str> = steps.iter().filter(|s| s.ok).map(|s| s.name).collect();
        if !passed.is_empty() {
            lines.push(Line::from(format!("[ ok ] {}", passed.join(", "))));
        }
    }
    for step in steps.into_iter().filter(|s| !(brief && s.ok)) {
        let (mark, style) = if step.ok {
            ("[ ok ]", theme.text)
        } else {
            ("[FAIL]", theme.error)
        };
        lines.push(Line::from(Span::styled(
            format!("{mark} {:<17} {}", step.name, step.detail),
            style,
        )));
        if let Some(fix) = step.fix {
            lines.push(Line::from(Span::styled(
                format!("       fix: {fix}"),
                theme.warning,
            )));
        }
    }
    lines
}

pub(crate) fn draw(frame: &mut Frame, area: Rect, f: &DiagScreen, d: &Desk, theme: &Theme) {
    // Wrapped one column in, each line takes its width's worth of rows; the log keeps
    // at least 4.
    let width = usize::from(area.width.saturating_sub(1).max(1));
    let most = area.height.saturating_sub(6 + 4 + 2);
    let verdict_text = verdict_lines(f, d, theme, width, usize::from(most));
    let rows: usize = verdict_text
        .iter()
        .map(|l| l.width().max(1).div_ceil(width))
        .sum();
    let verdict_rows = u16::try_from(rows).unwrap_or(u16::MAX).min(most.max(1));
    let [info, verdict, log, console] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Length(verdict_rows),
        Constraint::Min(4),
        Constraint::Length(2),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(verdict_text)
            .block(Block::new().padding(Padding::left(1)))
            .wrap(Wrap { trim: false }),
        verdict,
    );
    draw_link(frame, info, d, theme);
    draw_wire_log(frame, log, f, d, theme);
    draw_console(frame, console, f, theme);
}

/// The link's figures on the left; the heartbeat's round trips and the link's history
/// on the right.
fn draw_link(frame: &mut Frame, info: Rect, d: &Desk, theme: &Theme) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(info);
    let device = &d.link.device;
    let rtts = &d.link.rtts_us;
    let rtt = |v: Option<&u64>| v.map(|v| rtt_text(*v)).unwrap_or_else(|| "-".into());
    let key = |k: &str| Span::styled(format!(" {k:<11}"), theme.muted);
    let lines = vec![
        Line::from(vec![key("link"), Span::raw(link_text(d))]),
        Line::from(vec![key("address"), Span::raw(d.link.address.clone())]),
        Line::from(vec![
            key("device"),
            Span::raw(
                match (
                    &device.device_model,
                    &device.device_sn,
                    &device.cashier_version,
                ) {
                    (None, None, None) => "not known yet (no answer to ecrhub.init)".to_string(),
                    (model, sn, version) => [
                        model.clone(),
                        sn.clone(),
                        version.as_ref().map(|v| format!("v{v}")),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                },
            ),
        ]),
        Line::from(vec![
            key("rtt"),
            Span::raw(format!(
                "last {} min {} max {}",
                // A round trip is news only while the link is up.
                rtt(rtts.back().filter(|_| d.link.up)),
                rtt(rtts.iter().min()),
                rtt(rtts.iter().max())
            )),
        ]),
        Line::from(vec![
            key("reconnects"),
            Span::raw(d.link.reconnects.to_string()),
        ]),
        Line::from(vec![
            key("store"),
            Span::raw(d.store.clone().unwrap_or_else(|| "none configured".into())),
        ]),
    ];
    // The link's state (a down link's whole reason) wraps rather than being cut.
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), left);
    let [spark, history] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(right);
    let samples: Vec<u64> = rtts.iter().copied().collect();
    let tail = &samples[samples.len().saturating_sub(usize::from(spark.width))..];
    frame.render_widget(
        Sparkline::default()
            .data(tail)
            .style(theme.chart)
            .block(theme.block().title(" heartbeat round trip ")),
        spark,
    );
    let hist: Vec<Line> = d
        .link
        .history
        .iter()
        .rev()
        .take(usize::from(history.height))
        .map(|h| Line::from(Span::styled(h.clone(), theme.muted)))
        .collect();
    // A column apart from the figures on the left, which may fill theirs.
    frame.render_widget(
        Paragraph::new(hist).block(Block::new().padding(Padding::left(1))),
        history,
    );
}

/// The wire log, newest first, and the selected frame pretty-printed beside it.
fn draw_wire_log(frame: &mut Frame, log: Rect, f: &DiagScreen, d: &Desk, theme: &Theme) {
    let [list, pretty] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(log);
    let visible = usize::from(list.height.saturating_sub(1)).max(1);
    let newest_first = wire_lines(f, d);
    let first = f.selected.saturating_sub(visible - 1);
    let lines: Vec<Line> = newest_first
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, w)| {
            let style = if i == f.selected {
                theme.selected
            } else {
                theme.text
            };
            Line::from(Span::styled(wire_summary(w), style))
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            theme
                .block()
                .borders(Borders::TOP)
                .border_style(theme.border)
                .title(if f.hide_heartbeats {
                    " wire log, newest first, no heartbeats (masked) "
                } else {
                    " wire log, newest first (masked) "
                }),
        ),
        list,
    );
    let selected = newest_first
        .get(f.selected)
        .map(|w| {
            serde_json::from_str::<serde_json::Value>(&w.text)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| w.text.clone())
        })
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(selected)
            .block(
                theme
                    .block()
                    .borders(Borders::TOP | Borders::LEFT)
                    .border_style(theme.border)
                    .title(" frame "),
            )
            .wrap(Wrap { trim: false }),
        pretty,
    );
}

/// The raw console's line, and what the last frame sent there did.
fn draw_console(frame: &mut Frame, console: Rect, f: &DiagScreen, theme: &Theme) {
    let focused = f.focus == DiagFocus::Console;
    let mut console_lines = vec![Line::from(vec![
        Span::styled(" send> ", if focused { theme.focus } else { theme.muted }),
        Span::styled(f.console.shown(focused), theme.input),
    ])];
    if let Some(r) = &f.console_result {
        console_lines.push(Line::from(Span::styled(
            visible::visible(&format!(" {r}")).into_owned(),
            theme.muted,
        )));
    }
    frame.render_widget(Paragraph::new(console_lines), console);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn screen() -> (DiagScreen, Desk) {
        (
            DiagScreen::default(),
            Desk::new("L01", "USD", 2, "127.0.0.1:35779", false),
        )
    }

    fn press(f: &mut DiagScreen, d: &mut Desk, code: KeyCode) -> Vec<Effect> {
        on_key(f, d, KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn type_str(f: &mut DiagScreen, d: &mut Desk, text: &str) {
        for c in text.chars() {
            press(f, d, KeyCode::Char(c));
        }
    }

    #[test]
    fn the_console_sends_only_json_each_frame_under_its_own_id() {
        let (mut f, mut d) = screen();
        press(&mut f, &mut d, KeyCode::Char('i'));
        type_str(&mut f, &mut d, "{oops");
        assert!(press(&mut f, &mut d, KeyCode::Enter).is_empty());
        let said = f.console_result.clone().unwrap_or_default();
        assert!(said.contains("not JSON"), "{said}");
        let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
        on_key(&mut f, &mut d, ctrl_u);
        type_str(
            &mut f,
            &mut d,
            r#"{"topic":"ecrhub.heartbeat","request_id":"x"}"#,
        );
        let ids: Vec<String> = (0..2)
            .map(|_| match press(&mut f, &mut d, KeyCode::Enter).as_slice() {
                [Effect::Raw(text)] => {
                    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
                    v["request_id"].as_str().unwrap_or_default().to_string()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, ["console-1", "console-2"]);
    }

    #[test]
    fn heartbeats_can_be_hidden_from_the_wire_log() {
        let (mut f, mut d) = screen();
        for text in [
            r#"{"topic":"ecrhub.heartbeat"}"#,
            r#"{"topic":"ecrhub.pay.order"}"#,
        ] {
            d.wire.push_back(WireLine {
                at: chrono::Local::now(),
                dir: Direction::In,
                text: text.into(),
            });
        }
        press(&mut f, &mut d, KeyCode::Char('h'));
        assert!(f.hide_heartbeats);
        press(&mut f, &mut d, KeyCode::Down);
        assert_eq!(f.selected, 0, "one frame left to pick from");
    }

    #[test]
    fn the_check_up_runs_once_at_a_time_and_keeps_its_findings() {
        let (mut f, mut d) = screen();
        assert_eq!(
            press(&mut f, &mut d, KeyCode::Char('t')),
            vec![Effect::Checkup]
        );
        assert_eq!(f.checkup, Checkup::Running);
        assert!(
            press(&mut f, &mut d, KeyCode::Char('t')).is_empty(),
            "one at a time"
        );
        let found = vec![Check::fail(
            "tcp connect",
            "refused".into(),
            "ECR Hub on".into(),
        )];
        checked(&mut f, found.clone(), "12:00:05".into());
        assert_eq!(f.checked_at.as_deref(), Some("12:00:05"));
        assert_eq!(f.checkup, Checkup::Done(found));
        assert_eq!(
            press(&mut f, &mut d, KeyCode::Char('t')),
            vec![Effect::Checkup],
            "again"
        );
    }
}
