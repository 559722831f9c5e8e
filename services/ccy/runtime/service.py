# SPDX-License-Identifier: Apache-2.0
"""The main loop every ccy unit shares.

``run_unit`` parses the common options (``--root``, ``--config``, ``--log-level``), sets up
logging, logs the version line (``ccy-bsp 0.1.0 (git 1a2b3c4) starting``), loads and
validates the configuration (exit 78, EX_CONFIG, with one journal line
naming every problem: the unit never starts half-configured), builds the unit, starts it
(hardware up, bus name owned), returns the heap that start-up freed to the kernel
(:mod:`ccy.runtime.heap`), reports READY=1 and STATUS=, pings the watchdog, and on
SIGTERM/SIGINT stops it cleanly (STOPPING=1, exit 0). An unexpected exception is logged and
ends the process with status 1 (69 for a missing device or bus, stated in one line) so that
``Restart=on-failure`` brings it back; whatever a unit
must leave safe on a crash it leaves safe in hardware (the safety MCU's own link watchdog).

Health: a task the unit handed to ``ctx.supervise`` that dies ends the unit with status 1
(:mod:`ccy.runtime.supervisor`), and the watchdog ping stops while ``unit.healthy()`` is False.
"""

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ccy.runtime import notify
from ccy.runtime.config import EX_CONFIG, Config, ConfigError, load_config
from ccy.runtime.heap import release_free_heap
from ccy.runtime.journal import setup_logging
from ccy.runtime.paths import Paths
from ccy.runtime.redact import RedactionKeyError, Redactor, install_log_redaction
from ccy.runtime.supervisor import Supervisor
from ccy.runtime.version import version_line

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

    def healthy(self) -> bool:
        """False withholds the systemd watchdog ping (systemd then restarts the unit)."""


@dataclass(frozen=True)
class UnitContext:
    name: str
    paths: Paths
    config: Config
    log: logging.Logger
    redactor: Redactor
    """Passes identities (tokens, EVCCIDs, EMAIDs, certificates) through the keyed hash."""
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "supervisor", Supervisor(self.log))

    def supervise(self, task: "asyncio.Task[Any]", forever: bool = False) -> "asyncio.Task[Any]":
        """End the unit with status 1 if ``task`` dies (see :mod:`ccy.runtime.supervisor`)."""
        return self.supervisor.supervise(task, forever)


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
    log.info("%s", version_line(name))
    paths = Paths.from_root(args.root)
    try:
        config = load_unit_config(paths, args.config, log)
    except ConfigError as exc:
        log.critical("Invalid configuration, not starting: %s", "; ".join(map(str, exc.problems)))
        return EX_CONFIG  # before the redaction key: an invalid config touches nothing
    try:
        redactor = Redactor.for_paths(paths)
    except RedactionKeyError as exc:
        # No unit runs without redaction: identities would reach the journal in clear.
        log.critical("Not starting: %s", exc)
        return EX_UNAVAILABLE
    install_log_redaction(redactor)
    ctx = UnitContext(name=name, paths=paths, config=config, log=log, redactor=redactor)
    try:
        return asyncio.run(_serve(ctx, factory))
    except ConfigError as exc:  # a unit's settings bind failed (the loader caught the rest)
        log.critical("Invalid configuration, not starting: %s", "; ".join(map(str, exc.problems)))
        return EX_CONFIG
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
    failed = asyncio.create_task(ctx.supervisor.wait_failed(), name="supervisor")
    try:
        done, _ = await asyncio.wait(
            {starting, stopper, failed}, return_when=asyncio.FIRST_COMPLETED
        )
        if starting not in done:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            await _stop(ctx, unit)
            return EX_FAILURE if failed in done else EX_OK
        try:
            starting.result()
        except BaseException:
            await _stop(ctx, unit)
            raise
        release_free_heap()  # what start-up freed leaves the RSS (< 1 ms)
        notify.ready(unit.status_text())
        watchdog = notify.start_watchdog(unit.healthy, ctx.log)
        ctx.log.info("%s ready", ctx.name)
        await asyncio.wait({stopper, failed}, return_when=asyncio.FIRST_COMPLETED)
        notify.stopping()
        await notify.stop_task(watchdog)
        if failed.done():
            ctx.log.critical("%s stopping after a failure: %s", ctx.name, failed.result())
            await _stop(ctx, unit)
            return EX_FAILURE
        ctx.log.info("%s stopping", ctx.name)
        await _stop(ctx, unit)
        return EX_OK
    finally:
        for task in (stopper, failed):
            task.cancel()


async def _stop(ctx: UnitContext, unit: Unit) -> None:
    """The unit's own stop (it leaves the hardware safe), then whatever it left supervised."""
    try:
        await unit.stop()
    finally:
        await ctx.supervisor.cancel_all()
