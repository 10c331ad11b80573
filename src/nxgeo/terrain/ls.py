"""RUSLE LS factor (Desmet & Govers 1996, as InVEST SDR computes it)."""

from __future__ import annotations

import math

import numpy as np

from .common import NODATA

# --------------------------------------------------------------------------------------------
# RUSLE LS factor
# --------------------------------------------------------------------------------------------

_M_SLOPE_PCT = np.array([1.0, 3.5, 5.0, 9.0])
_M_TABLE = np.array([0.2, 0.3, 0.4, 0.5])


def ls_factor(
    slope_deg: np.ndarray,
    flow_acc: np.ndarray,
    cell_size: float,
    *,
    aspect_deg: np.ndarray | None = None,
    s_method: str = "invest",
    area: str = "invest",
    l_max: float | None = 122.0,
    nodata: float = NODATA,
) -> np.ndarray:
    """RUSLE LS factor after Desmet & Govers (1996), as InVEST SDR (≥ 3.14) computes it.

    L = ((A + D²)^(m+1) − A^(m+1)) / (D^(m+2) · x^m · 22.13^m), then L = min(L, l_max); LS = L·S.

    * D = `cell_size` (m, square cells); `flow_acc` counts cells including the cell itself
      (see `flow_accumulation`), so the strictly-upslope count is flow_acc − 1.
    * `area="invest"`: A = sqrt((flow_acc − 1)·D²) — InVEST ≥ 3.14 (ADR-0001, SAGA's "square
      root of catchment area"; InVEST adds D² to this square root verbatim, so we do too).
      `area="desmet_govers"`: A = (flow_acc − 1)·D², the contributing area in m² (InVEST ≤ 3.13).
    * x: with `aspect_deg`, x = |sin α| + |cos α| of the on-pixel aspect (Desmet & Govers; flat
      or nodata aspect gives x = 1). Without it, x = |sin θ| + |cos θ| of the slope angle θ,
      which is literally what InVEST ≥ 3.14 computes — pass `aspect_deg` for the textbook form.
    * m (slope in percent, InVEST table): 0.2 (≤ 1 %), 0.3 (≤ 3.5 %), 0.4 (≤ 5 %), 0.5 (≤ 9 %),
      else β/(1+β) with β = (sin θ / 0.0896) / (3 sin θ^0.8 + 0.56).
    * `l_max`: InVEST's user parameter "maximum L value" (clamps L, not the area); 122 is the
      value of InVEST's sample data. None disables the cap.
    * `s_method="invest"`: S = 10.8 sin θ + 0.03 where slope < 9 %, else 16.8 sin θ − 0.50.
      `s_method="domain"` (docs/domain.md §7): 10.8 sin θ + 0.03 (θ < 5°), 16.8 sin θ − 0.5
      (5° ≤ θ < 10°), 21.91 sin θ − 0.96 (θ ≥ 10°).

    Cells where slope is `nodata`/NaN or flow_acc is NaN/< 1 are `nodata` in the float32 result.
    """
    if s_method not in ("invest", "domain"):
        raise ValueError(f"s_method must be 'invest' or 'domain', got {s_method!r}")
    if area not in ("invest", "desmet_govers"):
        raise ValueError(f"area must be 'invest' or 'desmet_govers', got {area!r}")
    d = float(cell_size)
    if not (d > 0 and math.isfinite(d)):
        raise ValueError(f"cell_size must be positive, got {cell_size}")
    slope = np.asarray(slope_deg, dtype=np.float64)
    fa = np.asarray(flow_acc, dtype=np.float64)
    if slope.shape != fa.shape:
        raise ValueError(f"slope shape {slope.shape} != flow_acc shape {fa.shape}")
    valid = np.isfinite(slope) & (slope != nodata) & np.isfinite(fa) & (fa >= 1)
    out = np.full(slope.shape, np.float32(nodata), dtype=np.float32)
    theta = np.radians(slope[valid])
    fa = fa[valid]
    sin_t = np.sin(theta)
    pct = np.tan(theta) * 100.0
    beta = (sin_t / 0.0896) / (3.0 * sin_t**0.8 + 0.56)
    big = pct > _M_SLOPE_PCT[-1]
    table_m = _M_TABLE[np.minimum(np.digitize(pct, _M_SLOPE_PCT, right=True), 3)]
    m = np.where(big, beta / (1.0 + beta), table_m)
    cell_area = d * d
    upslope = (fa - 1.0) * cell_area
    a_in = np.sqrt(upslope) if area == "invest" else upslope
    if aspect_deg is None:
        x = np.abs(sin_t) + np.abs(np.cos(theta))
    else:
        asp = np.asarray(aspect_deg, dtype=np.float64)
        if asp.shape != slope.shape:
            raise ValueError(f"aspect shape {asp.shape} != slope shape {slope.shape}")
        asp = asp[valid]
        alpha = np.radians(np.where(np.isfinite(asp) & (asp != nodata), asp, 0.0))
        x = np.abs(np.sin(alpha)) + np.abs(np.cos(alpha))
    ell = ((a_in + cell_area) ** (m + 1.0) - a_in ** (m + 1.0)) / (d ** (m + 2.0) * x**m * 22.13**m)
    if l_max is not None:
        ell = np.minimum(ell, float(l_max))
    if s_method == "invest":
        s = np.where(pct < 9.0, 10.8 * sin_t + 0.03, 16.8 * sin_t - 0.5)
    else:
        deg = slope[valid]
        s = np.where(
            deg < 5.0,
            10.8 * sin_t + 0.03,
            np.where(deg < 10.0, 16.8 * sin_t - 0.5, 21.91 * sin_t - 0.96),
        )
    out[valid] = ell * s
    return out
