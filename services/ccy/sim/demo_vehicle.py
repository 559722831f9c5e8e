# SPDX-License-Identifier: Apache-2.0
"""The demo's vehicle: the EV simulator (ccy.sim.ev) plus the vehicle's wiring.

A real vehicle does two things the EV simulator's ISO 15118-20 client does not: it closes
its S2 switch (CE B → C, "HV ready") before the first DC_CableCheckReq, and opens it again
(C → B) after PowerDelivery(Stop). :class:`DemoVehicle` runs the simulator's session
unchanged and calls :data:`Wiring` around each request so the demo plays those steps on
the MCU simulator, as in the seed ("CP state change from B to C" between ScheduleExchange and
CableCheck; "from C to B" after PowerDelivery). It also notes what the demo reports: the TLS
version and cipher of the connection and the round-trip time of every DC_ChargeLoopReq.
"""

import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from ccy.pki.layout import CertsLayout
from ccy.sim.ev.evcc import Evcc, EvOptions
from ccy.sim.ev.messages import ControlMode, Json, Vehicle
from ccy.v2g import tls as tls_mod

Wiring = Callable[[str, Json], Awaitable[None]]
"""``wiring(when, message)``: ``when`` is ``"before"`` a request goes out or ``"after"`` its
response came (``message`` is the request as sent)."""

SEED_VEHICLE = Vehicle(
    evccid="CB-F0-CHARGEMODULE-0-2",
    max_voltage_V=1000.0,
    max_current_A=3000.0,
    max_power_W=3_000_000.0,
    battery_voltage_V=800.0,
)
"""The seed's vehicle: its EVCCID and the limits it reports (1000 V, 3000 A, 3 MW)."""

MANY_LOOPS = 10_000
"""The vehicle charges until the charger tells it to stop (the demo's fault does)."""


def demo_options(root: Path, sdp_port: int, loop_interval_s: float = 0.1) -> EvOptions:
    """SDP on loopback to the stack's ccy-v2g, TLS 1.3 trusting the stack's V2G root, the MCS
    service in Dynamic mode, charge loops until the charger stops them."""
    store = CertsLayout(root / "etc" / "ccy" / "certs")
    return EvOptions(
        sdp_port=sdp_port,
        interface="lo",
        tls=tls_mod.client_context(store.v2g_root),
        service="mcs",
        control_mode=ControlMode.DYNAMIC,
        loops=MANY_LOOPS,
        loop_interval_s=loop_interval_s,
        vehicle=SEED_VEHICLE,
    )


class DemoVehicle(Evcc):
    def __init__(self, options: EvOptions, log: logging.Logger, wiring: Wiring) -> None:
        super().__init__(options, log)
        self.wiring = wiring
        self.tls_version = ""
        self.tls_cipher = ""
        self.loop_ms: list[float] = []
        """Request → response of each DC_ChargeLoopReq, as the vehicle measured it."""

    async def _connect(self) -> None:
        await super()._connect()
        link = self._link
        ssl_object = link.writer.get_extra_info("ssl_object") if link is not None else None
        if isinstance(ssl_object, ssl.SSLObject):
            self.tls_version = ssl_object.version() or ""
            cipher = ssl_object.cipher()
            self.tls_cipher = cipher[0] if cipher else ""
        else:
            self.tls_version = "none"

    async def _exchange(self, doc: Json, timeout_s: float | None = None) -> Json:
        ((name, _),) = doc.items()
        await self.wiring("before", doc)
        started = time.perf_counter()
        body = await super()._exchange(doc, timeout_s)
        if name == "DC_ChargeLoopReq":
            self.loop_ms.append((time.perf_counter() - started) * 1000.0)
        await self.wiring("after", doc)
        return body
