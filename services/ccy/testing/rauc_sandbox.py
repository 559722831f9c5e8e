# SPDX-License-Identifier: Apache-2.0
"""A real ``rauc service`` on image files: the device's update path without the device.

What differs from the product (meta-ccy system.conf) and nothing else: slot devices are image
files, the keyring and data-directory live in the sandbox, plain bundles are allowed (verity
needs device-mapper, image.md), and the U-Boot environment is an image file made by
``mkenvimage`` with two redundant copies, as on the board. RAUC 1.8's uboot backend runs
``fw_printenv``/``fw_setenv`` from PATH with no way to name their config file, so the sandbox
puts two one-line wrappers adding ``-c <sandbox fw_env.config>`` first on PATH. RAUC runs on a
private system-type bus (:class:`ccy.testing.bus_daemon.PrivateBus`) with ``--override-boot-slot``.
"""

import configparser
import io
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ccy.testing.bus_daemon import ADDRESS_ENV, PrivateBus

ENV_SIZE = 0x4000
"""Size of one environment copy (meta-ccy fw_env.config: two 16 KiB areas)."""

RAUC_POLICY = """\
  <policy user="root">
    <allow own="de.pengutronix.rauc"/>
    <allow send_destination="de.pengutronix.rauc"/>
  </policy>
"""
"""What Debian's rauc package would install as de.pengutronix.rauc.conf (it ships none)."""


class SandboxError(RuntimeError):
    """The sandbox could not be set up (a tool is missing or RAUC did not come up)."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SandboxError(f"{name} not found on PATH")
    return path


def sandbox_system_conf(
    product: str, *, slot_devices: Mapping[str, Path], keyring: Path, data_dir: Path
) -> str:
    """The product system.conf with only the machine-specific values replaced."""
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str  # type: ignore[assignment,method-assign]
    conf.read_string(product)
    slots = [s for s in conf.sections() if s.startswith("slot.")]
    missing = sorted(set(slots) - {f"slot.{n}" for n in slot_devices})
    if missing:
        raise SandboxError(f"no image file for {', '.join(missing)}")
    for section in slots:
        conf[section]["device"] = str(slot_devices[section.removeprefix("slot.")])
    conf["keyring"]["path"] = str(keyring)
    conf["system"]["data-directory"] = str(data_dir)
    conf["system"]["bundle-formats"] = "plain"
    out = io.StringIO()
    conf.write(out, space_around_delimiters=False)
    return out.getvalue()


@dataclass(frozen=True)
class UbootEnv:
    """An environment image with two redundant copies, its config and the PATH wrappers."""

    image: Path
    config: Path
    bin_dir: Path

    @classmethod
    def create(cls, directory: Path, variables: Mapping[str, str]) -> "UbootEnv":
        directory.mkdir(parents=True, exist_ok=True)
        image, config, bin_dir = (
            directory / "uboot-env.img",
            directory / "fw_env.config",
            (directory / "bin"),
        )
        text = "".join(f"{k}={v}\n" for k, v in variables.items())
        copy = subprocess.run(
            [_tool("mkenvimage"), "-r", "-s", hex(ENV_SIZE), "-o", "-", "-"],
            input=text.encode(),
            capture_output=True,
            check=False,
        )
        if copy.returncode != 0 or len(copy.stdout) != ENV_SIZE:
            raise SandboxError(f"mkenvimage failed: {copy.stderr.decode(errors='replace')}")
        image.write_bytes(copy.stdout * 2)
        config.write_text(f"{image} 0x0 {hex(ENV_SIZE)}\n{image} {hex(ENV_SIZE)} {hex(ENV_SIZE)}\n")
        bin_dir.mkdir(exist_ok=True)
        for name in ("fw_printenv", "fw_setenv"):
            wrapper = bin_dir / name
            wrapper.write_text(f'#!/bin/sh\nexec {_tool(name)} -c "{config}" "$@"\n')
            wrapper.chmod(0o755)
        return cls(image, config, bin_dir)

    def read(self) -> dict[str, str]:
        done = subprocess.run(
            [str(self.bin_dir / "fw_printenv")], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SandboxError(f"fw_printenv failed: {done.stderr.strip()}")
        return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)

    def set(self, name: str, value: str) -> None:
        subprocess.run([str(self.bin_dir / "fw_setenv"), name, value], check=True)


class RaucSandbox:
    """Private bus + U-Boot env image + slot images + ``rauc service``; a context manager.

    ``slot_images`` maps slot names of the product system.conf (``rootfs.0``) to the bytes
    they start with (None: zeros of ``slot_size``). ``booted`` is the bootname RAUC is told it
    booted from.
    """

    def __init__(
        self,
        directory: Path,
        product_conf: str,
        keyring: Path,
        slot_images: Mapping[str, Path | None],
        slot_size: int,
        booted: str = "A",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.keyring = keyring
        self.booted = booted
        self.slot_devices = {name: self.directory / f"{name}.img" for name in slot_images}
        self._slot_images = slot_images
        self._slot_size = slot_size
        self._product_conf = product_conf
        self._env_vars = dict(env or {"BOOT_ORDER": "A B", "BOOT_A_LEFT": "3", "BOOT_B_LEFT": "3"})
        self.bus = PrivateBus(self.directory / "bus", [], RAUC_POLICY)
        self.uboot: UbootEnv | None = None
        self._service: subprocess.Popen[bytes] | None = None
        self.log_file = self.directory / "rauc-service.log"
        self._conf = self.directory / "system.conf"

    @property
    def environ(self) -> dict[str, str]:
        """Environment for clients: the private bus and the fw_* wrappers first on PATH."""
        assert self.uboot is not None
        path = f"{self.uboot.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, ADDRESS_ENV: self.bus.address, "PATH": path}

    def _prepare(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, device in self.slot_devices.items():
            source = self._slot_images[name]
            if source is None:
                with device.open("wb") as f:
                    f.truncate(self._slot_size)
            else:
                shutil.copyfile(source, device)
        self.uboot = UbootEnv.create(self.directory / "uboot", self._env_vars)
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        (self.directory / "mnt").mkdir(exist_ok=True)
        conf = self.directory / "system.conf"
        conf.write_text(
            sandbox_system_conf(
                self._product_conf,
                slot_devices=self.slot_devices,
                keyring=self.keyring,
                data_dir=data,
            )
        )
        return conf

    def start(self, timeout_s: float = 10.0) -> None:
        """Create slots, environment and config, then start the bus and ``rauc service``."""
        self._conf = self._prepare()
        self.bus.start()
        self.start_service(timeout_s)

    def start_service(self, timeout_s: float = 10.0) -> None:
        """(Re)start ``rauc service`` only: after :meth:`stop_service`, as after a reboot."""
        conf = self._conf
        with self.log_file.open("ab") as log:
            self._service = subprocess.Popen(
                [
                    _tool("rauc"),
                    "service",
                    f"--conf={conf}",
                    f"--mount={self.directory / 'mnt'}",
                    f"--override-boot-slot={self.booted}",
                ],
                env=self.environ,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._service.poll() is not None:
                break
            probe = subprocess.run(
                [_tool("rauc"), "status", "--output-format=shell"],
                env=self.environ,
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        log_text = self.log_file.read_text(errors="replace")
        self.stop()
        raise SandboxError(f"rauc service did not come up:\n{log_text}")

    def stop_service(self) -> None:
        proc, self._service = self._service, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        self.stop_service()
        self._unmount_leftovers()
        self.bus.stop()

    def _unmount_leftovers(self) -> None:
        """A service stopped mid-install leaves its bundle mounted under mnt/: unmount it."""
        mnt = str((self.directory / "mnt").resolve())
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            points = [line.split()[1] for line in mounts if len(line.split()) > 1]
        for point in sorted(points, reverse=True):
            decoded = point.encode().decode("unicode_escape")
            if decoded == mnt or decoded.startswith(mnt + "/"):
                subprocess.run(["umount", decoded], check=False, capture_output=True)

    def __enter__(self) -> "RaucSandbox":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
