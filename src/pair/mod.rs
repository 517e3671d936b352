//! Terminal-initiated pairing (WLAN mode). The register advertises
//! `_ecr-hub-client._tcp.local.` and runs a WebSocket server of its own; a terminal
//! sends `ecrhub.pair` (or `ecrhub.unpair`) with its `device_data`, and the register
//! answers with the same object plus `response_code` `"000"` (accept) or `"001"`
//! (refuse).
//!
//! The frames are here; the register's server is `register`, the terminal's side
//! (the simulator, tests) is `terminal`. mDNS goes through `discover`: one interface.

pub(crate) mod register;
pub mod terminal;

use std::net::{IpAddr, SocketAddrV4};

use serde_json::{Map, Value, json};

use crate::discover::{Advert, Found};
use crate::ecr::Topic;
use crate::mask::outside_line as shown;

/// What registers advertise.
pub(crate) const REGISTER_SERVICE: &str = "_ecr-hub-client._tcp.local";

pub(crate) const ACCEPT: &str = "000";
pub(crate) const REFUSE: &str = "001";

/// The longest register name: `{name}_{millis}` must stay one DNS label (63).
const MAX_NAME: usize = 40;

/// A register name as advertised: 1 to 40 letters, digits, `-` or `_`.
pub(crate) fn check_name(name: &str) -> Result<String, String> {
    let ok = (1..=MAX_NAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "'{name}': a register name is 1 to {MAX_NAME} letters, digits, - or _"
        ))
    }
}

/// This register's name on a terminal's list unless one is given: `till-LANE`.
pub(crate) fn default_name(lane: &str) -> String {
    format!("till-{lane}")
}

/// The advert of a register: instance `{name}_{millis}` (the vendor's form, unique per
/// start), TXT one JSON object saying where its pairing server listens.
pub(crate) fn register_advert(name: &str, addr: SocketAddrV4, mac: &str, millis: i64) -> Advert {
    let txt = json!({"mac_address": mac, "ip_address": addr.to_string(), "name": name});
    Advert {
        service: REGISTER_SERVICE.into(),
        instance: format!("{name}_{millis}"),
        addr,
        txt: vec![txt.to_string()],
    }
}

/// A register seen on the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRegister {
    /// The `name` of its TXT object, else its instance name.
    pub(crate) name: String,
    /// `ws://ip:port` of its pairing server, as mDNS resolved it.
    pub address: String,
}

impl From<&Found> for SeenRegister {
    fn from(found: &Found) -> SeenRegister {
        let name = found
            .txt
            .iter()
            .filter_map(|s| serde_json::from_str::<Value>(s).ok())
            .find_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| found.instance.clone());
        SeenRegister {
            name,
            address: format!("ws://{}", found.addr),
        }
    }
}

/// A terminal as it describes itself in a pair or unpair frame.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Device {
    pub(crate) mac_address: String,
    pub(crate) device_name: String,
    pub(crate) alias_name: String,
    pub(crate) ip_address: String,
    pub(crate) port: u16,
}

impl Device {
    /// Where the terminal's own ECR Hub server listens.
    pub(crate) fn address(&self) -> String {
        match self.ip_address.parse::<IpAddr>() {
            Ok(IpAddr::V6(ip)) => format!("ws://[{ip}]:{}", self.port),
            _ => format!("ws://{}:{}", self.ip_address, self.port),
        }
    }

    /// The name to show a person: the alias, else the device name; outside text, so
    /// card numbers are masked and control characters never reach the screen.
    pub(crate) fn shown_name(&self) -> String {
        let name = [&self.alias_name, &self.device_name]
            .into_iter()
            .find(|n| !n.trim().is_empty())
            .map_or("(no name)", |n| n.as_str());
        shown(name)
    }

    /// As put in a frame's `device_data`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "mac_address": self.mac_address,
            "device_name": self.device_name,
            "alias_name": self.alias_name,
            "ip_address": self.ip_address,
            "port": self.port,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Pair,
    Unpair,
}

impl Kind {
    pub(crate) fn topic(self) -> Topic {
        match self {
            Kind::Pair => Topic::Pair,
            Kind::Unpair => Topic::Unpair,
        }
    }
}

/// A pair or unpair frame, checked.
#[derive(Clone, Debug)]
pub struct Request {
    pub kind: Kind,
    pub(crate) device: Device,
    /// The frame as it came: the answer is the same object plus `response_code`.
    frame: Map<String, Value>,
}

/// What a frame sent to the register is.
#[derive(Debug)]
pub(crate) enum Frame {
    Request(Request),
    /// The terminal's own heartbeat: never a request, left unanswered.
    Heartbeat,
}

impl Request {
    /// The frame `kind` with `device` as its `device_data`.
    pub(crate) fn new(kind: Kind, device: Device) -> Request {
        let mut frame = Map::new();
        frame.insert("topic".into(), kind.topic().as_str().into());
        frame.insert("device_data".into(), device.to_json());
        Request {
            kind,
            device,
            frame,
        }
    }

    /// With a `request_id`, for a peer that matches replies by it.
    pub(crate) fn with_request_id(mut self, id: &str) -> Request {
        self.frame.insert("request_id".into(), id.into());
        self
    }

    pub(crate) fn to_text(&self) -> String {
        Value::Object(self.frame.clone()).to_string()
    }

    /// The answer: the request as it came plus `response_code`.
    pub(crate) fn answer(&self, code: &str) -> String {
        let mut frame = self.frame.clone();
        frame.insert("response_code".into(), code.into());
        Value::Object(frame).to_string()
    }
}

/// Reads a frame a terminal sent to the register; the error says what is wrong.
pub(crate) fn parse(text: &str) -> Result<Frame, String> {
    let Ok(Value::Object(frame)) = serde_json::from_str::<Value>(text) else {
        return Err("not a JSON object".into());
    };
    let topic = frame.get("topic").and_then(Value::as_str).unwrap_or("");
    let kind = match Topic::parse(topic) {
        Some(Topic::Pair) => Kind::Pair,
        Some(Topic::Unpair) => Kind::Unpair,
        Some(Topic::Heartbeat) => return Ok(Frame::Heartbeat),
        _ => {
            return Err(format!(
                "topic '{}' is not ecrhub.pair or ecrhub.unpair",
                shown(topic)
            ));
        }
    };
    // Like `biz_data`, `device_data` may come as a string holding the object.
    let data = match frame.get("device_data") {
        Some(Value::Object(d)) => d.clone(),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(d)) => d,
            _ => return Err("device_data is a string that holds no JSON object".into()),
        },
        _ => return Err("no device_data object".into()),
    };
    let text_of = |key: &str| -> Result<String, String> {
        match data.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("device_data.{key} is not a string")),
        }
    };
    let ip_address = text_of("ip_address")?;
    if ip_address.parse::<IpAddr>().is_err() {
        return Err(format!(
            "device_data.ip_address '{}' is not an IP address",
            shown(&ip_address)
        ));
    }
    let port = match data.get("port") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let port = port
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .ok_or("device_data.port is not a port number (1 to 65535)")?;
    let device = Device {
        mac_address: text_of("mac_address")?,
        device_name: text_of("device_name")?,
        alias_name: text_of("alias_name")?,
        ip_address,
        port,
    };
    Ok(Frame::Request(Request {
        kind,
        device,
        frame,
    }))
}

/// The answer to a frame that could not be read: a refusal (the only "no" the
/// protocol has) that says why, under the frame's topic when it had one.
pub(crate) fn malformed_answer(text: &str, error: &str) -> String {
    let topic = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("topic").and_then(Value::as_str).map(str::to_string))
        .filter(|t| Topic::parse(t).is_some())
        .unwrap_or_else(|| Topic::Pair.as_str().to_string());
    json!({
        "topic": topic,
        "response_code": REFUSE,
        "response_msg": format!("malformed frame: {error}"),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: &str = r#"{"topic":"ecrhub.pair","request_id":"r1","device_data":{"mac_address":"aa:bb","device_name":"P2","alias_name":"Front desk","ip_address":"192.168.1.20","port":35779}}"#;

    fn request(text: &str) -> Request {
        match parse(text) {
            Ok(Frame::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pair_frame_is_read_and_answered_with_itself_plus_the_code() {
        let r = request(PAIR);
        assert_eq!(r.kind, Kind::Pair);
        assert_eq!(r.device.address(), "ws://192.168.1.20:35779");
        assert_eq!(r.device.shown_name(), "Front desk");
        let answer: Value = serde_json::from_str(&r.answer(ACCEPT)).unwrap();
        let mut want: Value = serde_json::from_str(PAIR).unwrap();
        want["response_code"] = "000".into();
        assert_eq!(answer, want);
    }

    #[test]
    fn a_port_as_text_and_device_data_as_a_string_are_taken() {
        let r = request(
            r#"{"topic":"ecrhub.unpair","device_data":"{\"ip_address\":\"10.0.0.5\",\"port\":\"8080\"}"}"#,
        );
        assert_eq!(r.kind, Kind::Unpair);
        assert_eq!(r.device.address(), "ws://10.0.0.5:8080");
        assert_eq!(r.device.shown_name(), "(no name)");
    }

    #[test]
    fn malformed_frames_say_what_is_wrong() {
        let cases = [
            ("[1]", "not a JSON object"),
            (r#"{"topic":"ecrhub.pay.order"}"#, "is not ecrhub.pair"),
            (r#"{"topic":"ecrhub.pair"}"#, "no device_data"),
            (
                r#"{"topic":"ecrhub.pair","device_data":{"ip_address":"pos-7","port":1}}"#,
                "is not an IP address",
            ),
            (
                r#"{"topic":"ecrhub.pair","device_data":{"ip_address":"10.0.0.1","port":70000}}"#,
                "not a port number",
            ),
            (
                r#"{"topic":"ecrhub.pair","device_data":{"ip_address":"10.0.0.1","port":1,"device_name":7}}"#,
                "device_name is not a string",
            ),
        ];
        for (text, says) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
        let answer: Value =
            serde_json::from_str(&malformed_answer(r#"{"topic":"ecrhub.unpair"}"#, "x")).unwrap();
        assert_eq!(answer["topic"], "ecrhub.unpair");
        assert_eq!(answer["response_code"], REFUSE);
        assert!(matches!(
            parse(r#"{"topic":"ecrhub.heartbeat"}"#),
            Ok(Frame::Heartbeat)
        ));
    }

    #[test]
    fn outside_names_are_masked_and_kept_to_one_line() {
        let mut d = request(PAIR).device;
        d.alias_name = "till 4111 1111 1111 1111\x1b[2J".into();
        assert_eq!(d.shown_name(), "till 4111 11** **** 1111\\x1b[2J");
    }

    #[test]
    fn a_register_advert_carries_its_address_as_json() {
        let addr = SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 4000);
        let advert = register_advert("till-L01", addr, "", 1700000000000);
        assert_eq!(advert.instance, "till-L01_1700000000000");
        let found = Found {
            instance: advert.instance.clone(),
            addr,
            txt: advert.txt.clone(),
        };
        let seen = SeenRegister::from(&found);
        assert_eq!(seen.name, "till-L01");
        assert_eq!(seen.address, "ws://127.0.0.1:4000");
        assert!(check_name("till-L01").is_ok());
        assert!(check_name(&"x".repeat(41)).is_err());
        assert!(check_name("a b").is_err());
    }
}
