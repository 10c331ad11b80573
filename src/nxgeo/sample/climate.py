"""Synthetic annual precipitation (mm/yr): ~180 mm on the northern plain rising southwards to
~650 mm on the Liupan Mountains, wetter with elevation, smooth with mild noise."""

from __future__ import annotations

import numpy as np

from .fields import smoothstep

# zonal mean at about 1200 m, by latitude (Yinchuan ~190 mm, Tongxin ~270, Guyuan ~450)
LAT_NODES = np.array([35.0, 35.5, 36.0, 36.5, 37.0, 37.5, 38.0, 38.5, 39.5])
LAT_MM = np.array([520.0, 480.0, 420.0, 350.0, 285.0, 240.0, 200.0, 185.0, 175.0])
OROGRAPHIC_MM_PER_M = 0.10  # above 1200 m
OROGRAPHIC_HIGH_MM_PER_M = 0.05  # additionally above 2000 m
NOISE_FRACTION = 0.05


def precipitation(lon, lat, z, noise) -> np.ndarray:
    lon = np.asarray(lon, dtype=np.float32)
    lat = np.asarray(lat, dtype=np.float32)
    p = np.interp(lat, LAT_NODES, LAT_MM).astype(np.float32)
    # the Mu Us fringe (Yanchi) is wetter than the plain at the same latitude
    east = (
        np.clip(lon - 106.5, 0.0, 1.2)
        * smoothstep(lat, 36.8, 37.3)
        * (1.0 - smoothstep(lat, 38.2, 38.7))
    )
    # rain shadow west of the Liupan Mountains (Xiji, Haiyuan)
    west = np.clip(106.1 - lon, 0.0, 0.8) * (1.0 - smoothstep(lat, 36.3, 36.8))
    p = p + 40.0 * east - 40.0 * west
    z = np.asarray(z, dtype=np.float32)
    p = (
        p
        + OROGRAPHIC_MM_PER_M * (z - 1200.0)
        + OROGRAPHIC_HIGH_MM_PER_M * np.maximum(z - 2000.0, 0.0)
    )
    p = p * (1.0 + NOISE_FRACTION * np.asarray(noise, dtype=np.float32))
    return np.maximum(p, 120.0).astype(np.float32)
