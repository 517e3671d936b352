//! Money is conserved under any sequence: a model-based property test.
//!
//! Random sequences of every money operation (sales, cash-back sales, tips the customer
//! adds on the terminal, declines, refunds, voids, tips, pre-auths, completions and
//! their cancels and refunds, batch closes, sales withdrawn from the terminal racing
//! the card), requests other tills hand to the lane's owner, sales, refunds, voids
//! and tips through the cloud gateway with its answers spoiled, lost answers, restarts
//! and crashes, journals restored from a copy, a file an older release left (its
//! report totals tallied behind the tills as they work),
//! terminals replaced at their address and two lanes on one data dir run against real
//! simulators over loopback and a real journal file. After every step:
//! - per terminal, the journal's net equals the terminal's own ledger (once nothing of
//!   that terminal is unresolved), and every final row agrees with that terminal; the
//!   same for the cloud gateway's book and what went through it;
//! - refunds of an original never exceed what it captured plus its tip in force;
//! - no order number is sent twice, to any terminal or the gateway;
//! - batches are per lane: a lane's batch holds its own rows only;
//! - the report's kept totals say what the rows say;
//! - no row is settled by another terminal or lane (a row agrees with the terminal it
//!   was sent to, and each lane's rows are its own).
//!
//! Failing sequences shrink to a minimal case. `TILL_MODEL_CASES` sets how many run; the
//! soak of tens of thousands is `cargo bench --bench money_soak` (BENCHMARKS.md).

mod common;
mod model;

use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("TILL_MODEL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn money_is_conserved(ops in model::ops()) {
        model::run_case(&ops);
    }
}

/// What the soak found (20,000 cases, BENCHMARKS.md): a terminal that came after the
/// backup, its payment forgotten by the restore, was left in the comparison.
#[test]
fn a_restore_forgets_what_a_terminal_newer_than_the_backup_moved() {
    use model::Op;
    model::run_case(&[
        Op::Backup,
        Op::ReplaceTerminal {
            lane: 1,
            cents: 1851,
        },
        Op::Settle { lane: 1 },
        Op::ReplaceTerminal {
            lane: 1,
            cents: 1269,
        },
        Op::Restore,
        Op::Restore,
        Op::Tip {
            lane: 1,
            pick: 0,
            cents: 592,
        },
    ]);
}

/// Requests other tills (the real binary) hand to the lane's owner are booked once,
/// beside the owner's own, through a crash of the owner.
#[test]
fn what_other_tills_hand_over_is_booked_by_the_lanes_owner() {
    use model::{Handed, Op};
    model::run_case(&[
        Op::Handed {
            lane: 0,
            what: Handed::Sale { cents: 1234 },
        },
        Op::Handed {
            lane: 0,
            what: Handed::Refund {
                pick: 0,
                cents: 500,
            },
        },
        Op::Handed {
            lane: 1,
            what: Handed::Sale { cents: 1851 },
        },
        Op::Restart {
            lane: 0,
            crash: true,
        },
        Op::Handed {
            lane: 0,
            what: Handed::Void { pick: 0 },
        },
        Op::Handed {
            lane: 1,
            what: Handed::Refund {
                pick: 0,
                cents: 100,
            },
        },
    ]);
}

/// What the random moves found once they included handed-over sales: a sale handed in
/// while the lane holds a row whose terminal was replaced is refused, as the lane's
/// own would be, and says why.
#[test]
fn a_handed_over_sale_waits_behind_a_row_only_a_person_can_settle() {
    use model::{Handed, Op};
    model::run_case(&[
        Op::ReplaceTerminal {
            lane: 0,
            cents: 100,
        },
        Op::Handed {
            lane: 0,
            what: Handed::Sale { cents: 100 },
        },
        Op::Settle { lane: 0 },
        Op::Handed {
            lane: 0,
            what: Handed::Sale { cents: 100 },
        },
    ]);
}

/// Requests through the cloud gateway, its answers spoiled in every way it can spoil
/// them after carrying a request out, tills dying before they hear and a journal put
/// back from a copy: the gateway's book and the journal agree.
#[test]
fn the_gateways_book_and_the_journal_agree() {
    use model::{CloudFault, CloudMove, Op};
    model::run_case(&[
        Op::Cloud {
            lane: 0,
            what: CloudMove::Sale { cents: 1000 },
            fault: CloudFault::None,
            crash: false,
        },
        Op::Cloud {
            lane: 0,
            what: CloudMove::Tip {
                pick: 0,
                cents: 200,
            },
            fault: CloudFault::Timeout,
            crash: true,
        },
        Op::Cloud {
            lane: 0,
            what: CloudMove::Refund {
                pick: 0,
                cents: 300,
            },
            fault: CloudFault::InProgress,
            crash: true,
        },
        Op::Cloud {
            lane: 1,
            what: CloudMove::Sale { cents: 2000 },
            fault: CloudFault::BadSignature,
            crash: true,
        },
        Op::Backup,
        Op::Cloud {
            lane: 1,
            what: CloudMove::Void { pick: 0 },
            fault: CloudFault::ServerError,
            crash: false,
        },
        Op::Restore,
        Op::Cloud {
            lane: 1,
            what: CloudMove::Sale { cents: 2151 },
            fault: CloudFault::Unsigned,
            crash: false,
        },
    ]);
}

/// The cashier withdraws sales from the terminal while the customer's card is on its
/// way, over the LAN and through the cloud: what the journal books is what moved.
#[test]
fn a_withdrawn_sale_is_booked_as_it_ended() {
    use model::Op;
    let withdrawn = |lane, after_ms, cloud| Op::Withdrawn {
        lane,
        cents: 1000 + u32::from(after_ms),
        after_ms,
        cloud,
    };
    model::run_case(&[
        withdrawn(0, 0, false),
        withdrawn(0, 3, false),
        withdrawn(1, 8, false),
        withdrawn(0, 0, true),
        withdrawn(1, 11, true),
    ]);
}

/// An older release's file (no report totals) under both lanes: they take payments,
/// refunds, tips and voids while its rows are tallied behind them, crash, close a batch;
/// the totals agree with the rows after every step.
#[test]
fn an_upgrade_tallies_behind_the_tills_and_the_totals_agree() {
    use model::{Extra, Op};
    let sale = |lane, cents| Op::Sale {
        lane,
        cents,
        tip: 0,
        extra: Extra::None,
        lost: false,
    };
    model::run_case(&[
        sale(0, 1200),
        sale(1, 3400),
        Op::Tip {
            lane: 0,
            pick: 0,
            cents: 150,
        },
        Op::Upgrade,
        Op::Refund {
            lane: 1,
            pick: 0,
            cents: Some(400),
        },
        sale(0, 2500),
        Op::Restart {
            lane: 0,
            crash: true,
        },
        Op::Upgrade,
        Op::Void { lane: 0, pick: 0 },
        Op::BatchClose { lane: 1 },
        sale(1, 999),
    ]);
}
