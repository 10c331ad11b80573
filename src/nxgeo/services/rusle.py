"""Soil retention with RUSLE (docs/domain.md §7): SC = R·K·LS·(1 − C·P).

* potential soil loss A_p = R·K·LS, actual A = R·K·LS·C·P, retention SC = A_p − A (t/ha/yr);
  per pixel × pixel area (ha) → t/yr. Classes in ``exclude_classes`` (water, sealed surfaces)
  retain nothing (SC = 0); their potential and actual loss are reported as 0 too.
* R (MJ·mm/(ha·h·yr)) from mean annual precipitation P (mm) — Renard & Freimund (1994),
  J. Hydrology 157:287–306: R = a·P^b (a = 0.0483, b = 1.61) for P < 850 mm and
  R = c0 + c1·P + c2·P² (587.8, −1.219, 0.004105) above; all parameters from config
  (``services.rusle.r_a``, ``r_b``, ``r_switch_mm``, ``r_quadratic``).
* K: the soil_k raster when given, else ``k_by_class``.
* LS: the reach's ls.tif (nxgeo.terrain.ls_factor, InVEST SDR form).
* C: from fractional vegetation cover when an FVC raster is given (Cai Chongfa et al. 2000,
  f in %: 1 at f = 0, 0.6508 − 0.3436·lg f for 0 < f < 78.3 %, 0 from 78.3 % on; the formula
  exceeds 1 below f ≈ 1.3 %, so C is clipped to ≤ 1), else ``c_by_class``.
* P: ``p_by_class`` (1 on natural land).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# Published coefficients; the pipeline passes the config values (services.rusle.*).
RENARD_FREIMUND_A = 0.0483
RENARD_FREIMUND_B = 1.61
RENARD_FREIMUND_SWITCH_MM = 850.0
RENARD_FREIMUND_QUADRATIC = (587.8, -1.219, 0.004105)
CAI_C_FVC = {"intercept": 0.6508, "slope": 0.3436, "full_cover_pct": 78.3}


def erosivity(
    precip_mm,
    a: float = RENARD_FREIMUND_A,
    b: float = RENARD_FREIMUND_B,
    switch_mm: float | None = RENARD_FREIMUND_SWITCH_MM,
    quadratic: Sequence[float] | None = RENARD_FREIMUND_QUADRATIC,
) -> np.ndarray:
    """Rainfall erosivity R (MJ·mm/(ha·h·yr)) from annual precipitation (mm).

    R = a·P^b below `switch_mm`; at and above it R = c0 + c1·P + c2·P² when `quadratic` is
    given (Renard & Freimund 1994), else the power law everywhere. Negative P is treated as 0;
    NaN stays NaN.
    """
    p = np.maximum(np.asarray(precip_mm, dtype=np.float64), 0.0)
    r = float(a) * p ** float(b)
    if switch_mm is not None and quadratic is not None:
        c0, c1, c2 = (float(c) for c in quadratic)
        hi = p >= float(switch_mm)
        if np.any(hi):
            r = np.where(hi, c0 + c1 * p + c2 * p * p, r)
    return r


def c_from_fvc(
    fvc,
    intercept: float = CAI_C_FVC["intercept"],
    slope: float = CAI_C_FVC["slope"],
    full_cover_pct: float = CAI_C_FVC["full_cover_pct"],
) -> np.ndarray:
    """RUSLE cover-management factor from fractional vegetation cover `fvc` (0–1).

    f = 100·fvc (%): C = 1 at f = 0; intercept − slope·log10(f) for 0 < f < full_cover_pct,
    clipped to [0, 1]; C = 0 for f ≥ full_cover_pct. NaN stays NaN.
    """
    f = np.clip(np.asarray(fvc, dtype=np.float64), 0.0, 1.0) * 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        mid = float(intercept) - float(slope) * np.log10(np.where(f > 0, f, 1.0))
    c = np.where(f <= 0, 1.0, np.where(f >= float(full_cover_pct), 0.0, np.clip(mid, 0.0, 1.0)))
    return np.where(np.isnan(f), np.nan, c)


def soil_loss(r, k, ls, c, p) -> dict[str, np.ndarray]:
    """Potential (R·K·LS), actual (R·K·LS·C·P) soil loss and retention (their difference),
    all in t/ha/yr, element-wise (arrays broadcast)."""
    pot = (
        np.asarray(r, dtype=np.float64)
        * np.asarray(k, dtype=np.float64)
        * np.asarray(ls, dtype=np.float64)
    )
    act = pot * np.asarray(c, dtype=np.float64) * np.asarray(p, dtype=np.float64)
    return {"potential": pot, "actual": act, "retention": pot - act}


def soil_retention(r, k, ls, c, p) -> np.ndarray:
    """SC = R·K·LS·(1 − C·P), t/ha/yr."""
    return soil_loss(r, k, ls, c, p)["retention"]


def rusle_params(cfg_rusle: Mapping) -> dict:
    """The R and C(FVC) parameters of ``services.rusle`` (complete: the schema's defaults are
    the published values, RENARD_FREIMUND_* and CAI_C_FVC)."""
    cfg = cfg_rusle
    quad = cfg["r_quadratic"]
    return {
        "a": float(cfg["r_a"]),
        "b": float(cfg["r_b"]),
        "switch_mm": None if cfg["r_switch_mm"] is None else float(cfg["r_switch_mm"]),
        "quadratic": None if quad is None else tuple(float(q) for q in quad),
        "c_fvc": dict(cfg["c_fvc"]),
    }
