# SPDX-License-Identifier: Apache-2.0
"""Raw Ethernet frames on one interface (Linux AF_PACKET): open, send, receive. Nothing else.

What the frames mean is for the DCP responder (:mod:`ccy.profinet.dcp`), LLDP
(:mod:`ccy.profinet.lldp`) and the cyclic/alarm code; this module only moves frames.

- One :class:`RawSocket` per ethertype (0x8892 Profinet, 0x88CC LLDP), bound to the interface
  by name. It needs CAP_NET_RAW; without it :class:`RawSocketNotPermitted`.
- Receiving: the kernel removes an 802.1Q tag before a packet socket bound to one ethertype
  sees the frame, so a tagged and an untagged 0x8892 frame arrive alike (payload starting at
  the FrameID). When the kernel still holds the tag it comes as ancillary data
  (PACKET_AUXDATA) and :meth:`RawSocket.recv` puts it into :attr:`EthernetFrame.vlan_tci`;
  for a priority tag (VID 0, what Profinet sends) Linux clears it before protocol handlers
  run (net/core/dev.c, "ignore Priority Code Point"), so there ``vlan_tci`` is None. A device
  needs no received priority. Frames this host sent itself are dropped.
- Sending: :meth:`RawSocket.send` takes the whole frame (see :func:`build_frame`, which adds
  the VLAN tag for cyclic and alarm frames and pads to the 60-byte minimum). ``send`` is a
  plain ``send(2)``, safe to call from the cyclic sender's own thread.
- Multicast: the DCP and LLDP group addresses are joined with PACKET_ADD_MEMBERSHIP so a NIC
  with a multicast filter passes them.
"""

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ccy.runtime.service import UnitStartError

ETH_P_ALL = 0x0003
ETH_P_VLAN = 0x8100
ETH_P_PROFINET = 0x8892
ETH_P_LLDP = 0x88CC

HEADER_LEN = 14
VLAN_TAG_LEN = 4
MIN_FRAME_LEN = 60
"""Shortest Ethernet frame without FCS; shorter frames are padded with zeros."""
MAX_FRAME_LEN = 1518
"""Largest frame with a VLAN tag, without FCS."""

BROADCAST = b"\xff" * 6
DCP_IDENTIFY_MULTICAST = bytes.fromhex("010ecf000000")
DCP_HELLO_MULTICAST = bytes.fromhex("010ecf000001")
LLDP_MULTICAST = bytes.fromhex("0180c200000e")
RT_CLASS_1_PRIORITY = 6
ALARM_HIGH_PRIORITY = 6
ALARM_LOW_PRIORITY = 5

# Linux <linux/if_packet.h>
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_MULTICAST = 0
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
_AUXDATA = struct.Struct("=IIIHHHH")
"""struct tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci, vlan_tpid."""
_ANCILLARY_BYTES = socket.CMSG_SPACE(_AUXDATA.size + 4)
RECV_BUFFER_BYTES = 1 << 16
READS_PER_WAKEUP = 64


class EthernetError(Exception):
    """A frame or MAC address that is not what it claims to be."""


class BadMacAddress(EthernetError, ValueError):
    """A MAC address not written as six hex pairs (``aa:bb:cc:dd:ee:ff`` or with ``-``)."""


class FrameTooShort(EthernetError):
    """Fewer bytes than an Ethernet header (and VLAN tag, when one is announced)."""


class FrameTooLong(EthernetError):
    """More than MAX_FRAME_LEN bytes to send."""


class InterfaceNotFound(UnitStartError):
    """The configured network interface does not exist (in this network namespace)."""


class RawSocketNotPermitted(UnitStartError):
    """Opening a raw packet socket was refused: the process lacks CAP_NET_RAW."""


class RawSocketError(UnitStartError):
    """Any other failure to open or bind the packet socket; the message carries errno's words."""


def mac_from_str(text: str) -> bytes:
    """``"02:00:00:00:00:01"`` (or with ``-``) → 6 bytes; BadMacAddress otherwise."""
    parts = text.strip().replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise BadMacAddress(f"not a MAC address: {text!r}")
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise BadMacAddress(f"not a MAC address: {text!r}") from None


def mac_to_str(mac: bytes) -> str:
    """6 bytes → ``"02:00:00:00:00:01"``."""
    if len(mac) != 6:
        raise BadMacAddress(f"a MAC address has 6 bytes, not {len(mac)}")
    return ":".join(f"{b:02x}" for b in mac)


def is_multicast(mac: bytes) -> bool:
    return bool(mac[0] & 1)


def vlan_tci(priority: int, vid: int = 0, dei: int = 0) -> int:
    """The 802.1Q Tag Control Information: PCP (3 bits), DEI (1), VID (12)."""
    if not 0 <= priority <= 7 or not 0 <= vid <= 0xFFF or dei not in (0, 1):
        raise ValueError(f"bad VLAN tag: priority {priority}, vid {vid}, dei {dei}")
    return (priority << 13) | (dei << 12) | vid


@dataclass(frozen=True, slots=True)
class EthernetFrame:
    dst: bytes
    src: bytes
    ethertype: int
    """The ethertype after any VLAN tag (0x8892 for a tagged Profinet frame)."""
    payload: bytes
    """Everything after the ethertype, padding included."""
    vlan_tci: int | None = None
    """The 802.1Q TCI when the frame was tagged and the tag was still known (an in-line tag,
    or the kernel's ancillary data; not for VID-0 priority tags, see above), else None."""
    received_s: float = 0.0
    """time.monotonic() when the frame was read (0.0 for frames not read from a socket)."""

    @property
    def priority(self) -> int | None:
        return None if self.vlan_tci is None else self.vlan_tci >> 13

    def to_bytes(self, pad: bool = True) -> bytes:
        return build_frame(
            self.dst, self.src, self.ethertype, self.payload, vlan_tci=self.vlan_tci, pad=pad
        )


def build_frame(
    dst: bytes,
    src: bytes,
    ethertype: int,
    payload: bytes,
    *,
    vlan_tci: int | None = None,
    pad: bool = True,
) -> bytes:
    """One Ethernet frame (no FCS); with ``vlan_tci`` an 802.1Q tag before the ethertype."""
    if len(dst) != 6 or len(src) != 6:
        raise BadMacAddress("a MAC address has 6 bytes")
    tag = b"" if vlan_tci is None else struct.pack("!HH", ETH_P_VLAN, vlan_tci)
    frame = dst + src + tag + struct.pack("!H", ethertype) + payload
    if len(frame) > MAX_FRAME_LEN:
        raise FrameTooLong(f"frame of {len(frame)} bytes exceeds {MAX_FRAME_LEN}")
    if pad and len(frame) < MIN_FRAME_LEN:
        frame += bytes(MIN_FRAME_LEN - len(frame))
    return frame


def parse_frame(data: bytes, vlan_tci: int | None = None, received_s: float = 0.0) -> EthernetFrame:
    """Bytes → EthernetFrame; an in-line 802.1Q tag (as a capture or a test shows it) is
    taken out the same way the kernel's tag from ancillary data is (``vlan_tci``)."""
    if len(data) < HEADER_LEN:
        raise FrameTooShort(f"{len(data)} bytes is shorter than an Ethernet header")
    (ethertype,) = struct.unpack_from("!H", data, 12)
    offset = HEADER_LEN
    if ethertype == ETH_P_VLAN:
        if len(data) < HEADER_LEN + VLAN_TAG_LEN:
            raise FrameTooShort(f"{len(data)} bytes is too short for a VLAN-tagged frame")
        vlan_tci, ethertype = struct.unpack_from("!HH", data, 14)
        offset += VLAN_TAG_LEN
    return EthernetFrame(data[0:6], data[6:12], ethertype, data[offset:], vlan_tci, received_s)


def _ifindex(interface: str) -> int:
    try:
        return socket.if_nametoindex(interface)
    except OSError:
        raise InterfaceNotFound(f"network interface {interface!r} does not exist") from None


class RawSocket:
    """A packet socket for one ethertype on one interface (blocking until :meth:`attach`)."""

    def __init__(self, interface: str, ethertype: int, multicast: Iterable[bytes] = ()) -> None:
        self.interface = interface
        self.ethertype = ethertype
        self.ifindex = _ifindex(interface)
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
        except PermissionError:
            raise RawSocketNotPermitted(
                f"no raw socket on {interface}: CAP_NET_RAW is needed"
                " (AmbientCapabilities=CAP_NET_RAW in the unit, or run as root)"
            ) from None
        except OSError as exc:
            raise RawSocketError(f"no raw socket on {interface}: {exc.strerror}") from None
        try:
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            sock.bind((interface, ethertype))
            for group in multicast:
                mreq = struct.pack("iHH8s", self.ifindex, PACKET_MR_MULTICAST, 6, group)
                sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        except OSError as exc:
            sock.close()
            if exc.errno is not None and exc.errno == 19:  # ENODEV: vanished meanwhile
                raise InterfaceNotFound(f"network interface {interface!r} is gone") from None
            raise RawSocketError(f"cannot bind a raw socket to {interface}: {exc}") from None
        self._sock = sock
        self.mac: bytes = sock.getsockname()[4][:6]
        """The interface's own MAC address."""
        self._loop: asyncio.AbstractEventLoop | None = None

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, frame: bytes) -> None:
        """Send one whole frame (OSError from the kernel passes through)."""
        self._sock.send(frame)

    def send_frame(self, frame: EthernetFrame) -> None:
        self._sock.send(frame.to_bytes())

    def settimeout(self, timeout_s: float | None) -> None:
        self._sock.settimeout(timeout_s)

    def recv(self) -> EthernetFrame | None:
        """The next frame from the wire; None for a frame this host sent itself, a runt, or
        (non-blocking) when nothing is waiting. A blocking socket waits (``settimeout``)."""
        return self._read()[1]

    def _read(self) -> tuple[bool, EthernetFrame | None]:
        """(whether a packet was read at all, the frame or None when it is not for us)."""
        try:
            data, ancdata, _flags, address = self._sock.recvmsg(RECV_BUFFER_BYTES, _ANCILLARY_BYTES)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return False, None
        now = time.monotonic()
        if address[2] == PACKET_OUTGOING:
            return True, None
        tci: int | None = None
        for level, kind, cdata in ancdata:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= _AUXDATA.size:
                status, _ln, _snap, _mac, _net, aux_tci, _tpid = _AUXDATA.unpack_from(cdata)
                if status & TP_STATUS_VLAN_VALID:
                    tci = aux_tci
        try:
            return True, parse_frame(data, tci, now)
        except FrameTooShort:
            return True, None

    def attach(
        self, loop: asyncio.AbstractEventLoop, on_frame: Callable[[EthernetFrame], None]
    ) -> None:
        """Make the socket non-blocking and call ``on_frame`` for every frame received (from
        the loop's reader callback; the socket is drained each time it is readable)."""
        self._sock.setblocking(False)

        def readable() -> None:
            for _ in range(READS_PER_WAKEUP):  # bounded; the reader fires again if more
                try:
                    got, frame = self._read()
                except OSError:  # e.g. ENETDOWN while the link flaps: wait for the next
                    return
                if not got:
                    return
                if frame is not None:
                    on_frame(frame)

        loop.add_reader(self._sock.fileno(), readable)
        self._loop = loop

    def detach(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._sock.fileno())
            self._loop = None

    def close(self) -> None:
        self.detach()
        self._sock.close()

    def __enter__(self) -> "RawSocket":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


FrameHandler = Callable[[EthernetFrame], None]


class FrameIdDispatcher:
    """One 0x8892 socket shared by DCP, cyclic RT and alarms: each received frame goes to the
    handler registered for its FrameID range (the first two payload bytes). A handler that
    raises is logged and the next frame is delivered as usual."""

    def __init__(self, sock: RawSocket, log: logging.Logger) -> None:
        self.sock = sock
        self.log = log
        self._routes: list[tuple[int, int, FrameHandler]] = []
        self.unrouted = 0
        self.handler_errors = 0

    def register(self, first: int, last: int, handler: FrameHandler) -> None:
        """Frames with ``first <= FrameID <= last`` go to ``handler`` (ranges must not overlap)."""
        for lo, hi, _ in self._routes:
            if first <= hi and lo <= last:
                raise ValueError(f"FrameID range 0x{first:04X}-0x{last:04X} overlaps another")
        self._routes.append((first, last, handler))

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.sock.attach(loop, self.dispatch)

    def detach(self) -> None:
        self.sock.detach()

    def dispatch(self, frame: EthernetFrame) -> None:
        if frame.ethertype != ETH_P_PROFINET or len(frame.payload) < 2:
            self.unrouted += 1
            return
        frame_id = (frame.payload[0] << 8) | frame.payload[1]
        for lo, hi, handler in self._routes:
            if lo <= frame_id <= hi:
                try:
                    handler(frame)
                except Exception:
                    self.handler_errors += 1
                    self.log.exception("handler for FrameID 0x%04X failed", frame_id)
                return
        self.unrouted += 1
