# SPDX-License-Identifier: Apache-2.0
"""DIR of a simulated stack, laid out as a root folder the units run in with ``--root DIR``.

DIR/etc/ccy/config.yaml → sim.yaml (the simulator profile), DIR/dev/ttyLP2 → the MCU
simulator's pty, DIR/sys/class/leds/… (the LED class files), DIR/run/bus (the private bus),
DIR/run/sim (notify sockets), DIR/log/<process>.log, DIR/stack.json (what runs, see
ccy.sim.supervisor).
"""

import errno
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ccy.pki.v2g_dev import make_v2g_dev_pki
from ccy.runtime.paths import profiles_dir
from ccy.sim.mcu.control import mcu_control_path

LED_NAMES = ("ccy:red:status", "ccy:green:charging", "ccy:red:error")
SUN_PATH_MAX = 107
"""Longest unix socket path (sockaddr_un.sun_path is 108 bytes with the terminating NUL)."""


class LayoutError(RuntimeError):
    """DIR cannot hold a stack; the message names the cause and the fix."""


@dataclass
class Layout:
    dir: Path

    @property
    def state_file(self) -> Path:
        return self.dir / "stack.json"

    @property
    def log_dir(self) -> Path:
        return self.dir / "log"

    @property
    def sim_run(self) -> Path:
        return self.dir / "run" / "sim"

    @property
    def bus_dir(self) -> Path:
        return self.dir / "run" / "bus"

    @property
    def tty_link(self) -> Path:
        return self.dir / "dev" / "ttyLP2"

    @property
    def reset_fifo(self) -> Path:
        return self.dir / "run" / "ccy" / "sim" / "mcu-reset"

    @property
    def control(self) -> Path:
        return mcu_control_path(self.dir)

    @property
    def rfid_tty_link(self) -> Path:
        """The RFID reader simulator's pseudo-terminal, where auth.rfid_port points."""
        return self.dir / "dev" / "ttyRFID"

    @property
    def rfid_control(self) -> Path:
        return self.sim_run / "rfid.sock"

    def notify_socket(self, name: str) -> Path:
        return self.sim_run / f"notify-{name}.sock"

    @property
    def placeholders(self) -> dict[str, str]:
        """The values of {root}, {tty_link}, … in the stack table's arguments."""
        return {
            "root": str(self.dir),
            "tty_link": str(self.tty_link),
            "reset_fifo": str(self.reset_fifo),
            "control": str(self.control),
            "rfid_tty_link": str(self.rfid_tty_link),
            "rfid_control": str(self.rfid_control),
        }

    def sockets(self, names: Iterable[str]) -> list[Path]:
        """Every unix socket of a stack whose processes have these names."""
        return [
            self.bus_dir / "system_bus_socket",
            self.control,
            self.rfid_control,
            *(self.notify_socket(n) for n in names),
        ]

    def check(self, names: Iterable[str] = ()) -> None:
        """DIR is usable: a folder (or creatable), writable, short enough for the unix sockets
        of processes named ``names``."""
        d = self.dir
        if d.exists() and not d.is_dir():
            raise LayoutError(f"--dir {d} is a file, not a folder; name a folder (made if missing)")
        if not d.exists() and not d.parent.is_dir():
            raise LayoutError(
                f"--dir {d}: parent folder {d.parent} does not exist; create it or choose another"
            )
        longest = max(len(os.fsencode(s)) for s in self.sockets(names))
        if longest > SUN_PATH_MAX:
            raise LayoutError(
                f"--dir {d} is too long for the stack's unix sockets ({longest} > {SUN_PATH_MAX}"
                " bytes); choose a shorter path"
            )
        try:
            d.mkdir(exist_ok=True)
            probe = d / ".ccy-sim-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            fix = "choose a writable folder" if exc.errno != errno.ENOSPC else "free some space"
            raise LayoutError(f"--dir {d}: cannot write there ({reason}); {fix}") from None

    def prepare(self) -> None:
        """Lay out DIR as a root folder: folders, the simulator profile as config, LEDs."""
        for d in (
            self.log_dir,
            self.sim_run,
            self.bus_dir,
            self.tty_link.parent,
            self.reset_fifo.parent,
            self.dir / "etc" / "ccy",
        ):
            d.mkdir(parents=True, exist_ok=True)
        profile = self.dir / "etc" / "ccy" / "sim.yaml"
        shutil.copyfile(profiles_dir() / "sim.yaml", profile)
        link = self.dir / "etc" / "ccy" / "config.yaml"
        link.unlink(missing_ok=True)
        link.symlink_to("sim.yaml")
        certs = self.dir / "etc" / "ccy" / "certs"
        if not certs.exists():  # ccy-v2g's TLS: the development chains, made once per folder
            make_v2g_dev_pki(certs)
        for name in LED_NAMES:
            led = self.dir / "sys" / "class" / "leds" / name
            led.mkdir(parents=True, exist_ok=True)
            for attr, value in (
                ("brightness", "0"),
                ("trigger", "none"),
                ("delay_on", "0"),
                ("delay_off", "0"),
            ):
                (led / attr).write_text(value + "\n")
