# SPDX-License-Identifier: Apache-2.0
"""The MCU simulator's scenario control socket and its client.

A unix stream socket; the client writes one JSON object per line and reads one JSON reply
per line (``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``). The commands are listed
in :mod:`ccy.sim.mcu.commands`. Bad input (invalid JSON, an over-long line, unknown commands,
bad arguments) gets an error reply; the server keeps serving.
"""

import asyncio
import contextlib
import json
import logging
import socket
from pathlib import Path
from typing import Any

from ccy.sim.mcu.commands import CommandHandler

MAX_LINE = 64 * 1024
CLIENT_TIMEOUT_S = 5.0


class ControlError(RuntimeError):
    """The control socket could not be reached, or its answer was not a JSON object."""


def mcu_control_path(directory: Path) -> Path:
    """Where ``ccy-sim`` keeps the MCU simulator's control socket under a run folder."""
    return directory / "run" / "sim" / "mcu.sock"


class ControlServer:
    def __init__(self, path: Path, handler: CommandHandler, log: logging.Logger) -> None:
        self.path = path
        self.handler = handler
        self.log = log
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_LINE
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.path.unlink(missing_ok=True)

    def reply_to(self, line: bytes) -> dict[str, Any]:
        try:
            command = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            return {"ok": False, "error": f"not JSON: {exc}"}
        reply = self.handler.handle(command)
        if not reply["ok"]:
            self.log.warning("scenario command refused: %s", reply["error"])
        elif command.get("cmd") == "status":
            self.log.debug("scenario: status")
        else:
            self.log.info("scenario: %s", json.dumps(command, sort_keys=True))
        return reply

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    line = exc.partial
                    if not line.strip():
                        break
                except asyncio.LimitOverrunError:
                    writer.write(b'{"ok": false, "error": "line longer than 64 KiB"}\n')
                    break
                if line.strip():
                    reply = self.reply_to(line)
                    writer.write(json.dumps(reply).encode() + b"\n")
                    await writer.drain()
        except (ConnectionError, OSError) as exc:
            self.log.debug("control connection dropped: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


def send_command(sock_path: Path, command: dict[str, Any]) -> dict[str, Any]:
    """Send one command to the simulator at ``sock_path`` and return its reply (blocking)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CLIENT_TIMEOUT_S)
            sock.connect(str(sock_path))
            sock.sendall(json.dumps(command).encode() + b"\n")
            with sock.makefile("rb") as stream:
                line = stream.readline(MAX_LINE)
    except OSError as exc:
        raise ControlError(f"MCU simulator at {sock_path}: {exc}") from exc
    try:
        reply = json.loads(line)
    except ValueError as exc:
        raise ControlError(f"MCU simulator at {sock_path} answered {line[:80]!r}") from exc
    if not isinstance(reply, dict):
        raise ControlError(f"MCU simulator at {sock_path} answered {reply!r}")
    return reply
