# SPDX-License-Identifier: Apache-2.0
"""The blocks of a PNIO Connect (IEC 61158-6-10): requests decoded with every field checked
(a faulty field names itself in ErrorCode2), responses encoded; and the reverse for the PLC
simulator, which builds requests and reads responses."""

import struct
import uuid
from dataclasses import dataclass, field

from ccy.profinet.rpc.status import Code1, ErrorCode, PnioError
from ccy.profinet.rpc.wire import Reader, block

AR_BLOCK_REQ = 0x0101
IOCR_BLOCK_REQ = 0x0102
ALARM_CR_BLOCK_REQ = 0x0103
EXPECTED_SUBMODULE_BLOCK_REQ = 0x0104
AR_BLOCK_RES = 0x8101
IOCR_BLOCK_RES = 0x8102
ALARM_CR_BLOCK_RES = 0x8103
MODULE_DIFF_BLOCK = 0x8104

AR_TYPE_IOCAR_SINGLE = 0x0001
AR_TYPE_IOSAR = 0x0006
"""Supervisor AR (device access, record read/write only, no IOCR)."""
IOCR_INPUT = 1
IOCR_OUTPUT = 2
RT_CLASS_1 = 1
RT_CLASS_2 = 2
LT_PNIO = 0x8892
FRAME_ID_ASSIGN = 0xFFFF
TICK_S = 31.25e-6
MAX_HOLD_S = 1.92
AR_PROPERTY_DEVICE_ACCESS = 1 << 8
AR_PROPERTY_STARTUP_ADVANCED = 1 << 30


def rt_frame_id_ok(frame_id: int) -> bool:
    """RT class 1 (0xC000–0xF7FF) or the RT class 2 range some controllers use for it."""
    return 0xC000 <= frame_id <= 0xF7FF or 0x8000 <= frame_id <= 0xBBFF


@dataclass(frozen=True)
class ArBlockReq:
    ar_type: int
    ar_uuid: uuid.UUID
    session_key: int
    initiator_mac: bytes
    initiator_object_uuid: uuid.UUID
    properties: int
    activity_timeout_factor: int
    station_name: str
    udp_rt_port: int = LT_PNIO

    @property
    def device_access(self) -> bool:
        return bool(self.properties & AR_PROPERTY_DEVICE_ACCESS)

    def encode(self) -> bytes:
        name = self.station_name.encode()
        body = (
            struct.pack(">H", self.ar_type)
            + self.ar_uuid.bytes
            + struct.pack(">H", self.session_key)
            + self.initiator_mac
            + self.initiator_object_uuid.bytes
            + struct.pack(
                ">IHHH", self.properties, self.activity_timeout_factor, self.udp_rt_port, len(name)
            )
            + name
        )
        return block(AR_BLOCK_REQ, body)

    @classmethod
    def decode(cls, body: bytes, version: tuple[int, int]) -> "ArBlockReq":
        r = Reader(body, ErrorCode.CONNECT, Code1.AR_BLOCK, "ARBlockReq")
        r.check(version[0] == 1, 2, f"BlockVersionHigh {version[0]}")
        r.check(version[1] == 0, 3, f"BlockVersionLow {version[1]}")
        ar_type = r.u16(4)
        r.check(ar_type in (AR_TYPE_IOCAR_SINGLE, AR_TYPE_IOSAR), 4, f"ARType 0x{ar_type:04X}")
        ar_uuid = r.uuid(5)
        r.check(ar_uuid.int != 0, 5, "ARUUID is nil")
        session_key = r.u16(6)
        mac = r.take(6, 7)
        obj = r.uuid(8)
        properties = r.u32(9)
        r.check(properties & 0x7 == 1, 9, f"ARProperties state {properties & 7} is not Active")
        r.check(
            not properties & AR_PROPERTY_STARTUP_ADVANCED, 9, "advanced startup is not supported"
        )
        timeout = r.u16(10)
        r.check(1 <= timeout <= 1000, 10, f"CMInitiatorActivityTimeoutFactor {timeout}")
        port = r.u16(11)
        r.check(port == LT_PNIO, 11, f"CMInitiatorUDPRTPort 0x{port:04X}")
        name_len = r.u16(12)
        r.check(1 <= name_len <= 240, 12, f"StationNameLength {name_len}")
        raw_name = r.take(name_len, 13)
        try:
            name = raw_name.decode("ascii")
        except UnicodeDecodeError:
            raise r.fail(13, "CMInitiatorStationName is not ASCII") from None
        r.check(r.at_end(), 1, "bytes after the station name")
        return cls(ar_type, ar_uuid, session_key, mac, obj, properties, timeout, name, port)


@dataclass(frozen=True)
class ArBlockRes:
    ar_type: int
    ar_uuid: uuid.UUID
    session_key: int
    responder_mac: bytes
    udp_rt_port: int = LT_PNIO

    def encode(self) -> bytes:
        body = (
            struct.pack(">H", self.ar_type)
            + self.ar_uuid.bytes
            + struct.pack(">H", self.session_key)
            + self.responder_mac
            + struct.pack(">H", self.udp_rt_port)
        )
        return block(AR_BLOCK_RES, body)

    @classmethod
    def decode(cls, body: bytes) -> "ArBlockRes":
        r = Reader(body, ErrorCode.CONNECT, Code1.AR_BLOCK, "ARBlockRes")
        return cls(r.u16(4), r.uuid(5), r.u16(6), r.take(6, 7), r.u16(8))


@dataclass(frozen=True)
class IoObject:
    slot: int
    subslot: int
    frame_offset: int


@dataclass(frozen=True)
class IocrApi:
    api: int
    data: tuple[IoObject, ...]
    iocs: tuple[IoObject, ...]


@dataclass(frozen=True)
class IocrBlockReq:
    iocr_type: int
    reference: int
    data_length: int
    frame_id: int
    send_clock_factor: int
    reduction_ratio: int
    phase: int
    watchdog_factor: int
    data_hold_factor: int
    apis: tuple[IocrApi, ...]
    properties: int = RT_CLASS_1
    sequence: int = 0
    frame_send_offset: int = 0xFFFFFFFF
    tag_header: int = 0xC000
    multicast_mac: bytes = bytes(6)

    @property
    def cycle_s(self) -> float:
        return self.send_clock_factor * self.reduction_ratio * TICK_S

    @property
    def hold_s(self) -> float:
        return self.cycle_s * self.data_hold_factor

    @property
    def counter_step(self) -> int:
        """Cycle counter increment per frame (31.25 µs ticks)."""
        return self.send_clock_factor * self.reduction_ratio

    def encode(self) -> bytes:
        body = struct.pack(
            ">HHHIHHHHHHIHHH",
            self.iocr_type,
            self.reference,
            LT_PNIO,
            self.properties,
            self.data_length,
            self.frame_id,
            self.send_clock_factor,
            self.reduction_ratio,
            self.phase,
            self.sequence,
            self.frame_send_offset,
            self.watchdog_factor,
            self.data_hold_factor,
            self.tag_header,
        )
        body += self.multicast_mac + struct.pack(">H", len(self.apis))
        for api in self.apis:
            body += struct.pack(">IH", api.api, len(api.data))
            body += b"".join(
                struct.pack(">HHH", o.slot, o.subslot, o.frame_offset) for o in api.data
            )
            body += struct.pack(">H", len(api.iocs))
            body += b"".join(
                struct.pack(">HHH", o.slot, o.subslot, o.frame_offset) for o in api.iocs
            )
        return block(IOCR_BLOCK_REQ, body)

    @classmethod
    def decode(cls, body: bytes, version: tuple[int, int]) -> "IocrBlockReq":
        r = Reader(body, ErrorCode.CONNECT, Code1.IOCR_BLOCK, "IOCRBlockReq")
        r.check(version[0] == 1, 2, f"BlockVersionHigh {version[0]}")
        r.check(version[1] == 0, 3, f"BlockVersionLow {version[1]}")
        iocr_type = r.u16(4)
        r.check(iocr_type in (IOCR_INPUT, IOCR_OUTPUT), 4, f"IOCRType {iocr_type}")
        reference = r.u16(5)
        lt = r.u16(6)
        r.check(lt == LT_PNIO, 6, f"LT 0x{lt:04X}")
        properties = r.u32(7)
        r.check(properties & 0xF in (RT_CLASS_1, RT_CLASS_2), 7, f"RTClass {properties & 0xF}")
        data_length = r.u16(8)
        r.check(40 <= data_length <= 1440, 8, f"DataLength {data_length} outside 40..1440")
        frame_id = r.u16(9)
        if iocr_type == IOCR_INPUT or frame_id != FRAME_ID_ASSIGN:
            r.check(rt_frame_id_ok(frame_id), 9, f"FrameID 0x{frame_id:04X}")
        scf = r.u16(10)
        r.check(1 <= scf <= 128 and scf & (scf - 1) == 0, 10, f"SendClockFactor {scf}")
        rr = r.u16(11)
        r.check(1 <= rr <= 512 and rr & (rr - 1) == 0, 11, f"ReductionRatio {rr}")
        phase = r.u16(12)
        r.check(1 <= phase <= rr, 12, f"Phase {phase} outside 1..{rr}")
        sequence = r.u16(13)
        send_offset = r.u32(14)
        watchdog = r.u16(15)
        r.check(1 <= watchdog <= 0x1E00, 15, f"WatchdogFactor {watchdog}")
        dhf = r.u16(16)
        r.check(1 <= dhf <= 0x1E00, 16, f"DataHoldFactor {dhf}")
        r.check(dhf * scf * rr * TICK_S <= MAX_HOLD_S + 1e-9, 16, "data hold time above 1.92 s")
        tag = r.u16(17)
        mc = r.take(6, 18)
        n_apis = r.u16(19)
        apis = []
        for _ in range(n_apis):
            api = r.u32(20)
            r.check(api == 0, 20, f"API {api} (only API 0 exists)")
            data = []
            for _ in range(r.u16(21)):
                data.append(IoObject(r.u16(22), r.u16(23), r.u16(24)))
            iocs = []
            for _ in range(r.u16(25)):
                iocs.append(IoObject(r.u16(26), r.u16(27), r.u16(28)))
            apis.append(IocrApi(api, tuple(data), tuple(iocs)))
        r.check(r.at_end(), 1, "bytes after the last API")
        return cls(
            iocr_type, reference, data_length, frame_id, scf, rr, phase, watchdog, dhf,
            tuple(apis), properties, sequence, send_offset, tag, mc,
        )  # fmt: skip


@dataclass(frozen=True)
class IocrBlockRes:
    iocr_type: int
    reference: int
    frame_id: int

    def encode(self) -> bytes:
        return block(
            IOCR_BLOCK_RES, struct.pack(">HHH", self.iocr_type, self.reference, self.frame_id)
        )

    @classmethod
    def decode(cls, body: bytes) -> "IocrBlockRes":
        r = Reader(body, ErrorCode.CONNECT, Code1.IOCR_BLOCK, "IOCRBlockRes")
        return cls(r.u16(4), r.u16(5), r.u16(6))


@dataclass(frozen=True)
class AlarmCrBlockReq:
    local_alarm_reference: int
    max_alarm_data_length: int = 200
    rta_timeout_factor: int = 1
    rta_retries: int = 3
    properties: int = 0
    tag_high: int = 0xC000
    tag_low: int = 0xA000

    @property
    def retransmit_s(self) -> float:
        return 0.1 * self.rta_timeout_factor

    def encode(self) -> bytes:
        body = struct.pack(
            ">HHIHHHHHH",
            1,
            LT_PNIO,
            self.properties,
            self.rta_timeout_factor,
            self.rta_retries,
            self.local_alarm_reference,
            self.max_alarm_data_length,
            self.tag_high,
            self.tag_low,
        )
        return block(ALARM_CR_BLOCK_REQ, body)

    @classmethod
    def decode(cls, body: bytes, version: tuple[int, int]) -> "AlarmCrBlockReq":
        r = Reader(body, ErrorCode.CONNECT, Code1.ALARM_CR_BLOCK, "AlarmCRBlockReq")
        r.check(version[0] == 1, 2, f"BlockVersionHigh {version[0]}")
        r.check(version[1] == 0, 3, f"BlockVersionLow {version[1]}")
        cr_type = r.u16(4)
        r.check(cr_type == 1, 4, f"AlarmCRType {cr_type}")
        lt = r.u16(5)
        r.check(lt == LT_PNIO, 5, f"LT 0x{lt:04X}")
        properties = r.u32(6)
        r.check(not properties & 0x2, 6, "alarms over UDP are not supported")
        timeout = r.u16(7)
        r.check(1 <= timeout <= 100, 7, f"RTATimeoutFactor {timeout}")
        retries = r.u16(8)
        r.check(3 <= retries <= 15, 8, f"RTARetries {retries}")
        ref = r.u16(9)
        max_len = r.u16(10)
        r.check(200 <= max_len <= 1432, 10, f"MaxAlarmDataLength {max_len}")
        tag_high = r.u16(11)
        tag_low = r.u16(12)
        r.check(r.at_end(), 1, "bytes after AlarmCRTagHeaderLow")
        return cls(ref, max_len, timeout, retries, properties, tag_high, tag_low)


@dataclass(frozen=True)
class AlarmCrBlockRes:
    local_alarm_reference: int
    max_alarm_data_length: int

    def encode(self) -> bytes:
        body = struct.pack(">HHH", 1, self.local_alarm_reference, self.max_alarm_data_length)
        return block(ALARM_CR_BLOCK_RES, body)

    @classmethod
    def decode(cls, body: bytes) -> "AlarmCrBlockRes":
        r = Reader(body, ErrorCode.CONNECT, Code1.ALARM_CR_BLOCK, "AlarmCRBlockRes")
        r.u16(4)
        return cls(r.u16(5), r.u16(6))


SUBMODULE_NO_IO = 0
SUBMODULE_INPUT = 1
SUBMODULE_OUTPUT = 2
SUBMODULE_IO = 3


@dataclass(frozen=True)
class ExpectedSubmodule:
    subslot: int
    ident: int
    input_length: int = 0
    output_length: int = 0
    kind: int = SUBMODULE_NO_IO

    @staticmethod
    def kind_of(input_length: int, output_length: int, no_io: bool = False) -> int:
        if input_length and output_length:
            return SUBMODULE_IO
        if output_length:
            return SUBMODULE_OUTPUT
        return SUBMODULE_INPUT if input_length and not no_io else SUBMODULE_NO_IO


@dataclass(frozen=True)
class ExpectedSlot:
    api: int
    slot: int
    module_ident: int
    submodules: tuple[ExpectedSubmodule, ...] = field(default_factory=tuple)


def encode_expected(slot: ExpectedSlot) -> bytes:
    body = struct.pack(
        ">HIHIHH", 1, slot.api, slot.slot, slot.module_ident, 0, len(slot.submodules)
    )
    for sub in slot.submodules:
        body += struct.pack(">HIH", sub.subslot, sub.ident, sub.kind)
        if sub.kind in (SUBMODULE_NO_IO, SUBMODULE_INPUT, SUBMODULE_IO):
            body += struct.pack(">HHBB", 1, sub.input_length, 1, 1)
        if sub.kind in (SUBMODULE_OUTPUT, SUBMODULE_IO):
            body += struct.pack(">HHBB", 2, sub.output_length, 1, 1)
    return block(EXPECTED_SUBMODULE_BLOCK_REQ, body)


def decode_expected(body: bytes, version: tuple[int, int]) -> list[ExpectedSlot]:
    r = Reader(body, ErrorCode.CONNECT, Code1.EXPECTED_SUBMODULE_BLOCK, "ExpectedSubmoduleBlockReq")
    r.check(version == (1, 0), 2, f"BlockVersion {version[0]}.{version[1]}")
    slots = []
    for _ in range(r.u16(4)):
        api = r.u32(5)
        r.check(api == 0, 5, f"API {api} (only API 0 exists)")
        slot_number = r.u16(6)
        r.check(slot_number <= 0x7FFF, 6, f"SlotNumber 0x{slot_number:04X}")
        module_ident = r.u32(7)
        r.u16(8)  # ModuleProperties
        subs = []
        for _ in range(r.u16(9)):
            subslot = r.u16(10)
            r.check(subslot <= 0x9FFF, 10, f"SubslotNumber 0x{subslot:04X}")
            ident = r.u32(11)
            props = r.u16(12)
            kind = props & 0x3
            lengths = {1: 0, 2: 0}
            wanted = {SUBMODULE_NO_IO: (1,), SUBMODULE_INPUT: (1,), SUBMODULE_OUTPUT: (2,)}.get(
                kind, (1, 2)
            )
            for direction in wanted:
                got = r.u16(13)
                r.check(got == direction, 13, f"DataDescription {got}, expected {direction}")
                length = r.u16(14)
                r.check(length <= 1439, 14, f"SubmoduleDataLength {length}")
                iocs_len = r.u8(15)
                iops_len = r.u8(16)
                r.check(iocs_len == 1, 15, f"LengthIOCS {iocs_len}")
                r.check(iops_len == 1, 16, f"LengthIOPS {iops_len}")
                lengths[direction] = length
            if kind == SUBMODULE_NO_IO:
                r.check(lengths[1] == 0, 14, "a NO_IO submodule with data")
            subs.append(ExpectedSubmodule(subslot, ident, lengths[1], lengths[2], kind))
        slots.append(ExpectedSlot(api, slot_number, module_ident, tuple(subs)))
    r.check(r.at_end(), 1, "bytes after the last submodule")
    return slots


MODULE_STATE_NO_MODULE = 0
MODULE_STATE_WRONG = 1
MODULE_STATE_PROPER = 2
SUBMODULE_OK = 0x8000
"""SubmoduleState format indicator, IdentInfo OK, ARInfo Own."""
SUBMODULE_WRONG = 0x8000 | 2 << 11
SUBMODULE_MISSING = 0x8000 | 3 << 11


@dataclass(frozen=True)
class DiffSubmodule:
    subslot: int
    ident: int
    state: int


@dataclass(frozen=True)
class DiffModule:
    slot: int
    ident: int
    state: int
    submodules: tuple[DiffSubmodule, ...]


def encode_module_diff(api: int, modules: list[DiffModule]) -> bytes:
    body = struct.pack(">HIH", 1, api, len(modules))
    for m in modules:
        body += struct.pack(">HIHH", m.slot, m.ident, m.state, len(m.submodules))
        for s in m.submodules:
            body += struct.pack(">HIH", s.subslot, s.ident, s.state)
    return block(MODULE_DIFF_BLOCK, body)


def decode_module_diff(body: bytes) -> list[DiffModule]:
    r = Reader(body, ErrorCode.CONNECT, Code1.EXPECTED_SUBMODULE_BLOCK, "ModuleDiffBlock")
    out = []
    for _ in range(r.u16(4)):
        r.u32(5)
        for _ in range(r.u16(6)):
            slot, ident, state = r.u16(7), r.u32(8), r.u16(9)
            subs = tuple(DiffSubmodule(r.u16(11), r.u32(12), r.u16(13)) for _ in range(r.u16(10)))
            out.append(DiffModule(slot, ident, state, subs))
    return out


def check_unique(items: list[int], service: ErrorCode, code1: int, param: int, what: str) -> None:
    if len(set(items)) != len(items):
        from ccy.profinet.rpc.status import pnio

        raise PnioError(pnio(service, code1, param), f"{what} appears twice")
