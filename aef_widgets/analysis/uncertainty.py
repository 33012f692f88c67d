"""Where to label next: the pixels a classifier is least sure of.

A pixel's *margin* is its top class probability minus the second one (``ClassMap.margin``): 0 where the two best
classes are equally likely, 1 where one class has it all. Labelling the lowest-margin pixels first is margin
sampling, the classic active-learning rule. Suggestions are spread out (``min_distance_px``) so that five markers
do not land on five adjacent pixels of one ambiguous field edge.
"""

from __future__ import annotations

import numpy as np

from .sampling import pixel_keys


def most_uncertain(
    margin: np.ndarray, n: int = 10, min_distance_px: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of up to ``n`` pixels of lowest margin, ascending; NaN (no data) is never suggested.

    Equal margins are ordered by a pseudo-random key of the pixel's position (so ties are spread, reproducibly).
    With ``min_distance_px`` > 0, a pixel closer than that to one already chosen is skipped.
    """
    margin = np.asarray(margin)
    rows, cols = np.nonzero(np.isfinite(margin))
    if n < 1 or len(rows) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    values = margin[rows, cols]
    # candidates: the lowest margins, plenty of them in case spacing rejects many
    pool = min(len(values), n if min_distance_px <= 0 else max(64 * n, 4096))
    if pool < len(values):
        keep = np.argpartition(values, pool - 1)[:pool]
        rows, cols, values = rows[keep], cols[keep], values[keep]
    order = np.lexsort((pixel_keys(rows, cols, seed), values))
    rows, cols = rows[order], cols[order]
    if min_distance_px <= 0:
        return rows[:n], cols[:n]
    chosen: list[int] = []
    limit = float(min_distance_px) ** 2
    for i in range(len(rows)):
        if all((rows[i] - rows[j]) ** 2 + (cols[i] - cols[j]) ** 2 >= limit for j in chosen):
            chosen.append(i)
            if len(chosen) == n:
                break
    picked = np.asarray(chosen, dtype=np.intp)
    return rows[picked], cols[picked]
