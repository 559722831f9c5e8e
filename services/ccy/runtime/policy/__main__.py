# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.runtime.policy``: see :mod:`ccy.runtime.policy.cli`."""

import sys

from ccy.runtime.policy.cli import main

sys.exit(main())
