# SPDX-License-Identifier: Apache-2.0
"""Software update through RAUC (design note image.md, "RAUC").

``model`` and ``format`` are pure (RAUC's D-Bus values → typed records → text);
``install`` is the install flow against a small port; ``client`` is the thin dbus-fast glue
to de.pengutronix.rauc.Installer; ``bundle`` and ``sandbox`` drive the ``rauc`` tool and a
``rauc service`` on image files for tests, benchmarks and developers.
"""
