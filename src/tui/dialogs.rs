//! The dialogs that sit over any screen: a confirmation, the supervisor's PIN, an
//! override's note, the sale's terminal options, and the Esc menu that picks a screen.
//! While one is up it takes the keys.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::flows::{fly, pin_locked, pin_modal, start};
use super::model::{Confirmed, Modal, Model, OnNo, PinFor, ScreenId, TextField};
use super::msg::Effect;
use super::screens::{sale, settings};
use crate::journal::TxnState;
use crate::supervisor_pin;
use crate::supervisor_pin::Act;
use crate::supervisor_pin::TypedPin;
use crate::supervisor_pin::tries::Checked;

/// What a key in a dialog leads to, beyond the dialog.
pub(crate) enum Next {
    Done(Vec<Effect>),
    /// The dialog is done with and this key goes on (an F-key to its screen).
    Key(KeyEvent),
    /// The Esc menu picked a screen.
    Open(ScreenId),
}

/// A key for the dialog up (taken off the desk: it goes back up unless the key closed
/// it).
// Long on purpose: one arm per dialog, so every dialog's keys read side by side.
pub(crate) fn on_key(m: &mut Model, key: KeyEvent) -> Next {
    let Some(modal) = m.desk.modal.take() else {
        return Next::Done(vec![]);
    };
    let effects = match modal {
        Modal::Menu => match key.code {
            KeyCode::Char(c) => {
                let c = c.to_ascii_lowercase();
                if c == 'x' {
                    return Next::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
                }
                match ScreenId::ALL.iter().find(|s| s.letter() == c) {
                    Some(screen) => return Next::Open(*screen),
                    None => {
                        m.desk.modal = Some(Modal::Menu);
                        vec![]
                    }
                }
            }
            KeyCode::F(_) => return Next::Key(key),
            _ => vec![],
        },
        Modal::Pin {
            then,
            why,
            mut pin,
            error,
            checking,
        } => match key.code {
            KeyCode::Esc => {
                m.desk.notice = Some(format!("{why}: not done without the supervisor's PIN"));
                vec![]
            }
            KeyCode::Enter if checking || pin.text.is_empty() => {
                m.desk.modal = Some(Modal::Pin {
                    then,
                    why,
                    pin,
                    error,
                    checking,
                });
                vec![]
            }
            KeyCode::Enter => {
                // Locked by wrong PINs (here or in another process): none is tried.
                let locked = m.desk.pin_lock();
                let (error, checking, effects) = match locked {
                    Some(until) => (Some(pin_locked(m.desk.utc_offset, until)), false, vec![]),
                    None => (None, true, vec![Effect::CheckPin(TypedPin(pin.text))]),
                };
                m.desk.modal = Some(Modal::Pin {
                    then,
                    why,
                    pin: TextField::with_max(12),
                    error,
                    checking,
                });
                effects
            }
            _ => {
                // While a PIN is checked, or entry is locked, no digit is taken.
                let locked = m.desk.pin_lock();
                let mut error = locked.map(|until| pin_locked(m.desk.utc_offset, until));
                if !checking
                    && locked.is_none()
                    && (matches!(key.code, KeyCode::Char(c) if c.is_ascii_digit())
                        || !matches!(key.code, KeyCode::Char(_)))
                {
                    pin.edit(key);
                } else if locked.is_none() && !checking {
                    error = Some("the PIN takes digits".into());
                }
                m.desk.modal = Some(Modal::Pin {
                    then,
                    why,
                    pin,
                    error,
                    checking,
                });
                vec![]
            }
        },
        Modal::SaleOptions => {
            if sale::options_key(&mut m.sale, key) {
                m.desk.modal = Some(Modal::SaleOptions);
            }
            vec![]
        }
        // Only `y` says yes: Enter, `n` and Esc take the safe answer.
        Modal::Confirm {
            question,
            then,
            on_no,
        } => match key.code {
            KeyCode::Char('y' | 'Y') => confirmed(m, then),
            KeyCode::Char('n' | 'N') | KeyCode::Esc | KeyCode::Enter | KeyCode::F(_) => {
                if on_no == OnNo::ClearSale {
                    sale::not_charged(&mut m.sale);
                }
                // The answer taken is said, Enter's above all: it is not yes.
                let enter = if key.code == KeyCode::Enter {
                    "Enter is no: "
                } else {
                    ""
                };
                m.desk.notice = Some(match then {
                    Confirmed::Pay(_) => format!("{enter}nothing sent (only y says yes)"),
                    Confirmed::CancelOnTerminal => format!("{enter}no cancel asked"),
                    Confirmed::Quit => format!("{enter}till stays open"),
                });
                // An F-key answers no and goes to its screen.
                if let KeyCode::F(_) = key.code {
                    return Next::Key(key);
                }
                vec![]
            }
            _ => {
                m.desk.modal = Some(Modal::Confirm {
                    question,
                    then,
                    on_no,
                });
                vec![]
            }
        },
        Modal::Override {
            order_no,
            approve,
            mut note,
        } => match key.code {
            KeyCode::Esc => vec![],
            KeyCode::Enter if !note.text.trim().is_empty() => {
                let to = if approve {
                    TxnState::Approved
                } else {
                    TxnState::Declined
                };
                let act = Act::Override;
                if let Some(why) = supervisor_pin::needs_pin(&act, &m.desk.supervisor) {
                    let then = PinFor::Resolve {
                        order_no,
                        to,
                        note: note.text,
                    };
                    m.desk.modal = Some(pin_modal(&m.desk, then, &why.to_string()));
                    return Next::Done(vec![]);
                }
                vec![Effect::Resolve {
                    order_no,
                    to,
                    note: note.text,
                }]
            }
            _ => {
                note.edit(key);
                m.desk.modal = Some(Modal::Override {
                    order_no,
                    approve,
                    note,
                });
                vec![]
            }
        },
    };
    Next::Done(effects)
}

fn confirmed(m: &mut Model, then: Confirmed) -> Vec<Effect> {
    match then {
        Confirmed::Pay(req) => start(&mut m.desk, req),
        Confirmed::CancelOnTerminal => match &mut m.desk.flight {
            Some(f) => {
                f.cancel_asked = true;
                f.progress.push("asked the terminal to cancel".into());
                f.order_no.clone().map(Effect::Close).into_iter().collect()
            }
            None => vec![],
        },
        Confirmed::Quit => {
            m.desk.quit_after_answer = m.desk.flight.is_some();
            vec![Effect::Quit]
        }
    }
}

/// The answer to `Effect::CheckPin`: the act the PIN was asked for goes ahead when it
/// was right, and the dialog is still up (Esc meanwhile: nothing is done).
pub(crate) fn pin_checked(m: &mut Model, checked: Result<Checked, String>) -> Vec<Effect> {
    use crate::supervisor_pin::tries::{Checked, LOCK_SECS};
    let Some(Modal::Pin {
        then,
        why,
        pin,
        checking: true,
        ..
    }) = m.desk.modal.take()
    else {
        return vec![];
    };
    let error = match checked {
        Ok(Checked::Right) => {
            m.desk.pin_locked_until = None;
            return match then {
                PinFor::Pay(req) => fly(&mut m.desk, req, true),
                PinFor::Settings(values) => vec![Effect::SaveSettings(values)],
                PinFor::Pairing => settings::start_pairing(&mut m.settings),
                PinFor::Resolve { order_no, to, note } => vec![Effect::Resolve {
                    order_no,
                    to,
                    note: format!("{note} (supervisor PIN given)"),
                }],
            };
        }
        Ok(Checked::Wrong { lock, left }) => {
            tracing::warn!("a wrong supervisor PIN was typed for {why}");
            m.desk.pin_locked_until = lock;
            match lock {
                Some(until) => pin_locked(m.desk.utc_offset, until),
                None => format!(
                    "wrong PIN: {left} more wrong and PIN entry locks for {} minutes",
                    LOCK_SECS / 60
                ),
            }
        }
        Ok(Checked::Locked(until)) => {
            m.desk.pin_locked_until = Some(until);
            pin_locked(m.desk.utc_offset, until)
        }
        Err(e) => format!("the PIN cannot be checked: {e}"),
    };
    m.desk.modal = Some(Modal::Pin {
        then,
        why,
        pin,
        error: Some(error),
        checking: false,
    });
    vec![]
}
