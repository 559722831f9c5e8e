# SPDX-License-Identifier: Apache-2.0
"""Who may call what on the bus: the one table every ccy unit's policy file is made from.

contracts.md ("The policy is least privilege, per method") in rows. A unit calls only along
the arrows (ccy-v2g → ccy-evse → ccy-bsp, ccy-v2g → ccy-auth → ccy-evse, ccy-evse →
PowerStage1, ccy-profinet → Bsp1.Identify); against an arrow it only watches, which every
unit user may (:data:`~ccy.runtime.policy.model.READS` and signals).

Bus names, owners and interface names come from each unit's contract module; a row exists
only once that unit's contract does. Still to come, as contracts.md gives them:

- org.ccy.Profinet gains Profinet1 (ccy-profinet's own issue): no unit calls it.

This module is the one place in ccy.runtime that names the units, as the stack table does.
"""

from ccy.auth import contract as auth
from ccy.bsp import contract as bsp
from ccy.evse import contract as evse
from ccy.profinet import contract as profinet
from ccy.runtime.policy.model import BusPolicy, Member
from ccy.v2g import contract as v2g

UNIT_USERS: tuple[str, ...] = ("ccy-bsp", "ccy-evse", "ccy-v2g", "ccy-profinet", "ccy-auth")
"""The static users of the five units (services/systemd/sysusers.d/ccy.conf, group ccy-unit).
Every one may read every ccy name; what else it may call is its row below."""

POLICIES: tuple[BusPolicy, ...] = (
    BusPolicy(
        bsp.CONTRACT,
        calls={
            # ccy-evse drives the port: enable it, tell the MCU HLC is ready, allow power on.
            "ccy-evse": (
                Member(bsp.IFACE, "Enable"),
                Member(bsp.IFACE, "SetCcsReady"),
                Member(bsp.IFACE, "AllowPowerOn"),
            ),
            # ccy-profinet's one call: blink the status LED on the PLC's DCP Signal.
            "ccy-profinet": (Member(bsp.IFACE, "Identify"),),
            # ccy-v2g and ccy-auth: nothing on Bsp1 (reads and signals only).
        },
    ),
    BusPolicy(
        profinet.CONTRACT,
        also=(profinet.POWER_STAGE,),
        calls={
            # ccy-evse alone drives the power stage (contracts.md: ccy-evse -> PowerStage1):
            # mode, setpoints (the lease) and the insulation monitor's self-test.
            "ccy-evse": tuple(Member(profinet.IFACE, m) for m in profinet.Method),
        },
    ),
    BusPolicy(
        evse.CONTRACT,
        calls={
            # ccy-v2g asks, ccy-evse decides: the vehicle-session methods of Evse1.
            "ccy-v2g": tuple(Member(evse.IFACE, m) for m in evse.VEHICLE_METHODS),
            # ccy-auth: authorization, master-pass stop and reservations.
            "ccy-auth": tuple(Member(evse.IFACE, m) for m in evse.AUTH_METHODS),
        },
    ),
    BusPolicy(
        auth.CONTRACT,
        calls={
            # ccy-v2g pushes Plug & Charge contracts and Autocharge EVCCIDs (contracts.md).
            "ccy-v2g": tuple(Member(auth.IFACE, m) for m in auth.V2G_METHODS),
        },
    ),
    # org.ccy.V2g: no methods, no unit calls it; operators and readers only.
    BusPolicy(v2g.CONTRACT),
)
