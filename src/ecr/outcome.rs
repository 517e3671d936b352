//! The outcome rules of protocol.md, in one place. Everything that decides whether
//! money moved goes through `outcome` or `query_verdict`.

use std::fmt;

use super::TransStatus;
use super::reply::Reply;
use crate::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Approved,
    /// No money moved. Final: never queried, never voided.
    Declined,
    /// Nobody knows yet whether money moved: resolved later by `ecrhub.pay.query`.
    Unknown,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Approved => "APPROVED",
            Outcome::Declined => "DECLINED",
            Outcome::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The codes that mean success: `"0"` on the LAN path, `"000"` on-device.
const SUCCESS_CODES: [&str; 2] = ["0", "000"];
/// `112` is the terminal's own timeout; `109` ("Network anomaly") is what vendor SDKs
/// invent when the socket closed with a request in flight.
const UNKNOWN_CODES: [&str; 2] = ["112", "109"];
/// The terminal's answer to a query for an order it never saw.
const NOT_FOUND_CODES: [&str; 1] = ["107"];

/// The outcome of a reply that arrived. A reply that never arrived (deadline passed,
/// link lost, unparseable frame) is `Outcome::Unknown` by definition; the link says so.
pub fn outcome(reply: &Reply) -> Outcome {
    if let Some(code) = reply.response_code.as_deref() {
        let code = code.trim();
        if SUCCESS_CODES.contains(&code) {
            return Outcome::Approved;
        }
        if UNKNOWN_CODES.contains(&code) || speaks_of_timeout(reply.message()) {
            return Outcome::Unknown;
        }
        return Outcome::Declined;
    }
    match reply.success {
        Some(true) => Outcome::Approved,
        Some(false) if speaks_of_timeout(reply.message()) => Outcome::Unknown,
        Some(false) => Outcome::Declined,
        // A reply that says neither yes nor no tells us nothing.
        None => Outcome::Unknown,
    }
}

fn speaks_of_timeout(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["timeout", "time out", "timed out"]
        .iter()
        .any(|w| message.contains(w))
}

/// What an answer to `ecrhub.pay.query` says about the money of the order it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryVerdict {
    /// `trans_status` "2": the money moved.
    Moved,
    /// Closed, cancelled, or the terminal never saw the order: no money moved.
    NotMoved,
    /// No definite answer yet (still in progress, an error, an unrecognised status):
    /// ask again later. Carries what was seen, shown raw.
    Undetermined(String),
}

pub fn query_verdict(reply: &Reply) -> QueryVerdict {
    let code = reply.response_code.as_deref().map(str::trim);
    if code.is_some_and(|c| NOT_FOUND_CODES.contains(&c)) || speaks_of_not_found(reply.message()) {
        return QueryVerdict::NotMoved;
    }
    if outcome(reply) != Outcome::Approved {
        return QueryVerdict::Undetermined(format!(
            "query answered {} {}",
            code.unwrap_or("-"),
            reply.message()
        ));
    }
    match reply
        .biz
        .trans_status
        .as_deref()
        .map(TransStatus::from_wire)
    {
        Some(TransStatus::Completed) => QueryVerdict::Moved,
        Some(TransStatus::Closed | TransStatus::Cancelled) => QueryVerdict::NotMoved,
        Some(other) => QueryVerdict::Undetermined(format!("terminal reports {}", other.describe())),
        None => QueryVerdict::Undetermined("query answer carries no trans_status".into()),
    }
}

/// What a query of the original sale says about a tip adjustment of it. The adjustment
/// has no order of its own on the wire, so the sale's tip tells: the requested tip in
/// force means it went through.
pub fn tip_verdict(reply: &Reply, tip: Money) -> QueryVerdict {
    match query_verdict(reply) {
        QueryVerdict::NotMoved if reply.biz.trans_status.is_none() => QueryVerdict::NotMoved,
        QueryVerdict::Undetermined(why) if outcome(reply) != Outcome::Approved => {
            QueryVerdict::Undetermined(why)
        }
        _ => {
            let in_force = match reply.biz.tip_amount.as_deref() {
                None => Ok(Money::zero(tip.exponent())),
                Some(text) => Money::parse(text, tip.exponent()),
            };
            match in_force {
                Ok(t) if t == tip => QueryVerdict::Moved,
                Ok(_) => QueryVerdict::NotMoved,
                Err(e) => QueryVerdict::Undetermined(format!("tip_amount unreadable: {e}")),
            }
        }
    }
}

fn speaks_of_not_found(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["does not exist", "not exist", "not found", "no such order"]
        .iter()
        .any(|w| message.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: Option<&str>, msg: &str) -> Reply {
        Reply {
            response_code: code.map(String::from),
            response_msg: Some(msg.to_string()).filter(|m| !m.is_empty()),
            ..Reply::default()
        }
    }

    // One test per row of protocol.md's outcome table.

    #[test]
    fn row_success_codes_and_legacy_success_are_approved() {
        assert_eq!(outcome(&reply(Some("0"), "SUCCESS")), Outcome::Approved);
        assert_eq!(outcome(&reply(Some("000"), "Success")), Outcome::Approved);
        let legacy = Reply {
            success: Some(true),
            ..Reply::default()
        };
        assert_eq!(outcome(&legacy), Outcome::Approved);
    }

    #[test]
    fn row_any_other_code_is_declined() {
        assert_eq!(outcome(&reply(Some("110"), "cancelled")), Outcome::Declined);
        assert_eq!(
            outcome(&reply(Some("106"), "app not authorised")),
            Outcome::Declined
        );
        assert_eq!(outcome(&reply(Some("105"), "")), Outcome::Declined);
        let legacy = Reply {
            success: Some(false),
            response_msg: Some("Card read error".into()),
            ..Reply::default()
        };
        assert_eq!(outcome(&legacy), Outcome::Declined);
    }

    #[test]
    fn row_112_or_a_timeout_message_is_unknown() {
        assert_eq!(outcome(&reply(Some("112"), "")), Outcome::Unknown);
        assert_eq!(
            outcome(&reply(Some("199"), "Host response TIMEOUT")),
            Outcome::Unknown
        );
        assert_eq!(
            outcome(&reply(Some("5"), "request timed out")),
            Outcome::Unknown
        );
    }

    #[test]
    fn row_nothing_definite_is_unknown() {
        // A reply without code or success flag is as good as none; 109 is the SDK's
        // own "network anomaly".
        assert_eq!(outcome(&Reply::default()), Outcome::Unknown);
        assert_eq!(
            outcome(&reply(Some("109"), "Network anomaly")),
            Outcome::Unknown
        );
    }

    #[test]
    fn tip_adjustments_are_judged_by_the_tip_in_force() {
        let tip = Money::from_minor(300, 2).expect("amount");
        let sale = |t: Option<&str>| {
            let mut r = reply(Some("0"), "SUCCESS");
            r.biz.trans_status = Some("2".into());
            r.biz.tip_amount = t.map(String::from);
            r
        };
        assert_eq!(tip_verdict(&sale(Some("3.00")), tip), QueryVerdict::Moved);
        assert_eq!(
            tip_verdict(&sale(Some("1.00")), tip),
            QueryVerdict::NotMoved
        );
        assert_eq!(tip_verdict(&sale(None), tip), QueryVerdict::NotMoved);
        assert_eq!(
            tip_verdict(&sale(None), Money::zero(2)),
            QueryVerdict::Moved
        );
        assert_eq!(
            tip_verdict(&reply(Some("107"), "Order does not exist"), tip),
            QueryVerdict::NotMoved
        );
        assert!(matches!(
            tip_verdict(&reply(Some("106"), "no"), tip),
            QueryVerdict::Undetermined(_)
        ));
        assert!(matches!(
            tip_verdict(&sale(Some("x")), tip),
            QueryVerdict::Undetermined(_)
        ));
    }

    #[test]
    fn query_verdicts() {
        let with_status = |status: &str| {
            let mut r = reply(Some("0"), "SUCCESS");
            r.biz.trans_status = Some(status.into());
            r
        };
        assert_eq!(query_verdict(&with_status("2")), QueryVerdict::Moved);
        assert_eq!(query_verdict(&with_status("1")), QueryVerdict::NotMoved);
        assert_eq!(query_verdict(&with_status("3")), QueryVerdict::NotMoved);
        assert!(matches!(
            query_verdict(&with_status("0")),
            QueryVerdict::Undetermined(_)
        ));
        assert!(
            matches!(query_verdict(&with_status("42")), QueryVerdict::Undetermined(m) if m.contains("42"))
        );
        assert_eq!(
            query_verdict(&reply(Some("107"), "Order does not exist")),
            QueryVerdict::NotMoved
        );
        assert!(matches!(
            query_verdict(&reply(Some("106"), "app not authorised")),
            QueryVerdict::Undetermined(_)
        ));
        assert!(matches!(
            query_verdict(&reply(Some("0"), "")),
            QueryVerdict::Undetermined(_)
        ));
    }
}
