# SPDX-License-Identifier: Apache-2.0
"""The validators and their chain (:mod:`.chain`): accept_all, local_list, pnc."""
