# SPDX-License-Identifier: Apache-2.0
"""The main loop every ccy unit shares.

``run_unit`` parses the common options (``--root``, ``--config``, ``--log-level``), sets up
logging, loads and validates the configuration (exit 78, EX_CONFIG, with one journal line
naming every problem: the unit never starts half-configured), builds the unit, starts it
(hardware up, bus name owned), reports READY=1 and STATUS=, pings the watchdog, and on
SIGTERM/SIGINT stops it cleanly (STOPPING=1, exit 0). An unexpected exception is logged and
ends the process with status 1 (69 for a missing device or bus, stated in one line) so that
``Restart=on-failure`` brings it back; whatever a unit
must leave safe on a crash it leaves safe in hardware (the safety MCU's own link watchdog).
"""

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ccy.runtime import notify
from ccy.runtime.config import EX_CONFIG, Config, ConfigError, load_config
from ccy.runtime.journal import setup_logging
from ccy.runtime.paths import Paths

EX_OK = 0
EX_FAILURE = 1
EX_UNAVAILABLE = 69  # sysexits.h: a service or device the unit needs is not there


class UnitStartError(RuntimeError):
    """The unit cannot start for a reason its message states fully (no traceback needed)."""


class Unit(Protocol):
    """What a unit hands to the main loop."""

    async def start(self) -> None:
        """Bring the hardware up and own the bus name; return when ready for READY=1."""

    async def stop(self) -> None:
        """Leave the hardware safe and release everything."""

    def status_text(self) -> str:
        """One line for ``systemctl status`` (STATUS=)."""


@dataclass(frozen=True)
class UnitContext:
    name: str
    paths: Paths
    config: Config
    log: logging.Logger


def parse_args(name: str, argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=name)
    parser.add_argument(
        "--root", metavar="DIR", help="relocate /etc/ccy, /var/lib/ccy, /var/log/ccy, /run/ccy"
    )
    parser.add_argument(
        "--config", metavar="FILE", help="config file (default: ROOT/etc/ccy/config.yaml)"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser.parse_args(argv)


def load_unit_config(paths: Paths, config_arg: str | None, log: logging.Logger) -> Config:
    path = Path(config_arg) if config_arg else paths.config_file
    if not path.exists() and config_arg is None:
        log.info("No configuration at %s: using the defaults of every key", path)
        return Config.defaults()
    return load_config(path)


def run_unit(
    name: str, factory: Callable[[UnitContext], Unit], argv: Sequence[str] | None = None
) -> int:
    args = parse_args(name, argv)
    log = setup_logging(name, getattr(logging, args.log_level))
    paths = Paths.from_root(args.root)
    try:
        config = load_unit_config(paths, args.config, log)
    except ConfigError as exc:
        log.critical("Invalid configuration, not starting: %s", "; ".join(map(str, exc.problems)))
        return EX_CONFIG
    ctx = UnitContext(name=name, paths=paths, config=config, log=log)
    try:
        return asyncio.run(_serve(ctx, factory))
    except UnitStartError as exc:
        log.critical("Not starting: %s", exc)
        return EX_UNAVAILABLE
    except Exception:
        log.critical("%s failed", name, exc_info=True)
        return EX_FAILURE


async def _serve(ctx: UnitContext, factory: Callable[[UnitContext], Unit]) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    unit = factory(ctx)
    starting = asyncio.create_task(unit.start(), name="start")
    stopper = asyncio.create_task(stop.wait(), name="stop-request")
    done, _ = await asyncio.wait({starting, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if starting not in done:
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await unit.stop()
        return EX_OK
    try:
        starting.result()
    except BaseException:
        await unit.stop()
        raise
    notify.ready(unit.status_text())
    watchdog = notify.start_watchdog()
    ctx.log.info("%s ready", ctx.name)
    await stopper
    notify.stopping()
    ctx.log.info("%s stopping", ctx.name)
    await notify.stop_task(watchdog)
    await unit.stop()
    return EX_OK
