# SPDX-License-Identifier: Apache-2.0
"""Token providers inside ccy-auth: the dummy provider and the RFID reader (the others call
ProvideToken on the bus: ccy-v2g and ccyctl)."""
