# SPDX-License-Identifier: Apache-2.0
"""A vehicle's session on the whole simulated charger (ccy-sim up: every unit, ccy-v2g
included) with the EV simulator (ccy.sim.ev) speaking ISO 15118-20 over TCP: ccy-evse writes
every V2gMessage ccy-v2g emits into the session's v2g.jsonl, ``ccyctl evse session show``
lists them, and the vehicle's EVCCID appears nowhere in the session's folder in clear."""

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.evse.session_log import find_folder, read_folder, sessions_dir
from ccy.runtime.paths import Paths
from ccy.sim.ev.evcc import EvOptions, run_ev
from ccy.sim.ev.messages import Vehicle
from ccy.testing.charger import ChargerRig, EvseClient, charger_rig
from ccy.v2g import contract as v2g

VEHICLE_WAIT_S = 120.0
"""Failure bound of the vehicle's whole session (no timing is asserted)."""


@pytest.fixture(scope="module")
def rig() -> Iterator[ChargerRig]:
    with charger_rig("ccy-evse-v2glog-") as r:
        yield r


def test_the_session_log_holds_the_vehicles_v2g_messages_and_no_clear_evccid(
    rig: ChargerRig,
) -> None:
    evccid = Vehicle().evccid

    async def run() -> tuple[str, str]:
        c = await EvseClient.connect(rig.stack.address())
        await c.until("WaitingFor", [], timeout_s=30.0)
        port = await c.get("SdpPort", dest=v2g.BUS_NAME, path=v2g.OBJECT_PATH, iface=v2g.IFACE)
        rig.mcu(cmd="plug")
        rig.mcu(cmd="set_ce", state="C")  # the vehicle's S2, as the demo plays it
        session = str(await c.until("SessionId", lambda v: v != ""))
        options = EvOptions(sdp_port=int(port), interface="lo", loops=3, loop_interval_s=0.05)
        result = await asyncio.wait_for(run_ev(options), VEHICLE_WAIT_S)
        rig.mcu(cmd="set_ce", state="B")
        rig.mcu(cmd="unplug")
        await c.until("SessionId", "")
        c.disconnect()
        return session, result.outcome

    session, outcome = asyncio.run(run())
    found = find_folder(sessions_dir(Paths.from_root(rig.stack.layout.dir)), session)
    assert found is not None, f"no session log of {session}"
    log = read_folder(found.path)
    names = [(m["dir"], m["name"]) for m in log.v2g]
    for expected in (
        ("rx", "SessionSetupReq"),
        ("tx", "SessionSetupRes"),
        ("rx", "DC_CableCheckReq"),
        ("rx", "DC_ChargeLoopReq"),
        ("tx", "DC_ChargeLoopRes"),
        ("rx", "SessionStopReq"),
        ("tx", "SessionStopRes"),
    ):
        assert expected in names, (expected, names, outcome)
    assert all(isinstance(m["body"], dict) for m in log.v2g), log.v2g[:3]
    assert any(m["exi"] for m in log.v2g)  # EXI hex where the message carries no identity
    setup = next(m for m in log.v2g if m["name"] == "SessionSetupReq")
    assert setup["exi"] is None and "[redacted] hash: " in str(setup["body"]), setup
    # The EVCCID in clear nowhere in the folder: not in the JSON, not as ASCII hex.
    clear = (evccid, evccid.encode().hex(), evccid.encode().hex().upper())
    for path in found.path.iterdir():
        text = path.read_text(errors="replace")
        assert not any(c in text for c in clear), path
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ccyctl")), "evse", "session", "show", session],
        env={**rig.env(), "CCY_ROOT": str(rig.stack.layout.dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert f"V2G messages: {len(log.v2g)}" in done.stdout
    assert "EV → DC_ChargeLoopReq" in done.stdout and "EV ← SessionSetupRes" in done.stdout
    assert evccid not in done.stdout
