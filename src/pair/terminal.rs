//! The terminal's side of pairing, as the simulator and the tests play it: find a
//! register by mDNS, send it one frame, read its answer.

use std::net::Ipv4Addr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::{REGISTER_SERVICE, SeenRegister};
use crate::discover::{DiscoverError, browse};

#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("cannot reach the register at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("the register at {url} did not answer within {}s", .wait.as_secs())]
    Timeout { url: String, wait: Duration },
    #[error("the register at {url} closed the connection without answering")]
    Closed { url: String },
}

/// The register advertising `name` (any register when `None`), as soon as it answers;
/// `None` after `wait`.
pub async fn find_register(
    interface: Ipv4Addr,
    name: Option<&str>,
    wait: Duration,
) -> Result<Option<SeenRegister>, DiscoverError> {
    let wanted = |seen: &SeenRegister| name.is_none_or(|n| seen.name == n);
    let found = browse(interface, REGISTER_SERVICE, wait, |found| {
        found.iter().map(SeenRegister::from).any(|s| wanted(&s))
    })
    .await?;
    Ok(found.iter().map(SeenRegister::from).find(wanted))
}

/// Sends `frame` to the register at `url` and returns its first JSON answer, within
/// `wait` in all.
pub async fn ask(url: &str, frame: &str, wait: Duration) -> Result<Value, AskError> {
    let exchange = async {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(url)
                .await
                .map_err(|e| AskError::Connect {
                    url: url.to_string(),
                    detail: e.to_string(),
                })?;
        ws.send(Message::text(frame))
            .await
            .map_err(|e| AskError::Connect {
                url: url.to_string(),
                detail: e.to_string(),
            })?;
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message
                && let Ok(answer) = serde_json::from_str::<Value>(&text)
            {
                let _ = ws.close(None).await;
                return Ok(answer);
            }
        }
        Err(AskError::Closed {
            url: url.to_string(),
        })
    };
    tokio::time::timeout(wait, exchange)
        .await
        .map_err(|_| AskError::Timeout {
            url: url.to_string(),
            wait,
        })?
}
