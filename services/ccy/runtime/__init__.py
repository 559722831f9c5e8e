# SPDX-License-Identifier: Apache-2.0
"""What every ccy unit shares: paths, logging, sd_notify, bus connection, config, main loop.

Nothing here knows about a particular unit; cores never import the bus modules.
"""
