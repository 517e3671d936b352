//! DNS-SD records: the questions a browser asks, the answer an advertised service
//! gives, and what a browser gathers from answers. The wire format is `simple-dns`'s.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4};

use simple_dns::rdata::{A, PTR, RData, SRV, TXT};
use simple_dns::{CLASS, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, ResourceRecord, TYPE};

/// How long others may keep our records (RFC 6762's recommendation for these).
const TTL: u32 = 120;

/// `name` as compared: lower case, no trailing dot.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A service instance this process answers for.
#[derive(Clone, Debug)]
pub struct Advert {
    /// `_ecr-hub-server._tcp.local`
    pub(crate) service: String,
    /// The first label of the instance's name: a terminal's serial.
    pub(crate) instance: String,
    pub(crate) addr: SocketAddrV4,
    /// TXT strings as sent: `key=value`, or one JSON object.
    pub(crate) txt: Vec<String>,
}

impl Advert {
    fn fullname(&self) -> String {
        format!("{}.{}", self.instance, self.service)
    }

    fn host(&self) -> String {
        format!("{}.local", self.instance)
    }

    /// Whether a query asks for anything of ours.
    pub(crate) fn is_asked(&self, query: &Packet) -> bool {
        let (service, fullname, host) =
            (key(&self.service), key(&self.fullname()), key(&self.host()));
        query.questions.iter().any(|q| {
            let name = key(&q.qname.to_string());
            let ptr = matches!(q.qtype, QTYPE::ANY | QTYPE::TYPE(TYPE::PTR));
            (name == service && ptr) || name == fullname || name == host
        })
    }

    /// Every record at once (PTR, SRV, TXT, A), so one packet is the whole answer;
    /// `ttl` 0 is a goodbye.
    pub(crate) fn response(&self, ttl: u32) -> Result<Vec<u8>, simple_dns::SimpleDnsError> {
        let (fullname, host) = (self.fullname(), self.host());
        let mut txt = TXT::new();
        for s in &self.txt {
            txt.add_string(s)?;
        }
        let mut packet = Packet::new_reply(0);
        packet.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
        packet.answers.push(ResourceRecord::new(
            Name::new(&self.service)?,
            CLASS::IN,
            ttl,
            RData::PTR(PTR(Name::new(&fullname)?)),
        ));
        packet.additional_records.push(ResourceRecord::new(
            Name::new(&fullname)?,
            CLASS::IN,
            ttl,
            RData::SRV(SRV {
                priority: 0,
                weight: 0,
                port: self.addr.port(),
                target: Name::new(&host)?,
            }),
        ));
        packet.additional_records.push(ResourceRecord::new(
            Name::new(&fullname)?,
            CLASS::IN,
            ttl,
            RData::TXT(txt),
        ));
        packet.additional_records.push(ResourceRecord::new(
            Name::new(&host)?,
            CLASS::IN,
            ttl,
            RData::A(A {
                address: u32::from(*self.addr.ip()),
            }),
        ));
        packet.build_bytes_vec_compressed()
    }

    pub(crate) fn announcement(&self) -> Result<Vec<u8>, simple_dns::SimpleDnsError> {
        self.response(TTL)
    }

    pub(crate) fn goodbye(&self) -> Result<Vec<u8>, simple_dns::SimpleDnsError> {
        self.response(0)
    }
}

/// The question "who offers `service`?"; with `instance`, "everything about it".
pub(crate) fn query(
    service: &str,
    instance: Option<&str>,
) -> Result<Vec<u8>, simple_dns::SimpleDnsError> {
    let mut packet = Packet::new_query(0);
    let fullname = instance.map(|i| format!("{i}.{service}"));
    let question = match &fullname {
        Some(name) => Question::new(
            Name::new(name)?,
            QTYPE::ANY,
            QCLASS::CLASS(CLASS::IN),
            false,
        ),
        None => Question::new(
            Name::new(service)?,
            QTYPE::TYPE(TYPE::PTR),
            QCLASS::CLASS(CLASS::IN),
            false,
        ),
    };
    packet.questions.push(question);
    packet.build_bytes_vec_compressed()
}

/// A service instance seen on the network, complete: its address and TXT strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub(crate) instance: String,
    pub(crate) addr: SocketAddrV4,
    pub(crate) txt: Vec<String>,
}

impl Found {
    /// The value of `key=value` in the TXT strings.
    pub(crate) fn txt_value(&self, key: &str) -> Option<&str> {
        self.txt.iter().find_map(|s| {
            let (k, v) = s.split_once('=')?;
            k.eq_ignore_ascii_case(key).then_some(v)
        })
    }
}

#[derive(Clone, Debug, Default)]
struct Partial {
    instance: String,
    target: Option<String>,
    port: Option<u16>,
    txt: Option<Vec<String>>,
}

/// What a browser has gathered about one service type so far.
#[derive(Debug)]
pub(crate) struct Sightings {
    service: String,
    /// By the instance's full name (compared form).
    instances: BTreeMap<String, Partial>,
    hosts: HashMap<String, Ipv4Addr>,
}

impl Sightings {
    pub(crate) fn new(service: &str) -> Sightings {
        Sightings {
            service: key(service),
            instances: BTreeMap::new(),
            hosts: HashMap::new(),
        }
    }

    /// Takes in one packet; anything that is not a well-formed response is ignored.
    pub(crate) fn take(&mut self, bytes: &[u8]) {
        let Ok(packet) = Packet::parse(bytes) else {
            return;
        };
        if !packet.has_flags(PacketFlag::RESPONSE) {
            return;
        }
        let suffix = format!(".{}", self.service);
        let records = packet
            .answers
            .iter()
            .chain(&packet.additional_records)
            .chain(&packet.name_servers);
        for rr in records {
            let name = key(&rr.name.to_string());
            match &rr.rdata {
                RData::PTR(PTR(target)) if name == self.service => {
                    let fullname = key(&target.to_string());
                    let Some(instance) = fullname.strip_suffix(&suffix) else {
                        continue;
                    };
                    if rr.ttl == 0 {
                        self.instances.remove(&fullname);
                        continue;
                    }
                    // The instance label as sent, not lower-cased: a serial's spelling.
                    let label = target.to_string();
                    let shown = label.get(..instance.len()).unwrap_or(instance).to_string();
                    self.instances.entry(fullname).or_default().instance = shown;
                }
                RData::SRV(srv) if name.ends_with(&suffix) => {
                    let entry = self.instances.entry(name).or_default();
                    entry.target = Some(key(&srv.target.to_string()));
                    entry.port = Some(srv.port);
                }
                RData::TXT(txt) if name.ends_with(&suffix) => {
                    let strings = txt
                        .iter_raw()
                        .map(|(k, v)| {
                            let mut s = String::from_utf8_lossy(k).into_owned();
                            if let Some(v) = v {
                                s.push('=');
                                s.push_str(&String::from_utf8_lossy(v));
                            }
                            s
                        })
                        .collect();
                    self.instances.entry(name).or_default().txt = Some(strings);
                }
                RData::A(a) => {
                    self.hosts.insert(name, Ipv4Addr::from(a.address));
                }
                _ => {}
            }
        }
    }

    /// Instances named by a PTR whose address is not known yet (to ask about).
    pub(crate) fn incomplete(&self) -> Vec<String> {
        self.instances
            .values()
            .filter(|p| !p.instance.is_empty() && self.address(p).is_none())
            .map(|p| p.instance.clone())
            .collect()
    }

    fn address(&self, p: &Partial) -> Option<SocketAddrV4> {
        let ip = self.hosts.get(p.target.as_deref()?)?;
        Some(SocketAddrV4::new(*ip, p.port?))
    }

    /// Every instance whose address is known, in name order.
    pub(crate) fn found(&self) -> Vec<Found> {
        self.instances
            .values()
            .filter(|p| !p.instance.is_empty())
            .filter_map(|p| {
                Some(Found {
                    instance: p.instance.clone(),
                    addr: self.address(p)?,
                    txt: p.txt.clone().unwrap_or_default(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminal(serial: &str, port: u16) -> Advert {
        Advert {
            service: "_ecr-hub-server._tcp.local".into(),
            instance: serial.into(),
            addr: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
            txt: vec![
                "app_name=CodePay Register".into(),
                "app_version=1.2.3".into(),
            ],
        }
    }

    #[test]
    fn an_announcement_reads_back_as_what_was_advertised() {
        let advert = terminal("WPYB002248000123", 35779);
        let mut seen = Sightings::new("_ecr-hub-server._tcp.local.");
        seen.take(&advert.announcement().unwrap());
        let found = seen.found();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].instance, "WPYB002248000123");
        assert_eq!(found[0].addr, advert.addr);
        assert_eq!(found[0].txt_value("app_name"), Some("CodePay Register"));
        assert_eq!(found[0].txt_value("app_version"), Some("1.2.3"));
    }

    #[test]
    fn a_goodbye_forgets_the_instance() {
        let advert = terminal("SN1", 1000);
        let mut seen = Sightings::new("_ecr-hub-server._tcp.local");
        seen.take(&advert.announcement().unwrap());
        seen.take(&advert.goodbye().unwrap());
        assert!(seen.found().is_empty());
    }

    #[test]
    fn other_services_queries_and_garbage_are_ignored() {
        let mut seen = Sightings::new("_ecr-hub-server._tcp.local");
        let mut other = terminal("SN1", 1000);
        other.service = "_ecr-hub-client._tcp.local".into();
        seen.take(&other.announcement().unwrap());
        seen.take(&query("_ecr-hub-server._tcp.local", None).unwrap());
        seen.take(b"\x00\x01garbage");
        assert!(seen.found().is_empty());
    }

    #[test]
    fn an_advert_answers_questions_about_itself_only() {
        let advert = terminal("SN1", 1000);
        let asks = |service: &str, instance: Option<&str>| {
            let bytes = query(service, instance).unwrap();
            advert.is_asked(&Packet::parse(&bytes).unwrap())
        };
        assert!(asks("_ecr-hub-server._tcp.local", None));
        assert!(asks("_ECR-HUB-SERVER._tcp.local", Some("sn1")));
        assert!(!asks("_ecr-hub-client._tcp.local", None));
        assert!(!asks("_ecr-hub-server._tcp.local", Some("SN2")));
    }

    #[test]
    fn a_json_txt_string_survives_whole() {
        let mut advert = terminal("till_1", 1000);
        advert.service = "_ecr-hub-client._tcp.local".into();
        advert.txt =
            vec![r#"{"mac_address":"","ip_address":"127.0.0.1:1000","name":"till"}"#.into()];
        let mut seen = Sightings::new("_ecr-hub-client._tcp.local");
        seen.take(&advert.announcement().unwrap());
        assert_eq!(seen.found()[0].txt, advert.txt);
    }
}
