//! Reaching the terminal: where it is now (its address, or its serial looked up by
//! mDNS), then TCP and the WebSocket upgrade under one deadline.

use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{ConnectError, Endpoint, LinkConfig, Target, located};
use crate::discover;

pub(super) type Ws = WebSocketStream<TcpStream>;

/// Where to connect now: the configured address, or where mDNS finds the serial
/// (asked afresh each time: DHCP may have moved the terminal since).
pub(crate) async fn locate(cfg: &LinkConfig) -> Result<Endpoint, ConnectError> {
    match &cfg.target {
        Target::Address(endpoint) => Ok(endpoint.clone()),
        Target::Serial { serial, path } => {
            let found = discover::find_terminal(cfg.mdns_interface, serial, cfg.connect_timeout)
                .await
                .map_err(|e| ConnectError::Discover(serial.clone(), e))?
                .ok_or_else(|| ConnectError::NotSeen(serial.clone(), cfg.mdns_interface))?;
            located(&found.address, path)
                .map_err(|_| ConnectError::NotSeen(serial.clone(), cfg.mdns_interface))
        }
    }
}

pub(super) async fn connect(cfg: LinkConfig) -> Result<(Box<Ws>, Endpoint), ConnectError> {
    let endpoint = locate(&cfg).await?;
    let authority = endpoint.authority();
    let attempt = async {
        let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(|e| ConnectError::Tcp(authority.clone(), e))?;
        let _ = tcp.set_nodelay(true);
        let ws_cfg = WebSocketConfig::default()
            .max_message_size(Some(cfg.max_frame_bytes))
            .max_frame_size(Some(cfg.max_frame_bytes));
        // The library's default request headers are what the terminal's server
        // library can answer; `Connection` in particular must stay exactly `Upgrade`.
        let (ws, _response) =
            tokio_tungstenite::client_async_with_config(endpoint.url(), tcp, Some(ws_cfg))
                .await
                .map_err(|e| ConnectError::Upgrade(authority.clone(), e))?;
        Ok(Box::new(ws))
    };
    let ws = tokio::time::timeout(cfg.connect_timeout, attempt)
        .await
        .map_err(|_| ConnectError::Timeout(authority.clone(), cfg.connect_timeout))??;
    Ok((ws, endpoint))
}
