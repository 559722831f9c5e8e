# SPDX-License-Identifier: Apache-2.0
"""ccy-auth: token in → Evse1.Authorize out, and Plug & Charge chain validation per contract.

- Token → Authorize (on the real bus): ccy-auth runs as a process on a private dbus-daemon;
  this process serves the Evse1 side (a minimal stand-in owning org.ccy.Evse: SessionStarted,
  Authorize) and, per cycle, starts a session, sends ProvideToken with a new token and takes
  the time until Authorize arrives (one clock: both ends are here). Two configurations:
  validators [accept_all] with accept_all_delay_ms 0 (the pipeline alone: the seed's 250 ms
  is a configured delay, not work), and validators [local_list] with a list of 100,000 ids
  (each cycle's token is one of them, spread over the list).
- PnC: PncValidator.check on the development PKI's contract chain (leaf, Sub-CA 2, Sub-CA 1
  to the MO root: three signature checks), P-256 and P-521, in this process.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_auth.py [CYCLES]`` (default 200).
"""

import asyncio
import getpass
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDouble, DBusSignature, DBusStr
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method, signal

from ccy.auth.contract import BUS_NAME, IFACE, OBJECT_PATH
from ccy.auth.validators.pnc import PncValidator
from ccy.evse.contract import BUS_NAME as EVSE_NAME
from ccy.evse.contract import IFACE as EVSE_IFACE
from ccy.evse.contract import OBJECT_PATH as EVSE_PATH
from ccy.pki.v2g_dev import CURVES, DEFAULT_EMAID, make_v2g_dev_pki
from ccy.runtime.paths import dbus_dir
from ccy.testing.bus_daemon import PrivateBus, user_policy

LIST_SIZE = 100_000
Pair = Annotated[list[str], DBusSignature("ss")]
WAIT_S = 60.0


class Evse(ServiceInterface):
    """The Evse1 members ccy-auth needs for one cycle, timing Authorize."""

    def __init__(self) -> None:
        super().__init__(EVSE_IFACE)
        self.session = ""
        self.arrived: asyncio.Future[float] | None = None

    @method(name="Authorize")
    def authorize(self, session_id: DBusStr, token: DBusStr, token_type: DBusStr) -> None:
        if self.arrived is not None and not self.arrived.done():
            self.arrived.set_result(time.perf_counter())

    @method(name="SetReservation")
    def set_reservation(self, reservation_id: DBusStr, expires_at: DBusDouble) -> None:
        pass

    @signal(name="SessionStarted")
    def session_started(self, session_id: str) -> DBusStr:
        return session_id

    @signal(name="SessionFinished")
    def session_finished(self, session_id: str, reason: str) -> Pair:
        return [session_id, reason]

    @dbus_property(access=PropertyAccess.READ, name="SessionId")
    def session_id(self) -> DBusStr:
        return self.session


def start_auth(bus: PrivateBus, root: Path, config: Path) -> "subprocess.Popen[bytes]":
    notify = root.parent / f"notify-{uuid.uuid4().hex[:8]}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(WAIT_S)
        proc = subprocess.Popen(
            [sys.executable, "-m", "ccy.auth", "--root", str(root), "--config", str(config)],
            env={**bus.environ(), "NOTIFY_SOCKET": str(notify)},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(root.parent / "auth.log").open("ab"),
        )  # fmt: skip
        while b"READY=1" not in sock.recv(4096).split(b"\n"):
            pass
    return proc


async def cycles(address: str, tokens: list[str], kind: str) -> list[float]:
    evse_bus = await MessageBus(bus_address=address).connect()
    evse = Evse()
    evse_bus.export(EVSE_PATH, evse)
    await evse_bus.request_name(EVSE_NAME)
    client = await MessageBus(bus_address=address).connect()
    await asyncio.sleep(0.5)  # ccy-auth sees the new owner of org.ccy.Evse
    times: list[float] = []
    loop = asyncio.get_running_loop()
    for token in tokens:
        evse.session = str(uuid.uuid4())
        evse.session_started(evse.session)
        await asyncio.sleep(0.01)  # the session is known before the token (the seed's order)
        evse.arrived = loop.create_future()
        start = time.perf_counter()
        reply = await client.call(
            Message(destination=BUS_NAME, path=OBJECT_PATH, interface=IFACE,
                    member="ProvideToken", signature="sssais", body=[token, kind, "", [], ""])
        )  # fmt: skip
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
        assert reply.body[1] == "Pending", reply.body
        end = await asyncio.wait_for(evse.arrived, WAIT_S)
        times.append((end - start) * 1000)
        evse.session_finished(evse.session, "EVDisconnected")
        await asyncio.sleep(0.005)
    client.disconnect()
    evse_bus.disconnect()
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, ms: list[float]) -> None:
    print(
        f"  {name:<44} n={len(ms):4d}  p50 {pct(ms, 0.50):7.2f} ms  p99 {pct(ms, 0.99):7.2f} ms"
        f"  max {max(ms):7.2f} ms"
    )


def bus_bench(n: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="ccy-bench-auth-"))
    directory.chmod(0o755)
    bus = PrivateBus(directory / "bus", [dbus_dir() / "policy"], user_policy(getpass.getuser()))
    bus.start()
    try:
        setups = {
            "accept_all (delay 0)": ("[accept_all]", [f"TOKEN-{i}" for i in range(n)], "EIM"),
            f"local_list ({LIST_SIZE:,} ids)": (
                "[local_list]",
                [f"{(i * 499) % LIST_SIZE:08X}" for i in range(n)],
                "RFID",
            ),
        }
        list_file = directory / "root" / "etc/ccy/auth/tokens.yaml"
        list_file.parent.mkdir(parents=True)
        list_file.write_text(
            "tokens:\n" + "".join(f"  - id: {i:08X}\n    type: RFID\n" for i in range(LIST_SIZE))
        )
        print("token in → Evse1.Authorize out (ccy-auth on a private bus):")
        for name, (validators, tokens, kind) in setups.items():
            config = directory / "auth.yaml"
            config.write_text(
                "auth:\n  providers: [operator]\n"
                f"  validators: {validators}\n  accept_all_delay_ms: 0\n"
                "  local_list_file: /etc/ccy/auth/tokens.yaml\n  connection_timeout_s: 30\n"
            )
            loaded = time.perf_counter()
            proc = start_auth(bus, directory / "root", config)
            ready_s = time.perf_counter() - loaded
            try:
                report(name, asyncio.run(cycles(bus.address, tokens, kind)))
                print(f"  {'':<44} (start to READY {ready_s:.1f} s, list loaded)")
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    finally:
        bus.stop()
        log = directory / "auth.log"
        if sys.exc_info()[0] is not None and log.exists():
            print(log.read_text()[-3000:], file=sys.stderr)
        shutil.rmtree(directory, ignore_errors=True)


def pnc_bench(n: int) -> None:
    print("PnC contract chain validation (leaf + 2 Sub-CAs → MO root), per contract:")
    for curve in ("p256", "p521"):
        directory = Path(tempfile.mkdtemp(prefix="ccy-bench-pnc-"))
        try:
            pki = make_v2g_dev_pki(directory / "certs", mo_curve=CURVES[curve])
            v = PncValidator(pki.layout.mo_root.parent)
            v.reload()
            chain = pki.layout.contract_chain.read_text()
            ms = []
            for _ in range(n):
                start = time.perf_counter()
                verdict = v.check(DEFAULT_EMAID, chain)
                ms.append((time.perf_counter() - start) * 1000)
                assert verdict.accepted, verdict
            report(f"{curve} ({pki.issued['MO_ROOT_CA'].key.curve.name})", ms)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    n = int(numbers[0]) if numbers else 200
    if "--bus-only" not in sys.argv:
        pnc_bench(n)
    bus_bench(n)


if __name__ == "__main__":
    main()
