# SPDX-License-Identifier: Apache-2.0
"""ccyctl, the operator's command-line tool. One module ``cmd_<group>.py`` per command group."""
