//! The supervisor PIN as a command takes it (given, typed at a prompt, set, cleared): asked for before anything is journaled or
//! sent (`authorize`), and set or cleared in the config file (`till config set-pin`,
//! `till config clear-pin`). What needs it is `crate::supervisor_pin`'s to say.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use chrono::{DateTime, Local, Utc};
use serde_json::json;

use crate::cli::{ConfigCmd, Global};
use crate::config::{Config, ConfigError, Saved, file_path, process_env, save_keys};
use crate::exit::{Code, Exit, Failure, Report};
use crate::supervisor_pin::tries::{Checked, TRIES, Tries, TriesError};
use crate::supervisor_pin::{Act, PinHash, check_new_pin, hash_pin, needs_pin};

const KEY: &str = "supervisor_pin_hash";

/// The supervisor's PIN `act` goes ahead on: None when it needs none, the PIN when
/// `given` (or the PIN typed at the prompt, when `prompt` allows one) is right. A PIN
/// that is needed and missing or wrong is a usage error (exit 2), before anything is
/// done; a wrong one is logged, never the PIN itself, and counted beside the config
/// file: while wrong ones have locked PIN entry (`supervisor_pin::tries`), no PIN is
/// checked. The owner of a lane checks the PIN of a request another till hands it
/// without a prompt: its terminal, if it has one, is the cashier's screen.
pub(super) fn authorize(
    config: &Config,
    act: &Act,
    given: Option<&str>,
    prompt: bool,
) -> Result<Option<String>, Failure> {
    let policy = config.supervisor()?;
    let Some(why) = needs_pin(act, &policy) else {
        return Ok(None);
    };
    let nothing = match act {
        Act::Override => "nothing was changed",
        Act::Payment { .. } => "nothing was sent",
    };
    let counted = |e: TriesError| Failure::new(Exit::Unreachable, format!("{e}; {nothing}"));
    if let Some(until) = policy.locked(Utc::now()).map_err(counted)? {
        return Err(Failure::new(Exit::Usage, locked(why, until, nothing)).code(Code::Locked));
    }
    let pin = match given.map(str::trim).filter(|p| !p.is_empty()) {
        Some(pin) => pin.to_string(),
        None if prompt && std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("Supervisor PIN for {why}: ")).map_err(|e| {
                // Ctrl-C at the prompt: the SIGINT it raises is caught (see signals.rs).
                if e.kind() == std::io::ErrorKind::Interrupted {
                    return Failure::new(
                        Exit::Interrupted,
                        format!("stopped at the supervisor PIN prompt: {nothing}"),
                    );
                }
                Failure::new(
                    Exit::Usage,
                    format!(
                        "{why} needs the supervisor PIN, which could not be read ({e}); {nothing}"
                    ),
                )
            })?
        }
        None => {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "{why} needs the supervisor PIN: give --pin or TILL_SUPERVISOR_PIN; {nothing}"
                ),
            )
            .code(Code::PinRequired));
        }
    };
    refused(
        policy.check(&pin, Utc::now()).map_err(counted)?,
        &why,
        nothing,
    )?;
    tracing::info!(act = %why, "supervisor PIN given");
    Ok(Some(pin))
}

/// A PIN that was not taken, as a usage error (exit 2); a wrong one is logged.
fn refused(checked: Checked, why: &dyn std::fmt::Display, nothing: &str) -> Result<(), Failure> {
    let (code, message) = match checked {
        Checked::Right => return Ok(()),
        Checked::Locked(until) => (Code::Locked, locked(why, until, nothing)),
        Checked::Wrong { lock, .. } => {
            tracing::warn!(act = %why, "wrong supervisor PIN: refused");
            match lock {
                Some(until) => (
                    Code::Locked,
                    format!("wrong supervisor PIN: {}", locked(why, until, nothing)),
                ),
                None => (
                    Code::PinWrong,
                    format!("wrong supervisor PIN for {why}: refused; {nothing}"),
                ),
            }
        }
    };
    Err(Failure::new(Exit::Usage, message).code(code))
}

/// Why no PIN is taken until `until`.
fn locked(why: impl std::fmt::Display, until: DateTime<Utc>, nothing: &str) -> String {
    format!(
        "{TRIES} wrong supervisor PINs in a row have locked PIN entry until {}; {why} refused; {nothing}",
        until.with_timezone(&Local).format("%H:%M:%S")
    )
}

/// `till config set-pin` and `till config clear-pin`. They work on the config file
/// itself, so a file whose PIN hash is broken can still be mended.
pub(super) fn config_pin(global: &Global, action: ConfigCmd) -> Result<Report, Failure> {
    let path = file_path(global.config.as_deref(), &process_env)
        .map(|(path, _)| path)
        .ok_or_else(|| {
            Failure::new(
                Exit::Unreachable,
                "no config directory: name a config file with --config or TILL_CONFIG",
            )
        })?;
    let (current, set) = match &action {
        ConfigCmd::SetPin { current } => (current.current_pin.as_deref(), true),
        ConfigCmd::ClearPin { current } => (current.current_pin.as_deref(), false),
    };
    if let Some(hash) = hash_in(&path)? {
        check_current(&path, &hash, current, set)?;
    }
    let (value, word) = if set {
        let hash = hash_pin(&new_pin()?).map_err(|e| Failure::new(Exit::Usage, e))?;
        (Saved::Text(hash.as_str().to_string()), "set")
    } else {
        (Saved::Unset, "cleared")
    };
    save_keys(&path, &[(KEY, value)])?;
    tracing::info!("supervisor PIN {word} in {}", path.display());
    Ok(Report {
        exit: Exit::Ok,
        human: format!("supervisor PIN {word} in {}", path.display()),
        json: json!({
            "supervisor_pin": if set { "set" } else { "not set" },
            "config_file": path.display().to_string(),
        }),
    })
}

/// The PIN hash the file holds now, when it is one that can be checked. A broken one
/// protects nothing: setting a new PIN replaces it.
fn hash_in(path: &Path) -> Result<Option<PinHash>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: format!("not changed, it does not read as TOML: {e}"),
    })?;
    Ok(doc
        .get(KEY)
        .and_then(|item| item.as_str())
        .and_then(|text| PinHash::parse(text).ok()))
}

/// Changing or removing a PIN that is set takes that PIN, counted as every PIN is.
fn check_current(
    path: &Path,
    hash: &PinHash,
    given: Option<&str>,
    set: bool,
) -> Result<(), Failure> {
    let what = if set { "changing" } else { "clearing" };
    let why = format!("{what} the supervisor PIN");
    let nothing = "nothing was changed";
    let tries = Tries::beside(path);
    let counted = |e: TriesError| Failure::new(Exit::Unreachable, format!("{e}; {nothing}"));
    if let Some(until) = tries.locked(Utc::now()).map_err(counted)? {
        return Err(Failure::new(Exit::Usage, locked(&why, until, nothing)).code(Code::Locked));
    }
    let pin = match given.map(str::trim).filter(|p| !p.is_empty()) {
        Some(pin) => pin.to_string(),
        None if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("Current supervisor PIN: ")
                .map_err(|e| Failure::new(Exit::Usage, format!("cannot read the PIN: {e}")))?
        }
        None => {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "{why} takes the current one: give --current-pin or TILL_SUPERVISOR_PIN; {nothing}"
                ),
            )
            .code(Code::PinRequired));
        }
    };
    refused(
        tries.check(hash, &pin, Utc::now()).map_err(counted)?,
        &why,
        nothing,
    )
}

/// The new PIN, typed twice without echo on a terminal, else the first two lines of
/// stdin; both the same.
fn new_pin() -> Result<String, Failure> {
    let usage = |message: String| Failure::new(Exit::Usage, message);
    let (first, second) = if std::io::stdin().is_terminal() {
        let read = |prompt: &str| {
            rpassword::prompt_password(prompt)
                .map_err(|e| usage(format!("cannot read the PIN: {e}")))
        };
        let first = read("New supervisor PIN (4 to 12 digits): ")?;
        check_new_pin(&first).map_err(|e| usage(format!("{e}; nothing was changed")))?;
        (first, read("The same PIN again: ")?)
    } else {
        let mut lines = std::io::stdin().lock().lines();
        let mut next = || match lines.next() {
            Some(Ok(line)) => Ok(line),
            Some(Err(e)) => Err(usage(format!("cannot read the PIN from stdin: {e}"))),
            None => Err(usage(
                "give the new PIN twice, one line each, on stdin; nothing was changed".into(),
            )),
        };
        let first = next()?;
        check_new_pin(&first).map_err(|e| usage(format!("{e}; nothing was changed")))?;
        (first, next()?)
    };
    if first.trim() != second.trim() {
        return Err(usage(
            "the two PINs differ; nothing was changed".to_string(),
        ));
    }
    Ok(first)
}
