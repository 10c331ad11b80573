"""Windbreak and sand fixation with the Revised Wind Erosion Equation (RWEQ), docs/gep.md.

In the form used by Chinese GEP accounting (Gong Guoli 巩国丽 et al. 2014; Fryrear et al. 1998,
2000):

    x      = WF·EF·SCF·K′·C
    Q_max  = 109.8·x                       maximum transport capacity (kg/m)
    S      = 150.71·x^−0.3711              critical field length (m)
    S_L    = (2z/S²)·Q_max·exp(−(z/S)²)    soil loss at distance z downwind (kg/m²), z = 50 m
    SR     = S_L(potential) − S_L(actual)  sand fixed by vegetation (kg/m²)

Units: WF (weather factor) in kg/m, EF, SCF, K′, C dimensionless, so Q_max is kg/m, S is m and
S_L is kg/m²; 1 kg/m² = 10 t/ha, so SR (t/ha/yr) = 10·SR (kg/m²) and × pixel area (ha) → t/yr.

**Potential and actual.** The potential is the loss of the same soil *bare* (C = 1): WF from the
wind_factor raster or a regional constant, EF and SCF from soil texture (the sand_fraction
raster, or the regional constant texture), K′ from terrain roughness (the slope raster). None of
them depends on the land-cover class, so converting sand to shrub changes only C. The actual
loss uses C = exp(a·FVC%) (a < 0 by vegetation type, FVC from the fvc raster or by class), so
x_actual = x_potential·C ≤ x_potential.

**The hump.** S_L(x) ∝ x^(1 − 2b)·exp(−(z/s)²·x^(−2b)) (b = s_exp = −0.3711) rises with x only
while (z/S)² < (1 − 2b)/(−2b) = 2.347, i.e. up to x* = (z/(s·√2.347))^(1/b) ≈ 61.7 for z = 50 m,
and falls beyond — a property of the regression (fitted on fields far shorter than its critical
length), not of the land: left alone, a very windy bare pixel would lose *less* soil than a
slightly vegetated one and raising cover could lower "fixation". `soil_loss_sl` therefore uses
the monotone envelope S_L(min(x, x*)): beyond the hump the loss is held at its maximum. With it
S_L is non-decreasing in x, so SR ≥ 0 and SR never falls when FVC rises.

**K′ from terrain** (Smith–Carson, as used with RWEQ in China):
K′ = exp(1.86·Kr − 2.41·Kr^0.934 − 0.127·Crr), Kr (cm) = 0.2·ΔH²/L with the elevation difference
ΔH = L·tan(slope) over the length L (``services.rweq.roughness_length_m``), Crr the random
roughness (cm). The exponent falls with Kr only up to Kr ≈ 18 cm and rises beyond (another
regression artefact); Kr is capped there so K′ never rises with roughness.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# Published coefficients (Fryrear et al. 1998); the pipeline passes the config values.
Q_COEFF = 109.8
S_COEFF = 150.71
S_EXP = -0.3711
Z_M = 50.0
T_PER_HA_PER_KG_PER_M2 = 10.0  # 1 kg/m² = 10 000 kg/ha = 10 t/ha (unit conversion)
# Smith-Carson roughness factor K' = exp(a·Kr + b·Kr^p + c·Crr)
SMITH_CARSON = (1.86, -2.41, 0.934, -0.127)


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


def hump_x(z: float = Z_M, s_coeff: float = S_COEFF, s_exp: float = S_EXP) -> float:
    """The x at which S_L(x) peaks: (z/S)² = (1 − 2b)/(−2b), S = s·x^b (b = s_exp < 0)."""
    b = float(s_exp)
    if b >= 0:
        raise ValueError(f"services.rweq.s_exp must be negative, got {b}")
    ratio = np.sqrt((1.0 - 2.0 * b) / (-2.0 * b))
    return float((float(z) / (float(s_coeff) * ratio)) ** (1.0 / b))


def _sl_of_x(x, z, q_coeff, s_coeff, s_exp) -> np.ndarray:
    """S_L on the monotone envelope: x capped at the hump (see the module docstring)."""
    x = np.asarray(x, dtype=np.float64)
    xe = np.minimum(x, hump_x(z, s_coeff, s_exp))
    q = q_max(xe, q_coeff)
    s = critical_length(xe, s_coeff, s_exp)
    z = float(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isfinite(s) & (s > 0), z / s, 0.0)
        sl = 2.0 * ratio * ratio / z * q * np.exp(-ratio * ratio)
    return np.where(np.isnan(x), np.nan, np.where(x > 0, sl, 0.0))


def soil_loss_sl(
    wf,
    ef,
    scf,
    k_prime,
    c,
    z: float = Z_M,
    q_coeff: float = Q_COEFF,
    s_coeff: float = S_COEFF,
    s_exp: float = S_EXP,
) -> np.ndarray:
    """Wind erosion S_L = (2z/S²)·Q_max·exp(−(z/S)²) in kg/m² (0 where x = 0), with x capped at
    the regression's hump `hump_x` (monotone in x)."""
    x = (
        np.asarray(wf, dtype=np.float64)
        * np.asarray(ef, dtype=np.float64)
        * np.asarray(scf, dtype=np.float64)
        * np.asarray(k_prime, dtype=np.float64)
        * np.asarray(c, dtype=np.float64)
    )
    return _sl_of_x(x, z, q_coeff, s_coeff, s_exp)


def sand_fixation(
    wf,
    ef,
    scf,
    k_prime,
    c,
    z: float = Z_M,
    q_coeff: float = Q_COEFF,
    s_coeff: float = S_COEFF,
    s_exp: float = S_EXP,
) -> dict[str, np.ndarray]:
    """Potential (bare soil, C = 1) and actual (C) S_L and the sand fixed SR = potential −
    actual, all kg/m². WF, EF, SCF and K′ are the soil's and the terrain's — never the land-cover
    class's — so the potential is the same whatever grows on the pixel. SR ≥ 0 and SR is
    non-increasing in C (non-decreasing in vegetation cover) because S_L is monotone."""
    pot = soil_loss_sl(wf, ef, scf, k_prime, 1.0, z, q_coeff, s_coeff, s_exp)
    c = np.clip(np.asarray(c, dtype=np.float64), 0.0, 1.0)
    act = soil_loss_sl(wf, ef, scf, k_prime, c, z, q_coeff, s_coeff, s_exp)
    return {"potential": pot, "actual": act, "fixed": np.maximum(pot - act, 0.0)}


def ef_scf_from_texture(
    sand_pct, silt_pct, clay_pct, om_pct, caco3_pct, min_clay_pct: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
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
    ef = (
        29.09
        + 0.31 * sa
        + 0.17 * si
        + 0.33 * sa / np.maximum(cl, float(min_clay_pct))
        - 2.59 * om
        - 0.95 * ca
    ) / 100.0
    scf = 1.0 / (1.0 + 0.0066 * cl * cl + 0.021 * om * om)
    return np.clip(ef, 0.0, 1.0), scf


TEXTURE_KEYS = (
    "sand_fraction",
    "silt_share_of_fines",
    "organic_matter_pct",
    "caco3_pct",
    "min_clay_pct",
)


def ef_scf_from_sand_fraction(sand_fraction, texture: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """EF and SCF from a sand fraction (0–1; NaN → the regional constant
    ``texture['sand_fraction']``): silt and clay share the rest by ``silt_share_of_fines``;
    organic matter and CaCO₃ are the texture constants (``services.rweq.texture``)."""
    missing = [k for k in TEXTURE_KEYS if k not in texture]
    if missing:
        from ..errors import ConfigError

        raise ConfigError([f"services.rweq.texture.{k}: missing" for k in missing])
    t = {k: float(texture[k]) for k in TEXTURE_KEYS}
    sf = np.asarray(sand_fraction, dtype=np.float64)
    sf = np.where(np.isfinite(sf), sf, t["sand_fraction"])
    sa = np.clip(sf, 0.0, 1.0) * 100.0
    fines = 100.0 - sa
    si = fines * t["silt_share_of_fines"]
    cl = fines - si
    return ef_scf_from_texture(
        sa, si, cl, t["organic_matter_pct"], t["caco3_pct"], t["min_clay_pct"]
    )


def smith_carson_kr_cap(coeffs=SMITH_CARSON) -> float:
    """Kr (cm) where the Smith–Carson exponent a·Kr + b·Kr^p is lowest (d/dKr = 0); beyond it
    the regression would make rougher terrain *more* erodible."""
    a, b, p, _ = (float(v) for v in coeffs)
    return float((a / (-b * p)) ** (1.0 / (p - 1.0)))


def k_prime_from_slope(
    slope_deg, length_m: float, crr_cm: float = 0.0, coeffs=SMITH_CARSON
) -> np.ndarray:
    """Terrain roughness factor K′ (0–1) from the slope (degrees).

    ΔH = L·tan(slope) (m) over `length_m`; Kr = 0.2·ΔH²/L (m → cm); K′ = exp(a·Kr + b·Kr^p +
    c·Crr) with Kr capped at `smith_carson_kr_cap` (K′ non-increasing in slope); K′ ≤ 1.
    NaN slope → NaN.
    """
    a, b, p, c = (float(v) for v in coeffs)
    s = np.asarray(slope_deg, dtype=np.float64)
    dh = float(length_m) * np.tan(np.radians(np.clip(s, 0.0, 89.0)))
    kr = np.minimum(0.2 * dh * dh / float(length_m) * 100.0, smith_carson_kr_cap(coeffs))
    k = np.exp(a * kr + b * kr**p + c * float(crr_cm))
    return np.where(np.isnan(s), np.nan, np.minimum(k, 1.0))


def rweq_params(cfg_rweq: Mapping | None) -> dict:
    """The regression constants of ``services.rweq`` (z_m, q_coeff, s_coeff, s_exp)."""
    from ..errors import ConfigError

    cfg = dict(cfg_rweq or {})
    missing = [k for k in ("z_m", "q_coeff", "s_coeff", "s_exp") if cfg.get(k) is None]
    if missing:
        raise ConfigError([f"services.rweq.{k}: missing" for k in missing])
    return {
        "z": float(cfg["z_m"]),
        "q_coeff": float(cfg["q_coeff"]),
        "s_coeff": float(cfg["s_coeff"]),
        "s_exp": float(cfg["s_exp"]),
    }
