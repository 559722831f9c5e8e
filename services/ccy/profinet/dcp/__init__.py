# SPDX-License-Identifier: Apache-2.0
"""DCP, the Discovery and basic Configuration Protocol of Profinet (IEC 61158-6-10).

- ``identity``: the device's VendorID/DeviceID and names, shared with I&M0 and the GSDML.
- ``names``: NameOfStation rules.
- ``codec``: PDUs and blocks, parse and build, named errors (pure).
- ``responder``: the responder core, frame + time → effects (pure).
- ``store``: the permanent settings file.
- ``driver``: the asyncio glue on :mod:`ccy.profinet.ethernet`.
"""
