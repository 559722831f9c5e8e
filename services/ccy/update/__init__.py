# SPDX-License-Identifier: Apache-2.0
"""Software update through RAUC (design note image.md, "RAUC").

``model`` and ``format`` are pure (RAUC's D-Bus values → typed records → text);
``install`` is the install flow against a small port; ``client`` is the thin dbus-fast glue
to de.pengutronix.rauc.Installer. The bundle builder and the ``rauc service`` sandbox for
tests, benchmarks and developers live in ``ccy.testing`` (not part of the image).
"""
