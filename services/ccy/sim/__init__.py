# SPDX-License-Identifier: Apache-2.0
"""Simulators that let the whole stack run on a laptop: safety MCU, EV, PLC, power stage."""
