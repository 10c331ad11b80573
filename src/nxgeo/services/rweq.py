"""Windbreak and sand fixation with the Revised Wind Erosion Equation (RWEQ), DOMAIN.md §7.

In the form used by Chinese GEP accounting (Gong Guoli et al. 2014; Fryrear et al. 1998):

    x      = WF·EF·SCF·K′·C
    Q_max  = 109.8·x                       maximum transport capacity (kg/m)
    S      = 150.71·x^−0.3711              critical field length (m)
    S_L    = (2z/S²)·Q_max·exp(−(z/S)²)    soil loss at distance z downwind (kg/m²), z = 50 m
    SR     = S_L(C = 1) − S_L(C)           sand fixed by vegetation (kg/m²)

Units: WF (weather factor) in kg/m, EF, SCF, K′, C dimensionless, so Q_max is kg/m, S is m and
S_L is kg/m²; 1 kg/m² = 10 t/ha, so SR (t/ha/yr) = 10·SR (kg/m²) and × pixel area (ha) → t/yr.

* C = exp(a·FVC%) with a per class (``services.rweq.c_coeff``: forest −0.1535, grass −0.1151,
  shrub −0.0921, cropland −0.0438); FVC from the fvc raster (0–1) or ``services.fvc_by_class``.
* WF from the wind_factor raster or the constant ``wf_kg_per_m``.
* EF, SCF from the sand_fraction raster with Fryrear et al. (1998)'s texture regressions and
  the config's texture constants, else ``ef_by_class`` / ``scf_by_class``.
* K′ by class (``k_prime_by_class``).
* Classes in ``exclude_classes`` (water, sealed surfaces) fix no sand: SR = 0.
* S_L(x) ∝ x^1.7422·exp(−(z/S)²) rises with x only while (z/S)² < 1.7422/0.7422, i.e.
  S > z/1.532 (x < ≈ 62 for z = 50 m and the default coefficients), and falls beyond; there
  SR would turn negative — a property of the regression, not of the land. SR is clipped at 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# Published coefficients (Fryrear et al. 1998 / DOMAIN.md §7); the pipeline passes config values.
Q_COEFF = 109.8
S_COEFF = 150.71
S_EXP = -0.3711
Z_M = 50.0
T_PER_HA_PER_KG_PER_M2 = 10.0  # 1 kg/m² = 10 000 kg/ha = 10 t/ha (unit conversion)


def rweq_c(fvc, a) -> np.ndarray:
    """Vegetation factor C = exp(a·FVC%) with `fvc` as a fraction 0–1 (converted to %)."""
    f = np.clip(np.asarray(fvc, dtype=np.float64), 0.0, 1.0) * 100.0
    return np.exp(np.asarray(a, dtype=np.float64) * f)


def q_max(x, q_coeff: float = Q_COEFF) -> np.ndarray:
    """Maximum transport capacity Q_max = q_coeff·x (kg/m), x = WF·EF·SCF·K′·C."""
    return float(q_coeff) * np.asarray(x, dtype=np.float64)


def critical_length(x, s_coeff: float = S_COEFF, s_exp: float = S_EXP) -> np.ndarray:
    """Critical field length S = s_coeff·x^s_exp (m); +inf at x = 0."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return float(s_coeff) * np.where(x > 0, x, 0.0) ** float(s_exp)


def soil_loss_sl(wf, ef, scf, k_prime, c, z: float = Z_M, q_coeff: float = Q_COEFF,
                 s_coeff: float = S_COEFF, s_exp: float = S_EXP) -> np.ndarray:
    """Wind erosion S_L = (2z/S²)·Q_max·exp(−(z/S)²) in kg/m² (0 where x = 0)."""
    x = (np.asarray(wf, dtype=np.float64) * np.asarray(ef, dtype=np.float64)
         * np.asarray(scf, dtype=np.float64) * np.asarray(k_prime, dtype=np.float64)
         * np.asarray(c, dtype=np.float64))
    q = q_max(x, q_coeff)
    s = critical_length(x, s_coeff, s_exp)
    z = float(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isfinite(s) & (s > 0), z / s, 0.0)
        sl = 2.0 * ratio * ratio / z * q * np.exp(-ratio * ratio)
    return np.where(np.isnan(x), np.nan, np.where(x > 0, sl, 0.0))


def sand_fixation(wf, ef, scf, k_prime, c, z: float = Z_M, q_coeff: float = Q_COEFF,
                  s_coeff: float = S_COEFF, s_exp: float = S_EXP) -> dict[str, np.ndarray]:
    """Potential (C = 1) and actual S_L and sand fixed SR = max(potential − actual, 0), kg/m²."""
    pot = soil_loss_sl(wf, ef, scf, k_prime, 1.0, z, q_coeff, s_coeff, s_exp)
    act = soil_loss_sl(wf, ef, scf, k_prime, c, z, q_coeff, s_coeff, s_exp)
    return {"potential": pot, "actual": act, "fixed": np.maximum(pot - act, 0.0)}


def ef_scf_from_texture(sand_pct, silt_pct, clay_pct, om_pct, caco3_pct,
                        min_clay_pct: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Erodible fraction EF and soil crust factor SCF (0–1) from texture (Fryrear et al. 1998):

    EF = (29.09 + 0.31·Sa + 0.17·Si + 0.33·Sa/Cl − 2.59·OM − 0.95·CaCO₃)/100,
    SCF = 1/(1 + 0.0066·Cl² + 0.021·OM²), all in %. Clay is floored at `min_clay_pct` in the
    Sa/Cl term (the ratio explodes for pure sand); EF is clipped to [0, 1].
    """
    sa = np.asarray(sand_pct, dtype=np.float64)
    si = np.asarray(silt_pct, dtype=np.float64)
    cl = np.asarray(clay_pct, dtype=np.float64)
    om = np.asarray(om_pct, dtype=np.float64)
    ca = np.asarray(caco3_pct, dtype=np.float64)
    ef = (29.09 + 0.31 * sa + 0.17 * si + 0.33 * sa / np.maximum(cl, float(min_clay_pct))
          - 2.59 * om - 0.95 * ca) / 100.0
    scf = 1.0 / (1.0 + 0.0066 * cl * cl + 0.021 * om * om)
    return np.clip(ef, 0.0, 1.0), scf


def ef_scf_from_sand_fraction(sand_fraction, texture: Mapping | None = None
                              ) -> tuple[np.ndarray, np.ndarray]:
    """EF and SCF from a sand fraction (0–1) raster: silt and clay share the rest by
    ``silt_share_of_fines``; organic matter and CaCO₃ are the config constants."""
    t = {"silt_share_of_fines": 0.7, "organic_matter_pct": 0.8, "caco3_pct": 8.0,
         "min_clay_pct": 1.0, **dict(texture or {})}
    sa = np.clip(np.asarray(sand_fraction, dtype=np.float64), 0.0, 1.0) * 100.0
    fines = 100.0 - sa
    si = fines * float(t["silt_share_of_fines"])
    cl = fines - si
    return ef_scf_from_texture(sa, si, cl, float(t["organic_matter_pct"]), float(t["caco3_pct"]),
                               float(t["min_clay_pct"]))


def rweq_params(cfg_rweq: Mapping | None) -> dict:
    cfg = dict(cfg_rweq or {})
    return {"z": float(cfg.get("z_m", Z_M)), "q_coeff": float(cfg.get("q_coeff", Q_COEFF)),
            "s_coeff": float(cfg.get("s_coeff", S_COEFF)), "s_exp": float(cfg.get("s_exp", S_EXP))}
