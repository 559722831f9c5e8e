# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.auth``: the same as the ``ccy-auth`` console script."""

from ccy.auth.main import main

main()
