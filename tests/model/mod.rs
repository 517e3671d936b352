//! The money model: the world of tills, terminals and one data dir that random
//! sequences of operations run against, and the checks made after every step. Run as a
//! property test (tests/money_model.rs) and as a soak (benches/money_soak.rs).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::common::cloud::{settings as cloud_settings, start_gateway_at};
use crate::common::{QUICK, fast_settings, run, till};
use till::cloud::system_clock;
use till::config::{Config, Overrides};
use till::ecr::{PayScenario, TransType};
use till::journal::{BatchReport, BatchSel, Journal, TxnKind, TxnRow, TxnState, Via, rules};
use till::lane::{self, Event, LaneHandle, LaneOwner, LinkNews, PayRequest, Route, SaleOptions};
use till::money::Money;
use till::owner::{self, Served, Server, Shared};
use till::sim::cloud::{CloudFaults, CloudSim};
use till::sim::{Faults, LedgerEntry, Sim, SimConfig, SimHandle, read_ledger};

const LANES: [&str; 2] = ["L01", "L02"];
const WAIT: Duration = Duration::from_secs(20);

#[derive(Clone, Debug)]
pub enum Op {
    /// A card sale; with cash-back, or with a tip the customer adds on the terminal.
    Sale {
        lane: usize,
        cents: u32,
        tip: u32,
        extra: Extra,
        lost: bool,
    },
    /// `cents` None: all that is left to refund.
    Refund {
        lane: usize,
        pick: usize,
        cents: Option<u32>,
    },
    Void {
        lane: usize,
        pick: usize,
    },
    Tip {
        lane: usize,
        pick: usize,
        cents: u32,
    },
    PreAuth {
        lane: usize,
        cents: u32,
    },
    Complete {
        lane: usize,
        pick: usize,
        cents: u32,
    },
    BatchClose {
        lane: usize,
    },
    /// The till stops (gracefully, or killed mid-payment) and starts again.
    Restart {
        lane: usize,
        crash: bool,
    },
    Backup,
    /// Both tills stop, the journal is put back from the last backup, both start.
    Restore,
    /// Both tills stop and start on the file as an older release left it: no report
    /// totals, every row to tally, which the tills do behind their openings while they
    /// take payments.
    Upgrade,
    /// The terminal takes a payment and is replaced by another device at its address
    /// before the till hears the answer.
    ReplaceTerminal {
        lane: usize,
        cents: u32,
    },
    /// A supervisor settles the lane's stuck rows by hand, from the receipts of the
    /// terminal that took them.
    Settle {
        lane: usize,
    },
    /// Another till on the lane (the real binary, as a POS script runs it) hands its
    /// request to the till that holds the lane, over the lane's socket.
    Handed {
        lane: usize,
        what: Handed,
    },
    /// A sale the cashier withdraws from the terminal `after_ms` after it went out,
    /// racing the customer's card; through the LAN or the cloud.
    Withdrawn {
        lane: usize,
        cents: u32,
        after_ms: u8,
        cloud: bool,
    },
    /// A request through the cloud gateway (the fleet's, shared by both lanes), whose
    /// answer the gateway or the network between may spoil after carrying it out; the
    /// till may die before it hears.
    Cloud {
        lane: usize,
        what: CloudMove,
        fault: CloudFault,
        crash: bool,
    },
}

/// What goes through the cloud: follow-ups only of what the cloud took (the simulated
/// gateway and the LAN simulators keep separate books, where a real fleet has one).
#[derive(Clone, Copy, Debug)]
pub enum CloudMove {
    Sale { cents: u32 },
    Refund { pick: usize, cents: u32 },
    Void { pick: usize },
    Tip { pick: usize, cents: u32 },
}

/// How the gateway spoils its answer to a request it carried out.
#[derive(Clone, Copy, Debug)]
pub enum CloudFault {
    None,
    /// The answer never comes in time.
    Timeout,
    /// HTTP 503.
    ServerError,
    Unsigned,
    /// Altered after signing.
    BadSignature,
    /// Follow-ups answer "in progress" first.
    InProgress,
}

impl CloudFault {
    fn faults(self) -> CloudFaults {
        let mut f = CloudFaults::default();
        match self {
            CloudFault::None => {}
            CloudFault::Timeout => f.timeout = true,
            CloudFault::ServerError => f.server_error = true,
            CloudFault::Unsigned => f.unsigned = true,
            CloudFault::BadSignature => f.bad_signature = true,
            CloudFault::InProgress => f.in_progress = true,
        }
        f
    }
}

/// What another till hands over.
#[derive(Clone, Copy, Debug)]
pub enum Handed {
    Sale { cents: u32 },
    Refund { pick: usize, cents: u32 },
    Void { pick: usize },
}

#[derive(Clone, Copy, Debug)]
pub enum Extra {
    None,
    Cashback(u32),
    /// The customer picks this tip on the terminal's screen.
    CustomerTip(u32),
}

fn extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        4 => Just(Extra::None),
        1 => (100..3000u32).prop_map(Extra::Cashback),
        1 => (1..900u32).prop_map(Extra::CustomerTip),
    ]
}

/// Amounts ending in 51 are declined by the simulator.
fn cents() -> impl Strategy<Value = u32> + Clone {
    prop_oneof![100..5000u32, (1..50u32).prop_map(|d| d * 100 + 51)]
}

fn op() -> impl Strategy<Value = Op> {
    let lane = 0..2usize;
    let cents = cents();
    prop_oneof![
        6 => (lane.clone(), cents.clone(), prop_oneof![Just(0u32), 1..500u32], extra(), any::<bool>())
            .prop_map(|(lane, cents, tip, extra, lost)| Op::Sale { lane, cents, tip, extra, lost: lost && cents % 3 == 0 }),
        3 => (lane.clone(), any::<usize>(), prop::option::of(1..6000u32))
            .prop_map(|(lane, pick, cents)| Op::Refund { lane, pick, cents }),
        2 => (lane.clone(), any::<usize>()).prop_map(|(lane, pick)| Op::Void { lane, pick }),
        3 => (lane.clone(), any::<usize>(), 0..800u32)
            .prop_map(|(lane, pick, cents)| Op::Tip { lane, pick, cents }),
        1 => (lane.clone(), cents.clone()).prop_map(|(lane, cents)| Op::PreAuth { lane, cents }),
        1 => (lane.clone(), any::<usize>(), 1..6000u32)
            .prop_map(|(lane, pick, cents)| Op::Complete { lane, pick, cents }),
        1 => lane.clone().prop_map(|lane| Op::BatchClose { lane }),
        1 => (lane.clone(), any::<bool>()).prop_map(|(lane, crash)| Op::Restart { lane, crash }),
        1 => Just(Op::Backup),
        1 => Just(Op::Restore),
        1 => Just(Op::Upgrade),
        1 => (lane.clone(), cents.clone()).prop_map(|(lane, cents)| Op::ReplaceTerminal { lane, cents }),
        1 => lane.clone().prop_map(|lane| Op::Settle { lane }),
        2 => (lane.clone(), handed()).prop_map(|(lane, what)| Op::Handed { lane, what }),
        1 => (lane.clone(), cents, 0..12u8, any::<bool>())
            .prop_map(|(lane, cents, after_ms, cloud)| Op::Withdrawn { lane, cents, after_ms, cloud }),
        3 => (lane, cloud_move(), cloud_fault(), any::<bool>())
            .prop_map(|(lane, what, fault, crash)| Op::Cloud { lane, what, fault, crash }),
    ]
}

fn cloud_move() -> impl Strategy<Value = CloudMove> {
    prop_oneof![
        3 => cents().prop_map(|cents| CloudMove::Sale { cents }),
        1 => (any::<usize>(), 1..6000u32).prop_map(|(pick, cents)| CloudMove::Refund { pick, cents }),
        1 => any::<usize>().prop_map(|pick| CloudMove::Void { pick }),
        1 => (any::<usize>(), 0..800u32).prop_map(|(pick, cents)| CloudMove::Tip { pick, cents }),
    ]
}

fn cloud_fault() -> impl Strategy<Value = CloudFault> {
    prop_oneof![
        5 => Just(CloudFault::None),
        1 => Just(CloudFault::Timeout),
        1 => Just(CloudFault::ServerError),
        1 => Just(CloudFault::Unsigned),
        1 => Just(CloudFault::BadSignature),
        1 => Just(CloudFault::InProgress),
    ]
}

fn handed() -> impl Strategy<Value = Handed> {
    prop_oneof![
        2 => cents().prop_map(|cents| Handed::Sale { cents }),
        1 => (any::<usize>(), 1..6000u32).prop_map(|(pick, cents)| Handed::Refund { pick, cents }),
        1 => any::<usize>().prop_map(|pick| Handed::Void { pick }),
    ]
}

/// One terminal that was ever on a lane's address.
struct Terminal {
    serial: String,
    ledger: PathBuf,
    sim: Option<SimHandle>,
}

struct Till {
    handle: LaneHandle,
    events: UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
    /// The lane's socket, where other tills hand their requests in.
    server: Server,
}

struct World {
    dir: tempfile::TempDir,
    ports: [u16; 2],
    terminals: Vec<Terminal>,
    /// The terminal at each lane's address now.
    at: [usize; 2],
    tills: [Option<Till>; 2],
    /// The terminal each order was sent to.
    sent_to: HashMap<String, usize>,
    /// The last backup: the copy, each terminal's ledger length and what the gateway
    /// had moved when it was taken.
    backup: Option<(PathBuf, Vec<usize>, HashMap<String, i64>)>,
    /// Ledger entries a restore made the journal forget (terminal, index): money that
    /// moved while the rows that booked it were lost with the restore, not by till.
    forgotten: HashSet<(usize, usize)>,
    /// The gateway: its orders are the cloud's book.
    gateway: CloudSim,
    /// Gateway orders a restore made the journal forget (or forget a change of).
    cloud_forgotten: HashSet<String>,
}

fn data(dir: &Path) -> PathBuf {
    dir.join("data")
}

async fn start_terminal(dir: &Path, port: u16, n: usize) -> Terminal {
    let ledger = dir.join(format!("ledger-{n}.jsonl"));
    let serial = format!("SN{n:08}");
    let config = SimConfig {
        bind: format!("127.0.0.1:{port}").parse().unwrap(),
        card_delay: Duration::from_millis(5),
        faults: Faults {
            decline_cents: Some(51),
            ..Faults::default()
        },
        ledger: Some(ledger.clone()),
        ping_every: Some(Duration::from_secs(60)),
        exponent: 2,
    };
    // A replacement takes the address its predecessor left: another test's socket may
    // hold that port a moment (the suite runs cases side by side).
    let sim = retried("the simulator binds its address", || {
        Sim::start(config.clone())
    })
    .await;
    sim.set_serial(&serial);
    Terminal {
        serial,
        ledger,
        sim: Some(sim),
    }
}

/// What `attempt` gives once it succeeds, trying again for a while.
async fn retried<T, E: std::fmt::Debug, F: Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match attempt().await {
            Ok(done) => return done,
            Err(e) if tokio::time::Instant::now() > deadline => panic!("{what}: {e:?}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// A card sale, nothing added, past the duplicate guard.
fn card_sale(cents: u32) -> PayRequest {
    PayRequest::Sale {
        amount: m(cents),
        tip: None,
        cashback: None,
        scenario: PayScenario::Card,
        force: true,
        options: SaleOptions::default(),
    }
}

fn m(cents: u32) -> Money {
    Money::from_minor(i64::from(cents), 2).unwrap()
}

/// Cents in major units, as the command line takes an amount.
fn major(cents: u32) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn all_rows(journal: &Journal) -> Vec<TxnRow> {
    journal.recent(100_000).unwrap()
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut terminals = Vec::new();
        let mut ports = [0; 2];
        for (i, port) in ports.iter_mut().enumerate() {
            let t = start_terminal(dir.path(), 0, i).await;
            *port = t.sim.as_ref().unwrap().addr().port();
            terminals.push(t);
        }
        let mut world = World {
            dir,
            ports,
            terminals,
            at: [0, 1],
            tills: [None, None],
            sent_to: HashMap::new(),
            backup: None,
            forgotten: HashSet::new(),
            gateway: start_gateway_at(CloudFaults::default(), system_clock()).await,
            cloud_forgotten: HashSet::new(),
        };
        for lane in 0..2 {
            world.start_till(lane).await;
        }
        world
    }

    fn journal(&self) -> Journal {
        Journal::open(&data(self.dir.path())).unwrap()
    }

    async fn start_till(&mut self, lane: usize) {
        let mut settings = fast_settings(&format!("127.0.0.1:{}", self.ports[lane]));
        settings.lane_id = LANES[lane].into();
        let mut cloud = cloud_settings(&self.gateway.url());
        cloud.terminal_sn = Some(format!("SN-CLOUD-{lane}"));
        settings.cloud = Some(cloud);
        // A row only a person can settle need not hold a stopping till up.
        settings.shutdown_grace = Duration::from_millis(100);
        let journal = Journal::open(&data(self.dir.path())).unwrap();
        // A till spawned by another test may hold the lock file a moment between its
        // fork and exec.
        let dir = data(self.dir.path());
        let owner = retried("the lane is free", || {
            std::future::ready(LaneOwner::try_acquire(&dir, LANES[lane], "the model"))
        })
        .await;
        let target = settings.link.target.to_string();
        let (handle, events, task) = lane::spawn(settings, journal, owner);
        let (shared, events) = Shared::start(handle.clone(), events, target);
        let served = Served {
            config: self.config(lane),
            run: till::headless::handler(),
            reload: None,
        };
        let server = owner::listen(served, shared).expect("the lane's socket listens");
        let mut till = Till {
            handle,
            events,
            task,
            server,
        };
        wait_for(&mut till.events, |e| {
            matches!(e, Event::Link(LinkNews::Device(_)))
        })
        .await;
        self.tills[lane] = Some(till);
        // Rows an earlier run left unknown are settled first, where they can be.
        self.settle_by_query(lane).await;
    }

    async fn stop_till(&mut self, lane: usize, crash: bool) {
        let Some(till) = self.tills[lane].take() else {
            return;
        };
        if crash {
            till.task.abort();
            drop(till.server);
        } else {
            till.server.stop().await;
            till.handle.shutdown().await;
        }
        let _ = tokio::time::timeout(WAIT, till.task).await;
    }

    fn url(&self, lane: usize) -> String {
        format!("ws://127.0.0.1:{}", self.ports[lane])
    }

    /// The config the lane's owner serves handed-over requests under.
    fn config(&self, lane: usize) -> Config {
        let env = |key: &str| match key {
            "TILL_DATA_DIR" => Some(data(self.dir.path()).display().to_string()),
            "TILL_LANE" => Some(LANES[lane].to_string()),
            "TILL_URL" => Some(self.url(lane)),
            "TILL_APP_ID" => Some("test-app".to_string()),
            _ => None,
        };
        Config::load(None, &env, &Overrides::default()).expect("the owner's config")
    }

    /// Runs the real binary on `lane` as another till would; the order it sent, if any,
    /// and what it told the person who ran it.
    async fn hand_over(&mut self, lane: usize, args: &[&str]) -> (Option<String>, String) {
        let terminal = self.at[lane];
        let mut cmd = till(self.dir.path(), &self.url(lane), QUICK);
        cmd.env("TILL_LANE", LANES[lane]);
        let out = run(cmd, &[args, &["--json"]].concat()).await;
        assert!(
            out.stderr.contains("the request goes to it"),
            "the lane's owner took the request: {}",
            out.stderr
        );
        let order = out.json()["merchant_order_no"].as_str().map(str::to_string);
        if let Some(order) = &order {
            self.sent_to.insert(order.clone(), terminal);
        }
        (order, out.stderr)
    }

    fn till(&mut self, lane: usize) -> &mut Till {
        self.tills[lane].as_mut().expect("the till runs")
    }

    /// Waits until the lane's unresolved rows are settled, or only rows no query can
    /// settle are left (their terminal is gone).
    async fn settle_by_query(&mut self, lane: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let open: Vec<TxnRow> = self.journal().unresolved_on(LANES[lane]).unwrap();
            let waiting = open.iter().any(|r| !self.stuck(r));
            if !waiting {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "rows never settled: {:?}",
                open.iter().map(|r| &r.order_no).collect::<Vec<_>>()
            );
            let till = self.till(lane);
            let _ = tokio::time::timeout(Duration::from_millis(50), till.events.recv()).await;
        }
    }

    /// A row whose terminal is no longer at any address: only a person settles it.
    fn stuck(&self, row: &TxnRow) -> bool {
        match self.sent_to.get(&row.order_no) {
            Some(t) => !self.at.contains(t),
            // A row the model never saw sent (a crash before the send) is asked about
            // and found not to exist, by the terminal at its address.
            None => false,
        }
    }

    async fn pay(&mut self, lane: usize, req: PayRequest) -> Option<String> {
        let terminal = self.at[lane];
        let result = self.till(lane).handle.pay(req).await;
        let order = result.ok()?;
        self.sent_to.insert(order.clone(), terminal);
        Some(order)
    }

    /// A pick among the lane's approved rows of these kinds that went over the LAN.
    fn pick(&self, lane: usize, pick: usize, kinds: &[TxnKind]) -> Option<TxnRow> {
        self.pick_via(Via::Lan, lane, pick, kinds)
    }

    /// A pick among the lane's approved rows of these kinds that went `via`.
    fn pick_via(&self, via: Via, lane: usize, pick: usize, kinds: &[TxnKind]) -> Option<TxnRow> {
        let rows: Vec<TxnRow> = all_rows(&self.journal())
            .into_iter()
            .filter(|r| r.lane == LANES[lane] && r.state == TxnState::Approved && r.via == via)
            .filter(|r| kinds.contains(&r.kind))
            .collect();
        (!rows.is_empty()).then(|| rows[pick % rows.len()].clone())
    }

    async fn apply(&mut self, op: &Op) {
        let sale = TxnKind::Trans(TransType::Sale);
        let cashback = TxnKind::Trans(TransType::CashbackSale);
        let completion = TxnKind::Trans(TransType::Completion);
        match *op {
            Op::Sale {
                lane,
                cents,
                tip,
                extra,
                lost,
            } => {
                let (cashback, customer_tip) = match extra {
                    Extra::None => (None, None),
                    Extra::Cashback(c) => (Some(m(c)), None),
                    Extra::CustomerTip(t) => (None, Some(i64::from(t))),
                };
                let sim = self.terminals[self.at[lane]].sim.as_ref().unwrap();
                sim.set_faults(Faults {
                    decline_cents: Some(51),
                    drop_after_order: lost,
                    on_screen_tip_minor: customer_tip,
                    ..Faults::default()
                });
                let req = PayRequest::Sale {
                    amount: m(cents),
                    tip: (tip > 0).then(|| m(tip)),
                    cashback,
                    scenario: PayScenario::Card,
                    force: true,
                    options: SaleOptions {
                        tip_on_terminal: customer_tip.map(|_| true),
                        ..SaleOptions::default()
                    },
                };
                self.pay(lane, req).await;
                self.settle_by_query(lane).await;
                let sim = self.terminals[self.at[lane]].sim.as_ref().unwrap();
                sim.set_faults(Faults {
                    decline_cents: Some(51),
                    ..Faults::default()
                });
            }
            Op::Refund { lane, pick, cents } => {
                if let Some(orig) = self.pick(lane, pick, &[sale, cashback, completion]) {
                    let left = self.journal().refundable(&orig.order_no).unwrap();
                    let amount = match cents {
                        Some(cents) => m(cents),
                        None => left.unwrap_or(orig.amount),
                    };
                    let req = PayRequest::Refund {
                        amount,
                        orig: Some(orig.order_no),
                        options: SaleOptions::default(),
                    };
                    self.pay(lane, req).await;
                    self.settle_by_query(lane).await;
                }
            }
            Op::Void { lane, pick } => {
                // Of a pre-auth it is a pre-auth cancel, of a completion a completion cancel.
                let preauth = TxnKind::Trans(TransType::PreAuth);
                if let Some(orig) = self.pick(lane, pick, &[sale, cashback, completion, preauth]) {
                    let req = PayRequest::Void {
                        orig: orig.order_no,
                        options: SaleOptions::default(),
                    };
                    self.pay(lane, req).await;
                    self.settle_by_query(lane).await;
                }
            }
            Op::Tip { lane, pick, cents } => {
                if let Some(orig) = self.pick(lane, pick, &[sale, cashback]) {
                    let req = PayRequest::TipAdjust {
                        orig: orig.order_no,
                        tip: m(cents),
                    };
                    self.pay(lane, req).await;
                    self.settle_by_query(lane).await;
                }
            }
            Op::PreAuth { lane, cents } => {
                self.pay(lane, PayRequest::PreAuth { amount: m(cents) })
                    .await;
                self.settle_by_query(lane).await;
            }
            Op::Complete { lane, pick, cents } => {
                let preauth = TxnKind::Trans(TransType::PreAuth);
                if let Some(orig) = self.pick(lane, pick, &[preauth]) {
                    let req = PayRequest::FollowUp {
                        trans_type: TransType::Completion,
                        orig: orig.order_no,
                        amount: Some(m(cents)),
                    };
                    self.pay(lane, req).await;
                    self.settle_by_query(lane).await;
                }
            }
            Op::BatchClose { lane } => {
                self.pay(lane, PayRequest::BatchClose).await;
                self.settle_by_query(lane).await;
            }
            Op::Restart { lane, crash } => {
                if crash {
                    // Killed with a payment at the terminal.
                    let sim = self.terminals[self.at[lane]].sim.as_ref().unwrap();
                    sim.set_faults(Faults {
                        decline_cents: Some(51),
                        hold: Some(Duration::from_millis(300)),
                        ..Faults::default()
                    });
                    let req = card_sale(1234);
                    self.pay(lane, req).await;
                }
                self.stop_till(lane, crash).await;
                if let Some(sim) = self.terminals[self.at[lane]].sim.as_ref() {
                    sim.set_faults(Faults {
                        decline_cents: Some(51),
                        ..Faults::default()
                    });
                }
                self.start_till(lane).await;
            }
            Op::Backup => {
                let copy = self
                    .dir
                    .path()
                    .join(format!("backup-{}.db", fastrand::u32(..)));
                let conn =
                    rusqlite::Connection::open(data(self.dir.path()).join("till.db")).unwrap();
                conn.execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
                    .unwrap();
                let lengths = self.ledger_lengths();
                self.backup = Some((copy, lengths, self.gateway.moved()));
            }
            Op::Upgrade => {
                for lane in 0..2 {
                    self.stop_till(lane, false).await;
                }
                let conn =
                    rusqlite::Connection::open(data(self.dir.path()).join("till.db")).unwrap();
                conn.execute_batch(
                    "DELETE FROM tally_slot; DELETE FROM tally_day; DELETE FROM tally_row;
                     INSERT OR IGNORE INTO tally_dirty_row (id) SELECT id FROM txn;",
                )
                .unwrap();
                drop(conn);
                for lane in 0..2 {
                    self.start_till(lane).await;
                }
            }
            Op::Restore => {
                let Some((copy, lengths, moved)) = self.backup.clone() else {
                    return;
                };
                for lane in 0..2 {
                    self.stop_till(lane, false).await;
                }
                let dir = data(self.dir.path());
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(dir.join(format!("till.db{suffix}")));
                }
                std::fs::copy(&copy, dir.join("till.db")).unwrap();
                // A terminal that came after the backup: all it moved is forgotten.
                for (t, now) in self.ledger_lengths().into_iter().enumerate() {
                    let then = lengths.get(t).copied().unwrap_or(0);
                    self.forgotten.extend((then..now).map(|i| (t, i)));
                }
                let changed = self
                    .gateway
                    .moved()
                    .into_iter()
                    .filter(|(order, net)| moved.get(order) != Some(net))
                    .map(|(order, _)| order);
                self.cloud_forgotten.extend(changed);
                for lane in 0..2 {
                    self.start_till(lane).await;
                }
            }
            Op::ReplaceTerminal { lane, cents } => {
                let old = self.at[lane];
                let sim = self.terminals[old].sim.as_ref().unwrap();
                sim.set_faults(Faults {
                    decline_cents: Some(51),
                    drop_after_order: true,
                    ..Faults::default()
                });
                let req = card_sale(cents);
                let order = self.pay(lane, req).await;
                // The terminal finishes the card flow, then goes.
                if let Some(order) = &order {
                    let ledger = self.terminals[old].ledger.clone();
                    let declined = cents % 100 == 51;
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                    while !declined
                        && !read_ledger(&ledger)
                            .unwrap()
                            .iter()
                            .any(|e| &e.merchant_order_no == order)
                        && tokio::time::Instant::now() < deadline
                    {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                if let Some(sim) = self.terminals[old].sim.take() {
                    sim.shutdown().await;
                }
                let n = self.terminals.len();
                let replacement = start_terminal(self.dir.path(), self.ports[lane], n).await;
                self.terminals.push(replacement);
                self.at[lane] = n;
                // The lane reconnects to the newcomer; what the old terminal took stays
                // open unless the old terminal answered first.
                self.settle_by_query(lane).await;
            }
            Op::Settle { lane } => {
                let open = self.journal().unresolved_on(LANES[lane]).unwrap();
                for row in open {
                    let Some(&t) = self.sent_to.get(&row.order_no) else {
                        continue;
                    };
                    let moved = read_ledger(&self.terminals[t].ledger)
                        .unwrap()
                        .iter()
                        .any(|e| e.merchant_order_no == row.order_no);
                    let to = if moved {
                        TxnState::Approved
                    } else {
                        TxnState::Declined
                    };
                    let till = self.till(lane);
                    till.handle
                        .resolve(
                            row.order_no.clone(),
                            to,
                            "from the terminal's receipts".into(),
                        )
                        .await
                        .expect("a supervisor settles the lane's own row");
                }
            }
            Op::Handed { lane, what } => self.handed(lane, what).await,
            Op::Cloud {
                lane,
                what,
                fault,
                crash,
            } => self.cloud(lane, what, fault, crash).await,
            Op::Withdrawn {
                lane,
                cents,
                after_ms,
                cloud,
            } => self.withdrawn(lane, cents, after_ms, cloud).await,
        }
    }

    /// Whichever wins, the card or the withdrawal, the journal books what moved.
    async fn withdrawn(&mut self, lane: usize, cents: u32, after_ms: u8, cloud: bool) {
        let req = card_sale(cents);
        let route = if cloud { Route::Cloud } else { Route::Lan };
        let terminal = self.at[lane];
        let sent = self.till(lane).handle.pay_routed(req, route, false).await;
        if let Ok(order) = sent {
            if !cloud {
                self.sent_to.insert(order.clone(), terminal);
            }
            tokio::time::sleep(Duration::from_millis(u64::from(after_ms))).await;
            // Refused or answered, the outcome comes from the terminal or a query.
            let _ = self
                .till(lane)
                .handle
                .close_order_via(order, route.via())
                .await;
        }
        self.settle_by_query(lane).await;
    }

    /// A request through the gateway; its outcome settles by the gateway's word, also
    /// after a crash.
    async fn cloud(&mut self, lane: usize, what: CloudMove, fault: CloudFault, crash: bool) {
        let sale = TxnKind::Trans(TransType::Sale);
        let req = match what {
            CloudMove::Sale { cents } => card_sale(cents),
            CloudMove::Refund { pick, cents } => {
                let Some(orig) = self.pick_via(Via::Cloud, lane, pick, &[sale]) else {
                    return;
                };
                PayRequest::Refund {
                    amount: m(cents),
                    orig: Some(orig.order_no),
                    options: SaleOptions::default(),
                }
            }
            CloudMove::Void { pick } => {
                let Some(orig) = self.pick_via(Via::Cloud, lane, pick, &[sale]) else {
                    return;
                };
                PayRequest::Void {
                    orig: orig.order_no,
                    options: SaleOptions::default(),
                }
            }
            CloudMove::Tip { pick, cents } => {
                let Some(orig) = self.pick_via(Via::Cloud, lane, pick, &[sale]) else {
                    return;
                };
                PayRequest::TipAdjust {
                    orig: orig.order_no,
                    tip: m(cents),
                }
            }
        };
        self.gateway.set_faults(fault.faults());
        let sent = self
            .till(lane)
            .handle
            .pay_routed(req, Route::Cloud, false)
            .await;
        if crash && sent.is_ok() {
            self.stop_till(lane, true).await;
            self.gateway.set_faults(CloudFaults::default());
            self.start_till(lane).await;
        }
        self.settle_by_query(lane).await;
        self.gateway.set_faults(CloudFaults::default());
    }

    /// What another till hands to the lane's owner: picked as the lane's own moves pick.
    async fn handed(&mut self, lane: usize, what: Handed) {
        let sale = TxnKind::Trans(TransType::Sale);
        let cashback = TxnKind::Trans(TransType::CashbackSale);
        let completion = TxnKind::Trans(TransType::Completion);
        let preauth = TxnKind::Trans(TransType::PreAuth);
        let args: Vec<String> = match what {
            Handed::Sale { cents } => {
                vec!["sale".into(), major(cents), "--force".into()]
            }
            Handed::Refund { pick, cents } => {
                let Some(orig) = self.pick(lane, pick, &[sale, cashback, completion]) else {
                    return;
                };
                vec![
                    "refund".into(),
                    major(cents),
                    "--orig".into(),
                    orig.order_no,
                ]
            }
            Handed::Void { pick } => {
                let kinds = [sale, cashback, completion, preauth];
                let Some(orig) = self.pick(lane, pick, &kinds) else {
                    return;
                };
                vec!["void".into(), orig.order_no]
            }
        };
        // A forced sale is refused by one rule only: a row of the lane still unresolved
        // (here one whose terminal is gone, that only a person settles).
        let held: Vec<String> = self
            .journal()
            .unresolved_on(LANES[lane])
            .unwrap()
            .into_iter()
            .map(|r| r.order_no)
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (order, stderr) = self.hand_over(lane, &args).await;
        if let Handed::Sale { .. } = what {
            match order {
                Some(order) => assert!(held.is_empty(), "{order} was sent past {held:?}"),
                None => assert!(
                    !held.is_empty() && stderr.contains("still unresolved"),
                    "the handed-over sale was refused for no reason: {stderr}"
                ),
            }
        }
        self.settle_by_query(lane).await;
    }

    fn ledger_lengths(&self) -> Vec<usize> {
        self.terminals
            .iter()
            .map(|t| read_ledger(&t.ledger).unwrap().len())
            .collect()
    }

    /// What the terminal moved, less what a restore made the journal forget.
    fn ledger(&self, t: usize) -> Vec<LedgerEntry> {
        read_ledger(&self.terminals[t].ledger)
            .unwrap()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !self.forgotten.contains(&(t, *i)))
            .map(|(_, e)| e)
            .collect()
    }

    /// The invariants, after every step.
    fn check(&self, step: usize) {
        let mut journal = self.journal();
        // The report's kept totals say what the rows say, once tallied (a crash or an
        // upgrade leaves rows to tally behind a till, as a technician's `till check`
        // would find them).
        journal.tally_totals().unwrap();
        assert!(
            journal.check_totals().unwrap(),
            "step {step}: the report's totals disagree with the rows"
        );
        let rows = all_rows(&journal);
        // No order number sent twice, to any terminal.
        let mut seen: HashMap<String, u32> = HashMap::new();
        for t in &self.terminals {
            if let Some(sim) = &t.sim {
                for (order, n) in sim.stats().orders_received {
                    *seen.entry(order).or_default() += n;
                }
            }
        }
        for (order, n) in self.gateway.submitted() {
            *seen.entry(order).or_default() += n;
        }
        for (order, n) in &seen {
            assert_eq!(*n, 1, "step {step}: order {order} was sent {n} times");
        }
        // Refunds of an original never exceed what it captured plus its tip in force.
        for orig in rows.iter().filter(|r| r.state == TxnState::Approved) {
            let follow: Vec<TxnRow> = rows
                .iter()
                .filter(|r| r.orig_order_no.as_deref() == Some(&orig.order_no))
                .cloned()
                .collect();
            let refunded: i64 = follow
                .iter()
                .filter(|r| r.state != TxnState::Declined)
                .filter(|r| {
                    matches!(
                        r.kind,
                        TxnKind::Trans(TransType::Refund | TransType::CompletionRefund)
                    )
                })
                .map(|r| r.amount.minor())
                .sum();
            let captured = orig.amount.minor() + rules::effective_tip(orig, &follow);
            assert!(
                refunded <= captured,
                "step {step}: {} refunded {refunded} of {captured}",
                orig.order_no
            );
        }
        // Each lane's rows are its own; each row agrees with the terminal it went to.
        for row in &rows {
            assert!(LANES.contains(&row.lane.as_str()));
            let Some(&t) = self.sent_to.get(&row.order_no) else {
                continue;
            };
            if let Some(sn) = &row.terminal_sn {
                assert_eq!(
                    sn, &self.terminals[t].serial,
                    "step {step}: {} names another terminal",
                    row.order_no
                );
            }
            let moved = self
                .ledger(t)
                .iter()
                .any(|e| e.merchant_order_no == row.order_no && e.trans_type != "tip-adjust");
            match row.state {
                TxnState::Declined => assert!(
                    !moved,
                    "step {step}: {} is declined but terminal {} moved money for it",
                    row.order_no, self.terminals[t].serial
                ),
                TxnState::Approved if matches!(row.kind, TxnKind::Trans(_)) => assert!(
                    moved,
                    "step {step}: {} is approved but terminal {} moved nothing",
                    row.order_no, self.terminals[t].serial
                ),
                _ => {}
            }
        }
        // Batches are per lane: a lane's batch holds only its own rows, and a lane's
        // close never closed another lane's batch.
        for b in journal.batches().unwrap() {
            let Some(lane) = &b.lane else { continue };
            for row in journal.rows(BatchSel::Number(b.number)).unwrap() {
                assert_eq!(
                    &row.lane, lane,
                    "step {step}: {} is in lane {lane}'s batch {}",
                    row.order_no, b.number
                );
            }
        }
        for lane in LANES {
            let open = journal.rows(BatchSel::Open(lane)).unwrap();
            let closes = open
                .iter()
                .filter(|r| r.kind == TxnKind::BatchClose && r.state == TxnState::Approved)
                .count();
            assert_eq!(
                closes,
                0,
                "step {step}: lane {lane}'s open batch holds its own close: {:?} {:?}",
                journal.batches().unwrap(),
                open.iter()
                    .map(|r| (&r.order_no, r.kind, r.state, r.batch))
                    .collect::<Vec<_>>()
            );
        }
        // Per terminal, the journal's net equals its ledger, once nothing is open. An
        // order a restore made the journal forget part of (a tip adjusted after the
        // backup, say) and its follow-ups are left out: the restored journal cannot
        // know what its terminal holds for them.
        let mut diverged: HashSet<String> = HashSet::new();
        for (t, i) in &self.forgotten {
            if let Some(e) = read_ledger(&self.terminals[*t].ledger).unwrap().get(*i) {
                diverged.insert(e.merchant_order_no.clone());
            }
        }
        let follow: Vec<String> = rows
            .iter()
            .filter(|r| {
                r.orig_order_no
                    .as_deref()
                    .is_some_and(|o| diverged.contains(o))
            })
            .map(|r| r.order_no.clone())
            .collect();
        diverged.extend(follow);
        for (t, terminal) in self.terminals.iter().enumerate() {
            let mine: Vec<TxnRow> = rows
                .iter()
                .filter(|r| {
                    let to = self.sent_to.get(&r.order_no).copied().or_else(|| {
                        // A tip adjustment goes to its sale's terminal.
                        r.orig_order_no
                            .as_ref()
                            .and_then(|o| self.sent_to.get(o))
                            .copied()
                    });
                    to == Some(t)
                        && !diverged.contains(&r.order_no)
                        && !r
                            .orig_order_no
                            .as_deref()
                            .is_some_and(|o| diverged.contains(o))
                })
                .cloned()
                .collect();
            if mine.iter().any(|r| !r.state.is_final()) {
                continue;
            }
            let journal_net = BatchReport::of(0, &mine).net_minor;
            let ledger_net: i64 = self
                .ledger(t)
                .iter()
                .filter(|e| !diverged.contains(&e.merchant_order_no))
                .map(|e| e.amount_minor)
                .sum();
            assert_eq!(
                journal_net, ledger_net,
                "step {step}: terminal {} moved {ledger_net}, the journal books {journal_net}",
                terminal.serial
            );
        }
        self.check_cloud(step, &rows);
    }

    /// What the cloud took, the journal books, once nothing of it is open.
    fn check_cloud(&self, step: usize, rows: &[TxnRow]) {
        let forgotten = |o: Option<&str>| o.is_some_and(|o| self.cloud_forgotten.contains(o));
        let mine: Vec<TxnRow> = rows
            .iter()
            .filter(|r| r.via == Via::Cloud)
            .filter(|r| !forgotten(Some(&r.order_no)) && !forgotten(r.orig_order_no.as_deref()))
            .cloned()
            .collect();
        if mine.iter().any(|r| !r.state.is_final()) {
            return;
        }
        let journal_net = BatchReport::of(0, &mine).net_minor;
        let gateway_net: i64 = self
            .gateway
            .moved()
            .into_iter()
            .filter(|(order, _)| !self.cloud_forgotten.contains(order))
            .map(|(_, net)| net)
            .sum();
        assert_eq!(
            journal_net,
            gateway_net,
            "step {step}: the gateway moved {gateway_net}, the journal books {journal_net}: {:?}",
            mine.iter()
                .map(|r| (&r.order_no, r.kind, r.state, r.amount.minor()))
                .collect::<Vec<_>>()
        );
    }
}

async fn wait_for(events: &mut UnboundedReceiver<Event>, mut want: impl FnMut(&Event) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("the awaited event came in time")
            .expect("the lane runs");
        if want(&event) {
            return;
        }
    }
}

/// Runs one sequence against fresh simulators and journal, checking after every step.
pub fn run_case(ops: &[Op]) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut world = World::new().await;
        for (step, op) in ops.iter().enumerate() {
            world.apply(op).await;
            world.check(step);
        }
        for lane in 0..2 {
            world.stop_till(lane, false).await;
        }
    });
}

/// A sequence of one to thirteen steps.
pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..14)
}
