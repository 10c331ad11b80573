"""Water conservation by the water-balance method (docs/domain.md §7): Q = (P − R − ET)·A.

R = runoff_coeff[class]·P; ET = et_mm_by_class[class] (mm/yr) where listed, else
et_ratio_by_class[class]·P; Q (mm/yr) is clipped at ≥ 0 (arid land whose ET exceeds rainfall
conserves nothing, it does not "consume" negative water). Volume: 1 mm over 1 ha = 10 m³, so
Q (m³/yr) = Q (mm) × 10 × area (ha). Value = m³ × price (prices item ``water_conservation``,
reservoir construction cost per m³).
"""

from __future__ import annotations

import numpy as np

M3_PER_MM_HA = 10.0  # 1 mm of water over 1 ha = 0.001 m × 10 000 m² (unit conversion)


def water_conservation_mm(precip_mm, runoff_coeff, et_mm) -> np.ndarray:
    """Q = max(P − runoff_coeff·P − ET, 0) in mm/yr (NaN where any input is NaN)."""
    p = np.asarray(precip_mm, dtype=np.float64)
    q = p - np.asarray(runoff_coeff, dtype=np.float64) * p - np.asarray(et_mm, dtype=np.float64)
    return np.where(np.isnan(q), np.nan, np.maximum(q, 0.0))


def et_mm(precip_mm, et_ratio, et_fixed_mm) -> np.ndarray:
    """ET (mm/yr): the fixed value where it is not NaN, else ratio·P."""
    p = np.asarray(precip_mm, dtype=np.float64)
    fixed = np.asarray(et_fixed_mm, dtype=np.float64)
    return np.where(np.isnan(fixed), np.asarray(et_ratio, dtype=np.float64) * p, fixed)


def mm_to_m3(q_mm, area_ha) -> np.ndarray:
    """mm of water over `area_ha` hectares -> m³."""
    return np.asarray(q_mm, dtype=np.float64) * M3_PER_MM_HA * np.asarray(area_ha, dtype=np.float64)
