//! The lines between a client and the lane's owner, one JSON object each.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::exit::{Code, Exit, Failure, Report};

/// A command another till hands to the owner.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ask {
    /// The client's command line, parsed again by the owner under its own config (the
    /// owner's rules and currency apply; global flags are the client's business).
    pub(crate) args: Vec<String>,
    /// The supervisor PIN the client was given or asked for: the owner checks it.
    pub(crate) pin: Option<String>,
    /// Who asked, as the owner's journal and screen name them ("till sale (pid 42)").
    pub(crate) who: String,
    /// The person at the client (`$USER`), for the audit trail of an override.
    pub(crate) user: Option<String>,
}

/// What the owner says back, in this order: `Accepted`, `Progress`..., `Final`; and the
/// one line the client says after `Ask`: `Go`, once it has heard `Accepted`. The owner
/// acts on nothing before `Go`, so a till stopped before it sent it did nothing.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// The owner took the request; it acts on it at the client's `Go`.
    Accepted { holder: String },
    /// From the client: go ahead.
    Go,
    /// What the client prints on its stderr while it waits.
    Progress { text: String },
    /// The command's end, as it would have printed and exited on its own.
    Final {
        exit: u8,
        human: String,
        json: Value,
        /// A failure's code name (`lane_busy`, `duplicate`, ...): None for a report.
        code: Option<String>,
    },
}

impl Line {
    pub(crate) fn of(result: Result<Report, Failure>) -> Line {
        match result {
            Ok(report) => Line::Final {
                exit: report.exit as u8,
                human: report.human,
                json: report.json,
                code: None,
            },
            Err(failure) => Line::Final {
                exit: failure.exit as u8,
                human: failure.message,
                json: Value::Null,
                code: Some(failure.code.name().to_string()),
            },
        }
    }

    /// The client's result from a `Final`; None for any other line.
    pub(crate) fn result(self) -> Option<Result<Report, Failure>> {
        let Line::Final {
            exit,
            human,
            json,
            code,
        } = self
        else {
            return None;
        };
        let exit = Exit::from_code(exit).unwrap_or(Exit::Unknown);
        Some(match code {
            None => Ok(Report { exit, human, json }),
            Some(name) => {
                let failure = Failure::new(exit, human);
                Err(match Code::from_name(&name) {
                    Some(code) => failure.code(code),
                    None => failure,
                })
            }
        })
    }

    pub(crate) fn text(&self) -> String {
        // A struct of strings and JSON values always serialises.
        let mut text = serde_json::to_string(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_and_a_failure_cross_the_socket_unchanged() {
        let report = Report {
            exit: Exit::Declined,
            human: "declined".into(),
            json: serde_json::json!({"outcome": "declined", "batch": 3}),
        };
        let line: Line = serde_json::from_str(&Line::of(Ok(report)).text()).unwrap();
        let back = line.result().unwrap().unwrap();
        assert_eq!(back.exit, Exit::Declined);
        assert_eq!(back.json["batch"], 3);
        let failure =
            Failure::new(Exit::Usage, "a sale of 3.21 was approved").code(Code::Duplicate);
        let line: Line = serde_json::from_str(&Line::of(Err(failure)).text()).unwrap();
        let Some(Err(back)) = line.result() else {
            panic!("a failure");
        };
        assert_eq!((back.exit, back.code), (Exit::Usage, Code::Duplicate));
        assert_eq!(back.message, "a sale of 3.21 was approved");
    }
}
