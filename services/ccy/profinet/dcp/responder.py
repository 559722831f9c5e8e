# SPDX-License-Identifier: Apache-2.0
"""The DCP responder as a pure core: (Ethernet frame, time) → effects. No I/O, no clock.

What it answers (profinet.md "DCP"; IEC 61158-6-10):

- **Identify** (0xFEFE to 01:0E:CF:00:00:00 or to us): only when every filter block matches,
  in any order (All selector, NameOfStation, alias, vendor, DeviceID, role, instance, IP
  parameter, MAC); the response (0xFEFF, unicast) carries the IP parameter, vendor,
  NameOfStation, DeviceID, role, options, instance (and the alias when it was a filter) and
  leaves after ((MAC[4]<<8 | MAC[5]) mod ResponseDelayFactor) × 10 ms.
- **Get** / **Set** (0xFEFD, unicast to our MAC): one block per requested option, or a
  Control/Response block with its BlockError. Set of NameOfStation and IP parameter (bit 0 of
  the BlockQualifier = permanent), Signal, Start/Stop, FactoryReset, ResetToFactory
  (communication, application, all). Device properties other than the name (alias
  included: it comes from the LLDP neighbour) are read-only.
- **The 3 s lock**: after a Set, Get and Set from any other source MAC are dropped
  unanswered for LOCK_S (each Set from the holder restarts it). Identify is not locked.
- **Hello** (0xFEFC to 01:0E:CF:00:00:01): :meth:`DcpResponder.hello` builds it.

Anything malformed is dropped without an answer; :class:`Dropped` says why (a named
:class:`~ccy.profinet.dcp.codec.DcpError` or a rule), so the driver counts and logs it.
"""

import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from ccy.profinet.dcp.codec import (
    ALL_SUB,
    BLOCK_INFO_IP_SET,
    DEVICE_INITIATIVE_SUB,
    FRAME_ID_GET_SET,
    FRAME_ID_HELLO,
    FRAME_ID_IDENTIFY_REQ,
    FRAME_ID_IDENTIFY_RES,
    MAX_DATA_LEN,
    QUALIFIER_PERMANENT,
    SIGNAL_FLASH_ONCE,
    Block,
    BlockError,
    ControlSub,
    DcpError,
    DeviceSub,
    IpParameter,
    IpSub,
    Option,
    ServiceId,
    ServiceType,
    control_response,
    encode_block,
    encode_pdu,
    parse_pdu,
    response_delay_s,
)
from ccy.profinet.dcp.identity import IDENTITY, DeviceIdentity
from ccy.profinet.dcp.names import InvalidStationName, decode_station_name
from ccy.profinet.ethernet import (
    DCP_HELLO_MULTICAST,
    DCP_IDENTIFY_MULTICAST,
    ETH_P_PROFINET,
    EthernetFrame,
    build_frame,
    is_multicast,
)

LOCK_S = 3.0
"""Hold time after a Set: Get/Set from other controllers are ignored (profinet.md)."""

SUPPORTED_OPTIONS: tuple[tuple[int, int], ...] = (
    (Option.IP, IpSub.MAC),
    (Option.IP, IpSub.PARAMETER),
    (Option.DEVICE, DeviceSub.VENDOR),
    (Option.DEVICE, DeviceSub.NAME_OF_STATION),
    (Option.DEVICE, DeviceSub.DEVICE_ID),
    (Option.DEVICE, DeviceSub.ROLE),
    (Option.DEVICE, DeviceSub.OPTIONS),
    (Option.DEVICE, DeviceSub.ALIAS),
    (Option.DEVICE, DeviceSub.INSTANCE),
    (Option.CONTROL, ControlSub.START),
    (Option.CONTROL, ControlSub.STOP),
    (Option.CONTROL, ControlSub.SIGNAL),
    (Option.CONTROL, ControlSub.FACTORY_RESET),
    (Option.CONTROL, ControlSub.RESET_TO_FACTORY),
    (Option.DEVICE_INITIATIVE, DEVICE_INITIATIVE_SUB),
    (Option.ALL, ALL_SUB),
)
"""DeviceOptions (2/5): what this device can get, set or filter on. The full IP suite (1/3,
with DNS servers) is not among them: ccy-profinet has no DNS to configure."""


class ResetMode(IntEnum):
    """ResetToFactory BlockQualifier bits 1..15 (FactoryReset 5/5 counts as COMMUNICATION)."""

    APPLICATION = 1
    """Reset application data (the unit's own; nothing in DCP's keeping)."""
    COMMUNICATION = 2
    """Reset communication parameters: NameOfStation "" and IP 0.0.0.0, permanently."""
    ENGINEERING = 3
    ALL_DATA = 4
    """Application and communication data."""
    DEVICE = 8
    RESTORE = 9


SUPPORTED_RESET_MODES = frozenset(
    (ResetMode.APPLICATION, ResetMode.COMMUNICATION, ResetMode.ALL_DATA, ResetMode.DEVICE)
)


@dataclass
class DcpState:
    """What DCP reads and writes; the driver keeps the permanent part in a state file."""

    station_name: str
    ip: IpParameter
    alias: str | None = None
    """AliasNameValue from the LLDP neighbour (``port-001.plc``), None without a neighbour."""
    hello_enabled: bool = False
    """DeviceInitiative: the device sends Hello at start-up."""


@dataclass(frozen=True, slots=True)
class Send:
    frame: bytes
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class NameSet:
    name: str
    permanent: bool
    changed: bool
    source: bytes
    """MAC of the controller that set it (all-zero for a reset)."""


@dataclass(frozen=True, slots=True)
class IpSet:
    ip: IpParameter
    permanent: bool
    changed: bool
    source: bytes


@dataclass(frozen=True, slots=True)
class SignalRequested:
    """Control/Signal: flash the identification LED (the unit calls Bsp1.Identify)."""

    source: bytes


@dataclass(frozen=True, slots=True)
class ResetRequested:
    mode: ResetMode
    source: bytes


@dataclass(frozen=True, slots=True)
class Dropped:
    reason: str
    """A DcpError class name or a rule name: 'Locked', 'NotForUs', 'NoMatch', …"""
    detail: str = ""


Effect = Send | NameSet | IpSet | SignalRequested | ResetRequested | Dropped


class DcpResponder:
    def __init__(
        self,
        mac: bytes,
        state: DcpState,
        identity: DeviceIdentity = IDENTITY,
        lock_s: float = LOCK_S,
    ) -> None:
        self.mac = mac
        self.state = state
        self.identity = identity
        self.lock_s = lock_s
        self.lock_owner: bytes | None = None
        self.lock_until_s = 0.0
        self.stats: Counter[str] = Counter()
        self._hello_xid = 0

    # ---------------------------------------------------------------- entry points

    def handle(self, frame: EthernetFrame, now_s: float) -> list[Effect]:
        """Everything one received 0x8892 frame causes (non-DCP FrameIDs: nothing)."""
        if frame.ethertype != ETH_P_PROFINET or len(frame.payload) < 2:
            return []
        frame_id = int.from_bytes(frame.payload[:2], "big")
        if frame_id not in (FRAME_ID_IDENTIFY_REQ, FRAME_ID_GET_SET):
            return []  # Hello and Identify responses of other devices, cyclic, alarms
        try:
            pdu = parse_pdu(frame.payload)
        except DcpError as exc:
            return [self._drop(type(exc).__name__, str(exc))]
        if pdu.service_type != ServiceType.REQUEST:
            return []  # a response of another device seen on the wire
        if frame_id == FRAME_ID_IDENTIFY_REQ:
            if frame.dst not in (DCP_IDENTIFY_MULTICAST, self.mac):
                return [self._drop("NotForUs", "Identify to another address")]
            return self._identify(frame, pdu.blocks, pdu.xid, pdu.response_delay)
        if frame.dst != self.mac or is_multicast(frame.dst):
            return [self._drop("NotForUs", "Get/Set not addressed to our MAC")]
        if self._locked_out(frame.src, now_s):
            return [self._drop("Locked", "another controller holds the 3 s DCP lock")]
        if pdu.service_id == ServiceId.GET:
            self.stats["get"] += 1
            body = self._fit(self._get(opt, sub) for opt, sub in pdu.requested)
            return [self._reply(frame.src, pdu.service_id, ServiceType.SUCCESS, pdu.xid, body)]
        if pdu.service_id == ServiceId.SET:
            self.stats["set"] += 1
            return self._set(frame.src, pdu.xid, pdu.blocks, now_s)
        self.stats["unsupported_service"] += 1
        return [self._reply(frame.src, pdu.service_id, ServiceType.NOT_SUPPORTED, pdu.xid, b"")]

    def hello(self) -> bytes:
        """A Hello request frame (device initiative) announcing name, IP and IDs."""
        self._hello_xid = (self._hello_xid + 1) & 0xFFFFFFFF
        blocks = (
            self._name_block()
            + self._ip_block()
            + encode_block(Option.DEVICE, DeviceSub.DEVICE_ID, self.identity.device_id_bytes, 0)
            + encode_block(Option.DEVICE, DeviceSub.VENDOR, self._vendor(), 0)
            + encode_block(Option.DEVICE, DeviceSub.ROLE, bytes((self.identity.device_role, 0)), 0)
            + self._initiative_block()
        )
        pdu = encode_pdu(FRAME_ID_HELLO, ServiceId.HELLO, ServiceType.REQUEST, self._hello_xid,
                         blocks)  # fmt: skip
        return build_frame(DCP_HELLO_MULTICAST, self.mac, ETH_P_PROFINET, pdu)

    def locked_by(self, now_s: float) -> bytes | None:
        return self.lock_owner if self.lock_owner and now_s < self.lock_until_s else None

    # ---------------------------------------------------------------- Identify

    def _identify(
        self, frame: EthernetFrame, filters: tuple[Block, ...], xid: int, factor: int
    ) -> list[Effect]:
        if not filters:
            return [self._drop("NoFilter", "Identify without a filter block")]
        with_alias = False
        for block in filters:
            if not self._matches(block):
                self.stats["identify_not_matched"] += 1
                return [Dropped("NoMatch", f"filter {block.option}/{block.suboption}")]
            with_alias = with_alias or block.key == (Option.DEVICE, DeviceSub.ALIAS)
        self.stats["identify"] += 1
        body = (
            self._ip_block()
            + encode_block(Option.DEVICE, DeviceSub.VENDOR, self._vendor(), 0)
            + self._name_block()
            + encode_block(Option.DEVICE, DeviceSub.DEVICE_ID, self.identity.device_id_bytes, 0)
            + encode_block(Option.DEVICE, DeviceSub.ROLE, bytes((self.identity.device_role, 0)), 0)
            + encode_block(Option.DEVICE, DeviceSub.OPTIONS, self._options(), 0)
            + encode_block(Option.DEVICE, DeviceSub.INSTANCE, self._instance(), 0)
        )
        if with_alias and self.state.alias:
            body += encode_block(Option.DEVICE, DeviceSub.ALIAS, self.state.alias.encode(), 0)
        pdu = encode_pdu(FRAME_ID_IDENTIFY_RES, ServiceId.IDENTIFY, ServiceType.SUCCESS, xid, body)
        frame_out = build_frame(frame.src, self.mac, ETH_P_PROFINET, pdu)
        return [Send(frame_out, response_delay_s(self.mac, factor))]

    def _matches(self, block: Block) -> bool:
        key, value = block.key, block.value
        if key == (Option.ALL, ALL_SUB):
            return True
        if key == (Option.DEVICE, DeviceSub.NAME_OF_STATION):
            return self.state.station_name != "" and value == self.state.station_name.encode()
        if key == (Option.DEVICE, DeviceSub.ALIAS):
            return self.state.alias is not None and value == self.state.alias.encode()
        if key == (Option.DEVICE, DeviceSub.VENDOR):
            return value == self._vendor()
        if key == (Option.DEVICE, DeviceSub.DEVICE_ID):
            return value == self.identity.device_id_bytes
        if key == (Option.DEVICE, DeviceSub.ROLE):
            return len(value) >= 1 and bool(value[0] & self.identity.device_role)
        if key == (Option.DEVICE, DeviceSub.INSTANCE):
            return value == self._instance()
        if key == (Option.DEVICE, DeviceSub.OPTIONS):
            pairs = {(value[i], value[i + 1]) for i in range(0, len(value) - 1, 2)}
            return len(value) % 2 == 0 and pairs <= set(SUPPORTED_OPTIONS)
        if key == (Option.IP, IpSub.PARAMETER):
            return value == self.state.ip.encode()
        if key == (Option.IP, IpSub.MAC):
            return value == self.mac
        return False  # an option we do not know cannot match

    # ---------------------------------------------------------------- Get

    def _get(self, option: int, suboption: int) -> bytes:
        key = (option, suboption)
        if key == (Option.IP, IpSub.MAC):
            return encode_block(option, suboption, self.mac, 0)
        if key == (Option.IP, IpSub.PARAMETER):
            return self._ip_block()
        if key == (Option.DEVICE, DeviceSub.VENDOR):
            return encode_block(option, suboption, self._vendor(), 0)
        if key == (Option.DEVICE, DeviceSub.NAME_OF_STATION):
            return self._name_block()
        if key == (Option.DEVICE, DeviceSub.DEVICE_ID):
            return encode_block(option, suboption, self.identity.device_id_bytes, 0)
        if key == (Option.DEVICE, DeviceSub.ROLE):
            return encode_block(option, suboption, bytes((self.identity.device_role, 0)), 0)
        if key == (Option.DEVICE, DeviceSub.OPTIONS):
            return encode_block(option, suboption, self._options(), 0)
        if key == (Option.DEVICE, DeviceSub.INSTANCE):
            return encode_block(option, suboption, self._instance(), 0)
        if key == (Option.DEVICE, DeviceSub.ALIAS):
            if self.state.alias is None:
                return control_response(option, suboption, BlockError.NOT_SET)
            return encode_block(option, suboption, self.state.alias.encode(), 0)
        if key == (Option.DEVICE_INITIATIVE, DEVICE_INITIATIVE_SUB):
            return self._initiative_block()
        return control_response(option, suboption, self._unsupported(option))

    # ---------------------------------------------------------------- Set

    def _set(
        self, source: bytes, xid: int, blocks: tuple[Block, ...], now_s: float
    ) -> list[Effect]:
        after: list[Effect] = []
        answers = []
        for block in blocks:
            error = self._set_block(source, block, after)
            answers.append(control_response(block.option, block.suboption, error))
        self.lock_owner, self.lock_until_s = source, now_s + self.lock_s
        reply = self._reply(source, ServiceId.SET, ServiceType.SUCCESS, xid, self._fit(answers))
        return [reply, *after]  # the answer first, then the changes (p-net order)

    def _set_block(self, source: bytes, block: Block, after: list[Effect]) -> BlockError:
        key, value = block.key, block.value
        permanent = bool((block.prefix or 0) & QUALIFIER_PERMANENT)
        if key == (Option.DEVICE, DeviceSub.NAME_OF_STATION):
            try:
                name = decode_station_name(value, allow_empty=True)
            except InvalidStationName as exc:
                self.stats["set_invalid_name"] += 1
                after.append(Dropped("InvalidStationName", str(exc)))
                return BlockError.NOT_SET
            changed = name != self.state.station_name
            self.state.station_name = name
            after.append(NameSet(name, permanent, changed, source))
            return BlockError.NONE
        if key == (Option.IP, IpSub.PARAMETER):
            if len(value) != 12:
                after.append(Dropped("DcpBadValue", f"IP parameter of {len(value)} bytes"))
                return BlockError.NOT_SET
            ip = IpParameter.decode(value)
            problem = ip.problem()
            if problem is not None:
                after.append(Dropped("InvalidIpParameter", problem))
                return BlockError.NOT_SET
            changed = ip != self.state.ip
            self.state.ip = ip
            after.append(IpSet(ip, permanent, changed, source))
            return BlockError.NONE
        if key == (Option.CONTROL, ControlSub.SIGNAL):
            if len(value) != 2 or int.from_bytes(value, "big") != SIGNAL_FLASH_ONCE:
                return BlockError.NOT_SET
            after.append(SignalRequested(source))
            return BlockError.NONE
        if key in ((Option.CONTROL, ControlSub.START), (Option.CONTROL, ControlSub.STOP)):
            return BlockError.NONE
        if key == (Option.CONTROL, ControlSub.FACTORY_RESET):
            self._reset(ResetMode.COMMUNICATION, source, after)
            return BlockError.NONE
        if key == (Option.CONTROL, ControlSub.RESET_TO_FACTORY):
            mode = (block.prefix or 0) >> 1
            if mode not in SUPPORTED_RESET_MODES:
                return BlockError.SUBOPTION_UNSUPPORTED
            self._reset(ResetMode(mode), source, after)
            return BlockError.NONE
        if option_known(block.option):
            return BlockError.SUBOPTION_UNSUPPORTED
        return BlockError.OPTION_UNSUPPORTED

    def _reset(self, mode: ResetMode, source: bytes, after: list[Effect]) -> None:
        if mode != ResetMode.APPLICATION:
            name_changed = self.state.station_name != ""
            ip_changed = self.state.ip != IpParameter.none()
            self.state.station_name = ""
            self.state.ip = IpParameter.none()
            after.append(NameSet("", True, name_changed, source))
            after.append(IpSet(IpParameter.none(), True, ip_changed, source))
        after.append(ResetRequested(mode, source))

    # ---------------------------------------------------------------- helpers

    def _fit(self, blocks: Iterable[bytes]) -> bytes:
        """The answer blocks that fit one frame (MAX_DATA_LEN); the rest are left out (a
        request naming hundreds of options cannot have all its answers in one frame)."""
        body = bytearray()
        for block in blocks:
            if len(body) + len(block) > MAX_DATA_LEN:
                self.stats["answers_truncated"] += 1
                break
            body += block
        return bytes(body)

    def _locked_out(self, source: bytes, now_s: float) -> bool:
        holder = self.locked_by(now_s)
        return holder is not None and holder != source

    def _drop(self, reason: str, detail: str) -> Dropped:
        self.stats[f"dropped_{reason}"] += 1
        return Dropped(reason, detail)

    def _reply(self, dst: bytes, service: int, stype: int, xid: int, body: bytes) -> Send:
        pdu = encode_pdu(FRAME_ID_GET_SET, service, stype, xid, body)
        return Send(build_frame(dst, self.mac, ETH_P_PROFINET, pdu))

    def _vendor(self) -> bytes:
        return self.identity.device_vendor_value.encode()

    def _ip_info(self) -> int:
        return BLOCK_INFO_IP_SET if self.state.ip.is_set else 0

    def _ip_block(self) -> bytes:
        return encode_block(Option.IP, IpSub.PARAMETER, self.state.ip.encode(), self._ip_info())

    def _name_block(self) -> bytes:
        name = self.state.station_name.encode()
        return encode_block(Option.DEVICE, DeviceSub.NAME_OF_STATION, name, 0)

    def _initiative_block(self) -> bytes:
        value = struct.pack("!H", 1 if self.state.hello_enabled else 0)
        return encode_block(Option.DEVICE_INITIATIVE, DEVICE_INITIATIVE_SUB, value, 0)

    def _instance(self) -> bytes:
        return bytes(self.identity.device_instance)

    def _options(self) -> bytes:
        return b"".join(bytes(pair) for pair in SUPPORTED_OPTIONS)

    @staticmethod
    def _unsupported(option: int) -> BlockError:
        if option_known(option) and option != Option.ALL:
            return BlockError.SUBOPTION_UNSUPPORTED
        return BlockError.OPTION_UNSUPPORTED


def option_known(option: int) -> bool:
    """An option this device implements (DHCP is not: the IP comes from DCP or config)."""
    return option in (Option.IP, Option.DEVICE, Option.CONTROL, Option.DEVICE_INITIATIVE)
