//! Booking what the terminal said: the record of an answer, written to the journal
//! and told to the world.

use super::Actor;
use crate::ecr::{Reply, moved_amount, moved_tip};
use crate::journal::{OutcomeRecord, TerminalReply, TxnKind, TxnState, rules};
use crate::lane::command::{Event, Step};

impl Actor {
    /// What a final answer records; an approval books the amount the terminal says
    /// moved, which may differ from the amount asked (a partial approval), and the tip
    /// it says moved (a customer may add one on its screen). An approval whose amount
    /// cannot be read is booked unknown, never as the amount asked, and is not queried
    /// again (`record`): the terminal would answer the same, so a person settles it.
    pub(super) fn final_record(
        &self,
        order_no: &str,
        state: TxnState,
        reply: Option<&Reply>,
        raw: Option<String>,
    ) -> OutcomeRecord {
        let mut rec = record_of(state, reply, raw);
        if state == TxnState::Approved
            && let Some(reply) = reply
            && let Ok(Some(row)) = self.journal.find(order_no)
        {
            let amount = match rules::asks_amount(row.kind) {
                true => moved_amount(reply, row.asked),
                false => Ok(None),
            };
            let tip = match row.kind.is_sale() {
                // A zero tip where none was asked is no news.
                true => moved_tip(reply, row.asked.exponent())
                    .map(|t| t.filter(|t| !t.is_zero() || row.tip.is_some())),
                false => Ok(None),
            };
            match (amount, tip) {
                (Ok(amount), Ok(tip)) => (rec.amount, rec.tip) = (amount, tip),
                (Err(e), _) | (_, Err(e)) => {
                    rec.state = TxnState::Unknown;
                    rec.reply.response_msg = Some(format!("{}: {e}", rules::AMOUNT_UNREADABLE));
                }
            }
        }
        rec
    }

    /// Writes a final state (or what `final_record` left unknown for a person) and
    /// tells the world.
    pub(super) fn record(
        &mut self,
        order_no: &str,
        rec: &OutcomeRecord,
        why: &str,
        reply: Option<Reply>,
    ) {
        let why = match rec.state {
            TxnState::Unknown => rec.reply.response_msg.as_deref().unwrap_or(why),
            _ => why,
        };
        match self.journal.record_outcome(order_no, rec, why) {
            Ok(row) => {
                tracing::info!(%order_no, state = row.state.name(), %why, "outcome recorded");
                if row.kind == TxnKind::BatchClose && row.state == TxnState::Approved {
                    self.batch_closed(order_no);
                }
                let was_resolving = self.resolving.remove(order_no).is_some();
                self.emit(Event::Done {
                    row: Box::new(row),
                    reply: reply.map(Box::new),
                });
                if was_resolving || rec.state != TxnState::Approved {
                    self.emit_unresolved();
                }
            }
            Err(e) => {
                tracing::error!("recording outcome of {order_no}: {e}");
                self.emit(Event::Progress {
                    order_no: order_no.to_string(),
                    step: Step::JournalError(e.to_string()),
                });
            }
        }
    }

    /// The terminal settled the batch and the journal closed its own with the approval:
    /// its totals go out.
    fn batch_closed(&mut self, order_no: &str) {
        match self.journal.close_batch(order_no, "{}") {
            Ok(report) => self.emit(Event::BatchClosed { report }),
            Err(e) => {
                tracing::error!("closing the batch in the journal: {e}");
                self.emit(Event::Progress {
                    order_no: "batch".into(),
                    step: Step::BatchNotClosed(e.to_string()),
                });
            }
        }
    }
}

pub(super) fn record_of(
    state: TxnState,
    reply: Option<&Reply>,
    raw: Option<String>,
) -> OutcomeRecord {
    let Some(reply) = reply else {
        return OutcomeRecord {
            state,
            reply: TerminalReply {
                raw,
                ..TerminalReply::default()
            },
            ..OutcomeRecord::default()
        };
    };
    let biz = &reply.biz;
    OutcomeRecord {
        state,
        amount: None,
        tip: None,
        reply: TerminalReply {
            response_code: reply.response_code.clone(),
            response_msg: Some(reply.message().to_string()).filter(|m| !m.is_empty()),
            trans_no: biz.trans_no.clone(),
            trans_status: biz.trans_status.clone(),
            brand: biz.brand().map(String::from),
            card: biz.card_no.clone(),
            auth_code: biz.auth_code.clone(),
            ref_no: biz.ref_no.clone(),
            entry_mode: biz.entry_mode.clone(),
            raw,
        },
    }
}
