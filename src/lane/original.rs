//! What the gateway says of an original the journal does not hold. A cloud refund,
//! void or tip of another terminal's payment is judged against it (`journal::rules`),
//! so no till gives back more than the gateway says was captured.

use crate::ecr::{Answer, QueryVerdict, TransType, moved_tip, query_verdict};
use crate::journal::{GatewayOriginal, TxnKind};
use crate::money::Money;

/// Reads the gateway's answer to a query of `order_no`; anything short of a signed
/// "completed" with a readable kind and amount refuses the follow-up, with the reason.
pub(super) fn read(
    order_no: &str,
    answer: &Answer,
    exponent: u8,
) -> Result<GatewayOriginal, String> {
    let Some(reply) = &answer.reply else {
        return Err(format!(
            "the gateway could not say what order {order_no} captured ({}); nothing was sent",
            answer.why
        ));
    };
    match query_verdict(reply) {
        QueryVerdict::Moved => {}
        QueryVerdict::NotMoved => {
            return Err(format!(
                "the gateway knows of no money moved by order {order_no}; nothing was sent"
            ));
        }
        QueryVerdict::Undetermined(why) => {
            return Err(format!(
                "order {order_no} is not settled at the gateway ({why}); try again later"
            ));
        }
    }
    let biz = &reply.biz;
    let kind = biz
        .trans_type
        .as_deref()
        .and_then(|t| TransType::from_code(t.trim()))
        .map(TxnKind::Trans)
        .ok_or_else(|| {
            format!(
                "the gateway did not say what kind of payment order {order_no} is ({})",
                biz.trans_type.as_deref().unwrap_or("no trans_type")
            )
        })?;
    let unreadable = |what: String| {
        format!("the gateway's answer for order {order_no} has {what}; nothing was sent")
    };
    let amount = match biz.amount_text() {
        None => return Err(unreadable("no amount".into())),
        Some((field, text)) => Money::parse(&text, exponent)
            .map_err(|_| unreadable(format!("an unreadable {field} '{text}'")))?,
    };
    let tip = moved_tip(reply, exponent).map_err(|u| unreadable(format!("an unreadable {u}")))?;
    Ok(GatewayOriginal {
        kind,
        amount,
        tip,
        terminal_sn: biz.terminal_sn.clone(),
    })
}
