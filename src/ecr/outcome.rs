//! The outcome rules of protocol.md, in one place. Everything that decides whether
//! money moved goes through `outcome` or `query_verdict`.

use std::fmt;

use super::reply::Reply;
use super::{Topic, TransStatus};
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

/// What the envelope says: handled (success), refused (another code), or nothing.
fn envelope(reply: &Reply) -> Option<bool> {
    match reply.response_code.as_deref().map(str::trim) {
        Some(code) => Some(SUCCESS_CODES.contains(&code)),
        None => reply.success,
    }
}

/// Topics whose answer describes a payment: there `trans_status` decides.
fn describes_payment(topic: Topic) -> bool {
    matches!(topic, Topic::PayOrder | Topic::PayQuery)
}

/// The outcome of a reply to a request of `topic`, by protocol.md's table. A reply
/// that never arrived (deadline passed, link lost, unparseable frame) is
/// `Outcome::Unknown` by definition; the link says so.
pub(crate) fn outcome_for(topic: Topic, reply: &Reply) -> Outcome {
    let status = reply
        .biz
        .trans_status
        .as_deref()
        .map(str::trim)
        .map(TransStatus::from_wire);
    match envelope(reply) {
        // A reply that says neither yes nor no tells us nothing.
        None => Outcome::Unknown,
        Some(true) if !describes_payment(topic) => Outcome::Approved,
        Some(true) => match status {
            Some(TransStatus::Completed) => Outcome::Approved,
            Some(TransStatus::Closed | TransStatus::Cancelled) => Outcome::Declined,
            // In progress, created, unrecognised or absent: only a query can tell.
            _ => Outcome::Unknown,
        },
        Some(false) => {
            let code = reply.response_code.as_deref().map(str::trim);
            // Words may withhold a verdict ("timeout, please query"), never give one.
            if code.is_some_and(|c| UNKNOWN_CODES.contains(&c))
                || speaks_of_timeout(reply.message())
            {
                return Outcome::Unknown;
            }
            // A refusal that says the payment completed contradicts itself: ask.
            if describes_payment(topic) && status == Some(TransStatus::Completed) {
                return Outcome::Unknown;
            }
            Outcome::Declined
        }
    }
}

/// The outcome of a reply by its own topic; one without a known topic is judged as a
/// payment, the only safe assumption.
pub fn outcome(reply: &Reply) -> Outcome {
    let topic = reply.topic.as_deref().and_then(Topic::parse);
    outcome_for(topic.unwrap_or(Topic::PayOrder), reply)
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

/// Whether a query's answer says the terminal never saw the order.
pub(crate) fn is_not_found(reply: &Reply) -> bool {
    let code = reply.response_code.as_deref().map(str::trim);
    code.is_some_and(|c| NOT_FOUND_CODES.contains(&c))
}

/// By the code (not found) and `trans_status` only: message text never decides.
pub fn query_verdict(reply: &Reply) -> QueryVerdict {
    let code = reply.response_code.as_deref().map(str::trim);
    if is_not_found(reply) {
        return QueryVerdict::NotMoved;
    }
    if envelope(reply) != Some(true) {
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
        .map(str::trim)
        .map(TransStatus::from_wire)
    {
        Some(TransStatus::Completed) => QueryVerdict::Moved,
        Some(TransStatus::Closed | TransStatus::Cancelled) => QueryVerdict::NotMoved,
        Some(other) => QueryVerdict::Undetermined(format!("terminal reports {}", other.describe())),
        None => QueryVerdict::Undetermined("query answer carries no trans_status".into()),
    }
}

/// What a query of the original sale says about a tip adjustment of it. The adjustment
/// has no order of its own on the wire, so the sale's `tip_amount` tells: the tip asked
/// for means it went through. Another tip means it did not: the terminal applies an
/// adjustment at once (there is no card flow), and the lane lets no other change of
/// that tip go out while this one is unknown (`rules::check`), so the tip it answers is
/// the one in force before. A sale answered without `tip_amount` says nothing either
/// way (a terminal may leave it out, or send it only when not zero): unknown.
pub(crate) fn tip_verdict(reply: &Reply, tip: Money) -> QueryVerdict {
    match query_verdict(reply) {
        QueryVerdict::Moved => match reply.biz.tip_amount.as_deref() {
            None => QueryVerdict::Undetermined(
                "the sale's query answer carries no tip_amount: whether the tip changed is not known".into(),
            ),
            Some(text) => match Money::parse(text, tip.exponent()) {
                Ok(t) if t == tip => QueryVerdict::Moved,
                Ok(_) => QueryVerdict::NotMoved,
                Err(e) => QueryVerdict::Undetermined(format!("tip_amount unreadable: {e}")),
            },
        },
        // The sale was never completed: no tip on it can have moved.
        other => other,
    }
}

/// An amount field of an approval that does not read as money of the currency
/// ("5,00", "-10.00", "abc"): it is not the amount asked, a person must look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unreadable {
    /// The field, e.g. `order_amount`.
    pub(crate) field: &'static str,
    /// Its text as it came, cut short.
    pub(crate) text: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.field, self.text)
    }
}

fn unreadable(field: &'static str, text: &str) -> Unreadable {
    Unreadable {
        field,
        text: text.chars().take(24).collect(),
    }
}

/// The amount an approving reply says moved, when it says one that differs from the
/// amount asked.
pub(crate) fn moved_amount(reply: &Reply, asked: Money) -> Result<Option<Money>, Unreadable> {
    let Some((field, text)) = reply.biz.amount_text() else {
        return Ok(None);
    };
    match Money::parse(&text, asked.exponent()) {
        Ok(moved) => Ok((moved != asked).then_some(moved)),
        Err(_) => Err(unreadable(field, &text)),
    }
}

/// The tip an approving reply says moved (a customer may add one on the terminal's
/// screen), when it names one.
pub(crate) fn moved_tip(reply: &Reply, exponent: u8) -> Result<Option<Money>, Unreadable> {
    match reply.biz.tip_amount.as_deref() {
        None => Ok(None),
        Some(text) => Money::parse(text, exponent)
            .map(Some)
            .map_err(|_| unreadable("tip_amount", text)),
    }
}

/// Whether a reply is for another order than `order_no`: one that names no order may
/// be ours, one that names another is not.
pub(crate) fn names_other_order(reply: &Reply, order_no: &str) -> bool {
    reply
        .biz
        .merchant_order_no
        .as_deref()
        .is_some_and(|o| o.trim() != order_no)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: Option<&str>, msg: &str, status: Option<&str>) -> Reply {
        let mut r = Reply {
            response_code: code.map(String::from),
            response_msg: Some(msg.to_string()).filter(|m| !m.is_empty()),
            ..Reply::default()
        };
        r.biz.trans_status = status.map(String::from);
        r
    }

    const PAY: Topic = Topic::PayOrder;

    // One test per row of protocol.md's outcome table.

    #[test]
    fn row_success_and_completed_is_approved() {
        for code in ["0", "000", " 0 "] {
            assert_eq!(
                outcome_for(PAY, &reply(Some(code), "", Some("2"))),
                Outcome::Approved
            );
        }
        let mut legacy = reply(None, "", Some("2"));
        legacy.success = Some(true);
        assert_eq!(outcome_for(PAY, &legacy), Outcome::Approved);
    }

    #[test]
    fn row_success_but_closed_or_cancelled_is_declined() {
        for status in ["1", "3"] {
            let r = reply(Some("0"), "SUCCESS", Some(status));
            assert_eq!(outcome_for(PAY, &r), Outcome::Declined, "{status}");
        }
    }

    #[test]
    fn row_success_but_in_progress_or_silent_is_unknown() {
        for status in [Some("0"), Some("9"), Some("42"), None] {
            let r = reply(Some("0"), "SUCCESS", status);
            assert_eq!(outcome_for(PAY, &r), Outcome::Unknown, "{status:?}");
        }
    }

    #[test]
    fn row_any_other_code_is_declined() {
        for code in ["110", "106", "104", "105"] {
            assert_eq!(
                outcome_for(PAY, &reply(Some(code), "no", None)),
                Outcome::Declined
            );
        }
        let mut legacy = reply(None, "Card read error", None);
        legacy.success = Some(false);
        assert_eq!(outcome_for(PAY, &legacy), Outcome::Declined);
    }

    #[test]
    fn row_112_109_or_a_timeout_message_is_unknown() {
        assert_eq!(
            outcome_for(PAY, &reply(Some("112"), "", None)),
            Outcome::Unknown
        );
        assert_eq!(
            outcome_for(PAY, &reply(Some("109"), "Network anomaly", None)),
            Outcome::Unknown
        );
        assert_eq!(
            outcome_for(PAY, &reply(Some("199"), "Host response TIMEOUT", None)),
            Outcome::Unknown
        );
        // A refusal that claims the payment completed proves nothing either way.
        assert_eq!(
            outcome_for(PAY, &reply(Some("105"), "", Some("2"))),
            Outcome::Unknown
        );
    }

    #[test]
    fn row_nothing_definite_is_unknown() {
        assert_eq!(outcome_for(PAY, &Reply::default()), Outcome::Unknown);
    }

    #[test]
    fn non_financial_topics_go_by_the_code_alone() {
        for topic in [
            Topic::Heartbeat,
            Topic::Init,
            Topic::BatchClose,
            Topic::TipAdjustment,
        ] {
            assert_eq!(
                outcome_for(topic, &reply(Some("0"), "", None)),
                Outcome::Approved
            );
            assert_eq!(
                outcome_for(topic, &reply(Some("5"), "", None)),
                Outcome::Declined
            );
        }
        // Without a topic a reply is judged as a payment.
        assert_eq!(outcome(&reply(Some("0"), "", None)), Outcome::Unknown);
    }

    #[test]
    fn message_text_never_decides() {
        let words = [
            "receipt printer not found",
            "declined",
            "approved",
            "order does not exist",
        ];
        for msg in words {
            assert_eq!(
                outcome_for(PAY, &reply(Some("0"), msg, Some("2"))),
                Outcome::Approved
            );
            assert_eq!(
                query_verdict(&reply(Some("0"), msg, Some("2"))),
                QueryVerdict::Moved
            );
            assert!(matches!(
                query_verdict(&reply(Some("5"), msg, None)),
                QueryVerdict::Undetermined(_)
            ));
        }
    }

    #[test]
    fn query_verdicts() {
        let status = |s: &str| reply(Some("0"), "SUCCESS", Some(s));
        assert_eq!(query_verdict(&status("2")), QueryVerdict::Moved);
        assert_eq!(query_verdict(&status("1")), QueryVerdict::NotMoved);
        assert_eq!(query_verdict(&status("3")), QueryVerdict::NotMoved);
        assert!(matches!(
            query_verdict(&status("0")),
            QueryVerdict::Undetermined(_)
        ));
        assert!(matches!(
            query_verdict(&status("9")),
            QueryVerdict::Undetermined(_)
        ));
        assert!(
            matches!(query_verdict(&status("42")), QueryVerdict::Undetermined(m) if m.contains("42"))
        );
        assert_eq!(
            query_verdict(&reply(Some("107"), "Order does not exist", None)),
            QueryVerdict::NotMoved
        );
        assert!(matches!(
            query_verdict(&reply(Some("106"), "app not authorised", None)),
            QueryVerdict::Undetermined(_)
        ));
        assert!(matches!(
            query_verdict(&reply(Some("0"), "", None)),
            QueryVerdict::Undetermined(_)
        ));
    }

    #[test]
    fn tip_adjustments_are_judged_by_the_tip_in_force() {
        let tip = Money::from_minor(300, 2).expect("amount");
        let sale = |t: Option<&str>| {
            let mut r = reply(Some("0"), "SUCCESS", Some("2"));
            r.biz.tip_amount = t.map(String::from);
            r
        };
        assert_eq!(tip_verdict(&sale(Some("3.00")), tip), QueryVerdict::Moved);
        assert_eq!(
            tip_verdict(&sale(Some("1.00")), tip),
            QueryVerdict::NotMoved
        );
        // No tip_amount: the adjustment may or may not have happened.
        for asked in [tip, Money::zero(2)] {
            assert!(matches!(
                tip_verdict(&sale(None), asked),
                QueryVerdict::Undetermined(_)
            ));
        }
        assert_eq!(
            tip_verdict(&sale(Some("0.00")), Money::zero(2)),
            QueryVerdict::Moved
        );
        assert_eq!(
            tip_verdict(&reply(Some("107"), "Order does not exist", None), tip),
            QueryVerdict::NotMoved
        );
        assert!(matches!(
            tip_verdict(&reply(Some("106"), "no", None), tip),
            QueryVerdict::Undetermined(_)
        ));
        assert!(matches!(
            tip_verdict(&sale(Some("x")), tip),
            QueryVerdict::Undetermined(_)
        ));
    }

    #[test]
    fn the_amount_that_moved_and_whose_answer_it_is() {
        let asked = Money::from_minor(1000, 2).expect("amount");
        let mut r = reply(Some("0"), "", Some("2"));
        assert_eq!(moved_amount(&r, asked), Ok(None), "no amount: as asked");
        r.biz.order_amount = Some("10.00".into());
        assert_eq!(moved_amount(&r, asked), Ok(None));
        r.biz.order_amount = Some("5.00".into());
        assert_eq!(moved_amount(&r, asked), Ok(Money::from_minor(500, 2).ok()));
        for text in ["5,00", "-10.00", "abc", "5.001"] {
            r.biz.order_amount = Some(text.into());
            let e = moved_amount(&r, asked).expect_err("never the amount asked");
            assert_eq!(e.to_string(), format!("order_amount '{text}'"));
        }
        assert_eq!(moved_tip(&r, 2), Ok(None));
        r.biz.tip_amount = Some("2.00".into());
        assert_eq!(moved_tip(&r, 2), Ok(Money::from_minor(200, 2).ok()));
        r.biz.tip_amount = Some("2,00".into());
        assert!(moved_tip(&r, 2).is_err());

        assert!(!names_other_order(&r, "L01-A"), "names none");
        r.biz.merchant_order_no = Some("L01-A".into());
        assert!(!names_other_order(&r, "L01-A"));
        assert!(names_other_order(&r, "L01-B"));
    }
}
