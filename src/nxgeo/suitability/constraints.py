"""Hard constraints: a reason bit per cause (legend in `codes.REASONS`).

Rules (each pixel keeps every bit that applies):

- bit 0 class_not_convertible: land-use class in ``not_convertible_from``;
- bits 1-4: inside a zone listed in ``exclude_zones`` (protected_core, protected_any,
  ecological_redline, basic_farmland) — each zone sets its own bit;
- bit 5 slope_limit: slope > ``max_slope_deg`` (exactly at the limit is allowed);
- bit 6 precipitation_rule: precipitation < ``min_mm`` (exactly min_mm is allowed) and the pixel
  is outside the ``unless`` mask (forest: water_secured);
- bit 7 buffer: distance < ``min_m`` or distance > ``max_m`` (the limits themselves are allowed);
- bit 8 nodata: NaN in a layer a rule needs, or land use 0.

Land use 0 means "outside the study area" (the land-use raster defines it): such a pixel gets
the nodata bit **only** (no other rule is evaluated), so it is never shown as excluded.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .codes import NODATA_BIT, REASON_BIT
from .spec import Constraints


def class_ids(names, classes_df: pd.DataFrame) -> np.ndarray:
    ids = dict(zip(classes_df["canonical"].astype(str), classes_df["class_id"].astype(int)))
    missing = [n for n in names if n not in ids]
    if missing:
        raise ValueError(f"unknown canonical classes {missing}; known: {', '.join(ids)}")
    return np.asarray([ids[n] for n in names], dtype=np.int64)


def constraint_reasons(
    layers: Mapping[str, np.ndarray], constraints: Constraints, not_convertible_ids: np.ndarray
) -> np.ndarray:
    """uint16 reason bits. `layers` are prepared arrays: landuse uint8 (0 = nodata), masks bool,
    continuous float (NaN = nodata)."""
    landuse = np.asarray(layers["landuse"])
    reasons = np.zeros(landuse.shape, dtype=np.uint16)

    def setbit(mask, code):  # in place, without gathering the masked pixels
        np.bitwise_or(
            reasons, np.uint16(REASON_BIT[code]), out=reasons, where=np.asarray(mask, bool)
        )

    setbit(landuse == 0, "nodata")
    if len(not_convertible_ids):
        if landuse.dtype == np.uint8:  # a 256-entry table instead of np.isin
            lut = np.zeros(256, dtype=bool)
            ids = np.asarray(not_convertible_ids)
            lut[ids[(ids >= 0) & (ids < 256)]] = True
            setbit(lut[landuse], "class_not_convertible")
        else:
            setbit(np.isin(landuse, not_convertible_ids), "class_not_convertible")
    for zone in constraints.exclude_zones:
        setbit(layers[zone], zone)
    with np.errstate(invalid="ignore"):
        if constraints.max_slope_deg is not None:
            slope = layers["slope"]
            setbit(np.isnan(slope), "nodata")
            setbit(slope > constraints.max_slope_deg, "slope_limit")
        if constraints.precip_min_mm is not None:
            p = layers["precipitation"]
            dry = p < constraints.precip_min_mm
            if constraints.precip_unless:
                dry &= ~np.asarray(layers[constraints.precip_unless], bool)
            setbit(np.isnan(p), "nodata")
            setbit(dry, "precipitation_rule")
        for b in constraints.buffers:
            d = layers[b.layer]
            setbit(np.isnan(d), "nodata")
            if b.min_m is not None:
                setbit(d < b.min_m, "buffer")
            if b.max_m is not None:
                setbit(d > b.max_m, "buffer")
    reasons[landuse == 0] = np.uint16(NODATA_BIT)
    return reasons


def is_excluded(reasons: np.ndarray) -> np.ndarray:
    """True where any reason other than nodata is set."""
    return (np.asarray(reasons) & np.uint16(~NODATA_BIT & 0xFFFF)) != 0
