# SPDX-License-Identifier: Apache-2.0
"""Least privilege on the bus as one mechanism: a table, and the policy files made from it.

contracts.md ("The policy is least privilege, per method") fixes who may do what; the table
in :mod:`ccy.runtime.policy.table` writes it down once, :mod:`ccy.runtime.policy.render`
turns each row into the dbus-daemon policy file of one bus name (dbus/policy/<name>.conf,
installed to /usr/share/dbus-1/system.d/), and ``python -m ccy.runtime.policy --write`` /
``--check`` keeps the committed files equal to the table. Nobody edits a policy file by hand.
"""

from ccy.runtime.policy.model import (
    OPERATOR_GROUP,
    READER_GROUP,
    READS,
    UNIT_GROUP,
    BusPolicy,
    Member,
)
from ccy.runtime.policy.render import render
from ccy.runtime.policy.table import POLICIES, UNIT_USERS

__all__ = [
    "OPERATOR_GROUP",
    "POLICIES",
    "READER_GROUP",
    "READS",
    "UNIT_GROUP",
    "UNIT_USERS",
    "BusPolicy",
    "Member",
    "render",
]
