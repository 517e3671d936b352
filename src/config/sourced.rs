//! Where a setting came from (default, file and line, environment, flag): the layering
//! vocabulary every settings table shares, the main config's and the cloud's alike.

use crate::mask;
use std::fmt;
use std::path::PathBuf;

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag => f.write_str("flag"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub(crate) fn default(value: T) -> Self {
        Sourced {
            value,
            source: Source::Default,
        }
    }

    pub(crate) fn set(&mut self, value: Option<T>, source: Source) {
        if let Some(value) = value {
            *self = Sourced { value, source };
        }
    }
}

/// One row of `till config`: the key, its value as shown, and where it came from.
pub(crate) type Row = (String, String, String);

impl<T> Sourced<T> {
    /// This value's row of `till config`, worded by `shown`.
    pub(crate) fn row(&self, key: &str, shown: impl FnOnce(&T) -> String) -> Row {
        (key.to_string(), shown(&self.value), self.source.to_string())
    }
}

/// An optional value as `till config` shows it: the value, else what stands in for it.
pub(crate) fn or_say(value: &Option<String>, absent: &str) -> String {
    value.clone().unwrap_or_else(|| absent.to_string())
}

/// What an unset optional value shows as.
pub(crate) const NOT_SET: &str = "(not set)";

/// An app id as `till config` shows it: masked, never whole.
pub(crate) fn shown_app_id(value: &Option<String>) -> String {
    value
        .as_deref()
        .map_or_else(|| NOT_SET.to_string(), mask::mask_app_id)
}

/// How settings read the environment (a closure in tests).
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, an empty variable counted as unset.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Where a value came from, with the config file's line when it came from the file.
pub(crate) fn origin(source: &Source, file_text: Option<&str>, key: &str) -> String {
    match (source, file_text.and_then(|text| line_of(text, key))) {
        (Source::File(_), Some(line)) => format!("{source} line {line}"),
        _ => source.to_string(),
    }
}

/// The 1-based line where `key` is set inside `[table]` of a TOML text, if any.
pub(crate) fn line_in_table(text: &str, table: &str, key: &str) -> Option<usize> {
    let header = format!("[{table}]");
    let start = text.lines().position(|l| l.trim() == header)? + 1;
    let body: String = text
        .lines()
        .skip(start)
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect::<Vec<_>>()
        .join("\n");
    line_of(&body, key).map(|line| line + start)
}

/// The 1-based line where `key` is set in a TOML text (bare or quoted key), if any.
pub(crate) fn line_of(text: &str, key: &str) -> Option<usize> {
    let quoted = [format!("\"{key}\""), format!("'{key}'")];
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix(key)
                .or_else(|| quoted.iter().find_map(|q| line.strip_prefix(q.as_str())));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}
