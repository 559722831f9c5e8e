# SPDX-License-Identifier: Apache-2.0
"""ccy-v2g on a private bus with an Evse1 peer, driven over real sockets.

A real dbus-daemon with ccy's policy files plus the sandbox grant for the invoking user; the
stand-in Evse1 server (tests/bus/v2g_evse_peer.py: the XML exactly, as a test peer) until
ccy-evse runs; ccy-v2g as a real process (READY=1 on $NOTIFY_SOCKET) with the development
PKI in its root; a small EVCC (v2g_tcp_ev.py) doing SDP on UDP and the seed's MCS session over
TCP and over TLS 1.3. Checked: the running introspection equals dbus/org.ccy.V2g1.xml, the
session completes with exactly one Evse1.ChargeLoop per DC_ChargeLoopReq, the journal lines
of the seed, the V2gMessage signal with the EVCCID redacted, EVSE notifications from the
peer, sequence errors and hostile V2GTP closing the connection while the next session works,
and one session at a time.
"""

import asyncio
import getpass
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from v2g_tcp_ev import EVCCID, TcpEv, discover

from ccy.evse import contract as evse
from ccy.pki.layout import CertsLayout
from ccy.pki.v2g_dev import make_v2g_dev_pki
from ccy.testing.bus_daemon import PrivateBus, user_policy
from ccy.testing.charger import ChargerRig, charger_rig
from ccy.testing.folders import traversable_tmp
from ccy.testing.introspection import differences, interfaces
from ccy.v2g import sdp, tls, v2gtp
from ccy.v2g.contract import BUS_NAME, IFACE, OBJECT_PATH
from ccy.v2g.exi import Namespace

TOP = Path(__file__).resolve().parents[2]
READY_WAIT_S = 30.0
V2G = (sys.executable, "-m", "ccy.v2g.main")
PROPERTIES = "org.freedesktop.DBus.Properties"
CONFIG = """\
v2g:
  interface: lo
  sdp_port: 0
  security: tls-or-none
  mutual_tls: true
  evse_call_timeout_ms: 2000
"""


@dataclass
class Stack:
    bus: PrivateBus
    root: Path
    unit: "subprocess.Popen[bytes]"
    unit_log: Path
    calls: Path

    @property
    def address(self) -> str:
        return self.bus.address

    def calls_of(self, member: str) -> list[str]:
        return [line for line in self.calls.read_text().splitlines() if line.split()[0] == member]


def _wait_ready(sock: socket.socket, proc: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + READY_WAIT_S
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ccy-v2g exited {proc.returncode}: {log.read_text()}")
        try:
            if b"READY=1" in sock.recv(4096).split(b"\n"):
                return
        except TimeoutError:
            continue
    pytest.fail(f"no READY=1 within {READY_WAIT_S} s: {log.read_text()}")


def _stop(proc: "subprocess.Popen[Any]") -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from run_stack()


def run_stack() -> Iterator[Stack]:
    """The private bus, the Evse1 peer and ccy-v2g (also usable outside pytest)."""
    directory = traversable_tmp("ccy-v2g-bus-")
    bus = PrivateBus(directory / "bus", [TOP / "dbus" / "policy"], user_policy(getpass.getuser()))
    bus.start()
    root = directory / "root"
    (root / "etc/ccy").mkdir(parents=True)
    (root / "etc/ccy/config.yaml").write_text(CONFIG)
    make_v2g_dev_pki(root / "etc/ccy/certs")
    calls = directory / "evse-calls.txt"
    calls.write_text("")
    peer = subprocess.Popen(
        [sys.executable, str(TOP / "tests/bus/v2g_evse_peer.py"), "--calls", str(calls)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=bus.environ(),
    )
    unit_log = directory / "ccy-v2g.log"
    notify_path = directory / "notify"
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == b"READY"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify_path))
            env = {**bus.environ(), "NOTIFY_SOCKET": str(notify_path)}
            with unit_log.open("wb") as err:
                unit = subprocess.Popen(
                    [sys.executable, "-m", "ccy.v2g.main", "--root", str(root)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=env,
                )
            _wait_ready(sock, unit, unit_log)
        notify_path.unlink()  # nobody reads STATUS= after READY: later sends fail fast
        try:
            yield Stack(bus, root, unit, unit_log, calls)
        finally:
            _stop(unit)
    finally:
        _stop(peer)
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)


# ------------------------------------------------------------------ bus client
class Watcher:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.messages: list[list[Any]] = []

    def on_message(self, msg: Message) -> None:
        if (
            msg.message_type is MessageType.SIGNAL
            and msg.path == OBJECT_PATH
            and msg.member == "V2gMessage"
        ):
            self.messages.append(list(msg.body))

    async def get(
        self, prop: str, iface: str = IFACE, dest: str = BUS_NAME, path: str = OBJECT_PATH
    ) -> Any:
        reply = await self.bus.call(
            Message(
                destination=dest,
                path=path,
                interface=PROPERTIES,
                member="Get",
                signature="ss",
                body=[iface, prop],
            )
        )
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
        return reply.body[0].value

    async def call(self, dest: str, path: str, iface: str, member: str) -> None:
        reply = await self.bus.call(
            Message(destination=dest, path=path, interface=iface, member=member)
        )
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply


async def _watch(address: str) -> Watcher:
    b = await MessageBus(bus_address=address).connect()
    w = Watcher(b)
    b.add_message_handler(w.on_message)
    await w.bus.call(
        Message(
            destination="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member="AddMatch",
            signature="s",
            body=[f"type='signal',sender='{BUS_NAME}',path='{OBJECT_PATH}'"],
        )
    )
    return w


async def _introspect(w: Watcher, dest: str, path: str) -> str:
    reply = await w.bus.call(
        Message(
            destination=dest,
            path=path,
            interface="org.freedesktop.DBus.Introspectable",
            member="Introspect",
        )
    )
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN
    return str(reply.body[0])


async def _until(cond: Any, what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await cond():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"not within {timeout_s} s: {what}")


# ------------------------------------------------------------------ tests
def test_introspection_equals_the_xml(stack: Stack) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        live = interfaces(await _introspect(w, BUS_NAME, OBJECT_PATH))
        for name in (IFACE, "org.ccy.Errors1"):
            contract = interfaces((TOP / "dbus" / f"{name}.xml").read_text())[name]
            assert differences(live[name], contract) == [], name
        peer = interfaces(await _introspect(w, evse.BUS_NAME, evse.OBJECT_PATH))
        contract = interfaces((TOP / "dbus/org.ccy.Evse1.xml").read_text())[evse.IFACE]
        assert differences(peer[evse.IFACE], contract) == []  # the stand-in is faithful
        w.bus.disconnect()

    asyncio.run(go())


def test_seed_session_over_tcp_one_charge_loop_call_each(stack: Stack) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        assert await w.get("WaitingFor") == []
        tcp_port = await w.get("TcpPort")
        found = discover(await w.get("SdpPort"), sdp.Security.NONE)
        assert (found.port, found.security) == (tcp_port, sdp.Security.NONE)
        before = len(stack.calls_of("ChargeLoop"))
        ev = await TcpEv.connect(found.port)
        await ev.setup()
        assert await w.get("SecurityMode") == "None"
        assert list(await w.get("SelectedService")) == [8, 1]
        assert (await w.get("SelectedParameters"))["ControlMode"] == 2
        evccid = await w.get("EVCCID")
        assert evccid.startswith("[redacted] hash: ") and EVCCID not in evccid
        await ev.prepare()
        for soc in range(10, 60, 10):
            answer = await ev.charge_loop(amps=400, soc=soc)
            assert answer.body["EVSEPresentCurrent"]["Value"] != 0
        assert len(stack.calls_of("ChargeLoop")) - before == 5
        assert (await w.get("EvTargets"))["SOC"] == 50
        assert (await w.get("EvLimits"))["max_current"] == 3000
        assert (await ev.finish()).code == "OK"
        await ev.close()
        await _until(
            lambda: _eq(w.get("SessionState"), "Idle"), "SessionState Idle after the session"
        )
        assert stack.calls_of("SessionStop")[-1] == "SessionStop Terminate"
        names = [m[1] for m in w.messages]
        assert names[:2] == ["supportedAppProtocolReq", "supportedAppProtocolRes"]
        setup = next(m for m in w.messages if m[1] == "SessionSetupReq")
        assert EVCCID not in setup[2] and "[redacted] hash: " in setup[2] and setup[3] == ""
        loop = next(m for m in w.messages if m[1] == "DC_ChargeLoopReq")
        sent = next(p for n, p in ev.sent if n == "DC_ChargeLoopReq")
        assert loop[3] == sent.hex().upper() and loop[0] == "Request"
        counters = await w.get("MessageCounters")
        assert counters["DC_ChargeLoopReq"] >= 5 and counters["transport_connections"] >= 1
        w.bus.disconnect()

    asyncio.run(go())
    text = stack.unit_log.read_text()
    assert " " * 36 + "CAR ISO V2G SessionSetupReq" in text
    assert "EVSE ISO V2G DcChargeLoopRes" in text
    assert (
        "Selected MCS service parameters: control mode: Dynamic, "
        "mobility needs mode: ProvidedByEvcc" in text
    )
    assert "Incoming connection from [::1]" in text
    assert EVCCID not in text


async def _eq(coro: Any, value: Any) -> bool:
    return bool(await coro == value)


def _vehicle_tls(stack: Stack) -> ssl.SSLContext:
    """The vehicle's TLS 1.3 context: trusts the V2G root, presents its OEM chain."""
    layout = CertsLayout(stack.root / "etc/ccy/certs")
    return tls.client_context(layout.v2g_root, chain_file=layout.oem_chain, key_file=layout.oem_key)


def test_session_over_tls_13(stack: Stack) -> None:
    context = _vehicle_tls(stack)

    async def go() -> None:
        w = await _watch(stack.address)
        tls_port = await w.get("TlsPort")
        assert tls_port != 0
        leaf_file, not_after = await w.get("Leaf")
        assert leaf_file.endswith("client/cso/CPO_CERT_CHAIN.pem") and not_after > time.time()
        found = discover(await w.get("SdpPort"), sdp.Security.TLS)
        assert (found.port, found.security) == (tls_port, sdp.Security.TLS)
        ev = await TcpEv.connect(tls_port, context)
        ssl_object = ev.writer.get_extra_info("ssl_object")
        assert ssl_object.version() == "TLSv1.3"
        assert ssl_object.cipher()[0] in tls.SUITES
        await ev.setup()
        assert await w.get("SecurityMode") == "TLS"
        await ev.prepare()
        await ev.charge_loop()
        assert (await ev.finish()).code == "OK"
        await ev.close()
        w.bus.disconnect()

    asyncio.run(go())
    assert 'Found valid leaf: ["' in stack.unit_log.read_text()


def test_pause_and_terminate_from_ccy_evse_reach_the_vehicle(stack: Stack) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        ev = await TcpEv.connect(await w.get("TcpPort"))
        await ev.setup()
        await ev.prepare()
        assert "EVSEStatus" not in (await ev.charge_loop()).body
        await w.call(evse.BUS_NAME, evse.OBJECT_PATH, evse.IFACE, "Pause")
        paused = await ev.charge_loop()
        assert paused.body["EVSEStatus"]["EVSENotification"] == "Pause"
        assert paused.body["EVSEPresentCurrent"]["Value"] == 0
        await w.bus.call(
            Message(
                destination=evse.BUS_NAME,
                path=evse.OBJECT_PATH,
                interface=evse.IFACE,
                member="StopTransaction",
                signature="s",
                body=["Local"],
            )
        )
        stop = await ev.charge_loop()
        assert stop.body["EVSEStatus"]["EVSENotification"] == "Terminate"
        assert (await ev.finish()).code == "OK"
        await ev.close()
        w.bus.disconnect()

    asyncio.run(go())


def test_out_of_sequence_fails_closes_and_the_next_session_works(stack: Stack) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        port = await w.get("TcpPort")
        ev = await TcpEv.connect(port)
        await ev.setup()
        answer = await ev.send(Namespace.DC, "DC_CableCheckReq", {})
        assert answer is not None and answer.code == "FAILED_SequenceError"
        assert await ev.raw(b"") is None  # closed after the answer
        await ev.close()
        await _until(lambda: _eq(w.get("SessionState"), "Idle"), "Idle after the failure")
        assert "out of sequence" in await w.get("LastError")
        again = await TcpEv.connect(port)
        await again.setup()
        await again.prepare()
        await again.charge_loop()
        assert (await again.finish()).code == "OK"
        await again.close()
        w.bus.disconnect()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("frame", "counter"),
    [
        (b"\x02\xfd\x80\x01\x00\x00\x00\x00", "transport_wrong_version"),
        (b"\x01\xfd\x80\x01\x00\x00\x00\x00", "transport_wrong_inverse"),
        (b"\x01\xfe\x80\x01\x00\x10\x00\x00", "transport_too_long"),
        (b"\x01\xfe\x12\x34\x00\x00\x00\x01\x00", "transport_unknown_payload_type"),
    ],
)
def test_hostile_v2gtp_is_closed_and_counted(stack: Stack, frame: bytes, counter: str) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        port = await w.get("TcpPort")
        before = (await w.get("MessageCounters")).get(counter, 0)
        ev = await TcpEv.connect(port)
        assert await ev.raw(frame) is None
        await ev.close()
        await _until(lambda: _more(w.get("MessageCounters"), counter, before), f"{counter} counted")
        good = await TcpEv.connect(port)
        await good.setup()
        await good.close()
        w.bus.disconnect()

    asyncio.run(go())


async def _more(coro: Any, key: str, before: int) -> bool:
    return bool((await coro).get(key, 0) > before)


def test_hostile_exi_in_valid_v2gtp_is_closed(stack: Stack) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        ev = await TcpEv.connect(await w.get("TcpPort"))
        assert await ev.raw(v2gtp.encode(0x8001, b"\x80\xff\xff\xff")) is None
        await ev.close()
        await _until(lambda: _contains(w.get("LastError"), "undecodable"), "LastError set")
        w.bus.disconnect()

    asyncio.run(go())


async def _contains(coro: Any, text: str) -> bool:
    return text in str(await coro)


def test_a_second_connection_during_a_session_is_refused(stack: Stack) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        port = await w.get("TcpPort")
        first = await TcpEv.connect(port)
        await first.setup()
        second = await TcpEv.connect(port)
        assert await second.send(Namespace.CM, "SessionSetupReq", {"EVCCID": EVCCID}) is None
        await second.close()
        await first.prepare()
        await first.charge_loop()
        assert (await first.finish()).code == "OK"
        await first.close()
        w.bus.disconnect()

    asyncio.run(go())


def test_connection_lost_mid_session_tells_ccy_evse(stack: Stack) -> None:
    async def go() -> None:
        w = await _watch(stack.address)
        ev = await TcpEv.connect(await w.get("TcpPort"))
        await ev.setup()
        await ev.prepare()
        await ev.charge_loop()
        before = len(stack.calls_of("EndV2gSession"))
        await ev.close()
        await _until(
            lambda: _true(len(stack.calls_of("EndV2gSession")) > before), "EndV2gSession called"
        )
        w.bus.disconnect()

    asyncio.run(go())


async def _true(value: bool) -> bool:
    return value


def _ctl(stack: Stack, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "ccy.ctl.main", "--root", str(stack.root), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=stack.bus.environ(),
        check=False,
    )


def test_ccyctl_v2g_status_and_certs(stack: Stack) -> None:
    status = _ctl(stack, "v2g", "status")
    assert status.returncode == 0, status.stderr
    assert "SessionState: " in status.stdout and "TlsPort: " in status.stdout
    assert "Active errors: 0" in status.stdout
    assert EVCCID not in status.stdout
    certs = _ctl(stack, "v2g", "certs")
    assert certs.returncode == 0, certs.stderr
    in_use = [line for line in certs.stdout.splitlines() if "(in use)" in line]
    assert len(in_use) == 1 and "valid" in in_use[0]
    assert "V2G root" in certs.stdout


def test_tls_without_a_vehicle_certificate_is_refused_and_counted(stack: Stack) -> None:
    """mutual_tls: a vehicle that presents no OEM chain does not get a session."""
    layout = CertsLayout(stack.root / "etc/ccy/certs")

    async def go() -> None:
        w = await _watch(stack.address)
        before = (await w.get("MessageCounters")).get("transport_tls_handshake_failures", 0)
        try:
            ev = await TcpEv.connect(await w.get("TlsPort"), tls.client_context(layout.v2g_root))
            assert await ev.raw(v2gtp.encode(0x8001, b"\x80\x00")) is None
            await ev.close()
        except (ssl.SSLError, ConnectionError):
            pass
        await _until(
            lambda: _more(w.get("MessageCounters"), "transport_tls_handshake_failures", before),
            "the failed handshake counted",
        )
        w.bus.disconnect()

    asyncio.run(go())


def test_ev_simulator_sessions_tcp_tls_and_pause_resume(stack: Stack) -> None:
    """v2g-net's EV simulator (ccy.sim.ev) against ccy-v2g: Dynamic MCS over TCP, Scheduled
    DC over TLS 1.3, and a pause resumed over mutual TLS (OK_OldSessionJoined)."""
    from ccy.sim.ev.evcc import EvOptions, run_ev
    from ccy.sim.ev.messages import ControlMode

    async def go() -> None:
        w = await _watch(stack.address)
        sdp_port = await w.get("SdpPort")
        common: dict[str, Any] = {"sdp_port": sdp_port, "loops": 3, "loop_interval_s": 0.0}
        common["pre_charge_requests"] = 3
        plain = await run_ev(EvOptions(**common))
        assert plain.outcome == "completed" and plain.requests["DC_ChargeLoopReq"] == 3
        scheduled = await run_ev(
            EvOptions(
                **common, tls=_vehicle_tls(stack), service="dc", control_mode=ControlMode.SCHEDULED
            )
        )
        assert scheduled.outcome == "completed"
        before = len(stack.calls_of("BindSession"))
        paused = await run_ev(EvOptions(**common, tls=_vehicle_tls(stack), pause=True))
        assert paused.outcome == "completed" and paused.resumed
        binds = stack.calls_of("BindSession")[before:]
        assert len(binds) == 2 and binds[0].split()[1] == binds[1].split()[1]  # same SessionID
        w.bus.disconnect()

    asyncio.run(go())


# ------------------------------------------------------------------ with the real ccy-evse
@pytest.fixture(scope="module")
def real() -> Iterator[ChargerRig]:
    """The simulated charger (ccy.testing.charger: private bus, MCU simulator, ccy-bsp,
    ccy-evse, ccy-auth and ccy-v2g from the stack table, the power stage)."""
    with charger_rig("ccy-v2g-real-") as rig:
        yield rig


def test_seed_session_with_the_real_ccy_evse(real: ChargerRig) -> None:
    """Plug in, CE C, the EV simulator's MCS Dynamic session against the real ccy-evse (with
    ccy-bsp, the MCU simulator and the simulated power stage): every answer is ccy-evse's.
    If ccy-evse has not authorized the session by itself (its configuration), the operator
    authorizes it (Evse1.Authorize) while ccy-v2g answers Authorization with Ongoing."""
    from ccy.sim.ev.evcc import EvOptions, run_ev

    async def go() -> None:
        w = await _watch(real.stack.address())

        async def evse_prop(name: str) -> Any:
            return await w.get(name, evse.IFACE, evse.BUS_NAME, evse.OBJECT_PATH)

        await _until(lambda: _eq(evse_prop("WaitingFor"), []), "ccy-evse sees its peers")
        real.mcu(cmd="plug")
        real.mcu(cmd="set_ce", state="C")
        await _until(lambda: _nonempty(evse_prop("SessionId")), "a session at ccy-evse")
        session = await evse_prop("SessionId")
        vehicle = asyncio.ensure_future(
            run_ev(EvOptions(sdp_port=await w.get("SdpPort"), loops=5, loop_interval_s=0.05))
        )
        if not await evse_prop("Authorized"):
            await _until(lambda: _eq(w.get("SessionState"), "Authorization"), "EIM Ongoing")
            reply = await w.bus.call(
                Message(
                    destination=evse.BUS_NAME,
                    path=evse.OBJECT_PATH,
                    interface=evse.IFACE,
                    member="Authorize",
                    signature="sss",
                    body=[session, "[redacted] hash: 0123456789ABCDE", "Operator"],
                )
            )
            assert reply is not None and reply.message_type is MessageType.METHOD_RETURN
        result = await asyncio.wait_for(vehicle, 60)
        assert result.outcome == "completed", result
        assert result.requests["DC_ChargeLoopReq"] == 5
        assert await w.get("EvseSessionId") == session
        await _until(lambda: _eq(w.get("SessionState"), "Idle"), "the connection closed")
        assert await w.get("LastError") == ""
        w.bus.disconnect()

    asyncio.run(go())
    text = real.log("ccy-v2g")
    assert "EVSE ISO V2G SessionStopRes" in text and "[ERROR]" not in text


async def _nonempty(coro: Any) -> bool:
    return bool(await coro)


def test_tls_only_without_a_valid_leaf_offers_nothing_and_says_why() -> None:
    """security: tls with an empty certificate store: no server, SDP answers nothing,
    Errors1 NoValidLeaf (KeepsPower) with the reason, one journal line; the unit still runs."""
    directory = traversable_tmp("ccy-v2g-noleaf-")
    bus = PrivateBus(directory / "bus", [TOP / "dbus" / "policy"], user_policy(getpass.getuser()))
    bus.start()
    root = directory / "root"
    (root / "etc/ccy/certs").mkdir(parents=True)
    (root / "etc/ccy/config.yaml").write_text(
        "v2g:\n  interface: lo\n  sdp_port: 0\n  security: tls\n"
    )
    log = directory / "ccy-v2g.log"
    notify_path = directory / "notify"
    unit = None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify_path))
            with log.open("wb") as err:
                unit = subprocess.Popen(
                    [*V2G, "--root", str(root)],
                    stderr=err,
                    env={**bus.environ(), "NOTIFY_SOCKET": str(notify_path)},
                )
            _wait_ready(sock, unit, log)
        notify_path.unlink()

        async def go() -> None:
            w = await _watch(bus.address)
            assert (await w.get("TcpPort"), await w.get("TlsPort")) == (0, 0)
            assert list(await w.get("Leaf")) == ["", 0.0]
            errors = await w.get("ActiveErrors", "org.ccy.Errors1")
            names = {e[0] for e in errors}
            assert "NoValidLeaf" in names and "EvseMissing" in names
            with pytest.raises(TimeoutError):
                discover(await w.get("SdpPort"), sdp.Security.TLS, timeout_s=1.0)
            w.bus.disconnect()

        asyncio.run(go())
        text = log.read_text()
        assert "no valid SECC leaf" in text and "No V2G session is offered" in text
    finally:
        if unit is not None:
            _stop(unit)
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("  tls_ciphersuites: [TLS_AES_128_GCM_SHA256]\n", "TLS_AES_128_GCM_SHA256"),
        ("  offer_mcs: false\n  offer_dc: false\n", "no energy transfer service"),
    ],
)
def test_a_refused_setting_is_exit_78_with_one_line(line: str, named: str) -> None:
    """A TLS suite ISO 15118-20 does not allow, or an empty offer: EX_CONFIG before any bus."""
    directory = traversable_tmp("ccy-v2g-config-")
    try:
        (directory / "etc/ccy").mkdir(parents=True)
        (directory / "etc/ccy/config.yaml").write_text("v2g:\n  interface: lo\n" + line)
        done = subprocess.run(
            [*V2G, "--root", str(directory)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"},
            check=False,
        )
        assert done.returncode == 78, done.stderr
        refusals = [x for x in done.stderr.splitlines() if "Invalid configuration" in x]
        assert len(refusals) == 1 and named in refusals[0]
        assert "Traceback" not in done.stderr
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_a_missing_vehicle_interface_is_exit_69_with_one_line(stack: Stack) -> None:
    directory = traversable_tmp("ccy-v2g-noif-")
    try:
        (directory / "etc/ccy").mkdir(parents=True)
        (directory / "etc/ccy/config.yaml").write_text(
            "v2g:\n  interface: nosuchif0\n  security: none\n"
        )
        done = subprocess.run(
            [*V2G, "--root", str(directory)],
            capture_output=True,
            text=True,
            timeout=60,
            env=stack.bus.environ(),
            check=False,
        )
        assert done.returncode == 69, done.stderr
        assert "Not starting: SDP on nosuchif0" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        shutil.rmtree(directory, ignore_errors=True)
