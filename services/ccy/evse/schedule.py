# SPDX-License-Identifier: Apache-2.0
"""The Scheduled control mode's schedule, from the same limits as the charge loop.

The power the EVSE may deliver over time is the effective power limit without the external
limit, lowered by the external limit until its end; the last entry holds until the
departure time (or 24 h). Entries are (start in s from now, max power in W), ascending,
with equal neighbours merged.
"""

import math

DEFAULT_HORIZON_S = 24 * 3600.0


def schedule(
    base_power_w: float,
    external_power_w: float,
    external_ends_in_s: float,
    departure_in_s: float = math.nan,
) -> list[tuple[float, float]]:
    """``base_power_w``: every limit but the external one; ``external_power_w`` (NaN or inf:
    none) holds for ``external_ends_in_s`` seconds from now."""
    horizon = departure_in_s if departure_in_s > 0 else DEFAULT_HORIZON_S
    entries: list[tuple[float, float]] = []
    limited = math.isfinite(external_power_w) and external_ends_in_s > 0
    if limited:
        entries.append((0.0, min(base_power_w, external_power_w)))
        if external_ends_in_s < horizon:
            entries.append((external_ends_in_s, base_power_w))
    else:
        entries.append((0.0, base_power_w))
    merged: list[tuple[float, float]] = []
    for start, power in entries:
        if merged and merged[-1][1] == power:
            continue
        merged.append((round(start, 3), power))
    return merged
