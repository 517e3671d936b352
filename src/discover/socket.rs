//! The one UDP socket mDNS goes through, held to one IPv4 interface.
//!
//! A general mDNS daemon joins the multicast group on every interface it finds as it
//! starts (that alone sends IGMP reports out of each), and only then applies an
//! interface filter. Here the group is joined on the chosen interface alone, and
//! `IP_MULTICAST_IF` is set to it, before anything is sent: nothing leaves by any
//! other interface.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

pub(super) const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
pub(super) const PORT: u16 = 5353;

/// Largest datagram read; mDNS packets stay well under it.
const MAX_PACKET: usize = 9000;

pub(super) struct MdnsSocket {
    socket: UdpSocket,
    interface: Ipv4Addr,
}

impl MdnsSocket {
    /// Joins the mDNS group on `interface` only. An address no interface of this
    /// machine has is an error here, before anything is sent.
    pub(super) fn open(interface: Ipv4Addr) -> io::Result<MdnsSocket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        // Other mDNS users of this machine (another till, a simulator) share the port.
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT).into())?;
        // Receive only the group as joined here, not what other sockets of the
        // machine joined on other interfaces.
        socket.set_multicast_all_v4(false)?;
        socket.join_multicast_v4(&GROUP, &interface)?;
        socket.set_multicast_if_v4(&interface)?;
        socket.set_multicast_loop_v4(true)?;
        socket.set_multicast_ttl_v4(255)?;
        // Checked back from the kernel: sending goes by this interface or not at all.
        if socket.multicast_if_v4()? != interface {
            return Err(io::Error::other(format!(
                "the socket would not send by {interface}"
            )));
        }
        let socket = UdpSocket::from_std(socket.into())?;
        Ok(MdnsSocket { socket, interface })
    }

    pub(super) fn interface(&self) -> Ipv4Addr {
        self.interface
    }

    /// Sends one packet to the mDNS group (by the interface chosen in `open`).
    pub(super) async fn send(&self, packet: &[u8]) -> io::Result<()> {
        self.socket
            .send_to(packet, SocketAddr::from((GROUP, PORT)))
            .await
            .map(|_| ())
    }

    /// Sends without waiting, for a goodbye from `Drop`.
    pub(super) fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        self.socket
            .try_send_to(packet, SocketAddr::from((GROUP, PORT)))
            .map(|_| ())
    }

    /// The next packet and who sent it.
    pub(super) async fn recv(&self) -> io::Result<(Vec<u8>, SocketAddr)> {
        let mut buf = vec![0u8; MAX_PACKET];
        let (len, from) = self.socket.recv_from(&mut buf).await?;
        buf.truncate(len);
        Ok((buf, from))
    }
}
