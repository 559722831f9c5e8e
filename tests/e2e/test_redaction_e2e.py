# SPDX-License-Identifier: Apache-2.0
"""Redaction end to end (issue 15): a vehicle's whole session on the simulated charger, over
TLS 1.3 with the dummy token authorizing it, while the real dbus-monitor captures every
message on the stack's bus. Afterwards neither the capture nor any file the units wrote (the
journal lines, the session logs, the databases) holds the vehicle's EVCCID or the token in
clear: only ``[redacted] hash: <15 hex>``. The configuration (etc/ccy), which holds the dummy
token's id by design, is the one place left out."""

import asyncio
import subprocess
import time
from collections.abc import Iterator

import pytest
import yaml

from ccy.pki.layout import CertsLayout
from ccy.runtime.paths import manifests_dir
from ccy.sim.ev.evcc import EvOptions, run_ev
from ccy.sim.ev.messages import Vehicle
from ccy.testing.charger import ChargerRig, EvseClient, charger_rig
from ccy.v2g import contract as v2g
from ccy.v2g.tls import client_context

VEHICLE_WAIT_S = 120.0
"""Failure bound of the vehicle's whole session (no timing is asserted)."""
REDACTED = "[redacted] hash: "


@pytest.fixture(scope="module")
def rig() -> Iterator[ChargerRig]:
    with charger_rig("ccy-redaction-") as r:
        yield r


def clear_forms(value: str) -> tuple[bytes, ...]:
    """The value as text and as ASCII hex, either case."""
    raw = value.encode()
    return (raw, raw.hex().encode(), raw.hex().upper().encode())


def test_no_clear_evccid_or_token_on_the_bus_or_in_any_file(rig: ChargerRig) -> None:
    evccid = Vehicle().evccid
    auth_keys = yaml.safe_load((manifests_dir() / "auth.yaml").read_text())["keys"]
    token = str(auth_keys["dummy_token_id"]["default"])  # the simulator profile keeps it
    certs = CertsLayout(rig.stack.layout.dir / "etc/ccy/certs")
    capture = rig.dir / "bus-capture.txt"
    with capture.open("wb") as out:
        monitor = subprocess.Popen(
            ["dbus-monitor", "--address", rig.stack.address()], stdout=out, stderr=out
        )
    try:
        time.sleep(0.5)  # dbus-monitor has become a monitor

        async def session() -> str:
            c = await EvseClient.connect(rig.stack.address())
            await c.until("WaitingFor", [], timeout_s=30.0)
            port = await c.get("SdpPort", dest=v2g.BUS_NAME, path=v2g.OBJECT_PATH, iface=v2g.IFACE)
            rig.mcu(cmd="plug")
            rig.mcu(cmd="set_ce", state="C")
            await c.until("Authorized", True)  # ccy-auth's dummy token, as in the seed
            options = EvOptions(
                sdp_port=int(port),
                interface="lo",
                loops=3,
                loop_interval_s=0.05,
                tls=client_context(certs.v2g_root),
            )
            result = await asyncio.wait_for(run_ev(options), VEHICLE_WAIT_S)
            rig.mcu(cmd="set_ce", state="B")
            rig.mcu(cmd="unplug")
            await c.until("SessionId", "")
            c.disconnect()
            return result.outcome

        outcome = asyncio.run(session())
        time.sleep(0.5)  # let dbus-monitor write what it has
    finally:
        monitor.terminate()
        monitor.wait(10)
    text = capture.read_bytes()
    assert b"V2gMessage" in text and b"TransactionStarted" in text, "the monitor saw the bus"
    assert REDACTED.encode() in text, outcome
    secrets = (*clear_forms(evccid), *clear_forms(token))
    assert not [s for s in secrets if s in text], "clear identity on the bus"
    root = rig.stack.layout.dir
    written = [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.is_relative_to(root / "etc") and p.suffix != ".sock"
    ]
    assert any(p.suffix == ".jsonl" for p in written), "the session log was written"
    assert any(p.name.endswith(".db") or p.suffix == ".sqlite" for p in written), written
    leaks = [str(p) for p in written for s in secrets if s in p.read_bytes()]
    assert not leaks, leaks
