# SPDX-License-Identifier: Apache-2.0
"""The RFID reader simulator: a reader speaking ccy's RFID line protocol on a pty.

Written from the protocol as README "ccy-auth" states it (it shares no code with
ccy.auth), so a bus or pty test cross-checks the two. ``python -m ccy.sim.rfid --tty-link
ROOT/dev/ttyRFID --control ROOT/run/sim/rfid.sock`` links the pty's slave where ccy-auth's
``rfid_port`` points and takes scenario commands on a JSON-lines control socket.
"""
