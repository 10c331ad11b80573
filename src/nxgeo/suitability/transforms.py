"""Criterion transforms: a layer's values -> a score 0-100 (float32, NaN = no data).

All functions are vectorised numpy and NaN-aware: a NaN input gives a NaN score (grade 0).

Boundary rule of `grades` (the docs/domain.md §4 tables): a value **exactly at a break gets the
better grade**.

- ascending (``descending=False``, e.g. slope breaks 2/6/15/25 deg):
  grade 1 for x <= 2, 2 for 2 < x <= 6, 3 for 6 < x <= 15, 4 for 15 < x <= 25, 5 for x > 25;
  i.e. grade = 1 + number of breaks strictly below x.
- descending (``descending=True``, breaks listed high to low, e.g. precipitation
  1200/800/400/200 mm): grade 1 for x >= 1200, 2 for 800 <= x < 1200, 3 for 400 <= x < 800,
  4 for 200 <= x < 400, 5 for x < 200; i.e. grade = 1 + number of breaks strictly above x.
  (So 400 mm is grade 3, consistent with the "< 400 mm" forest rule.)

Grade -> score: 1 = 100, 2 = 75, 3 = 50, 4 = 25, 5 = 0 (``GRADE_SCORES``); grade 0 = no data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

GRADE_SCORES = (100.0, 75.0, 50.0, 25.0, 0.0)  # grade 1..5
GRADE_NODATA_VALUE = 0  # grade 0 = no data (inside the computations)


def _as_float(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


def check_breaks(breaks: Sequence[float], descending: bool = False) -> None:
    b = np.asarray(breaks, dtype=np.float64)
    if b.ndim != 1 or b.size == 0 or not np.all(np.isfinite(b)):
        raise ValueError(
            f"grade breaks must be a non-empty list of finite numbers, got {list(breaks)}"
        )
    d = np.diff(b)
    if descending and not np.all(d < 0):
        raise ValueError(f"descending grade breaks must be strictly decreasing, got {list(breaks)}")
    if not descending and not np.all(d > 0):
        raise ValueError(f"grade breaks must be strictly increasing, got {list(breaks)}")


def grades(x, breaks: Sequence[float], descending: bool = False) -> np.ndarray:
    """Threshold grades 1..len(breaks)+1 (uint8, 0 = no data). See the module doc for the rule."""
    check_breaks(breaks, descending)
    x = _as_float(x)
    b = np.asarray(breaks, dtype=np.float64)
    valid = ~np.isnan(x)
    xv = np.where(valid, x, 0.0)
    if descending:
        asc = b[::-1]  # strictly increasing
        n_above = asc.size - np.searchsorted(asc, xv, side="right")
        g = 1 + n_above
    else:
        g = 1 + np.searchsorted(b, xv, side="left")  # breaks strictly below x
    return np.where(valid, g, GRADE_NODATA_VALUE).astype(np.uint8)


def grade_score(g, scores: Sequence[float] = GRADE_SCORES) -> np.ndarray:
    """Grade 1..5 -> score (float32); grade 0 (or out of range) -> NaN."""
    g = np.asarray(g)
    lut = np.full(256, np.nan, dtype=np.float32)
    lut[1 : len(scores) + 1] = np.asarray(scores, dtype=np.float32)
    return lut[np.clip(g, 0, 255).astype(np.uint8)]


def linear(x, low: float, high: float) -> np.ndarray:
    """Linear membership: 0 at `low`, 100 at `high`, clipped to 0..100 (float32).

    ``low > high`` means decreasing (e.g. slope low=35, high=5: 100 at <= 5 deg, 0 at >= 35 deg).
    """
    low, high = float(low), float(high)
    if low == high or not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(
            f"linear transform needs two different finite values, got low={low}, high={high}"
        )
    x = _as_float(x)
    with np.errstate(invalid="ignore"):
        s = (x - low) / (high - low) * 100.0
        s = np.clip(s, 0.0, 100.0)
    return s.astype(np.float32)


def check_fuzzy_points(points: Sequence[float]) -> None:
    p = [float(v) for v in points]
    if len(p) != 4:
        raise ValueError(f"fuzzy transform needs 4 points [a, b, c, d], got {list(points)}")
    if any(np.isnan(v) for v in p) or not (p[0] <= p[1] <= p[2] <= p[3]) or not p[0] < p[3]:
        raise ValueError(
            f"fuzzy points must be ascending (a <= b <= c <= d, a < d), got {list(points)}"
        )


def fuzzy(x, points: Sequence[float]) -> np.ndarray:
    """Trapezoidal membership (float32): 0 below a, rising linearly to 100 at b, 100 from b to c,
    falling linearly to 0 at d, 0 above d. a == b (or c == d) makes a vertical edge: 100 from
    x >= a (resp. up to x <= d). Infinite a=b=-inf or c=d=inf give one-sided shapes.
    """
    check_fuzzy_points(points)
    a, b, c, d = (float(v) for v in points)
    x = _as_float(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        rise = (x - a) / (b - a) if b > a else np.where(x >= a, 1.0, 0.0)
        fall = (d - x) / (d - c) if d > c else np.where(x <= d, 1.0, 0.0)
        m = np.clip(np.minimum(rise, fall), 0.0, 1.0) * 100.0
    m = np.where(np.isnan(x), np.nan, m)
    return m.astype(np.float32)


def lookup_table(
    values: Mapping[str, float], default: float, classes_df: pd.DataFrame
) -> np.ndarray:
    """256-entry float32 table class_id -> score. Class 0 and ids not in the classes table -> NaN."""
    ids = dict(zip(classes_df["canonical"].astype(str), classes_df["class_id"].astype(int)))
    unknown = [k for k in values if k not in ids]
    if unknown:
        raise ValueError(f"lookup values name unknown classes {unknown}; known: {', '.join(ids)}")
    lut = np.full(256, np.nan, dtype=np.float32)
    for cid in ids.values():
        if 0 < cid < 256:
            lut[cid] = float(default)
    for name, v in values.items():
        lut[ids[name]] = float(v)
    return lut


def lookup(
    class_ids, values: Mapping[str, float], default: float, classes_df: pd.DataFrame
) -> np.ndarray:
    """Score by canonical land-use class (float32). `values` maps canonical name -> score;
    other classes get `default`; class 0 (no data) and ids not in `classes_df` get NaN."""
    lut = lookup_table(values, default, classes_df)
    return apply_lut(class_ids, lut)


def apply_lut(class_ids, lut: np.ndarray) -> np.ndarray:
    c = np.asarray(class_ids)
    if c.dtype != np.uint8:
        c = np.where((c >= 0) & (c < 256), c, 0).astype(np.uint8)
    return lut[c]
