# SPDX-License-Identifier: Apache-2.0
"""ccy.runtime.clock against independent readings of the same kernel state.

The independent source is a small C program compiled here with the system's <sys/timex.h>:
the C compiler, not our ctypes declaration, decides where each field of ``struct timex``
lies, and the program calls adjtimex(2) itself. systemd's own answer is compared too:
``NTPSynchronized`` of systemd-timedated started on a private system bus (this works without
systemd as PID 1, as root; ``timedatectl`` would need systemd as PID 1). This machine's clock
is whatever it is (a container's is usually unsynchronized): the tests compare, they never
assume a state. Nothing here changes the clock (that would change it for the whole host).
"""

import ctypes
import errno
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.ctl.cmd_status import CLOCK_NOT_SYNCHRONIZED, CLOCK_SYNCHRONIZED
from ccy.runtime import clock
from ccy.runtime.clock import MAXERROR_UNSYNC_US, STA_UNSYNC, TIME_ERROR, TIME_OK, ClockState
from ccy.testing.bus_daemon import ADDRESS_ENV, PrivateBus
from ccy.testing.bus_daemon import bare_bus as private_bare_bus
from ccy.testing.folders import traversable_tmp

TOP = Path(__file__).resolve().parents[2]
CCYCTL = str(Path(sys.executable).parent / "ccyctl")

FIELDS = ("modes", "maxerror", "esterror", "status", "tai")

C_PROGRAM = r"""
#include <stddef.h>
#include <stdio.h>
#include <sys/timex.h>
#define AT(f) printf(#f " %zu %zu\n", offsetof(struct timex, f), sizeof(((struct timex *)0)->f))
int main(void) {
    struct timex t = {0};
    int state = adjtimex(&t);
    printf("size %zu\n", sizeof(struct timex));
    AT(modes); AT(maxerror); AT(esterror); AT(status); AT(tai);
    printf("reading %d %d %ld %ld\n", state, t.status, t.maxerror, t.esterror);
    return state < 0;
}
"""


@pytest.fixture(scope="module")
def c_reader(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("a C compiler is needed for the independent struct timex reader")
    folder = tmp_path_factory.mktemp("timex")
    (folder / "timex.c").write_text(C_PROGRAM)
    done = subprocess.run(
        [cc, "-o", str(folder / "timex"), str(folder / "timex.c")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return folder / "timex"


def run_reader(reader: Path) -> dict[str, list[int]]:
    done = subprocess.run([str(reader)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return {
        line.split()[0]: [int(x) for x in line.split()[1:]] for line in done.stdout.splitlines()
    }


def test_struct_layout_is_the_c_compilers(c_reader: Path) -> None:
    out = run_reader(c_reader)
    assert out["size"] == [ctypes.sizeof(clock.Timex)]
    for name in FIELDS:
        field = getattr(clock.Timex, name)
        assert out[name] == [field.offset, field.size], name


def test_reading_agrees_with_the_c_program(c_reader: Path) -> None:
    before = clock.read_clock()
    state, status, maxerror, esterror = run_reader(c_reader)["reading"]
    after = clock.read_clock()
    # A time daemon may adjust between the readings: the C one must equal one of ours in
    # everything but the error estimates, which the kernel ages every second.
    assert (state, status) in {(before.state, before.status), (after.state, after.status)}
    from_c = ClockState(state, status, maxerror, esterror)
    assert from_c.synchronized in {before.synchronized, after.synchronized}
    assert (maxerror >= MAXERROR_UNSYNC_US) == (not from_c.synchronized)
    # The kernel's own flag and its state agree with the error estimate once it is capped.
    if maxerror >= MAXERROR_UNSYNC_US:
        assert status & STA_UNSYNC and state == TIME_ERROR


def test_clock_synchronized_is_the_reading(c_reader: Path) -> None:
    synchronized = clock.clock_synchronized()
    state, status, maxerror, esterror = run_reader(c_reader)["reading"]
    again = clock.clock_synchronized()
    assert ClockState(state, status, maxerror, esterror).synchronized in {synchronized, again}


TIMEDATED = Path("/usr/lib/systemd/systemd-timedated")
TIMEDATE_POLICY = Path("/usr/share/dbus-1/system.d/org.freedesktop.timedate1.conf")
TIMEDATE = ("org.freedesktop.timedate1", "/org/freedesktop/timedate1", "org.freedesktop.timedate1")


def ask_timedated(address: str) -> subprocess.CompletedProcess[str]:
    """NTPSynchronized, asked until the just started daemon owns its name (10 s at most)."""
    for _ in range(100):
        done = subprocess.run(
            ["busctl", f"--address={address}", "get-property", *TIMEDATE, "NTPSynchronized"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode == 0 or "was not provided by any .service files" not in done.stderr:
            return done
        time.sleep(0.1)
    return done


@pytest.mark.skipif(
    os.geteuid() != 0
    or not TIMEDATED.exists()
    or not TIMEDATE_POLICY.exists()
    or shutil.which("busctl") is None,
    reason="systemd-timedated, its bus policy, busctl and root (its policy lets only root own "
    "org.freedesktop.timedate1) are needed",
)
def test_agrees_with_systemd_timedated_on_a_private_bus() -> None:
    """systemd's own answer without systemd as PID 1: systemd-timedated on a private system
    bus (its installed policy) computes NTPSynchronized with systemd's ntp_synced()."""
    directory = traversable_tmp("ccy-clock-timedated-")
    bus = PrivateBus(directory, [TIMEDATE_POLICY.parent])
    try:
        address = bus.start()
        env = {**os.environ, ADDRESS_ENV: address, "DBUS_SYSTEM_BUS_ADDRESS": address}
        timedated = subprocess.Popen(
            [str(TIMEDATED)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            before = clock.clock_synchronized()
            done = ask_timedated(address)
            after = clock.clock_synchronized()
        finally:
            timedated.terminate()
            timedated.wait(timeout=10)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() in {"b true", "b false"}, done.stdout
        assert (done.stdout.strip() == "b true") in {before, after}
    finally:
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize(
    ("maxerror_us", "status", "state", "synchronized"),
    [
        (MAXERROR_UNSYNC_US, STA_UNSYNC, TIME_ERROR, False),  # never adjusted, or gave up
        (MAXERROR_UNSYNC_US - 1, 0, TIME_OK, True),  # last second before the cap
        (250_000, 0x0001, TIME_OK, True),  # STA_PLL: timesyncd adjusts the clock
        # timesyncd with LocalRTC=yes keeps STA_UNSYNC set (so the kernel never writes UTC
        # into a local-time RTC): still synchronized for systemd, and so for ccy.
        (250_000, 0x0001 | STA_UNSYNC, TIME_ERROR, True),
    ],
)
def test_systemds_rule(maxerror_us: int, status: int, state: int, synchronized: bool) -> None:
    reading = ClockState(state, status, maxerror_us, maxerror_us)
    assert reading.synchronized is synchronized
    assert reading.unsync_bit is bool(status & STA_UNSYNC)


def test_the_call_reports_errno() -> None:
    """libc is loaded with use_errno: a NULL struct fails with EFAULT, and read_clock turns
    such a failure into ClockError (clock_synchronized into False)."""
    assert clock._function()(None) == -1
    assert ctypes.get_errno() == errno.EFAULT


# ------------------------------------------------------------------ ccyctl status shows it


@pytest.fixture(scope="module")
def bare_bus() -> Iterator[str]:
    """A private system bus with ccy's policies and no unit on it."""
    with private_bare_bus("ccy-clock-") as address:
        yield address


def ccyctl_status(address: str, *args: str) -> str:
    done = subprocess.run(
        [CCYCTL, "--timeout", "5", "status", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, ADDRESS_ENV: address},
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


def test_ccyctl_status_shows_the_clock_as_the_kernel_has_it(c_reader: Path, bare_bus: str) -> None:
    state, status, maxerror, esterror = run_reader(c_reader)["reading"]
    synced = ClockState(state, status, maxerror, esterror).synchronized
    screen = ccyctl_status(bare_bus).splitlines()
    clock_lines = [line for line in screen if line.startswith("Clock: ")]
    assert clock_lines == [CLOCK_SYNCHRONIZED if synced else CLOCK_NOT_SYNCHRONIZED], screen
    assert screen.index(clock_lines[0]) == len(screen) - 2  # before "Active errors: 0"
    doc = json.loads(ccyctl_status(bare_bus, "--json"))
    assert doc["clock"] == {"synchronized": synced}
