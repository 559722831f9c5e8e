# SPDX-License-Identifier: Apache-2.0
"""ccy-auth on a private bus with ccy-evse's side: the seed's authorization flow, redaction.

A real dbus-daemon with ccy's policy files plus the sandbox grant for the invoking user (as
ccy.sim.stack does); ccy-auth as a real process (``python -m ccy.auth``, READY=1 on
$NOTIFY_SOCKET); the Evse1 side is the stand-in peer tests/auth/evse_standin.py (it serves the
committed Evse1 contract's authorization members) until ccy-evse's unit exists; a real
dbus-monitor (BecomeMonitor: the daemon runs as the invoking user) captures every message.

The seed's flow: a vehicle plugs in (SessionStarted), the dummy provider publishes its token,
accept_all accepts it after 250 ms, ccy-auth provides authorization to evse#1, Authorize
carries the token redacted, and the journal has the seed's lines in the seed's order. No clear
token appears in the unit's log, the bus capture, or any file under the root.
"""

import asyncio
import getpass
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from ccy.auth.contract import BUS_NAME, IFACE, OBJECT_PATH
from ccy.ctl.failure import ExitCode
from ccy.evse.contract import BUS_NAME as EVSE_NAME
from ccy.evse.contract import OBJECT_PATH as EVSE_PATH
from ccy.pki.v2g_dev import DEFAULT_EMAID, make_v2g_dev_pki
from ccy.runtime.redact import PREFIX
from ccy.sim.rfid.control import request
from ccy.testing.bus_daemon import PrivateBus, user_policy
from ccy.testing.charger import ChargerRig, EvseClient, charger_rig
from ccy.testing.folders import traversable_tmp
from ccy.testing.introspection import differences, interfaces

TOP = Path(__file__).resolve().parents[2]
STANDIN = TOP / "tests" / "auth" / "evse_standin.py"
READY_WAIT_S = 30.0
WAIT_S = 10.0
DUMMY = "DEADBEEF"
"""The dummy provider's token (config): it must never appear in clear."""
BLOCKED = "0B0B0B0B"
OPERATOR = "C0FFEE42"
MASTER = "9A9A9A9A"
TEST_IFACE = "org.ccy.test.EvseStandIn"
PROPERTIES = "org.freedesktop.DBus.Properties"

MONITOR_POLICY = """\
  <policy user="{user}">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring" send_member="BecomeMonitor"/>
  </policy>
"""
"""The test's own grant: its user (the daemon's) may become a monitor, so the real
dbus-monitor captures every message (dbus-daemon also checks the caller's uid itself)."""

CONFIG = f"""\
auth:
  providers: [dummy, v2g, operator, rfid]
  rfid_port: /dev/ttyRFID
  validators: [pnc, local_list, accept_all]
  accept_all_delay_ms: 250
  local_list_file: /etc/ccy/auth/tokens.yaml
  local_list_poll_ms: 200
  dummy_token_id: {DUMMY}
  connection_timeout_s: 2
  master_pass_group_id: MASTER-GROUP
"""
LIST = f"""\
tokens:
  - id: {BLOCKED}
    type: RFID
    status: Blocked
  - id: {MASTER}
    group_id: MASTER-GROUP
"""


@dataclass
class Auth:
    directory: Path
    root: Path
    bus: PrivateBus
    config: Path
    capture: Path
    log: Path
    procs: dict[str, "subprocess.Popen[bytes]"] = field(default_factory=dict)

    @property
    def rfid_control(self) -> Path:
        return self.directory / "rfid.sock"

    @property
    def address(self) -> str:
        return self.bus.address

    def start_auth(self) -> None:
        notify = self.directory / f"notify-{time.monotonic_ns()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify))
            env = {**self.bus.environ(), "NOTIFY_SOCKET": str(notify)}
            with self.log.open("ab") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "ccy.auth", "--root", str(self.root),
                     "--config", str(self.config)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env,
                )  # fmt: skip
            self.procs["auth"] = proc
            _wait_ready(sock, proc, self.log)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(sock: socket.socket, proc: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + READY_WAIT_S
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ccy-auth exited {proc.returncode}: {log.read_text()}")
        try:
            if b"READY=1" in sock.recv(4096).split(b"\n"):
                return
        except TimeoutError:
            continue
    pytest.fail(f"no READY=1 within {READY_WAIT_S} s: {log.read_text()}")


def _wait_owner(address: str, name: str) -> None:
    deadline = time.monotonic() + READY_WAIT_S
    while time.monotonic() < deadline:
        r = subprocess.run(
            ["busctl", f"--address={address}", "--no-pager", "status", name],
            capture_output=True, timeout=10, check=False,
        )  # fmt: skip
        if r.returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail(f"{name} not on the bus within {READY_WAIT_S} s")


@pytest.fixture(scope="module")
def auth() -> Iterator[Auth]:
    directory = traversable_tmp("ccy-auth-bus-")
    root = directory / "root"
    (root / "etc/ccy/auth").mkdir(parents=True)
    (root / "etc/ccy/auth/tokens.yaml").write_text(LIST)
    make_v2g_dev_pki(root / "etc/ccy/certs")  # what `ccyctl pki dev --out` writes
    config = directory / "auth.yaml"  # outside the root: the dummy id is in it in clear
    config.write_text(CONFIG)
    bus = PrivateBus(
        directory / "bus",
        [TOP / "dbus" / "policy"],
        user_policy(getpass.getuser()) + MONITOR_POLICY.format(user=getpass.getuser()),
    )
    bus.start()
    a = Auth(directory, root, bus, config, directory / "capture.txt", directory / "auth.log")
    try:
        with a.capture.open("wb") as out:
            a.procs["monitor"] = subprocess.Popen(
                ["dbus-monitor", "--address", bus.address],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        a.procs["evse"] = subprocess.Popen(
            [sys.executable, str(STANDIN)], env=bus.environ(), stdin=subprocess.DEVNULL
        )
        _wait_owner(bus.address, EVSE_NAME)
        a.procs["rfid"] = subprocess.Popen(
            [sys.executable, "-m", "ccy.sim.rfid", "--tty-link", str(root / "dev/ttyRFID"),
             "--control", str(a.rfid_control)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + READY_WAIT_S
        while not a.rfid_control.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        a.start_auth()
        yield a
    finally:
        for name in list(a.procs):
            a.stop(name)
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)


# ------------------------------------------------------------------ client


@dataclass
class Client:
    bus: MessageBus
    signals: list[tuple[str, str, list[Any]]] = field(default_factory=list)

    def on_message(self, msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL and msg.path in (OBJECT_PATH, EVSE_PATH):
            self.signals.append((str(msg.interface), str(msg.member), list(msg.body)))

    async def call(
        self, dest: str, path: str, iface: str, member: str, sig: str = "", *body: Any
    ) -> Message:
        reply = await self.bus.call(
            Message(destination=dest, path=path, interface=iface, member=member,
                    signature=sig, body=list(body))
        )  # fmt: skip
        assert reply is not None
        return reply

    async def auth(self, member: str, sig: str = "", *body: Any) -> list[Any]:
        reply = await self.call(BUS_NAME, OBJECT_PATH, IFACE, member, sig, *body)
        assert reply.message_type is MessageType.METHOD_RETURN, (member, reply.body)
        return list(reply.body)

    async def auth_error(self, member: str, sig: str = "", *body: Any) -> tuple[str, str]:
        reply = await self.call(BUS_NAME, OBJECT_PATH, IFACE, member, sig, *body)
        assert reply.message_type is MessageType.ERROR, (member, reply.body)
        return str(reply.error_name), str(reply.body[0])

    async def get(self, prop: str) -> Any:
        reply = await self.call(BUS_NAME, OBJECT_PATH, PROPERTIES, "Get", "ss", IFACE, prop)
        assert reply.message_type is MessageType.METHOD_RETURN, reply.body
        return reply.body[0].value

    async def evse(self, member: str) -> list[Any]:
        reply = await self.call(EVSE_NAME, EVSE_PATH, TEST_IFACE, member)
        assert reply.message_type is MessageType.METHOD_RETURN, (member, reply.body)
        return list(reply.body)

    async def evse_calls(self) -> list[tuple[str, str]]:
        return [(m, a) for m, a in (await self.evse("Calls"))[0]]

    def named(self, member: str) -> list[list[Any]]:
        return [body for _i, m, body in self.signals if m == member]


async def connect(address: str, forget: bool = True) -> Client:
    bus = await MessageBus(bus_address=address).connect()
    c = Client(bus)
    bus.add_message_handler(c.on_message)
    for path in (OBJECT_PATH, EVSE_PATH):
        await c.call(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
            "s", f"type='signal',path='{path}'",
        )  # fmt: skip
    if forget:
        await c.evse("Unplug")
        await c.evse("Forget")
    return c


async def eventually(probe: Callable[[], Any], timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            assert value, f"not within {timeout_s} s"
            return value
        await asyncio.sleep(0.05)


def log_text(a: Auth) -> str:
    return a.log.read_text(errors="replace")


# ------------------------------------------------------------------ tests


def test_introspection_equals_the_contract_xml(auth: Auth) -> None:
    r = subprocess.run(
        ["busctl", f"--address={auth.address}", "--no-pager", "introspect", "--xml-interface",
         BUS_NAME, OBJECT_PATH],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    live = interfaces(r.stdout)
    for name in (IFACE, "org.ccy.Errors1"):
        xml = interfaces((TOP / "dbus" / f"{name}.xml").read_text())[name]
        assert differences(live[name], xml) == [], name


def test_the_seed_flow_dummy_token_accept_all_authorize(auth: Auth) -> None:
    async def scenario() -> tuple[str, list[tuple[str, str]], Client]:
        c = await connect(auth.address)
        session = (await c.evse("Plug"))[0]
        calls = await eventually(lambda: _calls_of(c, "Authorize"), timeout_s=WAIT_S)
        await eventually(lambda: c.named("TokenFinished"))
        return session, calls, c

    session, calls, c = asyncio.run(scenario())
    ((_, args),) = calls
    sid, token_type, token = args.split(" ", 2)
    assert (sid, token_type) == (session, "RFID")
    assert token.startswith(PREFIX) and len(token) == len(PREFIX) + 15
    (result,) = c.named("ValidationResult")
    assert result[:3] == [token, "RFID", "Accepted"]
    assert c.named("TokenFinished") == [[token, "Authorized", 1]]
    assert any(m == "TransactionStarted" and b[2] == token for _i, m, b in c.signals)
    text = log_text(auth)
    lines = [
        "Publishing new dummy token: {",
        "Received new token: {",
        f"Got validation request for token: {token}",
        "Returning validation status: Accepted",
        "Providing authorization to evse#1",
        f"Result for token: {token}: ACCEPTED",
    ]
    at = [text.find(line) for line in lines]
    assert all(i >= 0 for i in at), [line for line, i in zip(lines, at, strict=True) if i < 0]
    assert at == sorted(at), "the seed's order"
    assert f'"value": "{token}"' in text


async def _calls_of(c: Client, member: str) -> list[tuple[str, str]]:
    return [x for x in await c.evse_calls() if x[0] == member]


def test_no_clear_token_in_the_log_the_bus_capture_or_the_files(auth: Auth) -> None:
    async def scenario() -> None:
        c = await connect(auth.address)
        await c.evse("Plug")
        await eventually(lambda: _calls_of(c, "Authorize"))
        await c.evse("Unplug")
        # an operator's token through ProvideToken: its clear value is an in-argument only
        await c.auth("ProvideToken", "sssais", OPERATOR, "RFID", "", [], "")
        await eventually(lambda: c.named("TokenFinished"))

    asyncio.run(scenario())
    time.sleep(0.3)  # let dbus-monitor write what it has
    capture = auth.capture.read_text(errors="replace")
    assert "ProvideToken" in capture and PREFIX in capture, "the monitor saw the bus"
    assert DUMMY not in capture
    assert "DEADBEEF".lower() not in capture.lower()
    # the operator's token is in ProvideToken's own arguments, and nowhere else on the bus
    assert capture.count(OPERATOR) == 1
    log = log_text(auth)
    for clear in (DUMMY, OPERATOR):
        assert clear not in log
    for path in auth.root.rglob("*"):
        if path.is_file() and path.name != "tokens.yaml":
            data = path.read_bytes()
            assert DUMMY.encode() not in data and OPERATOR.encode() not in data, path


def test_list_deny_master_pass_and_token_in_use(auth: Auth) -> None:
    async def scenario() -> None:
        c = await connect(auth.address)
        blocked = await c.auth("ProvideToken", "sssais", BLOCKED.lower(), "RFID", "", [], "")
        assert blocked[1] == "Pending"
        await eventually(lambda: c.named("TokenFinished"))
        assert c.named("ValidationResult")[0][2] == "Blocked"
        assert c.named("TokenFinished")[0][1] == "Refused"
        await c.evse("Plug")
        await eventually(lambda: _calls_of(c, "Authorize"))
        await eventually(lambda: len(c.named("ValidationResult")) == 2)
        dummy_hash = c.named("ValidationResult")[1][0]
        again = await c.auth("ProvideToken", "sssais", DUMMY, "RFID", "", [], "")
        assert again == [dummy_hash, "ConcurrentTx", "the token is in use already"]
        await c.auth("ProvideToken", "sssais", MASTER, "RFID", "", [], "")
        await eventually(lambda: _calls_of(c, "StopTransaction"))
        assert await _calls_of(c, "StopTransaction") == [("StopTransaction", "MasterPass")]
        await eventually(lambda: c.named("TokenFinished")[-1][1] == "MasterPass")
        assert await c.get("MasterPassConfigured") is True
        await c.evse("Unplug")

    asyncio.run(scenario())


def test_bad_tokens_are_named_and_switched_off_providers_refused(auth: Auth) -> None:
    async def scenario() -> None:
        c = await connect(auth.address)
        for value, kind, words in (
            ("", "RFID", "empty token"),
            ("XYZ", "RFID", "bad characters"),
            ("A" * 300, "EIM", "over-long"),
            ("not a mac", "Autocharge", "not a MAC"),
        ):
            _h, status, reason = await c.auth("ProvideToken", "sssais", value, kind, "", [], "")
            assert (status, words in reason) == ("Invalid", True), reason
        name, text = await c.auth_error("ProvideToken", "sssais", "X", "Card", "", [], "")
        assert name == "org.ccy.Error.InvalidArgument" and "token_type" in text
        name, _ = await c.auth_error("ProvideToken", "sssais", OPERATOR, "RFID", "", [7], "")
        assert name == "org.ccy.Error.InvalidArgument"
        assert c.named("ValidationResult") == []

    asyncio.run(scenario())


def test_a_token_without_plug_in_times_out(auth: Auth) -> None:
    async def scenario() -> None:
        c = await connect(auth.address)
        h, status, _ = await c.auth("ProvideToken", "sssais", OPERATOR, "EIM", "", [], "")
        assert status == "Pending"
        await eventually(lambda: await_list(c), timeout_s=WAIT_S)
        await eventually(lambda: [h, "TimedOut", 0] in c.named("TokenFinished"))
        assert await c.auth("ListTokens") == [[]]

    async def await_list(c: Client) -> bool:
        (tokens,) = await c.auth("ListTokens")
        return any(t[2] == "WaitingForPlugIn" for t in tokens)

    asyncio.run(scenario())


def test_reservations_reach_ccy_evse_and_survive_a_restart(auth: Auth) -> None:
    expires = time.time() + 3600

    async def reserve() -> str:
        c = await connect(auth.address)
        (rid,) = await c.auth("Reserve", "ssid", OPERATOR, "", 1, expires)
        calls = await eventually(lambda: _calls_of(c, "SetReservation"))
        assert calls == [("SetReservation", f"{rid} {expires:.0f}")]
        (reservations,) = [await c.get("Reservations")]
        assert [r[0] for r in reservations] == [rid] and reservations[0][1].startswith(PREFIX)
        name, text = await c.auth_error("Reserve", "ssid", OPERATOR, "", 1, expires)
        assert name == "org.ccy.Error.NotPermitted" and "reserved already" in text
        name, _ = await c.auth_error("Reserve", "ssid", OPERATOR, "", 1, time.time() - 5)
        assert name == "org.ccy.Error.InvalidArgument"
        return str(rid)

    rid = asyncio.run(reserve())
    auth.stop("auth")
    auth.start_auth()

    async def after_restart() -> None:
        c = await connect(auth.address, forget=False)
        assert [r[0] for r in await c.get("Reservations")] == [rid]

        # sent again when the restarted ccy-auth saw ccy-evse
        async def both() -> list[Any]:  # the call before the restart, and the new one
            calls = await _calls_of(c, "SetReservation")
            return calls if len(calls) >= 2 else []

        resent = await eventually(both)
        assert resent == [("SetReservation", f"{rid} {expires:.0f}")] * 2
        await c.evse("Forget")
        # a stranger's token (the dummy's) does not take the reserved connector; the owner's does
        await c.evse("Plug")
        (dummy,) = await eventually(lambda: c.named("ValidationResult"))
        assert dummy[2] == "Accepted"
        (tokens,) = await c.auth("ListTokens")
        assert [(t[0], t[2]) for t in tokens] == [(dummy[0], "WaitingForPlugIn")]
        assert await _calls_of(c, "Authorize") == []
        await c.auth("ProvideToken", "sssais", OPERATOR, "RFID", "", [], "")
        await eventually(lambda: _calls_of(c, "Authorize"))
        await eventually(lambda: _calls_of(c, "SetReservation"))
        assert (await _calls_of(c, "SetReservation"))[-1] == ("SetReservation", " 0")
        assert await c.get("Reservations") == []
        await c.evse("Unplug")

    asyncio.run(after_restart())


def ccyctl(auth: Auth, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccy.ctl.main", "--timeout", "5", "auth", *args],
        capture_output=True, text=True, timeout=30, check=False, env=auth.bus.environ(),
    )  # fmt: skip


def test_ccyctl_auth_commands(auth: Auth) -> None:
    async def hold() -> str:
        c = await connect(auth.address)
        token_hash, _status, _ = await c.auth("ProvideToken", "sssais", OPERATOR, "EIM", "", [], "")
        await eventually(lambda: c.named("ValidationResult"))
        return str(token_hash)

    r = ccyctl(auth, "reserve", OPERATOR, "--minutes", "30")
    assert r.returncode == 0, r.stderr
    rid = r.stdout.split()[1]
    r = ccyctl(auth, "reservations")
    assert r.returncode == 0 and rid in r.stdout and PREFIX in r.stdout, r
    assert OPERATOR not in r.stdout
    assert ccyctl(auth, "cancel", rid).returncode == 0
    assert "No reservations" in ccyctl(auth, "reservations").stdout
    r = ccyctl(auth, "cancel", rid)
    assert r.returncode == ExitCode.DATA and r.stderr.startswith("ccyctl: ccy-auth refused"), r
    r = ccyctl(auth, "token", "XYZ", "--type", "RFID")
    assert r.returncode == ExitCode.DATA and "bad characters" in r.stderr, r
    # a token with no vehicle: held (WaitingForPlugIn), then TimedOut: exit 1
    r = ccyctl(auth, "token", OPERATOR, "--type", "EIM")
    assert r.returncode == 1 and "Validation: Accepted" in r.stdout, r
    assert "Outcome: TimedOut" in r.stdout and OPERATOR not in r.stdout
    token_hash = asyncio.run(hold())
    r = ccyctl(auth, "tokens")
    assert r.returncode == 0 and f"{token_hash}  EIM        WaitingForPlugIn" in r.stdout, r
    r = ccyctl(auth, "reserve", OPERATOR, "--minutes", "0")
    assert r.returncode == ExitCode.DATA and "out of range" in r.stderr


async def no_tokens(c: Client) -> bool:
    return await c.auth("ListTokens") == [[]]


def test_rfid_cards_from_the_reader_simulator(auth: Auth) -> None:
    async def scenario() -> None:
        c = await connect(auth.address)
        await eventually(lambda: no_tokens(c))  # those of earlier tests have timed out
        c.signals.clear()
        before = request(auth.rfid_control, {"cmd": "answers"})["answers"]
        for uid in (BLOCKED, "1234ABCD"):
            assert request(auth.rfid_control, {"cmd": "card", "uid": uid}) == {"ok": True}
            await eventually(lambda: len(c.named("ValidationResult")) == 1)
            if uid == BLOCKED:
                assert c.named("ValidationResult")[0][1:3] == ["RFID", "Blocked"]
                c.signals.clear()
        answers = await eventually(
            lambda: request(auth.rfid_control, {"cmd": "answers"})["answers"][len(before) :]
        )
        await eventually(
            lambda: (
                request(auth.rfid_control, {"cmd": "answers"})["answers"][len(before) :]
                == ["NOK Blocked", "OK"]
            )
        )
        assert answers[0] == "NOK Blocked"
        assert "1234ABCD" not in log_text(auth)

    asyncio.run(scenario())


def test_a_damaged_reservation_store_is_reported_and_moved_aside(auth: Auth) -> None:
    auth.stop("auth")
    store = auth.root / "var/lib/ccy/auth/reservations.sqlite"
    for side in ("-wal", "-shm"):
        store.with_name(store.name + side).unlink(missing_ok=True)
    store.write_bytes(b"reservations is not a json array")
    auth.start_auth()

    async def errors() -> list[Any]:
        c = await connect(auth.address)
        reply = await c.call(
            BUS_NAME, OBJECT_PATH, PROPERTIES, "Get", "ss", "org.ccy.Errors1", "ActiveErrors"
        )
        assert reply.message_type is MessageType.METHOD_RETURN, reply.body
        assert await c.get("Reservations") == []
        return list(reply.body[0].value)

    active = asyncio.run(errors())
    (damaged,) = [e for e in active if e[0] == "ReservationStoreDamaged"]
    assert damaged[2] == "Medium" and "file is not a database" in damaged[3]
    (moved,) = store.parent.glob("reservations.sqlite.damaged-*")
    assert moved.read_bytes() == b"reservations is not a json array"
    assert f"Reservation store damaged, starting an empty one: {store}:" in log_text(auth)


def test_plug_and_charge_contracts_from_ccy_v2g(auth: Auth) -> None:
    chain = (auth.root / "etc/ccy/certs/client/mo/CONTRACT_CERT_CHAIN.pem").read_text()

    async def scenario() -> None:
        c = await connect(auth.address)
        await eventually(lambda: no_tokens(c))
        c.signals.clear()
        wrong, status, _ = await c.auth(
            "ProvideToken", "sssais", "DECCY000000002", "PnC", "", [], chain
        )
        assert status == "Pending"
        await eventually(lambda: c.named("TokenFinished"))
        (result,) = c.named("ValidationResult")
        assert result[:3] == [wrong, "PnC", "Invalid"] and "differs" in result[3]
        await c.evse("Plug")
        await eventually(lambda: _calls_of(c, "Authorize"))  # the dummy token, as always
        await c.evse("Unplug")
        c.signals.clear()
        good, status, _ = await c.auth(
            "ProvideToken", "sssais", "DE-CCY-000000001", "PnC", "", [], chain
        )
        await eventually(lambda: c.named("ValidationResult"))
        assert c.named("ValidationResult")[0][:3] == [good, "PnC", "Accepted"]
        assert c.named("ValidationResult")[0][3] == "pnc: contract chain valid"
        _, status, reason = await c.auth(
            "ProvideToken", "sssais", DEFAULT_EMAID, "PnC", "", [], chain
        )
        assert (status, reason) == ("ConcurrentTx", "the token is in use already")

    asyncio.run(scenario())
    assert "BEGIN CERTIFICATE" not in log_text(auth)
    assert DEFAULT_EMAID not in log_text(auth)


# ------------------------------------------------------------------ the real ccy-evse
# The stack (MCU simulator, ccy-bsp, ccy-evse) and the simulated power stage, as
# ccy.testing.charger runs them; ccy-auth joins on the stack's bus with the same root (one
# redaction key, so its hashes are ccy-evse's).

REAL_CONFIG = """\
auth:
  providers: [dummy, operator]
  validators: [local_list, accept_all]
  local_list_file: /etc/ccy/auth/tokens.yaml
  connection_timeout_s: 5
  master_pass_group_id: MASTER-GROUP
"""


@pytest.fixture(scope="module")
def rig() -> Iterator[ChargerRig]:
    with charger_rig("ccy-auth-evse-") as r:
        root = r.stack.layout.dir
        (root / "etc/ccy/auth").mkdir(parents=True, exist_ok=True)
        (root / "etc/ccy/auth/tokens.yaml").write_text(LIST)
        # The stack's ccy-auth, restarted with the list and the master pass (the dummy id is
        # the default, DEADBEEF).
        r.reconfigure("ccy-auth", yaml.safe_load(REAL_CONFIG))
        yield r


async def real_client(rig: ChargerRig) -> tuple[Client, EvseClient]:
    c = await connect(rig.stack.address(), forget=False)
    return c, EvseClient(c.bus)


def test_the_seed_flow_master_pass_and_reservation_with_the_real_ccy_evse(
    rig: ChargerRig,
) -> None:
    root = rig.stack.layout.dir

    async def scenario() -> str:
        c, evse = await real_client(rig)
        try:
            await evse.until("WaitingFor", [], timeout_s=30.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{rig.log('ccy-evse')[-2000:]}") from None
        rig.mcu(cmd="plug")
        session = await evse.until("SessionId", lambda v: v != "")
        await evse.until("Authorized", True)
        (started,) = await eventually(lambda: c.named("TransactionStarted"))
        token = str(started[2])
        assert started[1] == session and token.startswith(PREFIX)
        await eventually(lambda: c.named("TokenFinished") == [[token, "Authorized", 1]])
        # the master pass stops the transaction through Evse1.StopTransaction
        await c.auth("ProvideToken", "sssais", MASTER, "RFID", "", [], "")
        (finished,) = await eventually(lambda: c.named("TransactionFinished"))
        assert finished[1] == "MasterPass"
        rig.mcu(cmd="unplug")
        await evse.until("SessionId", "")
        # a reservation reaches ccy-evse: ReservationId and State Reserved, then cancelled
        (rid,) = await c.auth("Reserve", "ssid", OPERATOR, "", 1, time.time() + 600)
        await evse.until("ReservationId", rid)
        await evse.until("State", "Reserved")
        await c.auth("CancelReservation", "s", rid)
        await evse.until("ReservationId", "")
        return token

    token = asyncio.run(scenario())
    text = rig.log("ccy-auth")
    at = [
        text.find(line)
        for line in (
            "Publishing new dummy token: {",
            "Received new token: {",
            f"Got validation request for token: {token}",
            "Returning validation status: Accepted",
            "Providing authorization to evse#1",
            f"Result for token: {token}: ACCEPTED",
        )
    ]
    assert all(i >= 0 for i in at) and at == sorted(at), at
    session_logs = [p for p in (root / "var/log/ccy/sessions").rglob("*") if p.is_file()]
    assert session_logs, "ccy-evse wrote a session log"
    assert any(token in p.read_text(errors="replace") for p in session_logs)
    for path in [*root.rglob("*"), *rig.dir.glob("*.log")]:
        if path.is_file() and path.name != "tokens.yaml":
            data = path.read_bytes()
            assert DUMMY.encode() not in data and OPERATOR.encode() not in data, path
