# SPDX-License-Identifier: Apache-2.0
"""The demo's power stage: ccy-profinet in mode simulated, and its fault injection.

When the stack table runs ccy-profinet, the demo uses it. Until then the demo starts the unit
itself, beside the stack and on its bus (``python -m ccy.profinet.main --root DIR`` with the
simulator profile plus ``profinet: {mode: simulated}`` as its --config), waits for its READY=1
and logs it to DIR/log/ccy-profinet.log, so the merged journal has it like any unit. The
fault comes from the power stage's side as it would on a charger: a supply fault injected on
``org.ccy.sim.PowerStageFaults1`` (/org/ccy/sim/PowerStage, simulated mode only).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from ccy.profinet.contract import BUS_NAME, FAULTS_IFACE, FAULTS_OBJECT_PATH
from ccy.sim.stack import Stack

UNIT = "ccy-profinet"
READY_WAIT_S = 20.0
STOP_WAIT_S = 10.0
CONFIG_NAME = "demo-profinet.yaml"


class PowerStageError(RuntimeError):
    """The power stage could not be started or did not take a command."""


class DemoPowerStage:
    """ccy-profinet (mode simulated): the stack's unit, or one the demo runs beside it."""

    def __init__(self, stack: Stack, in_stack: bool) -> None:
        self.stack = stack
        self.in_stack = in_stack
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start ccy-profinet beside the stack unless the stack runs it; READY=1 awaited."""
        if self.in_stack:
            return
        lay = self.stack.layout
        etc = lay.dir / "etc" / "ccy"
        profile = yaml.safe_load((etc / "sim.yaml").read_text()) or {}
        profile.setdefault("profinet", {})["mode"] = "simulated"
        config = etc / CONFIG_NAME
        config.write_text(yaml.safe_dump(profile, sort_keys=False))
        notify = lay.notify_socket(UNIT)
        notify.unlink(missing_ok=True)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify))
            env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
            env.update(DBUS_SYSTEM_BUS_ADDRESS=self.stack.address(), NOTIFY_SOCKET=str(notify))
            argv = [sys.executable, "-m", "ccy.profinet.main", "--root", str(lay.dir)]
            with (lay.log_dir / f"{UNIT}.log").open("ab") as log:
                self.proc = subprocess.Popen(
                    [*argv, "--config", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    start_new_session=True,
                )
            try:
                self._wait_ready(sock, lay.log_dir / f"{UNIT}.log")
            finally:
                notify.unlink(missing_ok=True)

    def _wait_ready(self, sock: socket.socket, log: Path) -> None:
        assert self.proc is not None
        sock.settimeout(0.1)
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PowerStageError(f"{UNIT} exited {self.proc.returncode} at start; see {log}")
            try:
                if "READY=1" in sock.recv(4096).decode(errors="replace").splitlines():
                    return
            except TimeoutError:
                continue
        raise PowerStageError(f"{UNIT} sent no READY=1 within {READY_WAIT_S:g} s; see {log}")

    def stop_before_stack(self) -> None:
        """Our own ccy-profinet stops after ccy-evse (so ccy-evse does not see its power stage
        vanish) and before the bus: ccy-evse first (SIGTERM, a clean exit the stack does not
        restart), then ours. Nothing to do when the stack runs ccy-profinet."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        evse = self.stack.pids().get("ccy-evse")
        if evse is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(evse, signal.SIGTERM)
            deadline = time.monotonic() + STOP_WAIT_S
            while time.monotonic() < deadline:
                state = self.stack.processes().get("ccy-evse", {}).get("state")
                if state not in ("running", "starting"):
                    break
                time.sleep(0.02)
        proc.terminate()
        try:
            proc.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill_leftover(self) -> None:
        """After the stack is down: make sure our process is gone."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


async def fault(bus: MessageBus, member: str, name: str) -> None:
    """``Inject``/``Clear`` a fault of the simulated power stage ("supply", "isolation", …)."""
    reply = await bus.call(
        Message(
            destination=BUS_NAME,
            path=FAULTS_OBJECT_PATH,
            interface=FAULTS_IFACE,
            member=member,
            signature="s",
            body=[name],
        )
    )
    if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
        why = f"{reply.error_name}: {reply.body}" if reply is not None else "no reply"
        raise PowerStageError(f"{FAULTS_IFACE}.{member}({name!r}) failed: {why}")
