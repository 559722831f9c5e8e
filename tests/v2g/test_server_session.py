# SPDX-License-Identifier: Apache-2.0
"""The EV simulator against the transport and the -20 session on real sockets (TCP and TLS 1.3).

The SECC here is ccy's transport (SDP responder + V2gServer) with ccy's SessionManager as the
connection handler; ccy-evse's side is the scripted test peer of the session tests
(``secc_support.EvsePeer``). The vehicle is ``ccy.sim.ev`` speaking our codec. The unit itself
(bus, config) is exercised by the Josev test and ccy-v2g's own bus tests.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from secc_support import EvsePeer

from ccy.pki.layout import CertsLayout
from ccy.pki.v2g_dev import make_v2g_dev_pki
from ccy.sim.ev.evcc import EvOptions, Fault, run_ev
from ccy.sim.ev.messages import ControlMode
from ccy.v2g import cert_store, sdp, tls
from ccy.v2g.server import ServerConfig, SessionGate, TransportCounters, V2gServer
from ccy.v2g.session import SessionManager, SessionSettings


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CertsLayout:
    directory = tmp_path_factory.mktemp("pki") / "certs"
    make_v2g_dev_pki(directory)
    return CertsLayout(directory)


class Secc:
    def __init__(self, counters: TransportCounters, evse: EvsePeer, sdp_port: int) -> None:
        self.counters = counters
        self.evse = evse
        self.sdp_port = sdp_port


@asynccontextmanager
async def secc(
    store: CertsLayout, *, mutual: bool = False, idle_timeout_s: float = 5.0
) -> AsyncIterator[Secc]:
    counters, gate, evse = TransportCounters(), SessionGate(), EvsePeer()
    manager = SessionManager(SessionSettings(), evse)
    ctx = tls.server_context(
        cert_store.find_valid_leaf(store), client_ca_file=store.oem_root if mutual else None
    )
    servers = [
        V2gServer(
            ServerConfig(host="::1", tls=c, idle_timeout_s=idle_timeout_s),
            manager.handler_factory,
            counters=counters,
            gate=gate,
        )
        for c in (None, ctx)
    ]
    for s in servers:
        await s.start()
    responder = sdp.SdpResponder(
        sdp.SdpConfig("lo", udp_port=0, tcp_port=servers[0].port, tls_port=servers[1].port),
        counters=counters,
    )
    await responder.start()
    try:
        yield Secc(counters, evse, responder.port)
    finally:
        await responder.close()
        for s in servers:
            await s.close()


def _options(store: CertsLayout, sdp_port: int, *, tls_on: bool, **kw: object) -> EvOptions:
    ctx = None
    if tls_on:
        vehicle = kw.pop("vehicle_cert", False)
        ctx = tls.client_context(
            store.v2g_root,
            chain_file=store.oem_chain if vehicle else None,
            key_file=store.oem_key if vehicle else None,
        )
    base: dict[str, object] = {"loop_interval_s": 0.01, "retry_interval_s": 0.01}
    return EvOptions(sdp_port=sdp_port, tls=ctx, **(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("service", "mode", "tls_on"),
    [
        ("mcs", ControlMode.DYNAMIC, True),
        ("mcs", ControlMode.SCHEDULED, False),
        ("dc", ControlMode.DYNAMIC, False),
        ("dc", ControlMode.SCHEDULED, True),
    ],
)
def test_ev_simulator_completes_a_session(
    store: CertsLayout,
    service: str,
    mode: ControlMode,
    tls_on: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        async with secc(store) as s:
            opts = _options(store, s.sdp_port, tls_on=tls_on, service=service, control_mode=mode)
            result = await run_ev(opts)
            assert result.outcome == "completed"
            assert result.requests["DC_ChargeLoopReq"] == 3
            assert s.evse.names().count("ChargeLoop") == 3
            assert s.counters.tls_handshakes == (1 if tls_on else 0)
            assert s.counters.sdp_requests == 1

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    text = "\n".join(caplog.messages)
    assert "Got SDP request from ::1" in text
    assert "Incoming connection from [::1]:" in text
    car = [m for m in caplog.messages if "CAR ISO V2G" in m]
    assert car[0].endswith("CAR ISO V2G SupportedAppProtocolReq")
    assert car[-1].endswith("CAR ISO V2G SessionStopReq")


def test_pause_and_resume_with_vehicle_certificate(store: CertsLayout) -> None:
    async def main() -> None:
        async with secc(store, mutual=True) as s:
            opts = _options(store, s.sdp_port, tls_on=True, vehicle_cert=True, pause=True)
            result = await run_ev(opts)
            assert result.outcome == "completed" and result.resumed
            assert result.requests["SessionSetupReq"] == 2
            assert result.requests["DC_ChargeLoopReq"] == 6
            assert s.counters.connections == 2

    asyncio.run(main())


def test_out_of_sequence_request_ends_the_session(store: CertsLayout) -> None:
    async def main() -> None:
        async with secc(store) as s:
            opts = _options(store, s.sdp_port, tls_on=False, fault=Fault("out-of-sequence"))
            result = await run_ev(opts)
            assert result.outcome.startswith("fault answered: DC_ChargeLoopReq: FAILED_Sequence")
            assert result.outcome.endswith("connection closed by the SECC")
            # the next session works
            assert (await run_ev(_options(store, s.sdp_port, tls_on=False))).outcome == "completed"

    asyncio.run(main())


def test_silent_vehicle_is_cut_and_next_session_works(store: CertsLayout) -> None:
    async def main() -> None:
        async with secc(store, idle_timeout_s=0.5) as s:
            opts = _options(store, s.sdp_port, tls_on=False, fault=Fault("silence-after", 4))
            result = await run_ev(opts)
            assert result.outcome.startswith("SECC closed the silent connection after")
            assert s.counters.idle_timeouts == 1
            assert (await run_ev(_options(store, s.sdp_port, tls_on=False))).outcome == "completed"

    asyncio.run(main())


def test_dropped_tls_connection_then_next_session_works(store: CertsLayout) -> None:
    async def main() -> None:
        async with secc(store) as s:
            opts = _options(store, s.sdp_port, tls_on=True, fault=Fault("drop-tls"))
            assert (await run_ev(opts)).outcome == "dropped the connection"
            await asyncio.sleep(0.1)
            assert (await run_ev(_options(store, s.sdp_port, tls_on=True))).outcome == "completed"
            assert s.counters.tls_handshakes == 2

    asyncio.run(main())
