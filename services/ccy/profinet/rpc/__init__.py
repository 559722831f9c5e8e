# SPDX-License-Identifier: Apache-2.0
"""PNIO CM over connectionless DCE/RPC (UDP 34964): the device's pure core (``device``), its
blocks and records, and the asyncio UDP driver (``udp``)."""
