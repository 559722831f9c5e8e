# SPDX-License-Identifier: Apache-2.0
"""PowerStage1 on the bus, now in ccy.profinet.stage.dbus_iface; re-exported."""

from ccy.profinet.stage.dbus_iface import PowerStageCommands, PowerStageInterface

__all__ = ["PowerStageCommands", "PowerStageInterface"]
