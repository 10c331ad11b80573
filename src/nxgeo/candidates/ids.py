"""Stable parcel ids: the same place keeps its id from one survey year to the next.

Rules
-----
- **Layer parcels** (a homestead or mine polygon from a vector layer): the source id,
  ``<pathway>-<code>-<source id>``, e.g. ``A-HS-000123`` (homestead 123) or ``B-MN-000042``
  (mine 42). A purely numeric source id is zero-padded to 6 digits; other ids are kept,
  upper-cased, with every character outside ``A-Z 0-9 _`` replaced by ``_``.
- **Clumped parcels** (pixels of a class clumped into parcels): the location,
  ``<pathway>-<adcode>-<E km>-<N km>``, e.g. ``C-640323-512.3-4123.4``. The point is the
  parcel's centroid (its centre of area), or shapely's ``point_on_surface`` when the centroid
  falls outside the parcel (a crescent); it is snapped to the nearest node of a 100 m grid
  (`grid_m`) and written in km with one decimal. A parcel that grows or shrinks by a few
  pixels moves its centroid by a few metres, so it keeps its id unless the centroid crosses
  the middle between two grid nodes (then the id moves by 0.1 km) — the id is a place label,
  not a guarantee against every redraw.
- **Collisions** (two parcels of one year with the same id: two clumps whose points snap to
  the same node, or a source id used twice): the largest parcel keeps the plain id; the others
  get ``-<6 hex>``, the start of the SHA-1 of their geometry snapped to 1 m (well-known
  binary). Identical snapped geometries (true duplicates) get a further ``-2``, ``-3``...
  in order of input.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import shapely

GRID_M = 100.0
HASH_SNAP_M = 1.0


def source_ids(prefix: str, ids) -> pd.Series:
    """``<prefix>-<id>`` for layer parcels (``A-HS``, ``B-MN``): digits zero-padded to 6."""
    out = []
    for v in pd.Series(ids, dtype=object):
        s = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        s = re.sub(r"\.0$", "", s)
        if s.isdigit():
            s = f"{int(s):06d}"
        else:
            s = re.sub(r"[^A-Z0-9_]", "_", s.upper()) or "NOID"
        out.append(f"{prefix}-{s}")
    return pd.Series(out, dtype=object)


def anchor_points(geoms) -> np.ndarray:
    """The id point of every geometry: centroid, or point_on_surface when the centroid is
    outside the geometry."""
    geoms = np.asarray(geoms, dtype=object)
    cent = shapely.centroid(geoms)
    inside = shapely.intersects(cent, geoms)
    if (~inside).any():
        cent[~inside] = shapely.point_on_surface(geoms[~inside])
    return cent


def location_ids(prefix: str, adcodes, geoms, grid_m: float = GRID_M) -> pd.Series:
    """``<prefix>-<adcode>-<E km>-<N km>`` of the snapped anchor point of every geometry."""
    pts = anchor_points(geoms)
    x = np.round(shapely.get_x(pts) / grid_m) * grid_m
    y = np.round(shapely.get_y(pts) / grid_m) * grid_m
    codes = pd.Series(adcodes, dtype=object).astype(str).to_numpy()
    return pd.Series(
        [f"{prefix}-{a}-{e / 1000:.1f}-{n / 1000:.1f}" for a, e, n in zip(codes, x, y)],
        dtype=object,
    )


def geometry_hash(geom, snap_m: float = HASH_SNAP_M, n: int = 6) -> str:
    g = shapely.set_precision(geom, snap_m) if snap_m else geom
    g = shapely.normalize(g)
    return hashlib.sha1(shapely.to_wkb(g, hex=False, output_dimension=2)).hexdigest()[:n]


def resolve_collisions(ids, geoms) -> pd.Series:
    """Make ids unique (rule in the module docstring); unique ids are returned unchanged."""
    ids = pd.Series(ids, dtype=object).reset_index(drop=True)
    geoms = np.asarray(geoms, dtype=object)
    dup = ids.duplicated(keep=False)
    if not dup.any():
        return ids
    out = ids.copy()
    areas = shapely.area(geoms)
    for idx in ids[dup].groupby(ids[dup]).groups.values():
        idx = list(idx)
        hashes = {i: geometry_hash(geoms[i]) for i in idx}
        order = sorted(idx, key=lambda i: (-areas[i], hashes[i], i))
        for i in order[1:]:
            out[i] = f"{ids[i]}-{hashes[i]}"
    # identical snapped geometries: number them in input order
    dup2 = out.duplicated(keep="first")
    if dup2.any():
        seen: dict[str, int] = {}
        for i in range(len(out)):
            k = out[i]
            if k in seen:
                seen[k] += 1
                out[i] = f"{k}-{seen[k]}"
            else:
                seen[k] = 1
    return out
