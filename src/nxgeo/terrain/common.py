"""Shared by the terrain modules: the output nodata value and the argument checks."""

from __future__ import annotations

import math

import numpy as np

from ..nodata import FLOAT_NODATA

NODATA = FLOAT_NODATA
_NODATA32 = np.float32(NODATA)


def _nodata32(nodata: float | None) -> np.float32 | None:
    if nodata is None:
        return None
    nd = float(nodata)
    if math.isnan(nd):
        return None  # NaN is always treated as nodata anyway
    return np.float32(nd)


def _check_res(xres: float, yres: float) -> tuple[float, float]:
    xr, yr = abs(float(xres)), abs(float(yres))
    if not (xr > 0 and yr > 0 and math.isfinite(xr) and math.isfinite(yr)):
        raise ValueError(f"pixel size must be positive and finite, got xres={xres}, yres={yres}")
    return xr, yr
