# SPDX-License-Identifier: Apache-2.0
"""The install flow (ccy.update.install) against a fake port standing in for RAUC."""

import asyncio
from collections.abc import Awaitable
from pathlib import Path

import pytest

from ccy.update.errors import BundleNotFoundError, InstallBusyError, InstallFailedError
from ccy.update.install import ProgressCallback, bundle_source, run_install
from ccy.update.model import Progress


class FakeInstaller:
    """Plays RAUC: reports progress steps, then Completed(result)."""

    def __init__(self, result: int = 0, operation: str = "idle", last_error: str = "") -> None:
        self.result = result
        self._operation = operation
        self._last_error = last_error
        self.installed: list[str] = []
        self.watching = False
        self._done: asyncio.Future[int] | None = None
        self._on_progress: ProgressCallback | None = None

    async def operation(self) -> str:
        return self._operation

    async def last_error(self) -> str:
        return self._last_error

    async def watch(self, on_progress: ProgressCallback) -> Awaitable[int]:
        self.watching = True
        self._on_progress = on_progress
        self._done = asyncio.get_running_loop().create_future()
        return self._done

    def unwatch(self) -> None:
        self.watching = False

    async def install_bundle(self, source: str) -> None:
        if source.endswith("refused.raucb"):
            raise InstallBusyError("RAUC is busy: another installation is running")
        self.installed.append(source)
        assert self._on_progress is not None and self._done is not None
        loop = asyncio.get_running_loop()
        for step in (Progress(0, "Installing", 1), Progress(100, "Installing done.", 1)):
            loop.call_soon(self._on_progress, step)
        loop.call_soon(self._done.set_result, self.result)


@pytest.fixture
def bundle(tmp_path: Path) -> str:
    path = tmp_path / "update.raucb"
    path.write_bytes(b"\0" * 8192)
    return bundle_source(path)


def test_success_reports_progress(bundle: str) -> None:
    port, seen = FakeInstaller(), []
    asyncio.run(run_install(port, bundle, seen.append))
    assert port.installed == [bundle]
    assert [p.percentage for p in seen] == [0, 100]
    assert not port.watching


def test_failure_raises_last_error(bundle: str) -> None:
    port = FakeInstaller(result=1, last_error="Invalid bundle format: Signature size is 0")
    with pytest.raises(InstallFailedError, match="Signature size is 0 \\(the bundle carries"):
        asyncio.run(run_install(port, bundle, lambda _p: None))


def test_busy_refused_before_install(bundle: str) -> None:
    port = FakeInstaller(operation="installing")
    with pytest.raises(InstallBusyError, match="RAUC is busy \\(installing\\)"):
        asyncio.run(run_install(port, bundle, lambda _p: None))
    assert port.installed == []
    assert not port.watching


def test_refused_call_stops_watching(tmp_path: Path) -> None:
    path = tmp_path / "refused.raucb"
    path.write_bytes(b"x")
    port = FakeInstaller()
    with pytest.raises(InstallBusyError):
        asyncio.run(run_install(port, bundle_source(path), lambda _p: None))
    assert not port.watching


def test_missing_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleNotFoundError, match=r"absent\.raucb: no such bundle file"):
        bundle_source(tmp_path / "absent.raucb")
    with pytest.raises(BundleNotFoundError):
        bundle_source(tmp_path)


def test_source_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "b.raucb").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert bundle_source(Path("b.raucb")) == str(tmp_path / "b.raucb")
