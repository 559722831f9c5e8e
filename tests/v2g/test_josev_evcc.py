# SPDX-License-Identifier: Apache-2.0
"""Josev's EVCC (PyPI ``iso15118``) and ``ccy-sim ev`` against ccy-v2g in the simulated
charger: full -20 DC sessions, without TLS and with TLS 1.3, over a veth pair between two
network namespaces, every answer from the real ccy-evse.

The whole stack (``ccy.testing.charger.ChargerRig``: private bus, MCU simulator, ccy-bsp,
ccy-evse, ccy-auth with its dummy provider, ccy-v2g, the power stage) runs in the charger's
namespace (``ccy.testing.netns``: ccy-v2g on ``ccy-secc42``), its ccy-v2g reconfigured for SDP
on UDP 15118 (Josev's fixed port) with the development PKI the stack writes. Each session
plugs in and sets CE C on the MCU simulator (what the cable and the vehicle do), and unplugs
after. Josev's EVCC runs in the vehicle's namespace with its own venv, its ``.env`` and config
(design/v2g.md "Josev as a peer"); for TLS its PKI folder gets our V2G root and our OEM chain
under Josev's file names. The test reads Josev's log and our units' logs and fails if either
side logged an error, or if the session did not reach SessionStop.

Needs root (namespaces) and Josev's venv (``.cache/josev-venv``, made by the setup hook
``.ci/setup.d/josev.sh``; ``CCY_JOSEV_VENV`` overrides the path).
"""

import asyncio
import ctypes
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ccy.pki.layout import CertsLayout
from ccy.testing import netns
from ccy.testing.charger import ChargerRig, EvseClient, charger_rig

TOP = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("CCY_JOSEV_VENV", TOP / ".cache/josev-venv"))
JOSEV_PY = VENV / "bin/python"
INDEX = 42
JOSEV_TIMEOUT_S = 45.0
CLONE_NEWNET = 0x40000000
UNITS = ("ccy-v2g", "ccy-evse", "ccy-bsp", "ccy-auth")
"""The units whose logs must show no error line."""

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(not netns.available(), reason="needs root and ip for network namespaces"),
]
needs_josev = pytest.mark.skipif(
    not JOSEV_PY.exists(), reason=f"Josev's venv missing at {VENV} (.ci/setup.d/josev.sh)"
)


@dataclass
class Charger:
    layout: netns.NetLayout
    rig: ChargerRig
    work: Path

    @property
    def root(self) -> Path:
        return self.rig.stack.layout.dir

    @property
    def certs(self) -> CertsLayout:
        return CertsLayout(self.root / "etc/ccy/certs")

    def offsets(self) -> dict[str, int]:
        return {unit: len(self.rig.log(unit)) for unit in UNITS}

    def lines(self, unit: str, offsets: dict[str, int]) -> list[str]:
        return self.rig.log(unit)[offsets[unit] :].splitlines()


@contextmanager
def _network_namespace(name: str) -> Iterator[None]:
    """This thread in namespace ``name`` (the processes it starts stay there), then back."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
        try:
            yield
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


@pytest.fixture(scope="module", params=["Scheduled", "Dynamic"], ids=lambda m: f"{m}-first")
def charger(request: pytest.FixtureRequest) -> Iterator[Charger]:
    """The stack, once per order of ServiceDetail's control modes: Josev's EVCC takes the first
    parameter set and follows its ControlMode, so each order is a session in that mode."""
    first = str(request.param)
    modes = [first, "Dynamic" if first == "Scheduled" else "Scheduled"]
    layout = netns.NetLayout(INDEX)
    with netns.charger_network(INDEX):
        with _network_namespace(layout.charger_ns):
            rig_context = charger_rig("ccy-josev-")
            rig = rig_context.__enter__()
        try:
            rig.reconfigure(
                "ccy-v2g",
                {
                    "v2g": {
                        "interface": layout.secc.interface,
                        "sdp_port": 15118,
                        "security": "tls-or-none",
                        "control_modes": modes,
                        # Josev's EVCC takes PnC whenever it is offered over TLS and then
                        # needs a contract certificate in its PKI folder: EIM only here.
                        "authorization_services": ["EIM"],
                    }
                },
            )
            work = rig.dir / "peers"
            work.mkdir()
            yield Charger(layout, rig, work)
        finally:
            rig_context.__exit__(None, None, None)


@contextmanager
def _plugged(charger: Charger) -> Iterator[None]:
    """Cable in and CE C (a ccy-evse session waiting for the vehicle), unplugged after."""
    rig = charger.rig

    async def plug() -> None:
        c = await EvseClient.connect(rig.stack.address())
        try:
            await c.until("WaitingFor", [])
            await c.until("SessionId", "")
            rig.mcu(cmd="plug")
            rig.mcu(cmd="set_ce", state="C")
            await c.until("SessionId", lambda v: v != "")
        finally:
            c.disconnect()

    async def unplug() -> None:
        rig.mcu(cmd="unplug")
        c = await EvseClient.connect(rig.stack.address())
        try:
            await c.until("SessionId", "")
        finally:
            c.disconnect()

    asyncio.run(plug())
    try:
        yield
    finally:
        asyncio.run(unplug())


def _errors(charger: Charger, offsets: dict[str, int]) -> list[str]:
    return [
        f"{unit}: {line}"
        for unit in UNITS
        for line in charger.lines(unit, offsets)
        if "[ERROR]" in line or "[CRIT]" in line or "Traceback" in line
    ]


EV_LAUNCHER = """\
# SPDX-License-Identifier: Apache-2.0
# Written by tests/v2g/test_josev_evcc.py: Josev's EVCC with its simulated EV controller, whose
# DC values are those of a 400 V battery, precharged as a vehicle does. Josev's own simulator
# asks 20 kV in precharge and 60 kV / 40 kA in the charge loop, which the real ccy-evse
# refuses (beyond the EVSE maximum).
import asyncio
import sys

from iso15118.evcc import Config, EVCCHandler
from iso15118.evcc.controller.simulator import SimEVController
from iso15118.evcc.evcc_config import load_from_file
from iso15118.shared.exificient_exi_codec import ExificientEXICodec
from iso15118.shared.messages.iso15118_20.common_types import RationalNumber


def r(value, exponent=0):
    return RationalNumber(exponent=exponent, value=value)


class Ev400V(SimEVController):
    async def get_present_voltage(self):
        return r(400)

    async def get_target_voltage(self):
        return r(400)

    async def is_precharged(self, present_voltage_evse):
        # as a vehicle does: close the contactors once the EVSE is within 10 V of the target
        # (Josev's simulator stops after 5 requests, before the power stage got there)
        return abs(present_voltage_evse.get_decimal_value() - 400) <= 10

    async def get_scheduled_dc_charge_loop_params(self):
        params = await super().get_scheduled_dc_charge_loop_params()
        return params.copy(update={"ev_target_current": r(100), "ev_target_voltage": r(420)})

    async def get_dynamic_dc_charge_loop_params(self):
        params = await super().get_dynamic_dc_charge_loop_params()
        update = {
            "ev_max_charge_power": r(150, 3),
            "ev_min_charge_power": r(0),
            "ev_max_charge_current": r(300),
            "ev_max_voltage": r(450),
            "ev_min_voltage": r(300),
        }
        return params.copy(update=update)


async def start():
    config = Config()
    config.load_envs()
    config.ev_config_file_path = sys.argv[1]
    evcc_config = await load_from_file(config.ev_config_file_path)
    handler = EVCCHandler(
        evcc_config=evcc_config,
        iface=config.iface,
        exi_codec=ExificientEXICodec(),
        ev_controller=Ev400V(evcc_config),
    )
    await handler.start()


asyncio.run(start())
"""


def _stop(proc: "subprocess.Popen[bytes]") -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _josev_dir(charger: Charger, use_tls: bool) -> Path:
    """Josev's working folder: .env, its EV config and, for TLS, its PKI folder."""
    d = charger.work / ("josev-tls" if use_tls else "josev-tcp")
    d.mkdir()
    pki = d / "pki"
    env = [
        f"NETWORK_INTERFACE={charger.layout.evcc.interface}",
        "LOG_LEVEL=INFO",
        f"ENABLE_TLS_1_3={'True' if use_tls else 'False'}",
        "MESSAGE_LOG_EXI=False",
        "MESSAGE_LOG_JSON=False",
        f"PKI_PATH={pki}/",
    ]
    (d / ".env").write_text("\n".join(env) + "\n")
    config = {
        "supportedProtocols": ["ISO_15118_20_DC"],
        "supportedEnergyServices": ["DC"],
        "useTls": use_tls,
        "enforceTls": use_tls,
        "chargeLoopCycle": 3,
        "isCertInstallNeeded": False,
    }
    (d / "cfg.json").write_text(json.dumps(config))
    (d / "ccy_evcc.py").write_text(EV_LAUNCHER)
    # Josev's file names (iso15118.shared.security.CertPath/KeyPath) for our development PKI
    certs, keys = pki / "iso15118_2/certs", pki / "iso15118_2/private_keys"
    certs.mkdir(parents=True)
    keys.mkdir(parents=True)
    store = charger.certs
    shutil.copy(store.v2g_root, certs / "v2gRootCACert.pem")
    shutil.copy(store.oem_chain, certs / "oemCertChain.pem")
    shutil.copy(store.oem_root, certs / "oemRootCACert.pem")
    shutil.copy(store.oem_key, keys / "oemLeaf.key")
    (keys / "oemLeafPassword.txt").write_text("")  # our development keys are unencrypted
    return d


def _run_josev(charger: Charger, folder: Path) -> str:
    """Run Josev's EVCC through its session. After a failure it stays up ("unplug and plug in
    the cable again"), and after SessionStopRes it waits 5 s before it closes, so it is stopped
    a second after its first ERROR line or after SessionStopRes, or at the timeout."""
    log = folder / "josev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            netns.exec_in(charger.layout.ev_ns, [str(JOSEV_PY), "ccy_evcc.py", "cfg.json"]),
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + JOSEV_TIMEOUT_S
    end_seen: float | None = None
    note = ""
    while proc.poll() is None:
        now = time.monotonic()
        text = log.read_text(errors="replace")
        if end_seen is None and ("\nERROR" in text or "SessionStopRes received" in text):
            end_seen = now
        if now > deadline or (end_seen is not None and now > end_seen + 1.0):
            note = "" if end_seen else f"\n(timed out after {JOSEV_TIMEOUT_S:g} s)"
            _stop(proc)
            break
        time.sleep(0.1)
    text = log.read_text(errors="replace") + note
    (charger.work / f"{folder.name}.log").write_text(text)
    return text


@needs_josev
@pytest.mark.parametrize("use_tls", [False, True], ids=["tcp", "tls13"])
def test_josev_evcc_completes_a_dc_session(charger: Charger, use_tls: bool) -> None:
    folder = _josev_dir(charger, use_tls)
    offsets = charger.offsets()
    with _plugged(charger):
        josev = _run_josev(charger, folder)
    ours = charger.lines("ccy-v2g", offsets)
    our_errors = _errors(charger, offsets)
    report = "\n--- Josev ---\n" + josev[-4000:] + "\n--- ccy-v2g ---\n" + "\n".join(ours[-60:])
    report += "\n--- errors ---\n" + "\n".join(our_errors)
    josev_errors = [
        line
        for line in josev.splitlines()
        if line.startswith(("ERROR", "CRITICAL")) or "Traceback" in line
    ]
    assert not josev_errors, report
    assert not our_errors, report
    assert "SessionStopRes received" in josev, report
    assert sum("DC_ChargeLoopRes received" in line for line in josev.splitlines()) >= 3, report
    assert any("Got SDP request from fe80::2%" in line for line in ours), report
    assert any("Incoming connection from [fe80::2%" in line for line in ours), report
    assert any("CAR ISO V2G SessionStopReq" in line for line in ours), report
    assert any("EVSE ISO V2G DcChargeLoopRes" in line for line in ours), report
    if use_tls:
        assert "Security: TLS ," in josev, report  # its SDPResponse line: TLS offered
    else:
        assert "Security: NO_TLS ," in josev, report


@pytest.mark.parametrize(("use_tls", "service"), [(False, "mcs"), (True, "dc")], ids=str)
def test_ccy_ev_simulator_completes_a_session(
    charger: Charger, use_tls: bool, service: str
) -> None:
    """``ccy-sim ev`` (our codec) in the vehicle's namespace, SDP by ff02::1, against the unit."""
    offsets = charger.offsets()
    argv = [sys.executable, "-m", "ccy.sim.ev.cli", "--sdp-port", "15118"]
    argv += ["--interface", charger.layout.evcc.interface, "--service", service]
    argv += ["--loops", "3", "--loop-interval-ms", "20"]
    if use_tls:
        argv += ["--tls", "--root-ca", str(charger.certs.v2g_root)]
    with _plugged(charger):
        done = subprocess.run(
            netns.exec_in(charger.layout.ev_ns, argv),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    ours = charger.lines("ccy-v2g", offsets)
    our_errors = _errors(charger, offsets)
    report = f"\n--- ccy-sim ev ---\n{done.stdout[-3000:]}{done.stderr}\n--- ccy-v2g ---\n"
    report += "\n".join(ours[-40:]) + "\n--- errors ---\n" + "\n".join(our_errors)
    assert done.returncode == 0, report
    assert "ccy-sim ev: completed" in done.stdout, report
    assert sum("CAR ISO V2G DcChargeLoopReq" in line for line in ours) == 3, report
    assert not our_errors, report
