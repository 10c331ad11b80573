"""Combining criterion scores (or grades) into one target score.

- `weighted_sum(scores, weights)`: sum of weight x score; the weights must sum to 1 (the spec
  normalises them first when a target sets ``normalise_weights: true``). NaN anywhere -> NaN.
- `minimum(scores)`: the "weakest plank" (短板): the lowest criterion score. NaN -> NaN.
- `land_water_matrix(land_grade, water_grade, matrix)`: the double-evaluation table
  (rows land grade 1..5, columns water grade 1..5) -> combined grade 1..5; grade 0 = no data.
  The combined grade becomes a score through ``suitability.matrix_grade_scores`` (default
  100/80/60/40/0), chosen so that the score thresholds (``grade_breaks`` 70/40) give back the
  DOMAIN classes: matrix grades 1-2 suitable, 3-4 moderately suitable, 5 unsuitable.
  `spec_problems` checks that the three config keys agree.
- `worst_grade` / `best_grade`: how several land (resp. water) criteria of one matrix target
  are merged: land = the worst (highest) grade, water = the best (lowest) *applicable* grade.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WEIGHT_TOLERANCE = 1e-6


def weighted_sum(scores: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    if len(scores) != len(weights) or not scores:
        raise ValueError(
            f"weighted_sum needs one weight per score, got {len(scores)} scores "
            f"and {len(weights)} weights"
        )
    total = float(sum(weights))
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise ValueError(f"weights must sum to 1, they sum to {total:g}")
    out = np.zeros(np.shape(scores[0]), dtype=np.float32)
    for s, w in zip(scores, weights):
        out += np.float32(w) * np.asarray(s, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        return np.clip(out, 0.0, 100.0).astype(np.float32)


def minimum(scores: Sequence[np.ndarray]) -> np.ndarray:
    if not scores:
        raise ValueError("minimum needs at least one score")
    out = np.asarray(scores[0], dtype=np.float32)
    for s in scores[1:]:
        out = np.minimum(out, np.asarray(s, dtype=np.float32))  # propagates NaN
    return out.astype(np.float32)


def matrix_lut(matrix) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.int64)
    if m.shape != (5, 5) or m.min() < 1 or m.max() > 5:
        raise ValueError(
            f"land_water_matrix must be 5 x 5 grades 1..5, got {np.asarray(matrix).tolist()}"
        )
    lut = np.zeros((6, 6), dtype=np.uint8)
    lut[1:, 1:] = m
    return lut


def land_water_matrix(land_grade, water_grade, matrix) -> np.ndarray:
    """Combined grade (uint8 1..5) = matrix[land - 1][water - 1]; 0 where either grade is 0."""
    lut = matrix_lut(matrix)
    lg = np.asarray(land_grade).astype(np.int64)
    wg = np.asarray(water_grade).astype(np.int64)
    lg = np.where((lg >= 1) & (lg <= 5), lg, 0)
    wg = np.where((wg >= 1) & (wg <= 5), wg, 0)
    return lut[lg, wg]


def worst_grade(grade_list: Sequence[np.ndarray]) -> np.ndarray:
    """Highest grade (worst) over the list; 0 (no data) if any is 0."""
    stack = np.stack([np.asarray(g, dtype=np.uint8) for g in grade_list])
    out = stack.max(axis=0)
    return np.where((stack == 0).any(axis=0), 0, out).astype(np.uint8)


def best_grade(
    grade_list: Sequence[np.ndarray], applicable: Sequence[np.ndarray | None]
) -> np.ndarray:
    """Lowest grade (best) over the criteria that apply at a pixel; 0 where an applicable
    grade is 0 (no data) or where no criterion applies."""
    big = np.uint8(99)
    shape = np.shape(grade_list[0])
    best = np.full(shape, big, dtype=np.uint8)
    missing = np.zeros(shape, dtype=bool)
    for g, a in zip(grade_list, applicable):
        g = np.asarray(g, dtype=np.uint8)
        a = np.ones(shape, bool) if a is None else np.asarray(a, bool)
        missing |= a & (g == 0)
        best = np.where(a, np.minimum(best, g), best)
    return np.where(missing | (best == big), 0, best).astype(np.uint8)
