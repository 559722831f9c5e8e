# SPDX-License-Identifier: Apache-2.0
"""The simulated stack as one table: what ``ccy-sim up`` starts, in which order, and how.

Each unit row says what its systemd unit says on the device: the command (a console script
of pyproject.toml, run with ``--root DIR``), the section of the config profile it reads,
readiness (``Type=notify``: READY=1 on $NOTIFY_SOCKET), the restart rule (``Restart=``,
``RestartSec=``, ``StartLimitBurst=``/``StartLimitIntervalSec=``) and the simulators it needs.
Simulators are rows of their own and start before the first unit that needs them.

Adding a unit is one row in ``STACK`` (and its section in config/profiles/sim.yaml); a
simulator it needs is one row in ``SIMULATORS``.
"""

from dataclasses import dataclass
from enum import StrEnum


class RestartPolicy(StrEnum):
    """systemd's ``Restart=`` values the stack supports."""

    NO = "no"
    ON_FAILURE = "on-failure"
    """Restart after an exit status other than 0 or death by a signal (systemd.service(5));
    a clean exit 0 stays down."""


class Readiness(StrEnum):
    NOTIFY = "notify"
    """``Type=notify``: ready when the process sends READY=1 to $NOTIFY_SOCKET."""
    PATH = "path"
    """Ready when ``ready_path`` exists (simulators that publish a control socket)."""


@dataclass(frozen=True)
class RestartRule:
    policy: RestartPolicy = RestartPolicy.ON_FAILURE
    delay_s: float = 0.5
    """``RestartSec=``: pause between the exit and the new start."""
    burst: int = 5
    """``StartLimitBurst=``: at most this many restarts within ``interval_s``, then failed."""
    interval_s: float = 10.0
    """``StartLimitIntervalSec=`` (systemd's defaults: 5 starts in 10 s)."""


ON_FAILURE = RestartRule()
NEVER = RestartRule(RestartPolicy.NO)


@dataclass(frozen=True)
class SimulatorRow:
    """A simulator process: ``python -m module args…`` with the layout's paths filled in."""

    name: str
    module: str
    args: tuple[str, ...]
    """Formatted with the layout's paths: {root}, {tty_link}, {reset_fifo}, {control}."""
    ready_path: str
    """A layout path (same placeholders) whose existence means the simulator is ready."""
    restart: RestartRule = ON_FAILURE


@dataclass(frozen=True)
class UnitRow:
    """A ccy unit as its systemd unit file starts it, relocated under DIR."""

    name: str
    """Unit and process name (ccy-bsp), also the log file DIR/log/<name>.log."""
    command: str
    """Console script of pyproject.toml [project.scripts], looked up beside the interpreter."""
    config_section: str
    """The unit's section of the simulator profile (config/profiles/sim.yaml)."""
    needs: tuple[str, ...] = ()
    """Names of ``SIMULATORS`` rows that must run (and be ready) before this unit starts."""
    readiness: Readiness = Readiness.NOTIFY
    restart: RestartRule = ON_FAILURE
    args: tuple[str, ...] = ("--root", "{root}")


SIMULATORS: tuple[SimulatorRow, ...] = (
    SimulatorRow(
        name="mcu-sim",
        module="ccy.sim.mcu",
        args=(
            "--tty-link",
            "{tty_link}",
            "--reset-fifo",
            "{reset_fifo}",
            "--control",
            "{control}",
        ),
        ready_path="{control}",
    ),
    SimulatorRow(
        name="rfid-sim",
        module="ccy.sim.rfid",
        args=("--tty-link", "{rfid_tty_link}", "--control", "{rfid_control}"),
        ready_path="{rfid_control}",
    ),
)

STACK: tuple[UnitRow, ...] = (
    UnitRow(name="ccy-bsp", command="ccy-bsp", config_section="bsp", needs=("mcu-sim",)),
    UnitRow(name="ccy-evse", command="ccy-evse", config_section="evse"),
    UnitRow(name="ccy-auth", command="ccy-auth", config_section="auth", needs=("rfid-sim",)),
    UnitRow(name="ccy-v2g", command="ccy-v2g", config_section="v2g"),
    UnitRow(name="ccy-profinet", command="ccy-profinet", config_section="profinet"),
)
"""The units built so far, in start order (``ccy-sim down`` stops them in reverse)."""


def subset(*names: str) -> tuple[UnitRow, ...]:
    """The rows of ``STACK`` with these names, in the stack's order (unknown names are
    ignored, so a subset may name a unit before it joins the stack)."""
    return tuple(row for row in STACK if row.name in names)


BSP_ONLY = subset("ccy-bsp")
"""The safety link alone (``ccy-sim up --table ccy.sim.stack_table:BSP_ONLY``): ccy-bsp's own
bus tests drive Bsp1 as ccy-evse would, so no ccy-evse may run beside them."""
SESSION_CORE = subset("ccy-bsp", "ccy-evse", "ccy-profinet")
"""What a charging session needs without the vehicle side and authorization: tests that
call Evse1 the way ccy-v2g and ccy-auth do, with neither running."""


class TableError(ValueError):
    """The stack table is inconsistent (a test checks the committed one)."""


def simulators_for(units: tuple[UnitRow, ...]) -> tuple[SimulatorRow, ...]:
    """The simulator rows the given units need, in table order; an unknown name fails."""
    known = {s.name: s for s in SIMULATORS}
    wanted: set[str] = set()
    for unit in units:
        for name in unit.needs:
            if name not in known:
                raise TableError(f"{unit.name} needs simulator {name!r}, which SIMULATORS lacks")
            wanted.add(name)
    return tuple(s for s in SIMULATORS if s.name in wanted)


def check_table(units: tuple[UnitRow, ...] = STACK) -> None:
    """Names unique across units and simulators, simulators known, restart rules sane."""
    names = [u.name for u in units] + [s.name for s in SIMULATORS]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TableError(f"names used twice in the stack table: {', '.join(duplicates)}")
    simulators_for(units)
    rows: tuple[UnitRow | SimulatorRow, ...] = (*units, *SIMULATORS)
    for row in rows:
        rule = row.restart
        if rule.delay_s < 0 or rule.burst < 1 or rule.interval_s <= 0:
            raise TableError(f"{row.name}: restart rule out of range: {rule}")
