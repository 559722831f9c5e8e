# SPDX-License-Identifier: Apache-2.0
"""Profinet RT class 1: cyclic frames (provider thread, consumer with data-hold watchdog),
alarms over RTA, and IoDevice, which composes them with the RPC core for the unit."""
