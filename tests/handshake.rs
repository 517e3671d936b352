//! The terminal's server library answers the upgrade with a non-standard reason phrase
//! and echoes the client's `Connection` header. A hand-written TCP server answers
//! exactly like that, and the link must connect, pong its pings and talk.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use till::link::{Endpoint, Link, LinkConfig, LinkEvent, LinkState};

/// Reads the upgrade request and answers it the way the terminal does.
async fn terminal_style_upgrade(mut tcp: TcpStream) -> (WebSocketStream<TcpStream>, String) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).await.expect("request bytes");
        request.push(byte[0]);
    }
    let request = String::from_utf8(request).expect("ascii request");
    let header = |name: &str| {
        request
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let accept = derive_accept_key(header("Sec-WebSocket-Key").as_bytes());
    let connection = header("Connection");
    let response = format!(
        "HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: websocket\r\nConnection: {connection}\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    tcp.write_all(response.as_bytes())
        .await
        .expect("write response");
    let ws = WebSocketStream::from_raw_socket(tcp, Role::Server, None).await;
    (ws, connection)
}

async fn next_event(link: &mut Link, want: impl Fn(&LinkEvent) -> bool) -> LinkEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(e) = link.take_events().find(|e| want(e)) {
            return e;
        }
        let wake = tokio::time::timeout_at(deadline, link.wait())
            .await
            .expect("event within 20 s");
        link.handle(wake).await;
    }
}

#[tokio::test]
async fn connects_through_the_terminals_unusual_upgrade_reply() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut ws, connection) = terminal_style_upgrade(tcp).await;
        // The terminal pings at the WebSocket level; a pong must come back even
        // though no request is outstanding.
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .unwrap();
        let mut init_id = None;
        let mut got_pong = false;
        while init_id.is_none() || !got_pong {
            match ws.next().await.expect("frame").expect("ok frame") {
                Message::Pong(p) => got_pong = p.as_ref() == b"are you there",
                Message::Text(t) => {
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["topic"] == "ecrhub.init" {
                        init_id = v["request_id"].as_str().map(String::from);
                    }
                }
                _ => {}
            }
        }
        let reply = serde_json::json!({
            "topic": "ecrhub.init", "request_id": init_id, "response_code": "0",
            "biz_data": {"device_sn": "PP35272137000123", "device_model": "P2_SE"}
        });
        ws.send(Message::text(reply.to_string())).await.unwrap();
        // Hold the socket until the client closes it.
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
        }
        connection
    });

    let endpoint = Endpoint::parse(&format!("127.0.0.1:{port}")).unwrap();
    let mut link = Link::new(LinkConfig::new(endpoint, "test-app"));
    next_event(&mut link, |e| {
        matches!(e, LinkEvent::State(LinkState::Connected))
    })
    .await;
    let device = next_event(&mut link, |e| matches!(e, LinkEvent::Device(_))).await;
    let LinkEvent::Device(device) = device else {
        unreachable!()
    };
    assert_eq!(device.device_sn.as_deref(), Some("PP35272137000123"));
    link.close().await;
    let connection = server.await.unwrap();
    // Exactly what the terminal's server can echo back and the client accepts.
    assert!(
        connection.eq_ignore_ascii_case("upgrade"),
        "Connection: {connection}"
    );
}

#[tokio::test]
async fn a_silent_server_hits_the_connect_deadline_and_backs_off() {
    // Accepts TCP but never answers the upgrade.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let endpoint = Endpoint::parse(&format!("127.0.0.1:{port}")).unwrap();
    let mut cfg = LinkConfig::new(endpoint, "test-app");
    cfg.connect_timeout = Duration::from_millis(300);
    let mut link = Link::new(cfg);
    let down = next_event(&mut link, |e| {
        matches!(e, LinkEvent::State(LinkState::Down { .. }))
    })
    .await;
    let LinkEvent::State(LinkState::Down { reason, .. }) = down else {
        unreachable!()
    };
    assert!(reason.contains("no answer"), "{reason}");
    // And it tries again by itself.
    next_event(
        &mut link,
        |e| matches!(e, LinkEvent::State(LinkState::Connecting { attempt }) if *attempt >= 2),
    )
    .await;
    link.close().await;
}
