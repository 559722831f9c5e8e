# SPDX-License-Identifier: Apache-2.0
"""The simulated power stage's model, now in ccy.profinet.stage.model (ccy-profinet serves it in
profinet.mode simulated, and the product must not import ccy.sim); re-exported here."""

from ccy.profinet.stage.model import (
    ISOLATION_FAULT_OHM,
    MEASURED,
    ON_MODES,
    SAFE_MODES,
    STOPPING,
    Fault,
    Limits,
    PowerStageModel,
    RefusalKind,
    Refused,
    Snapshot,
    StageConfig,
    clamp_target,
)

__all__ = [
    "ISOLATION_FAULT_OHM",
    "MEASURED",
    "ON_MODES",
    "SAFE_MODES",
    "STOPPING",
    "Fault",
    "Limits",
    "PowerStageModel",
    "RefusalKind",
    "Refused",
    "Snapshot",
    "StageConfig",
    "clamp_target",
]
