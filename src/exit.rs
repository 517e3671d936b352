//! How a till's work ends, as a person or a script reads it: the exit code, a failure
//! with its stable `code`, and the report (human text, or one JSON object on stdout).
//! The vocabulary both faces and the lane's owner share.

use std::io::Write;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::config::ConfigError;
use crate::lane::OwnerError;
use crate::mask::mask_pans;
use crate::visible::{json_text, visible_lines};

/// Exit codes, documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Approved, or the command did what it was asked.
    Ok = 0,
    /// Declined: no money moved.
    Declined = 1,
    /// Bad arguments or a request the journal refuses (not found, too much, ...).
    Usage = 2,
    /// The outcome is unknown and left unresolved: `till recover` will finish it.
    Unknown = 3,
    /// The terminal is unreachable, another till holds the lane, or the configuration
    /// or data dir is unusable.
    Unreachable = 4,
    /// A signal stopped the command before anything was sent: nothing was done.
    Interrupted = 5,
}

impl Exit {
    /// The exit of a code a process ended with (a forwarded request's answer).
    pub(crate) fn from_code(code: u8) -> Option<Exit> {
        [
            Exit::Ok,
            Exit::Declined,
            Exit::Usage,
            Exit::Unknown,
            Exit::Unreachable,
            Exit::Interrupted,
        ]
        .into_iter()
        .find(|e| *e as u8 == code)
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// A failure before or around the work, with the exit code it deserves.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub(crate) code: Code,
    pub(crate) message: String,
}

/// What went wrong, as a script reads it: the `code` of a failure's JSON. Stable: a
/// code once given keeps its name and meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    /// Bad arguments, or a request the rules refuse.
    Usage,
    /// The order, batch or row asked about does not exist.
    NotFound,
    /// A sale of the same amount was just approved: confirm with `--force`.
    Duplicate,
    /// The action needs the supervisor PIN.
    PinRequired,
    /// The supervisor PIN given is wrong.
    PinWrong,
    /// Too many wrong PINs: try again later.
    Locked,
    /// The data dir holds no journal (a mistyped `--data-dir`?).
    NoJournal,
    /// The terminal, the gateway, the store, the config or the data dir cannot be used.
    Unreachable,
    /// Another till holds the lane.
    LaneBusy,
    /// The outcome is not known yet.
    Unknown,
    /// A signal stopped the command before anything was sent.
    Interrupted,
}

impl Code {
    /// The code of a failure with this exit that says no more.
    pub(crate) fn usual(exit: Exit) -> Code {
        match exit {
            Exit::Usage => Code::Usage,
            Exit::Unknown => Code::Unknown,
            Exit::Interrupted => Code::Interrupted,
            Exit::Ok | Exit::Declined | Exit::Unreachable => Code::Unreachable,
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Code> {
        [
            Code::Usage,
            Code::NotFound,
            Code::Duplicate,
            Code::PinRequired,
            Code::PinWrong,
            Code::Locked,
            Code::NoJournal,
            Code::Unreachable,
            Code::LaneBusy,
            Code::Unknown,
            Code::Interrupted,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Code::Usage => "usage",
            Code::NotFound => "not_found",
            Code::Duplicate => "duplicate",
            Code::PinRequired => "pin_required",
            Code::PinWrong => "pin_wrong",
            Code::Locked => "locked",
            Code::NoJournal => "no_journal",
            Code::Unreachable => "unreachable",
            Code::LaneBusy => "lane_busy",
            Code::Unknown => "unknown",
            Code::Interrupted => "interrupted",
        }
    }
}

impl Failure {
    /// A failure whose code is the usual one for its exit.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            code: Code::usual(exit),
            message: message.into(),
        }
    }

    /// The same failure, said more precisely.
    pub(crate) fn code(self, code: Code) -> Failure {
        Failure { code, ..self }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Failure {
        Failure::new(Exit::Unreachable, e.to_string())
    }
}

pub struct Report {
    pub(crate) exit: Exit,
    pub(crate) human: String,
    pub(crate) json: Value,
}

impl Report {
    /// The end of a command that printed as it went: nothing more to print.
    pub(crate) fn printed(exit: Exit) -> Report {
        Report {
            exit,
            human: String::new(),
            json: Value::Null,
        }
    }

    /// Either may quote the terminal: its escape sequences are shown, never acted on.
    pub(crate) fn print(&self, json: bool) {
        if self.json.is_null() && self.human.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = if json {
            writeln!(out, "{}", json_text(&self.json))
        } else {
            writeln!(out, "{}", visible_lines(self.human.trim_end()))
        };
    }
}

/// The one JSON object a failed command prints on stdout under `--json`.
pub fn failure_json(failure: &Failure) -> Value {
    json!({
        "error": mask_pans(&failure.message),
        "code": failure.code.name(),
        "exit_code": failure.exit as u8,
    })
}

/// A failure: one JSON object on stdout under `--json`, and the message on stderr.
/// Its text may quote the terminal (a close reason, a message): card numbers masked.
pub fn print_failure(failure: &Failure, json: bool) {
    if json {
        let _ = writeln!(std::io::stdout(), "{}", json_text(&failure_json(failure)));
    }
    to_stderr(format_args!("till: {}\n", mask_pans(&failure.message)));
}

/// Writes to stderr, and carries on when it cannot: after a hangup (a dropped SSH
/// session) the terminal is gone, and a payment's answer must still be booked. The
/// text may quote the terminal: its escape sequences are shown, never acted on.
pub(crate) fn to_stderr(text: std::fmt::Arguments) {
    let text = text.to_string();
    let _ = std::io::stderr().write_all(visible_lines(&text).as_bytes());
}

/// Why the lane could not be had, as a command's failure.
pub(crate) fn lane_failure(e: OwnerError) -> Failure {
    match e {
        OwnerError::Busy { .. } => Failure::new(
            Exit::Unreachable,
            format!("{e}: nothing was done; try again when it has finished, or use the till that holds the lane"),
        )
        .code(Code::LaneBusy),
        OwnerError::Io { .. } => Failure::new(Exit::Unreachable, e.to_string()),
    }
}
