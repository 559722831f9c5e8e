# SPDX-License-Identifier: Apache-2.0
"""The EV simulator: an ISO 15118-20 EVCC on ccy's codec (``ccy-sim ev``; see ``evcc.py``)."""
