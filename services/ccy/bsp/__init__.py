# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp: the board-support unit (safety-MCU link, reset line, LEDs) and its protocol core."""
