# SPDX-License-Identifier: Apache-2.0
"""The RFID simulator's control socket (JSON lines) and a client for tests and ccy-sim.

Commands, one JSON object per line, each answered by one line ``{"ok": true, …}`` or
``{"ok": false, "error": "…"}``:

    {"cmd": "card", "uid": "04A2B3C4"}        present a card (UID line)
    {"cmd": "hello", "text": "…"}             the reader's start line
    {"cmd": "error", "text": "antenna"}       an ERR line
    {"cmd": "raw", "hex": "ff00"}             any bytes (garbage for the host's parser)
    {"cmd": "answers"}                        → {"ok": true, "answers": ["OK", "NOK Blocked"]}
"""

import asyncio
import contextlib
import json
import socket
from pathlib import Path
from typing import Any

from ccy.sim.rfid.reader import RfidSimulator, ScenarioError

MAX_LINE = 64 * 1024
CLIENT_TIMEOUT_S = 5.0


def handle(sim: RfidSimulator, command: Any) -> dict[str, Any]:
    if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
        return {"ok": False, "error": 'expected {"cmd": …}'}
    cmd = command["cmd"]
    try:
        if cmd == "card":
            sim.card(str(command.get("uid", "")))
        elif cmd == "hello":
            sim.hello(str(command.get("text", "ccy-sim RFID reader 1.0")))
        elif cmd == "error":
            sim.error(str(command.get("text", "")))
        elif cmd == "raw":
            sim.send(bytes.fromhex(str(command.get("hex", ""))))
        elif cmd == "answers":
            return {"ok": True, "answers": list(sim.answers)}
        else:
            return {"ok": False, "error": f"unknown command {cmd[:32]!r}"}
    except (ScenarioError, ValueError, OSError, RuntimeError) as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


class ControlServer:
    def __init__(self, path: Path, sim: RfidSimulator) -> None:
        self.path = path
        self.sim = sim
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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(b'{"ok": false, "error": "line too long"}\n')
                    break
                if not line:
                    break
                try:
                    reply = handle(self.sim, json.loads(line))
                except (ValueError, UnicodeDecodeError) as exc:
                    reply = {"ok": False, "error": f"not JSON: {exc}"}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


def request(path: Path, command: dict[str, Any]) -> dict[str, Any]:
    """One command to the simulator at ``path``; its reply (blocking, for tests and CLIs)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CLIENT_TIMEOUT_S)
        sock.connect(str(path))
        sock.sendall(json.dumps(command).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data)
    if not isinstance(reply, dict):
        raise ValueError("the simulator's reply is not a JSON object")
    return reply
