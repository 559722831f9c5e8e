# SPDX-License-Identifier: Apache-2.0
"""ccy: open firmware for MCS DC charge controllers of the Charge Control Y class."""

__version__ = "0.1.0"
