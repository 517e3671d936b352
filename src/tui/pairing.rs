//! The Settings screen's pairing (Ctrl-P): `till pair`'s server (`pair::register`) run in
//! the background while the screen shows it. What comes in reaches the screen as
//! `Msg::Pair`; the cashier's y or n comes back through `PairingTask::answer`.
//! Dropping the task stops the server, and a terminal that was asking hears 001
//! rather than a closed connection.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use super::msg::{Msg, PairNews};
use crate::config::save_url;
use crate::ecr;
use crate::pair::register::{Incoming, Server, url_to_keep};
use crate::pair::{ACCEPT, Kind, REFUSE};

/// The pairing server while it runs; dropping this closes `decisions`, on which the
/// server refuses a terminal that asks, stops and withdraws the advert.
pub(crate) struct PairingTask {
    decisions: mpsc::Sender<bool>,
}

impl PairingTask {
    /// Serves as register `name` on `interface`; an accepted terminal is saved into the
    /// config file at `config_file`.
    pub(crate) fn start(
        interface: Ipv4Addr,
        name: String,
        config_file: Option<PathBuf>,
        tx: mpsc::UnboundedSender<Msg>,
    ) -> PairingTask {
        let (decisions, decided) = mpsc::channel(1);
        tokio::spawn(async move {
            // Stopped by the screen: it has already said so.
            if let Some(end) = serve(interface, &name, config_file, &tx, decided).await {
                let _ = tx.send(Msg::Pair(end));
            }
        });
        PairingTask { decisions }
    }

    /// The cashier's word on the terminal that asks.
    pub(crate) fn answer(&self, accept: bool) {
        let _ = self.decisions.try_send(accept);
    }
}

/// How long a stopping server gives a terminal to take its refusal.
const LAST_WORD: Duration = Duration::from_secs(2);

/// Answers pair requests until one is accepted; returns the last word, or None when the
/// screen stopped it.
async fn serve(
    interface: Ipv4Addr,
    name: &str,
    config_file: Option<PathBuf>,
    tx: &mpsc::UnboundedSender<Msg>,
    mut decided: mpsc::Receiver<bool>,
) -> Option<PairNews> {
    let say = |news| {
        let _ = tx.send(Msg::Pair(news));
    };
    let Some(path) = config_file else {
        return Some(PairNews::Failed(
            "no config directory to save a terminal to".into(),
        ));
    };
    // The register's MAC address is not known to till: advertised empty, as by `till pair`.
    let mut server = match Server::start(interface, 0, name, "", ecr::now_ms()).await {
        Ok(server) => server,
        Err(e) => return Some(PairNews::Failed(e.to_string())),
    };
    say(PairNews::Waiting {
        at: format!("ws://{}", server.addr()),
    });
    loop {
        let incoming = tokio::select! {
            incoming = server.next() => incoming,
            // A word with no terminal asking is stray; no senders left is the stop.
            word = decided.recv() => match word {
                Some(_) => continue,
                None => return None,
            },
        };
        let (request, answer) = match incoming {
            None => return Some(PairNews::Failed("the pairing server stopped".into())),
            Some(Incoming::Malformed { from, error }) => {
                say(PairNews::Malformed(format!("{from}: {error}")));
                continue;
            }
            Some(Incoming::Request {
                request, answer, ..
            }) => (request, answer),
        };
        let (name, address) = (request.device.shown_name(), request.device.address());
        if request.kind == Kind::Unpair {
            answer.send(ACCEPT).await;
            say(PairNews::Unpaired { name, address });
            continue;
        }
        // Only a word given while this terminal is on screen answers it.
        while decided.try_recv().is_ok() {}
        say(PairNews::Asks {
            name: name.clone(),
            address,
        });
        let Some(accepted) = decided.recv().await else {
            let _ = tokio::time::timeout(LAST_WORD, answer.send(REFUSE)).await;
            return None;
        };
        if !accepted {
            answer.send(REFUSE).await;
            say(PairNews::Refused { name });
            continue;
        }
        let url = url_to_keep(interface, &request.device).await;
        return Some(match save_url(&path, &url) {
            Ok(()) => {
                let told = answer.send(ACCEPT).await;
                PairNews::Paired { name, url, told }
            }
            Err(e) => {
                answer.send(REFUSE).await;
                PairNews::Failed(format!(
                    "refused {name}: its address could not be saved: {e}"
                ))
            }
        });
    }
}
