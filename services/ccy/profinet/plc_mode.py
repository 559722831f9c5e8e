# SPDX-License-Identifier: Apache-2.0
"""profinet.mode plc: the device stack composed for the unit (ccy.profinet.main.ProfinetUnit).

One raw 0x8892 socket on the configured interface, shared through a FrameID dispatcher by DCP
(ccy.profinet.dcp, station name and IP with their permanent state in the unit's state folder)
and the IO device (ccy.profinet.rt.iodevice: RPC on UDP 34964, cyclic RT class 1 on its own
thread, data-hold watchdog, alarms); LLDP on its own socket. What the device reports goes to
the unit's handlers:

- the PLC's output data → ``unit.on_outputs`` (the power stage follows it; invalid data is a
  lost PLC);
- an AR that ended (Aborted, Released) → ``unit.on_data_lost`` *first* (the power stage is Off
  before anything else happens), then the AR state;
- DCP name/IP sets, Signal (→ Bsp1.Identify), resets, IP failures → the unit's handlers.

The IO device logs the seed's AR lines itself ("PLC connect indication. AREP: 1", "PLC dcontrol
message … PRM_END", "Application will signal that it is ready for data, for AREP 1").
"""

import asyncio
import contextlib
from collections import Counter
from typing import TYPE_CHECKING, Any

from ccy.profinet import diagnosis, io_layout
from ccy.profinet.contract import ArState
from ccy.profinet.dcp.codec import IpParameter
from ccy.profinet.dcp.driver import DcpCallbacks, DcpDriver, initial_state
from ccy.profinet.dcp.identity import IDENTITY
from ccy.profinet.dcp.responder import DcpResponder, IpSet, NameSet, ResetRequested
from ccy.profinet.dcp.store import DcpStore
from ccy.profinet.ethernet import (
    DCP_HELLO_MULTICAST,
    DCP_IDENTIFY_MULTICAST,
    ETH_P_LLDP,
    ETH_P_PROFINET,
    LLDP_MULTICAST,
    FrameIdDispatcher,
    RawSocket,
    mac_to_str,
)
from ccy.profinet.lldp import LldpAgent
from ccy.profinet.netif import NetIf, NetifError
from ccy.profinet.rpc.model import default_model
from ccy.profinet.rpc.records import im_from_identity
from ccy.profinet.rt.iodevice import IoDevice

if TYPE_CHECKING:
    from ccy.profinet.main import ProfinetUnit

AR_STATES = {
    "Idle": ArState.WAITING,
    "Connected": ArState.STARTUP,
    "PrmEnd": ArState.PRM_END,
    "DataExchange": ArState.DATA_EXCHANGE,
    "Aborted": ArState.WAITING,
    "Released": ArState.WAITING,
}
"""The IO device's AR states → Profinet1.ArState."""
ENDED = ("Aborted", "Released")
APPLIED_IP = "applied-ip"
"""The note of the address this unit applied, in /run/ccy/profinet (ccy.profinet.netif)."""


class PlcDevice:
    """The Profinet device of one unit (the unit's ``PlcLink``)."""

    def __init__(self, unit: "ProfinetUnit") -> None:
        self.unit = unit
        s = unit.settings
        self.log = unit.log
        self.sock = RawSocket(
            s.interface, ETH_P_PROFINET, multicast=(DCP_IDENTIFY_MULTICAST, DCP_HELLO_MULTICAST)
        )
        self.dispatcher = FrameIdDispatcher(self.sock, unit.log)
        self.store = DcpStore(unit.ctx.paths.state_dir(unit.ctx.name))
        self.netif = NetIf(s.interface, unit.log, unit.ctx.paths.run / "profinet" / APPLIED_IP)
        state = initial_state(self.store, s.station_name, IpParameter.none(), unit.log)
        self.responder = DcpResponder(self.sock.mac, state)
        self.dcp = DcpDriver(
            self.sock,
            self.responder,
            self.store,
            self.netif,
            unit.log,
            DcpCallbacks(
                on_name=self._on_name,
                on_ip=self._on_ip,
                on_signal=lambda _e: unit.identify(),
                on_reset=self._on_reset,
                on_ip_failed=self._on_ip_failed,
            ),
        )
        self.lldp = LldpAgent(
            RawSocket(s.interface, ETH_P_LLDP, multicast=(LLDP_MULTICAST,)),
            station_name=lambda: self.responder.state.station_name,
            ipv4=lambda: (
                self.responder.state.ip.address if self.responder.state.ip.is_set else None
            ),
            log=unit.log,
            on_peer=lambda p: self.dcp.set_alias(p.alias if p else None),
        )
        model = default_model(input_len=io_layout.INPUT_SIZE, output_len=io_layout.OUTPUT_SIZE)
        serial = self.sock.mac.hex().upper()
        self.device = IoDevice(
            self.sock,
            model,
            im_from_identity(IDENTITY, serial),
            self,
            unit.log,
            station_name=lambda: self.responder.state.station_name,
            host_ip=lambda: str(self.responder.state.ip.address),
        )
        self._tasks: list[asyncio.Task[Any]] = []
        self.counts: Counter[str] = Counter()
        """AR states seen (connects, aborts, releases) for CycleStatistics."""

    # ---------------------------------------------------------------- IoListener
    def on_ar_state(self, state: str, arep: int, reason: str) -> None:
        self.counts[state] += 1
        if state in ENDED:
            # Off first: the power stage leaves the PLC's control before anything is sent.
            self.unit.on_data_lost(f"{state.lower()}: {reason}" if reason else state.lower())
        changes: dict[str, Any] = {}
        if state in ENDED:
            changes = {"plc_address": "", "cycle_time_s": 0.0, "last_abort_reason": reason or state}
        elif state == "Connected":
            cycle_s = self.device.stats.cycle_time_s
            changes = {"cycle_time_s": cycle_s, "plc_address": reason.rsplit(" ", 1)[-1]}
            minimum_s = self.unit.settings.min_cycle_time_s
            if 0 < cycle_s < minimum_s - 1e-9:
                why = (
                    f"cycle {cycle_s * 1000:g} ms is faster than profinet.min_cycle_time_ms "
                    f"({minimum_s * 1000:g} ms)"
                )
                self.log.warning("PLC connect refused: %s", why)
                asyncio.get_running_loop().call_soon(self.device.abort, why)
        self.unit.on_ar_state(
            AR_STATES.get(state, ArState.WAITING), aborted=state == "Aborted", **changes
        )

    def on_output(self, data: bytes, valid: bool) -> None:
        self.unit.on_outputs(data, valid)

    # ---------------------------------------------------------------- DCP
    def _station(self) -> dict[str, str]:
        st = self.responder.state
        return {
            "station_name": st.station_name,
            "ip_address": str(st.ip.address),
            "netmask": str(st.ip.netmask),
            "gateway": str(st.ip.effective_gateway or "0.0.0.0"),
        }

    def _on_name(self, event: NameSet) -> None:
        self.unit.on_station(**self._station())
        self.lldp.send_now()

    def _on_ip(self, event: IpSet) -> None:
        self.unit.on_station(**self._station())
        self.unit.on_network_applied()
        self.lldp.send_now()

    def _on_reset(self, event: ResetRequested) -> None:
        self.unit.on_station(**self._station())

    def _on_ip_failed(self, ip: IpParameter, exc: NetifError) -> None:
        self.unit.on_network_failed(f"setting {ip.address}/{ip.prefix_len} failed: {exc}")

    # ---------------------------------------------------------------- PlcLink
    async def start(self) -> None:
        self.unit.on_station(mac_address=mac_to_str(self.sock.mac), **self._station())
        self._tasks.append(self.dcp.start(self.dispatcher))
        self.device.register(self.dispatcher)
        self.dispatcher.attach(asyncio.get_running_loop())
        await self.device.start()
        self._tasks.append(self.lldp.start())
        for task in self._tasks:
            self.unit.ctx.supervise(task, forever=True)
        st = self.responder.state
        if st.ip.is_set:
            await self.netif.apply(st.ip, True, st.station_name)
        elif (left := self.netif.applied_by_previous_run()) is not None:
            self.log.info("Removing %s, set temporarily before the restart", left)
            with contextlib.suppress(NetifError):  # logged by NetIf; a DCP Set may fix it
                await self.netif.apply(IpParameter.none(), True, st.station_name)

    async def stop(self) -> None:
        await self.device.stop()
        self.lldp.stop()
        self.dcp.stop()
        self.dispatcher.detach()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.sock.close()
        self.lldp.sock.close()

    def set_inputs(self, data: bytes) -> None:
        self.device.set_input_data(data, True)

    def alarm(self, change: diagnosis.AlarmChange) -> None:
        self.device.send_diagnosis(change.appears, change.error_type, text=change.line())

    def statistics(self) -> dict[str, int]:
        st = self.device.stats
        return {
            "frames_sent": st.frames_sent,
            "frames_received": st.frames_received,
            "frames_dropped": st.dropped_length + st.dropped_stale + st.dropped_frame_id,
            "late_cycles": st.skipped_cycles,
            "dht_expired": st.dht_expired,
            "alarms_sent": st.alarms_sent,
            "alarms_acked": st.alarms_acked,
            "connects": self.counts["Connected"],
            "aborts": self.counts["Aborted"],
            "releases": self.counts["Released"],
            "dcp_frames": self.dcp.stats["frames"],
        }

    def reset_station(self) -> None:
        """ResetStation: forget the permanent name and IP, back to the configured ones."""
        try:
            self.store.save_name(None)
            self.store.save_ip(None)
        except OSError as exc:
            from ccy.profinet.profinet_iface import Refusal

            raise Refusal("Failed", f"the station settings could not be removed: {exc}") from exc
        st = self.responder.state
        st.station_name, st.ip = self.unit.settings.station_name, IpParameter.none()
        self.unit.on_station(**self._station())
        loop = asyncio.get_running_loop()
        task = loop.create_task(self.netif.apply(st.ip, True, st.station_name), name="ip-reset")
        self._tasks.append(task)
