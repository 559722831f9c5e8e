# SPDX-License-Identifier: Apache-2.0
"""The scenario control socket, the ccy-sim drive commands and ``python -m ccy.sim.mcu``."""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ccy.sim import cli_mcu
from ccy.sim.mcu.commands import CommandHandler
from ccy.sim.mcu.control import (
    ControlError,
    ControlServer,
    mcu_control_path,
    send_command,
)
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.server import McuSimulator


def handler() -> CommandHandler:
    return CommandHandler(McuSimulator(McuModel()))


def test_control_path_under_the_run_folder(tmp_path: Path) -> None:
    assert mcu_control_path(tmp_path) == tmp_path / "run" / "sim" / "mcu.sock"


def test_every_command_applies() -> None:
    h = handler()
    model = h.sim.model
    model.initialised = True
    assert h.handle({"cmd": "plug"}) == {"ok": True}
    assert h.handle({"cmd": "set_ce", "state": "c"})["ok"]
    assert model.ev_ce == "C"
    assert h.handle({"cmd": "temp", "channel": 2, "degC": 70})["ok"]
    assert h.handle({"cmd": "temp", "channel": 3, "degC": None})["ok"]
    assert [c.degC for c in model.channels][1:3] == [70.0, None]
    assert h.handle({"cmd": "selftest_fail", "channel": 4, "failed": True})["ok"]
    assert h.handle({"cmd": "error", "module": "APP_HVSWITCH", "reason": 3, "active": True}) == {
        "ok": True,
        "changed": True,
    }
    assert h.handle({"cmd": "firmware", "version": "1.0.7", "git_hash": "g00ff"})["ok"]
    assert (model.firmware.version, model.git_hash) == ("1.0.7", 0xFF)
    assert h.handle({"cmd": "estop", "reason": "EmergencyInput"})["ok"]
    assert h.handle({"cmd": "estop", "reason": "clear"})["ok"]
    assert model.scenario_estop == "NoStop"
    assert h.handle({"cmd": "silence", "seconds": 0.5})["ok"]
    assert h.sim.silent()
    assert h.handle({"cmd": "silence", "seconds": 0})["ok"]
    assert h.handle({"cmd": "corrupt", "kind": "bad_crc", "count": 2}) == {"ok": True, "pending": 2}
    status = h.handle({"cmd": "status"})
    assert status["ok"]
    assert status["plugged"] is True
    assert status["pending_corruptions"] == 2
    assert status["safe_state"] is True
    json.dumps(status)  # plain data
    assert h.handle({"cmd": "unplug"})["ok"]


def test_commands_of_the_mcu_checks() -> None:
    h = handler()
    model = h.sim.model
    assert h.handle({"cmd": "estop_confirm", "delay_ms": 250})["ok"]
    assert model.estop_confirm_delay_s == 0.25
    assert h.handle({"cmd": "estop_confirm", "never": True})["ok"]
    assert model.estop_confirm_delay_s is None
    assert h.handle({"cmd": "host_timeout", "ms": 2500})["ok"]
    assert model.host_timeout_s == 2.5
    assert h.handle({"cmd": "reset_min_pulse", "ms": 0})["ok"]
    assert model.reset_min_pulse_s == 0
    assert h.handle({"cmd": "firmware", "parameter_version": 0x1234})["ok"]
    status = h.handle({"cmd": "status"})
    assert (status["estop_confirm_delay_ms"], status["host_timeout_ms"]) == (None, 2500)
    assert status["parameter_version"] == 0x1234


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ([1, 2], "JSON object"),
        ({"nope": 1}, "unknown command None"),
        ({"cmd": "fly"}, "unknown command 'fly'"),
        ({"cmd": "set_ce", "state": "C"}, "plug first"),
        ({"cmd": "set_ce"}, "missing argument 'state'"),
        ({"cmd": "set_ce", "state": "Z"}, "unknown CE state 'Z'"),
        ({"cmd": "estop", "reason": "Bored"}, "unknown E-stop reason"),
        ({"cmd": "temp", "channel": 0, "degC": 20}, "channel 0"),
        ({"cmd": "temp", "channel": 1, "degC": "hot"}, "wrong type"),
        ({"cmd": "temp", "channel": True, "degC": 20}, "boolean"),
        ({"cmd": "temp", "channel": 1, "degC": 1e9}, "does not fit"),
        ({"cmd": "error", "module": "MW_X", "reason": 1, "active": True}, "unknown error module"),
        ({"cmd": "error", "module": 1, "reason": -1, "active": True}, "out of range"),
        ({"cmd": "firmware"}, "version"),
        ({"cmd": "firmware", "git_hash": "xyz"}, "hexadecimal"),
        ({"cmd": "silence", "seconds": -1}, "out of range"),
        ({"cmd": "corrupt", "kind": "melt"}, "unknown corruption kind"),
        ({"cmd": "corrupt", "kind": "garbage", "count": 0}, "out of range"),
        ({"cmd": "raw_frame", "com": 0x10, "data": -1}, "64 bits"),
        ({"cmd": "estop_confirm"}, "either 'delay_ms' or 'never'"),
        ({"cmd": "estop_confirm", "never": True, "delay_ms": 5}, "either"),
        ({"cmd": "estop_confirm", "delay_ms": -5}, "out of range"),
        ({"cmd": "host_timeout", "ms": 5}, "out of range"),
        ({"cmd": "host_timeout"}, "missing argument 'ms'"),
        ({"cmd": "reset_min_pulse", "ms": 5000}, "out of range"),
        ({"cmd": "firmware", "parameter_version": 1 << 16}, "16 bits"),
    ],
)
def test_bad_commands_get_clear_errors(command: Any, error: str) -> None:
    reply = handler().handle(command)
    assert reply["ok"] is False
    assert error in reply["error"]


def test_socket_survives_bad_input(tmp_path: Path) -> None:
    path = mcu_control_path(tmp_path)

    def client() -> list[Any]:
        replies: list[Any] = []
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            sock.sendall(b"{not json\n\xff\xfe\n[]\n\n" + b'{"cmd": "plug"}\n')
            stream = sock.makefile("rb")
            replies = [json.loads(stream.readline()) for _ in range(4)]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            sock.sendall(b"x" * (70 * 1024) + b"\n")
            replies.append(json.loads(sock.makefile("rb").readline()))
        replies.append(send_command(path, {"cmd": "status"}))
        return replies

    async def body() -> list[Any]:
        h = handler()
        server = ControlServer(path, h, h.sim.log)
        await server.start()
        try:
            return await asyncio.to_thread(client)
        finally:
            await server.stop()

    replies = asyncio.run(body())
    assert [r["ok"] for r in replies] == [False, False, False, True, False, True]
    assert "not JSON" in replies[0]["error"]
    assert "64 KiB" in replies[4]["error"]
    assert replies[5]["plugged"] is True
    assert not path.exists()


def test_send_command_without_a_simulator(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="MCU simulator at"):
        send_command(tmp_path / "none.sock", {"cmd": "status"})


def _wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "simulator did not start"
        time.sleep(0.05)


def _pulse(fifo: Path) -> None:
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, b"0\n1\n")
    finally:
        os.close(fd)


def _wait_status(control: Path, key: str, value: object) -> None:
    deadline = time.monotonic() + 10
    while send_command(control, {"cmd": "status"})[key] != value:
        assert time.monotonic() < deadline, f"status {key} never became {value}"
        time.sleep(0.05)


def test_simulator_settings_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from ccy.sim.mcu.__main__ import main

    with pytest.raises(SystemExit):
        main(["--tty-link", "x", "--reset-fifo", "y", "--control", "z",
              "--host-timeout-ms", "5"])  # fmt: skip
    err = capsys.readouterr().err
    assert "host timeout 0.005 s is out of range" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["--tty-link", "x", "--reset-fifo", "y", "--control", "z",
              "--estop-never-confirm", "--estop-confirm-delay-ms", "5"])  # fmt: skip
    assert "not allowed with" in capsys.readouterr().err


def test_standalone_simulator_cli_and_clean_sigterm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "dev" / "ttyLP2"
    fifo = tmp_path / "run" / "ccy" / "sim" / "mcu-reset"
    control = mcu_control_path(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ccy.sim.mcu", "--tty-link", str(link),
         "--reset-fifo", str(fifo), "--control", str(control), "--reset-min-pulse-ms", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for(control, proc)
        assert link.is_symlink()
        assert fifo.exists()
        parser = argparse.ArgumentParser()
        cli_mcu.register(parser.add_subparsers(dest="command", required=True))
        d = ["--dir", str(tmp_path)]
        for argv, ok in (
            (["plug", *d], True),
            (["ce", "C", *d], True),
            (["temp", "1", "72.5", *d], True),
            (["temp", "2", "unused", *d], True),
            (["estop", "EmergencyInput", *d], True),
            (["estop", "clear", *d], True),
            (["mcu-error", "APP_HVSWITCH", "0x12", "on", *d], True),
            (["silence", "0", *d], True),
            (["corrupt", "garbage", "2", *d], True),
            (["corrupt", "melt", *d], False),
            (["estop-confirm", "--delay-ms", "300", *d], True),
            (["estop-confirm", "--never", *d], True),
            (["mcu-host-timeout", "1500", *d], True),
            (["mcu-host-timeout", "1", *d], False),
            (["unplug", *d], True),
        ):
            args = parser.parse_args(argv)
            assert args.func(args) == (0 if ok else 1), argv
        args = parser.parse_args(["mcu-status", *d])
        capsys.readouterr()
        assert args.func(args) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["temperatures_degC"][:2] == [72.5, None]
        assert status["errors"][0]["module_name"] == "APP_HVSWITCH"
        assert (status["estop_confirm_delay_ms"], status["host_timeout_ms"]) == (None, 1500)
        assert status["reset_min_pulse_ms"] == 2.0  # from the command line
        # The reset FIFO takes the host driver's lines; "0" and "1" in one write are a pulse
        # of no width: counted, not a reset.
        _pulse(fifo)
        _wait_status(control, "short_reset_pulses", 1)
        args = parser.parse_args(["mcu-reset-min-pulse", "0", *d])
        assert args.func(args) == 0
        _pulse(fifo)
        _wait_status(control, "resets", 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert b"Traceback" not in out
    assert not link.exists() and not link.is_symlink()
    assert not control.exists()
    assert not fifo.exists()


def test_cli_reports_a_missing_simulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    cli_mcu.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["plug", "--dir", str(tmp_path)])
    assert args.func(args) == 1
    assert "ccy-sim up" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["temp", "1", "warm", "--dir", str(tmp_path)])
