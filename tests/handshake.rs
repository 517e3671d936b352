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

mod common;
use common::next_event;

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

/// Upgrades like the terminal, answers `ecrhub.init`, then does what `after_init` says.
async fn terminal_then<F, Fut>(after_init: F) -> u16
where
    F: FnOnce(WebSocketStream<TcpStream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut ws, _) = terminal_style_upgrade(tcp).await;
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                if v["topic"] == "ecrhub.init" {
                    let reply = serde_json::json!({"topic": "ecrhub.init", "request_id": v["request_id"], "response_code": "0"});
                    ws.send(Message::text(reply.to_string())).await.unwrap();
                    break;
                }
            }
        }
        after_init(ws).await;
        // Keep accepting (and ignoring) reconnects so the test ends on its own terms.
        while let Ok((_tcp, _)) = listener.accept().await {}
    });
    port
}

#[tokio::test]
async fn a_terminal_that_stops_answering_is_declared_dead_and_redialled() {
    let port = terminal_then(|mut ws| async move {
        // Reads (so TCP stays healthy) but never answers a heartbeat again.
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let endpoint = Endpoint::parse(&format!("127.0.0.1:{port}")).unwrap();
    let mut cfg = LinkConfig::new(endpoint, "test-app");
    cfg.heartbeat_every = Duration::from_millis(100);
    cfg.dead_after = Duration::from_millis(600);
    cfg.backoff_min = Duration::from_millis(50);
    let mut link = Link::new(cfg);
    next_event(&mut link, |e| {
        matches!(e, LinkEvent::State(LinkState::Connected))
    })
    .await;
    let down = next_event(&mut link, |e| {
        matches!(e, LinkEvent::State(LinkState::Down { .. }))
    })
    .await;
    let LinkEvent::State(LinkState::Down { reason, .. }) = down else {
        unreachable!()
    };
    assert!(reason.contains("no answer from the terminal"), "{reason}");
    next_event(
        &mut link,
        |e| matches!(e, LinkEvent::State(LinkState::Connecting { attempt }) if *attempt >= 2),
    )
    .await;
    link.close().await;
}

#[tokio::test]
async fn an_oversized_frame_is_handled_like_a_lost_link() {
    let port = terminal_then(|mut ws| async move {
        let huge = format!(
            r#"{{"topic":"ecrhub.heartbeat","pad":"{}"}}"#,
            "x".repeat(64 * 1024)
        );
        let _ = ws.send(Message::text(huge)).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let endpoint = Endpoint::parse(&format!("127.0.0.1:{port}")).unwrap();
    let mut cfg = LinkConfig::new(endpoint, "test-app");
    cfg.max_frame_bytes = 16 * 1024;
    let mut link = Link::new(cfg);
    let down = next_event(&mut link, |e| {
        matches!(e, LinkEvent::State(LinkState::Down { .. }))
    })
    .await;
    let LinkEvent::State(LinkState::Down { reason, .. }) = down else {
        unreachable!()
    };
    assert!(
        reason.to_lowercase().contains("size") || reason.contains("too"),
        "{reason}"
    );
    link.close().await;
}

/// A card number in any spelling, and what is left of it once masked.
const SPELLINGS: [&str; 3] = [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111111111111111",
];

#[tokio::test]
async fn card_numbers_in_close_reasons_and_stray_frames_are_masked() {
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    let port = terminal_then(|mut ws| async move {
        let _ = ws
            .send(Message::text("not json: card 4111 1111 1111 1111"))
            .await;
        let stray = serde_json::json!({"topic": "ecrhub.pay.order", "request_id": "nobody",
            "response_code": "105", "response_msg": "Declined card 4111-1111-1111-1111"});
        let _ = ws.send(Message::text(stray.to_string())).await;
        let _ = ws
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "card 4111 1111 1111 1111 / 4111-1111-1111-1111 refused".into(),
            })))
            .await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let endpoint = Endpoint::parse(&format!("127.0.0.1:{port}")).unwrap();
    let mut cfg = LinkConfig::new(endpoint, "test-app");
    cfg.backoff_min = Duration::from_secs(5);
    let mut link = Link::new(cfg);
    let mut seen = Vec::new();
    let down = next_event(&mut link, |e| {
        seen.push(format!("{e:?}"));
        matches!(e, LinkEvent::State(LinkState::Down { .. }))
    })
    .await;
    let LinkEvent::State(LinkState::Down { reason, .. }) = down else {
        unreachable!()
    };
    assert!(
        reason.contains("card 4111 11** **** 1111 / 4111-11**-****-1111 refused"),
        "the close reason is shown, masked: {reason}"
    );
    let seen = seen.join("\n");
    assert!(
        seen.contains("Stray") && seen.contains("Malformed"),
        "{seen}"
    );
    for spelling in SPELLINGS {
        assert!(!seen.contains(spelling), "{spelling} in {seen}");
    }
    link.close().await;
}

#[tokio::test]
async fn till_sim_speaks_to_a_generic_websocket_client() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut sim = tokio::process::Command::new(env!("CARGO_BIN_EXE_till"))
        .args(["sim", "--port", &port.to_string(), "--card-delay-ms", "0"])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("ws://127.0.0.1:{port}");
    let mut ws = None;
    for _ in 0..200 {
        if let Ok((s, _)) = tokio_tungstenite::connect_async(&url).await {
            ws = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ws = ws.expect("till sim listens");
    let sale = r#"{"topic":"ecrhub.pay.order","app_id":"by-hand","request_id":"hand-1","timestamp":"1700000000000","version":"2.0","biz_data":{"trans_type":"1","merchant_order_no":"HAND-0001","order_amount":"12.34","pay_scenario":"SWIPE_CARD"}}"#;
    ws.send(Message::text(sale)).await.unwrap();
    let reply = loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(t))) => {
                break serde_json::from_str::<serde_json::Value>(t.as_str()).unwrap();
            }
            Some(Ok(_)) => continue,
            other => panic!("no reply: {other:?}"),
        }
    };
    assert_eq!(reply["request_id"], "hand-1");
    assert_eq!(reply["response_code"], "0");
    let card = reply["biz_data"]["card_no"].as_str().unwrap();
    assert!(card.contains("*****") && card.len() >= 15, "{card}");
    sim.start_kill().unwrap();
    let _ = sim.wait().await;
}

/// A request id whose digits read like a card number, as a random UUID's sometimes do,
/// is masked in the wire log; its answer still finds it, as the id is matched as sent.
#[tokio::test]
async fn a_request_id_that_masks_like_a_card_number_still_gets_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let sim = common::start_sim(dir.path(), till::sim::Faults::default(), 0).await;
    let endpoint = Endpoint::parse(&sim.url()).unwrap();
    let mut link = Link::new(LinkConfig::new(endpoint, "test-app"));
    next_event(&mut link, |e| {
        matches!(e, LinkEvent::State(LinkState::Connected))
    })
    .await;
    let id = "9c96a0ce-2762-4284-8071-2fa163569d0a";
    assert_ne!(till::mask::mask_pans(id), id, "the id masks");
    let query = till::ecr::Operation::Query {
        order_no: "NONE-1".into(),
    };
    link.request(&query, id, None).await.unwrap();
    let LinkEvent::Answer(answer) =
        next_event(&mut link, |e| matches!(e, LinkEvent::Answer(_))).await
    else {
        unreachable!()
    };
    assert_eq!(answer.request_id, id);
    assert!(answer.reply.is_some(), "{}", answer.why);
    sim.shutdown().await;
}
