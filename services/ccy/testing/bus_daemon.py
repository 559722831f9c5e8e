# SPDX-License-Identifier: Apache-2.0
"""A private system-type dbus-daemon with ccy's policy files, for the simulator and the tests.

It is the real dbus-daemon with a system-bus configuration: EXTERNAL authentication, a
default context that denies owning names and calling methods, and an ``<includedir>`` for each
policy folder (ours: ``dbus/policy``), so the policies are enforced exactly as on the device.
``extra_policy`` adds ``<policy>`` elements for a sandbox (the simulator grants the invoking
developer what the static users get on the device); tests that prove denials pass none.
"""

import getpass
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import escape

DBUS_DAEMON = "dbus-daemon"
ADDRESS_ENV = "DBUS_SYSTEM_BUS_ADDRESS"

# The default context of Debian's system.conf, restated: every user may connect; deny own
# and method calls, allow the bus driver's own interfaces, replies and signals. Our policy
# files open what they must.
_DEFAULT_POLICY = """\
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
"""


class BusDaemonError(RuntimeError):
    """The private dbus-daemon could not be started."""


def bus_config(socket: Path, policy_dirs: Sequence[Path], extra_policy: str = "") -> str:
    """The text of a system-type bus configuration listening on ``socket``."""
    includes = "".join(
        f"  <includedir>{escape(str(Path(d).resolve()))}</includedir>\n" for d in policy_dirs
    )
    return (
        '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"\n'
        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
        "<busconfig>\n"
        "  <type>system</type>\n"
        f"  <listen>unix:path={escape(str(socket))}</listen>\n"
        "  <auth>EXTERNAL</auth>\n"
        f"{_DEFAULT_POLICY}{includes}{extra_policy}"
        "</busconfig>\n"
    )


def user_policy(user: str, own_prefix: str = "org.ccy.", send_prefix: str = "org.ccy.") -> str:
    """A ``<policy user=…>`` letting one user own and call names under a prefix (sandbox use)."""
    u = escape(user)
    return (
        f'  <policy user="{u}">\n'
        f'    <allow own_prefix="{escape(own_prefix.rstrip("."))}"/>\n'
        f'    <allow send_destination_prefix="{escape(send_prefix.rstrip("."))}"/>\n'
        # The unit policies deny receive_sender to everyone outside their roles; the sandbox
        # user stands in for the unit users and operators, who receive the units' signals,
        # each other's method calls (ccy-evse calling ccy-bsp) and the replies.
        '    <allow receive_type="signal"/>\n'
        '    <allow receive_type="method_call"/>\n'
        '    <allow receive_type="method_return"/>\n'
        '    <allow receive_type="error"/>\n'
        # ... and may watch the whole bus (dbus-monitor), as root may on a device: the
        # redaction tests capture everything the units send.
        '    <allow send_destination="org.freedesktop.DBus"'
        ' send_interface="org.freedesktop.DBus.Monitoring" send_member="BecomeMonitor"/>\n'
        "  </policy>\n"
    )


class PrivateBus:
    """Starts, owns and stops one private system-type dbus-daemon under ``directory``."""

    def __init__(
        self, directory: Path, policy_dirs: Sequence[Path], extra_policy: str = ""
    ) -> None:
        self.directory = Path(directory)
        self.socket = self.directory / "system_bus_socket"
        self.config_file = self.directory / "bus.conf"
        self.log_file = self.directory / "dbus-daemon.log"
        self._policy_dirs = list(policy_dirs)
        self._extra_policy = extra_policy
        self._process: subprocess.Popen[bytes] | None = None
        self.address = ""

    def start(self, timeout_s: float = 10.0) -> str:
        """Start the daemon; returns its address (``unix:path=…,guid=…``)."""
        daemon = shutil.which(DBUS_DAEMON)
        if daemon is None:
            raise BusDaemonError("dbus-daemon not found (Debian package: dbus)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.config_file.write_text(
            bus_config(self.socket, self._policy_dirs, self._extra_policy), encoding="utf-8"
        )
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    daemon,
                    f"--config-file={self.config_file}",
                    "--nofork",
                    "--nopidfile",
                    "--print-address=1",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().decode().strip()
        self._process.stdout.close()
        if not line.startswith("unix:"):
            self.stop()
            err = self.log_file.read_text(errors="replace").strip()
            raise BusDaemonError(f"dbus-daemon did not start: {err or line!r}")
        # Give other users access to the socket folder (policies, not file modes, decide).
        os.chmod(self.directory, 0o755)
        self.address = line
        return line

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def reload(self) -> None:
        """Make the daemon re-read its configuration and policy files (SIGHUP)."""
        if self._process is not None:
            self._process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        proc, self._process = self._process, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.socket.unlink(missing_ok=True)

    def environ(self) -> dict[str, str]:
        """The environment of a process that should use this bus as its system bus."""
        return {**os.environ, ADDRESS_ENV: self.address}

    def __enter__(self) -> "PrivateBus":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def bare_bus(prefix: str) -> Iterator[str]:
    """A private system bus with ccy's policies, the current user allowed, and no unit on it;
    yields its address (for tests of clients, such as ``ccyctl``, facing units that are down)."""
    from ccy.runtime.paths import share_dir
    from ccy.testing.folders import traversable_tmp

    directory = traversable_tmp(prefix)
    bus = PrivateBus(directory, [share_dir() / "dbus" / "policy"], user_policy(getpass.getuser()))
    try:
        yield bus.start()
    finally:
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)
