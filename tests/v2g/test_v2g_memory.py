# SPDX-License-Identifier: Apache-2.0
"""ccy-v2g keeps nothing per vehicle session in its TLS server context.

The soak (benchmarks/soak.py, 1,000 sessions over TLS) showed ccy-v2g's RSS growing by
~0.33 MiB per 100 sessions with flat Python structures (gc objects, allocated blocks): the
growth was OpenSSL's server session cache. ``OP_NO_TICKET`` makes TLS 1.3 tickets stateful,
so every handshake stored ``num_tickets`` (2) sessions in the context's cache (20,480
entries, 2 h lifetime). The server context now issues no tickets: the cache stays empty.
Real handshakes: the EV simulator against ``V2gServer`` on ::1, as in test_server_session.
"""

import asyncio

import pytest
from secc_support import EvsePeer

from ccy.pki.layout import CertsLayout
from ccy.pki.v2g_dev import make_v2g_dev_pki
from ccy.sim.ev.evcc import EvOptions, run_ev
from ccy.v2g import cert_store, sdp, tls
from ccy.v2g.server import ServerConfig, SessionGate, TransportCounters, V2gServer
from ccy.v2g.session import SessionManager, SessionSettings

SESSIONS = 4


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CertsLayout:
    directory = tmp_path_factory.mktemp("pki") / "certs"
    make_v2g_dev_pki(directory)
    return CertsLayout(directory)


async def _sessions(store: CertsLayout, *, mutual: bool) -> dict[str, int]:
    """SESSIONS complete EV sessions over TLS; the server context's session statistics."""
    counters = TransportCounters()
    manager = SessionManager(SessionSettings(), EvsePeer())
    ctx = tls.server_context(
        cert_store.find_valid_leaf(store), client_ca_file=store.oem_root if mutual else None
    )
    server = V2gServer(
        ServerConfig(host="::1", tls=ctx),
        manager.handler_factory,
        counters=counters,
        gate=SessionGate(),
    )
    await server.start()
    responder = sdp.SdpResponder(
        sdp.SdpConfig("lo", udp_port=0, tcp_port=None, tls_port=server.port), counters=counters
    )
    await responder.start()
    client = tls.client_context(
        store.v2g_root,
        chain_file=store.oem_chain if mutual else None,
        key_file=store.oem_key if mutual else None,
    )
    try:
        for _ in range(SESSIONS):
            options = EvOptions(sdp_port=responder.port, tls=client, loops=2, loop_interval_s=0.0)
            result = await run_ev(options)
            assert result.outcome == "completed"
    finally:
        await responder.close()
        await server.close()
    assert counters.tls_handshakes == SESSIONS
    return ctx.session_stats()


@pytest.mark.parametrize("mutual", [False, True], ids=["server-auth", "mutual"])
def test_tls_sessions_leave_nothing_in_the_server_session_cache(
    store: CertsLayout, mutual: bool
) -> None:
    stats = asyncio.run(_sessions(store, mutual=mutual))
    assert stats["accept_good"] == SESSIONS
    assert stats["number"] == 0  # the old context: 2 cached sessions per handshake


def test_server_context_issues_no_session_tickets(store: CertsLayout) -> None:
    ctx = tls.server_context(cert_store.find_valid_leaf(store))
    assert ctx.num_tickets == 0
