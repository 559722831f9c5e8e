# SPDX-License-Identifier: Apache-2.0
"""PowerStage1's property table, now in ccy.profinet.stage.properties; re-exported."""

from ccy.profinet.stage.properties import POWER_STAGE_TABLE

__all__ = ["POWER_STAGE_TABLE"]
