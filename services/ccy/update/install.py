# SPDX-License-Identifier: Apache-2.0
"""The install flow of ``ccyctl update install`` against a small port (no D-Bus here).

RAUC's InstallBundle returns as soon as the installation starts; progress arrives as changes
of the Progress property and the end as the Completed(i) signal (0 = success), after which
LastError says why it failed (RAUC manual, "D-Bus API"). The flow refuses early what RAUC would
refuse less clearly: a missing file, and a second installation while one runs.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from ccy.update.errors import BundleNotFoundError, InstallBusyError, InstallFailedError
from ccy.update.model import IDLE, Progress

ProgressCallback = Callable[[Progress], None]


class InstallerPort(Protocol):
    """What the flow needs from RAUC; :class:`ccy.update.client.RaucClient` implements it."""

    async def operation(self) -> str: ...

    async def last_error(self) -> str: ...

    async def watch(self, on_progress: ProgressCallback) -> Awaitable[int]:
        """Subscribe to Progress and Completed; the awaitable yields Completed's result."""
        ...

    def unwatch(self) -> None:
        """End the subscription of :meth:`watch` (called in every case)."""

    async def install_bundle(self, source: str) -> None: ...


def bundle_source(bundle: Path) -> str:
    """The absolute path RAUC gets (it runs elsewhere); BundleNotFoundError if not a file."""
    source = Path(bundle).absolute()
    if not source.is_file():
        raise BundleNotFoundError(f"{bundle}: no such bundle file")
    return str(source)


async def run_install(port: InstallerPort, source: str, on_progress: ProgressCallback) -> None:
    """Install the bundle at ``source`` (see :func:`bundle_source`); named errors on failure."""
    operation = await port.operation()
    if operation != IDLE:
        raise InstallBusyError(
            f"RAUC is busy ({operation}): another installation is running; wait for it to complete"
        )
    try:
        completed = await port.watch(on_progress)
        await port.install_bundle(source)
        result = await completed
    finally:
        port.unwatch()
    if result != 0:
        raise InstallFailedError(await port.last_error())
