# SPDX-License-Identifier: Apache-2.0
"""The permanent DCP settings: one JSON file in ccy-profinet's state folder.

``/var/lib/ccy/profinet/dcp.json`` holds only what a controller set *permanently* (DCP
BlockQualifier bit 0): ``station_name`` and ``ip`` (address, netmask, gateway). A temporary
Set removes the key instead, so after a restart the temporary value is gone and the device
comes up with the configured default (IEC 61158-6-10: a temporary value does not survive a
power cycle, and neither does the permanent one it replaced). A factory reset stores the
empty name and 0.0.0.0 permanently. Writes are atomic (temporary file, fsync, rename).
"""

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ccy.profinet.dcp.codec import DcpBadValue, IpParameter
from ccy.profinet.dcp.names import InvalidStationName, check_station_name

FILE_NAME = "dcp.json"
FORMAT_VERSION = 1


class StoreError(RuntimeError):
    """The state file cannot be read or written; the message names the file and why."""


class StoreCorrupt(StoreError):
    """The state file exists but does not hold valid settings."""


@dataclass(frozen=True)
class Stored:
    station_name: str | None = None
    """None: no permanent name (use the configured one)."""
    ip: IpParameter | None = None


class DcpStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME

    def load(self) -> Stored:
        """The stored settings; an absent file is empty; StoreCorrupt for a bad one."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Stored()
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise ValueError(f"not a version {FORMAT_VERSION} settings object")
            name = data.get("station_name")
            if name is not None:
                check_station_name(str(name), allow_empty=True)
            ip = None
            if data.get("ip") is not None:
                raw = data["ip"]
                ip = IpParameter.from_strings(raw["address"], raw["netmask"], raw["gateway"])
                if ip.problem() is not None:
                    raise ValueError(ip.problem())
        except (ValueError, KeyError, TypeError, InvalidStationName, DcpBadValue) as exc:
            raise StoreCorrupt(f"{self.path} is not valid DCP settings: {exc}") from None
        return Stored(None if name is None else str(name), ip)

    def save_name(self, name: str | None) -> None:
        """Keep ``name`` permanently; None forgets the permanent name."""
        self._update("station_name", name)

    def save_ip(self, ip: IpParameter | None) -> None:
        value = None if ip is None else {
            "address": str(ip.address), "netmask": str(ip.netmask), "gateway": str(ip.gateway)
        }  # fmt: skip
        self._update("ip", value)

    def _update(self, key: str, value: object) -> None:
        try:
            current = self.load()
        except StoreCorrupt:
            current = Stored()  # a corrupt file is replaced by what we know now
        data: dict[str, object] = {"version": FORMAT_VERSION}
        if current.station_name is not None:
            data["station_name"] = current.station_name
        if current.ip is not None:
            data["ip"] = {
                "address": str(current.ip.address),
                "netmask": str(current.ip.netmask),
                "gateway": str(current.ip.gateway),
            }
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
        self._write(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def _write(self, text: str) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StoreError(f"cannot write {self.path}: {exc.strerror}") from None
