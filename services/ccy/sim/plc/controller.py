# SPDX-License-Identifier: Apache-2.0
"""The simulated IO controller: finds the charger with DCP, names it and gives it an address,
connects (AR with input/output IOCR, AlarmCR, expected submodules), writes I&M1 and I&M2 in one
WriteMultiple, sends PrmEnd, answers ApplicationReady, then exchanges cyclic data every 8 or
32 ms (its own sender thread), turns the charger's setpoints into present values through
``PlcStage``, and acknowledges the charger's alarms. ``vanish()`` stops every frame at once
(a PLC that loses power); ``release()`` ends the AR politely."""

import asyncio
import contextlib
import ipaddress
import os
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ccy.profinet.dcp import codec as dcp
from ccy.profinet.ethernet import (
    DCP_IDENTIFY_MULTICAST,
    ETH_P_PROFINET,
    EthernetFrame,
    RawSocket,
    build_frame,
    vlan_tci,
)
from ccy.profinet.io_layout import INPUT_SIZE, OUTPUT_SIZE, ChargerToPlc
from ccy.profinet.rpc.connect_blocks import AlarmCrBlockReq
from ccy.profinet.rpc.model import IO_SLOT, IO_SUBSLOT, DeviceModel, default_model
from ccy.profinet.rpc.records import INDEX_IM0, decode_im0
from ccy.profinet.rpc.status import PnioStatus
from ccy.profinet.rpc.wire import block
from ccy.profinet.rt import alarm
from ccy.profinet.rt.cyclic import CyclicConsumer, CyclicSender, use_short_gil_slices
from ccy.profinet.rt.frames import (
    DS_GOOD,
    DS_VALID,
    IOXS_GOOD,
    CrLayout,
    build_c_sdu,
    encode_payload,
    layout,
)
from ccy.sim.plc.cm import CmClient, CmError, ar_block, plan_iocrs
from ccy.sim.plc.stage import PlcStage

SEND_CLOCK_FACTOR = 32
"""× 31.25 µs = 1 ms; the reduction ratio is then the cycle in ms."""
INPUT_FRAME_ID = 0xC001
PLC_ALARM_REFERENCE = 0x0007
DCP_TIMEOUT_S = 3.0
APP_READY_TIMEOUT_S = 5.0


class PlcError(RuntimeError):
    """A step of the startup failed; the message says which."""


@dataclass(frozen=True)
class Found:
    mac: bytes
    name: str
    ip: str
    vendor_id: int
    device_id: int


@dataclass
class PlcStats:
    sent: int = 0
    received: int = 0
    alarms: list[str] = field(default_factory=list)


class Plc:
    def __init__(
        self,
        interface: str,
        *,
        cycle_ms: int = 8,
        data_hold_factor: int = 3,
        model: DeviceModel | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        if cycle_ms not in (8, 32) and not 1 <= cycle_ms <= 512:
            raise PlcError(f"cycle of {cycle_ms} ms is not supported")
        self.interface = interface
        self.cycle_ms = cycle_ms
        self.data_hold_factor = data_hold_factor
        self.model = model or default_model(INPUT_SIZE, OUTPUT_SIZE)
        self.say = say
        self.sock = RawSocket(interface, ETH_P_PROFINET, multicast=(DCP_IDENTIFY_MULTICAST,))
        self.mac = self.sock.mac
        self.stage = PlcStage()
        self.stats = PlcStats()
        self.inputs: ChargerToPlc | None = None
        self.inputs_valid = False
        self._dcp: dict[int, list[dcp.Pdu]] = {}
        self._dcp_event = asyncio.Event()
        self._dcp_src = b""
        self._xid = int.from_bytes(os.urandom(2), "big")
        self._cm: CmClient | None = None
        self._sender: CyclicSender | None = None
        self._consumer: CyclicConsumer | None = None
        self._alarm: alarm.RtaEndpoint | None = None
        self._device_mac = b""
        self._sdu = b""
        self._tick: asyncio.Task[None] | None = None
        self._out_layout: CrLayout | None = None
        self.on_alarm: Callable[[alarm.Notification], None] | None = None

    # ---- frames

    def start(self) -> None:
        use_short_gil_slices()
        self.sock.attach(asyncio.get_running_loop(), self._frame)

    def _frame(self, frame: EthernetFrame) -> None:
        p = frame.payload
        if frame.ethertype != ETH_P_PROFINET or len(p) < 2:
            return
        frame_id = p[0] << 8 | p[1]
        if frame_id in dcp.DCP_FRAME_IDS:
            with contextlib.suppress(dcp.DcpError):
                pdu = dcp.parse_pdu(p)
                if pdu.service_type != dcp.ServiceType.REQUEST and pdu.xid in self._dcp:
                    self._dcp[pdu.xid].append(pdu)
                    self._dcp_src = frame.src
                    self._dcp_event.set()
            return
        if frame_id in (alarm.FRAME_ID_HIGH, alarm.FRAME_ID_LOW):
            self._alarm_frame(p)
            return
        consumer = self._consumer
        if consumer is None:
            return
        got = consumer.frame(p, time.monotonic())
        if got is None:
            return
        self.stats.received += 1
        obj = consumer.lay.find(IO_SLOT, IO_SUBSLOT)
        if obj is None:
            return
        data = got.sdu[obj.offset : obj.offset + obj.length]
        valid = got.sdu[obj.offset + obj.length] == IOXS_GOOD and got.data_status & DS_VALID
        self.inputs_valid = bool(valid)
        if valid:
            self.inputs = ChargerToPlc.unpack(bytes(data))

    # ---- DCP

    async def _dcp_call(
        self,
        dst: bytes,
        frame_id: int,
        service: int,
        blocks: bytes,
        delay: int = 0,
        wait_all: bool = False,
    ) -> list[dcp.Pdu]:
        self._xid = (self._xid + 1) & 0xFFFFFFFF
        xid = self._xid
        self._dcp[xid] = []
        self._dcp_event = asyncio.Event()
        payload = dcp.encode_pdu(frame_id, service, dcp.ServiceType.REQUEST, xid, blocks, delay)
        self.sock.send(build_frame(dst, self.mac, ETH_P_PROFINET, payload))
        deadline = time.monotonic() + (delay * 0.01 + 0.5 if wait_all else DCP_TIMEOUT_S)
        if wait_all:
            await asyncio.sleep(deadline - time.monotonic())
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dcp_event.wait(), deadline - time.monotonic())
        return self._dcp.pop(xid)

    async def identify(self, name: str | None = None) -> Found:
        if name:
            blocks = dcp.encode_block(
                dcp.Option.DEVICE, dcp.DeviceSub.NAME_OF_STATION, name.encode()
            )
        else:
            blocks = dcp.encode_block(dcp.Option.ALL, dcp.ALL_SUB, b"")
        answers = await self._dcp_call(
            DCP_IDENTIFY_MULTICAST, dcp.FRAME_ID_IDENTIFY_REQ, dcp.ServiceId.IDENTIFY, blocks, 1
        )
        if not answers:
            raise PlcError(f"no device answered DCP Identify{' for ' + name if name else ''}")
        values = {b.key: b.value for b in answers[0].blocks}
        ip = dcp.IpParameter.decode(values[(dcp.Option.IP, dcp.IpSub.PARAMETER)])
        vendor, device = struct.unpack(">HH", values[(dcp.Option.DEVICE, dcp.DeviceSub.DEVICE_ID)])
        found = Found(
            self._dcp_src,
            values.get((dcp.Option.DEVICE, dcp.DeviceSub.NAME_OF_STATION), b"").decode(),
            str(ip.address),
            vendor,
            device,
        )
        self.say(f"plc: found {found.name or '-'} {found.mac.hex(':')} {found.ip}")
        return found

    async def dcp_set(
        self,
        device: Found,
        *,
        name: str | None = None,
        ip: str | None = None,
        permanent: bool = True,
    ) -> None:
        qualifier = dcp.QUALIFIER_PERMANENT if permanent else 0
        blocks = b""
        if name is not None:
            blocks += dcp.encode_block(
                dcp.Option.DEVICE, dcp.DeviceSub.NAME_OF_STATION, name.encode(), qualifier
            )
        if ip is not None:
            iface = ipaddress.IPv4Interface(ip)
            param = dcp.IpParameter(iface.ip, iface.netmask, ipaddress.IPv4Address(0))
            blocks += dcp.encode_block(
                dcp.Option.IP, dcp.IpSub.PARAMETER, param.encode(), qualifier
            )
        answers = await self._dcp_call(device.mac, dcp.FRAME_ID_GET_SET, dcp.ServiceId.SET, blocks)
        if not answers:
            raise PlcError("no answer to DCP Set")
        errors = [
            b.value[2]
            for b in answers[0].blocks
            if b.key == (dcp.Option.CONTROL, dcp.ControlSub.RESPONSE)
        ]
        if any(errors):
            raise PlcError(f"DCP Set refused: block errors {errors}")
        self.say(f"plc: set {name or ''} {ip or ''}".rstrip())

    # ---- CM and cyclic

    async def connect(self, device: Found, *, writes: bool = True) -> None:
        object_uuid = uuid.UUID(
            f"dea00000-6c97-11d1-8271-0001{device.device_id:04x}{device.vendor_id:04x}"
        )
        cm = CmClient(device.ip, object_uuid)
        await cm.open()
        self._cm = cm
        expected = self.model.expected()
        iocrs = plan_iocrs(
            expected, INPUT_FRAME_ID, SEND_CLOCK_FACTOR, self.cycle_ms, self.data_hold_factor
        )
        ar = ar_block(self.mac)
        alarm_cr = AlarmCrBlockReq(PLC_ALARM_REFERENCE)
        started = time.monotonic()
        try:
            result = await cm.connect(ar, iocrs, alarm_cr, expected)
        except CmError as exc:
            raise PlcError(str(exc)) from None
        self.say(
            f"plc: connected output frame 0x{result.output_frame_id:04X}"
            + (" with module diff" if result.diff else "")
        )
        self._device_mac = result.device_mac
        in_layout = layout(iocrs[0], expected)
        out_cr = iocrs[1]
        out_layout = layout(
            type(out_cr)(**{**out_cr.__dict__, "frame_id": result.output_frame_id}), expected
        )
        self._out_layout = out_layout
        self._consumer = CyclicConsumer(in_layout, iocrs[0].hold_s, time.monotonic())
        self._alarm = alarm.RtaEndpoint(
            PLC_ALARM_REFERENCE, 1, False, alarm_cr.retransmit_s, alarm_cr.rta_retries
        )
        self._rebuild(time.monotonic())
        prefix = (
            self._device_mac + self.mac + struct.pack(">HHH", 0x8100, vlan_tci(6), ETH_P_PROFINET)
        )
        fid = out_layout.frame_id

        def frame_for(cycle: int) -> bytes:
            return prefix + encode_payload(fid, self._sdu, cycle, DS_GOOD)

        self._sender = CyclicSender(
            self._send_cyclic, frame_for, out_cr.cycle_s, out_cr.counter_step, name="plc-cyclic"
        )
        self._sender.start()
        if writes:
            im1 = block(0x0021, b"ccy-sim".ljust(32) + b"netns".ljust(22))
            im2 = block(0x0022, time.strftime("%Y-%m-%d %H:%M").encode())
            status = await cm.write([(0, 1, 0xAFF1, im1), (0, 1, 0xAFF2, im2)])
            if not status.ok:
                raise PlcError(f"WriteMultiple refused: {status}")
            self.say("plc: written I&M1 I&M2")
        status = await cm.prm_end()
        if not status.ok:
            raise PlcError(f"PrmEnd refused: {status}")
        self.say("plc: prm end")
        try:
            await asyncio.wait_for(cm.app_ready.wait(), APP_READY_TIMEOUT_S)
        except TimeoutError:
            raise PlcError("no ApplicationReady from the device") from None
        self.say("plc: application ready")
        self._tick = asyncio.create_task(self._ticker(started))

    def _send_cyclic(self, frame: bytes) -> None:
        self.sock.send(frame)
        self.stats.sent += 1

    async def _ticker(self, started: float) -> None:
        announced = False
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            if self.inputs_valid and self.inputs is not None:
                self.stage.command(self.inputs)
                if not announced:
                    announced = True
                    self.say(f"plc: data exchange after {(now - started) * 1000:.1f} ms")
            else:
                self.stage.off()
            self.stage.step(now)
            self._rebuild(now)
            if self._alarm is not None:
                self._alarm_out(self._alarm.tick(now))

    def _rebuild(self, now: float) -> None:
        lay = self._out_layout
        if lay is None:
            return
        outputs = self.stage.outputs(now).pack()
        data = {
            (o.slot, o.subslot): (
                outputs if (o.slot, o.subslot) == (IO_SLOT, IO_SUBSLOT) else b"",
                IOXS_GOOD,
            )
            for o in lay.data
        }
        iocs = {(s, ss): IOXS_GOOD for s, ss, _ in lay.iocs}
        self._sdu = bytes(build_c_sdu(lay, data, iocs))

    async def read_im0(self, implicit: bool = False) -> dict[str, object]:
        assert self._cm is not None
        status, data = await self._cm.read(0, 1, INDEX_IM0, implicit)
        if not status.ok:
            raise PlcError(f"I&M0 read refused: {status}")
        return decode_im0(data)

    # ---- alarms

    def _alarm_frame(self, payload: bytes) -> None:
        ep = self._alarm
        if ep is None:
            return
        try:
            _fid, pdu = alarm.decode_rta(payload)
        except alarm.AlarmError:
            return
        out = ep.receive(pdu, time.monotonic())
        self._alarm_out(out)
        if out.error is not None:
            self.say(f"plc: AR aborted by the device {out.error}")
        for item in out.received:
            if isinstance(item, alarm.Notification):
                kind = "appears" if item.alarm_type == alarm.ALARM_TYPE_DIAGNOSIS else "disappears"
                error_type = (
                    struct.unpack_from(">H", item.user_data, 6)[0]
                    if len(item.user_data) >= 8
                    else 0
                )
                text = f"{kind} 0x{error_type:04X}"
                self.stats.alarms.append(text)
                self.say(f"plc: alarm {text}")
                if self.on_alarm is not None:
                    self.on_alarm(item)
                ack = alarm.AlarmAck(
                    item.alarm_type, item.slot, item.subslot, item.specifier, PnioStatus()
                )
                self._alarm_out(ep.send(ack, time.monotonic()))

    def _alarm_out(self, out: alarm.Delivered) -> None:
        for payload in out.send:
            frame = build_frame(
                self._device_mac, self.mac, ETH_P_PROFINET, payload, vlan_tci=vlan_tci(5)
            )
            self.sock.send(frame)

    # ---- ending

    def vanish(self) -> None:
        """Stop every frame at once, without a word (a PLC losing power)."""
        if self._sender is not None:
            self._sender.stop()
        if self._tick is not None:
            self._tick.cancel()
        self._alarm = None
        self._consumer = None
        self.say(f"plc: vanished {time.monotonic():.6f}")

    async def release(self) -> None:
        if self._cm is not None:
            status = await self._cm.release()
            self.say(f"plc: released {status}")
        self.vanish()

    def close(self) -> None:
        self.vanish()
        if self._cm is not None:
            self._cm.close()
        self.sock.close()
