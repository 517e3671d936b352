//! Where the terminal is: what a cashier types (`192.168.1.20`, `pos-7:35779`,
//! `ws://192.168.1.20:35779/path`, `sn:SERIAL/path`) turned into one WebSocket URL.

use std::fmt;

use crate::discover;
use crate::ecr::DEFAULT_PORT;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub(crate) path: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("enter the terminal's address (for example 192.168.1.20)")]
    Empty,
    #[error("'{0}': only ws:// addresses are supported (the terminal speaks plain WebSocket)")]
    Scheme(String),
    #[error("'{0}': the port must be a number from 1 to 65535")]
    Port(String),
    #[error("'{0}' is not a host name or IP address")]
    Host(String),
    #[error(
        "'{0}': after sn: comes the terminal's serial, 1 to 63 letters, digits, - or _, then an optional /path (e.g. sn:WPYB002248000123)"
    )]
    Serial(String),
}

/// What `url` names: the terminal's address, or (`sn:SERIAL[/path]`) its serial, looked
/// up by mDNS at every connect so that a terminal DHCP moved is found again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Address(Endpoint),
    Serial {
        serial: String,
        /// The WebSocket path at the address found (empty or from `/`): mDNS gives
        /// only address and port, and a terminal may want a path (the Android SDK
        /// connects to `/mac_address=<register MAC>`).
        path: String,
    },
}

impl Target {
    pub fn parse(input: &str) -> Result<Target, AddressError> {
        let trimmed = input.trim();
        match trimmed.get(..3) {
            Some(prefix) if prefix.eq_ignore_ascii_case("sn:") => {
                let rest = &trimmed[3..];
                let (serial, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                if discover::valid_serial(serial) && !path.contains(char::is_whitespace) {
                    Ok(Target::Serial {
                        serial: serial.to_string(),
                        path: path.to_string(),
                    })
                } else {
                    Err(AddressError::Serial(input.to_string()))
                }
            }
            _ => Endpoint::parse(input).map(Target::Address),
        }
    }

    /// The serial a `sn:` target looks up.
    pub fn serial(&self) -> Option<&str> {
        match self {
            Target::Address(_) => None,
            Target::Serial { serial, .. } => Some(serial),
        }
    }
}

/// Where a serial looked up by mDNS is: the address it advertises (`ws://ip:port`)
/// with the target's own path.
pub fn located(address: &str, path: &str) -> Result<Endpoint, AddressError> {
    let mut endpoint = Endpoint::parse(address)?;
    endpoint.path = path.to_string();
    Ok(endpoint)
}

impl From<Endpoint> for Target {
    fn from(endpoint: Endpoint) -> Target {
        Target::Address(endpoint)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Address(endpoint) => endpoint.fmt(f),
            Target::Serial { serial, path } => write!(f, "sn:{serial}{path}"),
        }
    }
}

impl Endpoint {
    pub fn parse(input: &str) -> Result<Endpoint, AddressError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(AddressError::Empty);
        }
        let rest = match input.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ws") => rest,
            Some(_) => return Err(AddressError::Scheme(input.to_string())),
            None => input,
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = split_host_port(authority, input)?;
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
        if !host_ok {
            return Err(AddressError::Host(input.to_string()));
        }
        Ok(Endpoint {
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// The URL handed to the WebSocket client.
    pub fn url(&self) -> String {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        format!("ws://{}{}", self.authority(), path)
    }

    /// `host:port`, with brackets around an IPv6 literal.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.authority())?;
        f.write_str(&self.path)
    }
}

fn split_host_port<'a>(authority: &'a str, input: &str) -> Result<(&'a str, u16), AddressError> {
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| AddressError::Port(input.to_string()))
    };
    // [v6]:port or [v6]
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| AddressError::Host(input.to_string()))?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, port(p)?)),
            None if after.is_empty() => Ok((host, DEFAULT_PORT)),
            None => Err(AddressError::Host(input.to_string())),
        };
    }
    match authority.matches(':').count() {
        0 => Ok((authority, DEFAULT_PORT)),
        1 => {
            let (host, p) = authority.split_once(':').unwrap_or((authority, ""));
            Ok((host, port(p)?))
        }
        // A bare IPv6 address without brackets has no port.
        _ => Ok((authority, DEFAULT_PORT)),
    }
}
