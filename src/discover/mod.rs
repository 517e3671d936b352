//! Finding terminals by mDNS / DNS-SD (`_ecr-hub-server._tcp.local.`, instance = the
//! terminal's serial) and advertising a service the same way (the simulator, pairing).
//!
//! Everything goes through one socket held to one IPv4 interface (`socket`): the
//! interface is always named, 127.0.0.1 unless configured, and nothing is sent on
//! any other.

pub(crate) mod records;
mod socket;

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

pub use records::{Advert, Found};
use records::{Sightings, query};
use socket::MdnsSocket;

/// What terminals advertise.
pub(crate) const TERMINAL_SERVICE: &str = "_ecr-hub-server._tcp.local";

/// The interface mDNS uses unless told otherwise: loopback, which reaches only this
/// machine (a simulator). At a lane, `mdns_interface` names the register's address on
/// the terminal's network.
pub const DEFAULT_INTERFACE: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Queries are repeated at these offsets while a browse lasts (RFC 6762 doubles them).
const QUERY_AT: [Duration; 5] = [
    Duration::ZERO,
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(7),
    Duration::from_secs(15),
];

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(
        "mDNS interface {interface}: {source} (use an IPv4 address of this machine, e.g. 127.0.0.1)"
    )]
    Interface {
        interface: Ipv4Addr,
        source: io::Error,
    },
    #[error("mDNS on {interface}: {source}")]
    Io {
        interface: Ipv4Addr,
        source: io::Error,
    },
    #[error("mDNS record: {0}")]
    Record(#[from] simple_dns::SimpleDnsError),
}

/// A terminal seen on the network.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Terminal {
    pub serial: String,
    /// `ws://ip:port`
    pub address: String,
    pub app_name: Option<String>,
    pub app_version: Option<String>,
}

impl From<&Found> for Terminal {
    fn from(found: &Found) -> Terminal {
        Terminal {
            serial: found.instance.clone(),
            address: format!("ws://{}", found.addr),
            app_name: found.txt_value("app_name").map(str::to_string),
            app_version: found.txt_value("app_version").map(str::to_string),
        }
    }
}

/// A serial as an instance name: 1 to 63 letters, digits, `-` or `_` (one DNS label).
pub(crate) fn valid_serial(serial: &str) -> bool {
    (1..=63).contains(&serial.len())
        && serial
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A usable mDNS interface address: a specific unicast IPv4 address.
pub fn parse_interface(text: &str) -> Result<Ipv4Addr, String> {
    let addr: Ipv4Addr = text.trim().parse().map_err(|_| {
        format!("'{text}' is not an IPv4 address (mDNS runs on one interface, named by its address, e.g. 127.0.0.1)")
    })?;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
        return Err(format!(
            "'{text}' names no single interface: use the address of one, e.g. 127.0.0.1"
        ));
    }
    Ok(addr)
}

fn open(interface: Ipv4Addr) -> Result<MdnsSocket, DiscoverError> {
    MdnsSocket::open(interface).map_err(|source| DiscoverError::Interface { interface, source })
}

/// Browses `service` on `interface` for up to `wait`, or until `enough` says so.
pub(crate) async fn browse(
    interface: Ipv4Addr,
    service: &str,
    wait: Duration,
    mut enough: impl FnMut(&[Found]) -> bool,
) -> Result<Vec<Found>, DiscoverError> {
    let socket = open(interface)?;
    let io = |source| DiscoverError::Io { interface, source };
    let start = Instant::now();
    let end = start + wait;
    let mut seen = Sightings::new(service);
    let mut asked_about = Vec::new();
    let mut next_query = QUERY_AT.iter().map(|at| start + *at);
    let mut query_at = next_query.next();
    loop {
        let now = Instant::now();
        if query_at.is_some_and(|at| at <= now) {
            socket.send(&query(service, None)?).await.map_err(io)?;
            query_at = next_query.next();
        }
        let wake = query_at.map_or(end, |at| at.min(end));
        match tokio::time::timeout_at(wake, socket.recv()).await {
            Ok(received) => {
                let (packet, _from) = received.map_err(io)?;
                seen.take(&packet);
                // An answer without the address: ask about that instance, once.
                for instance in seen.incomplete() {
                    if !asked_about.contains(&instance) {
                        socket
                            .send(&query(service, Some(&instance))?)
                            .await
                            .map_err(io)?;
                        asked_about.push(instance);
                    }
                }
                let found = seen.found();
                if enough(&found) {
                    return Ok(found);
                }
            }
            Err(_) if Instant::now() >= end => return Ok(seen.found()),
            Err(_) => {}
        }
    }
}

/// Every terminal that answers within `wait`.
pub async fn terminals(
    interface: Ipv4Addr,
    wait: Duration,
) -> Result<Vec<Terminal>, DiscoverError> {
    let found = browse(interface, TERMINAL_SERVICE, wait, |_| false).await?;
    Ok(found.iter().map(Terminal::from).collect())
}

/// The terminal advertising `serial`, as soon as it answers; `None` after `wait`.
pub async fn find_terminal(
    interface: Ipv4Addr,
    serial: &str,
    wait: Duration,
) -> Result<Option<Terminal>, DiscoverError> {
    let is_it = |f: &Found| f.instance.eq_ignore_ascii_case(serial);
    let found = browse(interface, TERMINAL_SERVICE, wait, |found| {
        found.iter().any(is_it)
    })
    .await?;
    Ok(found.iter().find(|f| is_it(f)).map(Terminal::from))
}

/// The serial of the terminal advertising `address` (`ws://ip:port`), as soon as it
/// answers; `None` after `wait`.
pub(crate) async fn serial_at(
    interface: Ipv4Addr,
    address: &str,
    wait: Duration,
) -> Result<Option<String>, DiscoverError> {
    let at = |f: &Found| Terminal::from(f).address == address;
    let found = browse(interface, TERMINAL_SERVICE, wait, |found| {
        found.iter().any(at)
    })
    .await?;
    Ok(found
        .iter()
        .find(|f| at(f))
        .map(|f| Terminal::from(f).serial))
}

/// A service answered for on the network while this lives; dropping it says goodbye.
pub struct Advertisement {
    socket: Arc<MdnsSocket>,
    advert: Advert,
    responder: tokio::task::JoinHandle<()>,
}

impl Advertisement {
    pub(crate) fn advert(&self) -> &Advert {
        &self.advert
    }
}

/// Starts answering for `advert` on `interface`: announced at once and again a second
/// later (a packet may be lost), then answered whenever asked.
pub fn advertise(interface: Ipv4Addr, advert: Advert) -> Result<Advertisement, DiscoverError> {
    let socket = Arc::new(open(interface)?);
    let announcement = advert.announcement()?;
    let responder = tokio::spawn(respond(socket.clone(), advert.clone(), announcement));
    Ok(Advertisement {
        socket,
        advert,
        responder,
    })
}

async fn respond(socket: Arc<MdnsSocket>, advert: Advert, answer: Vec<u8>) {
    let interface = socket.interface();
    let announce_again = Instant::now() + Duration::from_secs(1);
    let mut announced = 0;
    loop {
        if announced < 2 {
            if let Err(e) = socket.send(&answer).await {
                tracing::warn!("mDNS announcement on {interface} failed: {e}");
            }
            announced += 1;
        }
        let received = if announced < 2 {
            match tokio::time::timeout_at(announce_again, socket.recv()).await {
                Ok(received) => received,
                Err(_) => continue,
            }
        } else {
            socket.recv().await
        };
        let packet = match received {
            Ok((packet, _from)) => packet,
            Err(e) => {
                tracing::warn!("mDNS on {interface}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(parsed) = simple_dns::Packet::parse(&packet) else {
            continue;
        };
        let is_query = !parsed.has_flags(simple_dns::PacketFlag::RESPONSE);
        if is_query
            && advert.is_asked(&parsed)
            && let Err(e) = socket.send(&answer).await
        {
            tracing::warn!("mDNS answer on {interface} failed: {e}");
        }
    }
}

impl Drop for Advertisement {
    fn drop(&mut self) {
        self.responder.abort();
        if let Ok(goodbye) = self.advert.goodbye() {
            let _ = self.socket.try_send(&goodbye);
        }
    }
}

/// The advert of a terminal: serial, where its WebSocket server listens, its app.
pub fn terminal_advert(
    serial: &str,
    addr: SocketAddrV4,
    app_name: &str,
    app_version: &str,
) -> Advert {
    Advert {
        service: TERMINAL_SERVICE.into(),
        instance: serial.into(),
        addr,
        txt: vec![
            format!("app_name={app_name}"),
            format!("app_version={app_version}"),
        ],
    }
}
