# SPDX-License-Identifier: Apache-2.0
"""Insulation classification, now in ccy.profinet.stage.isolation; re-exported."""

from ccy.profinet.stage.isolation import FAULT_OHM_PER_V, VALID_OHM_PER_V, classify

__all__ = ["FAULT_OHM_PER_V", "VALID_OHM_PER_V", "classify"]
