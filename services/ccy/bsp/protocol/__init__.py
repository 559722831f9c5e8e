# SPDX-License-Identifier: Apache-2.0
"""The safety-MCU UART protocol as pure code (no I/O, no bus): CRC, framing, messages.

Source of facts: the shared design note ``design/safety-link.md`` (and the board vendor's public
protocol description it summarises). ``crc`` computes the frame checksum, ``frame`` cuts a byte
stream into 12-byte frames and resynchronises after faults, ``messages`` turns frames into typed
messages and back.
"""
