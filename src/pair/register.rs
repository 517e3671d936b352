//! The register's pairing server: a WebSocket server on the mDNS interface's address,
//! advertised as `_ecr-hub-client._tcp.local.` while it runs. Every pair or unpair
//! request is handed to the caller, who decides; a malformed frame is answered with a
//! refusal that says why, reported, and the connection goes on.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Device, Frame, Request, malformed_answer, parse, register_advert};
use crate::discover;
use crate::discover::{Advertisement, DiscoverError, advertise};

/// Pair frames are small: anything larger is not one.
const MAX_FRAME: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddrV4,
        source: std::io::Error,
    },
    #[error(transparent)]
    Discover(#[from] DiscoverError),
}

/// What came in from a terminal.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A pair or unpair request; the code sent back on `answer` goes to the terminal.
    Request { request: Request, answer: Answer },
    /// A frame that could not be read (already answered with a refusal).
    Malformed { from: SocketAddr, error: String },
}

/// Where the register's decision goes.
#[derive(Debug)]
pub(crate) struct Answer(oneshot::Sender<(&'static str, oneshot::Sender<bool>)>);

impl Answer {
    /// Sends `code` to the terminal; true once it is written (so a command may exit).
    pub(crate) async fn send(self, code: &'static str) -> bool {
        let (done, written) = oneshot::channel();
        if self.0.send((code, done)).is_err() {
            return false;
        }
        written.await.unwrap_or(false)
    }
}

/// The running server; dropping it stops it and withdraws the advert.
pub(crate) struct Server {
    addr: SocketAddrV4,
    incoming: mpsc::Receiver<Incoming>,
    advertisement: Advertisement,
    connections: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Listens on `interface`:`port` (0: a free one; the real one is advertised) and
    /// advertises register `name` there.
    pub(crate) async fn start(
        interface: Ipv4Addr,
        port: u16,
        name: &str,
        mac: &str,
        millis: i64,
    ) -> Result<Server, ServeError> {
        let wanted = SocketAddrV4::new(interface, port);
        let listen = |source| ServeError::Listen {
            addr: wanted,
            source,
        };
        let listener = TcpListener::bind(wanted).await.map_err(listen)?;
        let addr = match listener.local_addr().map_err(listen)? {
            SocketAddr::V4(addr) => addr,
            SocketAddr::V6(_) => SocketAddrV4::new(interface, port),
        };
        let advertisement = advertise(interface, register_advert(name, addr, mac, millis))?;
        let (tx, incoming) = mpsc::channel(8);
        let connections = tokio::spawn(accept(listener, tx));
        Ok(Server {
            addr,
            incoming,
            advertisement,
            connections,
        })
    }

    pub(crate) fn addr(&self) -> SocketAddrV4 {
        self.addr
    }

    /// The instance name advertised, `{name}_{millis}`.
    pub(crate) fn instance(&self) -> &str {
        &self.advertisement.advert().instance
    }

    pub(crate) async fn next(&mut self) -> Option<Incoming> {
        self.incoming.recv().await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.connections.abort();
    }
}

/// How long an accepted terminal's serial is looked for (it is on the same network,
/// and answers at once if it advertises at all).
const SERIAL_WAIT: Duration = Duration::from_secs(2);

/// The url to keep for an accepted terminal. The pair request names an address, not a
/// serial: the terminal advertising that address is asked for its serial by mDNS on
/// `interface`, and `sn:SERIAL` is kept, which DHCP cannot move; one that does not
/// answer is kept by address. The caller saves it before the terminal hears yes, so
/// that it never thinks itself paired with a register that did not keep it.
pub(crate) async fn url_to_keep(interface: Ipv4Addr, device: &Device) -> String {
    let address = device.address();
    match discover::serial_at(interface, &address, SERIAL_WAIT).await {
        Ok(Some(serial)) => format!("sn:{serial}"),
        _ => address,
    }
}

async fn accept(listener: TcpListener, tx: mpsc::Sender<Incoming>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, from)) => drop(connections.spawn(connection(tcp, from, tx.clone()))),
                Err(e) => tracing::warn!("pairing server accept: {e}"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(tcp: TcpStream, from: SocketAddr, tx: mpsc::Sender<Incoming>) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME));
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        let text = match message {
            Message::Text(text) => text.to_string(),
            Message::Binary(_) => String::new(),
            Message::Close(_) => break,
            _ => continue,
        };
        match parse(&text) {
            Ok(Frame::Heartbeat) => {}
            Ok(Frame::Request(request)) => {
                let (answer, decided) = oneshot::channel();
                let answered = request.clone();
                let asked = tx.send(Incoming::Request {
                    request,
                    answer: Answer(answer),
                });
                // Nobody to decide (the server is stopping): the terminal gets nothing.
                if asked.await.is_err() {
                    break;
                }
                let Ok((code, done)) = decided.await else {
                    break;
                };
                let written = ws.send(Message::text(answered.answer(code))).await.is_ok();
                let _ = done.send(written);
                if !written {
                    break;
                }
            }
            Err(error) => {
                let reply = malformed_answer(&text, &error);
                let _ = tx.send(Incoming::Malformed { from, error }).await;
                if ws.send(Message::text(reply)).await.is_err() {
                    break;
                }
            }
        }
    }
}
