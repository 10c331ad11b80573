"""Environment fields on coarse helper grids: distance to the rivers and their water level,
mountain-crest bumps, canals, towns, lakes.

Fields are computed once, exactly (vectorised numpy, no pixel loops), on two helper grids
whose axes are parallel to the output grids -- one in lon/lat for the DEM (EPSG:4490), one in
EPSG:4507 metres for land use and precipitation -- and read bilinearly per block. Node
spacing is fixed (about 250 m) whatever the output resolution, so 30 m and 2000 m outputs
share the same geography.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from rasterio import features
from rasterio.transform import Affine
from scipy import ndimage
from shapely.ops import substring

from .grids import GEO_CRS, TM_CRS, HelperGrid, helper_grid
from .noise import Lattice
from .reference import (
    CANALS,
    COUNTY_SEATS,
    LAKES,
    NINGDONG,
    QINGSHUI_LEVELS,
    RIDGES,
    YELLOW_LEVELS,
    YELLOW_PLAIN_KM,
    Reference,
)

HELPER_DEG = 0.0025  # lon/lat helper spacing (about 220 m x 280 m)
HELPER_M = 250.0  # EPSG:4507 helper spacing
GEO_BOUNDS_MARGIN = 0.35  # covers the lon/lat footprint of the projected grids
TM_BOUNDS_MARGIN = 15_000.0


def smoothstep(x, lo: float, hi: float):
    t = np.clip((np.asarray(x, dtype=np.float32) - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def polyline_distance(
    x: np.ndarray, y: np.ndarray, coords: np.ndarray, values: np.ndarray | None = None
):
    """Distance from points to a polyline, and (optionally) per-vertex values interpolated
    at the nearest point of the line (linear along each segment). Exact, vectorised.

    ``values`` is (n_vertices,) or (n_vertices, k); the result has the points' shape
    (plus a trailing k)."""
    coords = np.asarray(coords, dtype=np.float64)
    best = np.full(np.shape(x), np.inf)
    vals = None if values is None else np.asarray(values, dtype=np.float64)
    multi = vals is not None and vals.ndim == 2
    seg = np.zeros(np.shape(x), dtype=np.int32)
    tt = np.zeros(np.shape(x))
    for k in range(len(coords) - 1):
        ax, ay = coords[k]
        bx, by = coords[k + 1]
        dx, dy = bx - ax, by - ay
        t = np.clip(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        d2 = (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2
        m = d2 < best
        best[m] = d2[m]
        seg[m] = k
        tt[m] = t[m]
    if vals is None:
        return np.sqrt(best), None
    if multi:
        out = vals[seg] + tt[..., None] * (vals[seg + 1] - vals[seg])
    else:
        out = vals[seg] + tt * (vals[seg + 1] - vals[seg])
    return np.sqrt(best), out


def _to_tm(coords_lonlat) -> np.ndarray:
    tr = Transformer.from_crs(GEO_CRS, TM_CRS, always_xy=True)
    c = np.asarray(coords_lonlat, dtype=np.float64)
    x, y = tr.transform(c[:, 0], c[:, 1])
    return np.column_stack([x, y])


def _longest(geom) -> shapely.LineString | None:
    if geom is None or geom.is_empty:
        return None
    parts = list(getattr(geom, "geoms", [geom]))
    parts = [p for p in parts if p.geom_type == "LineString" and not p.is_empty]
    return max(parts, key=lambda p: p.length) if parts else None


@dataclass
class Environment:
    """Geography in EPSG:4507 metres plus the helper-grid fields."""

    region_tm: shapely.Geometry
    yellow: np.ndarray  # (n, 2) EPSG:4507
    qingshui: np.ndarray
    ridges: list[tuple[str, np.ndarray, np.ndarray, float]]  # name, coords, amplitude, width
    seats: dict[str, tuple[float, float, float]]  # adcode -> x, y, radius (m)
    lakes: list[tuple[str, float, float, float]]
    canals: list[tuple[str, str, shapely.LineString]]
    sand_areas: list
    geo_bounds: tuple[float, float, float, float]
    tm_bounds: tuple[float, float, float, float]
    yellow_levels: np.ndarray = field(default_factory=lambda: np.zeros(0))
    qingshui_levels: np.ndarray = field(default_factory=lambda: np.zeros(0))
    geo_helper: HelperGrid | None = None
    tm_helper: HelperGrid | None = None
    geo_fields: dict[str, Lattice] = field(default_factory=dict)
    tm_fields: dict[str, Lattice] = field(default_factory=dict)


def build_environment(ref: Reference, base_elevation) -> Environment:
    """``base_elevation(lon, lat)`` gives the smooth relief used to size the ridge bumps."""
    region_geo = shapely.union_all(ref.counties.geometry.values)
    region_tm = shapely.union_all(ref.counties_tm.geometry.values)
    minlon, minlat, maxlon, maxlat = region_geo.bounds
    m = GEO_BOUNDS_MARGIN
    geo_bounds = (minlon - m, minlat - m, maxlon + m, maxlat + m)
    minx, miny, maxx, maxy = region_tm.bounds
    m = TM_BOUNDS_MARGIN
    tm_bounds = (minx - m, miny - m, maxx + m, maxy + m)

    yellow_ll = np.asarray(ref.river("yellow").coords)
    qingshui_ll = np.asarray(ref.river("qingshui").coords)
    if len(yellow_ll) != len(YELLOW_LEVELS) or len(qingshui_ll) != len(QINGSHUI_LEVELS):
        # a user-edited reference line: spread the known levels along it
        yellow_levels = np.interp(
            np.linspace(0, 1, len(yellow_ll)), np.linspace(0, 1, len(YELLOW_LEVELS)), YELLOW_LEVELS
        )
        qingshui_levels = np.interp(
            np.linspace(0, 1, len(qingshui_ll)),
            np.linspace(0, 1, len(QINGSHUI_LEVELS)),
            QINGSHUI_LEVELS,
        )
    else:
        yellow_levels, qingshui_levels = np.asarray(YELLOW_LEVELS), np.asarray(QINGSHUI_LEVELS)
    env_ridges = []
    for r in RIDGES:
        c = np.asarray(r.coords)
        base = base_elevation(c[:, 0], c[:, 1])
        amp = np.array(
            [0.0 if p is None else max(float(p) - float(b), 0.0) for p, b in zip(r.peaks, base)]
        )
        env_ridges.append((r.name, _to_tm(c), amp, r.width_m))
    seats = {}
    for code, (lon, lat, radius_km) in COUNTY_SEATS.items():
        x, y = _to_tm([(lon, lat)])[0]
        seats[code] = (float(x), float(y), radius_km * 1000.0)
    lakes = []
    for name, lon, lat, radius_km in LAKES:
        x, y = _to_tm([(lon, lat)])[0]
        lakes.append((name, float(x), float(y), radius_km * 1000.0))
    env = Environment(
        region_tm=region_tm,
        yellow=_to_tm(yellow_ll),
        qingshui=_to_tm(qingshui_ll),
        ridges=env_ridges,
        seats=seats,
        lakes=lakes,
        canals=[],
        sand_areas=list(ref.zone("sand_area").to_crs(TM_CRS).geometry.values),
        geo_bounds=geo_bounds,
        tm_bounds=tm_bounds,
        yellow_levels=np.asarray(yellow_levels, dtype=np.float64),
        qingshui_levels=np.asarray(qingshui_levels, dtype=np.float64),
    )
    env.canals = build_canals(env)
    _geo_fields(env, ref)
    _tm_fields(env)
    return env


def build_canals(env: Environment) -> list[tuple[str, str, shapely.LineString]]:
    river = shapely.LineString(env.yellow)
    length = river.length
    out = []
    for name_zh, name_en, f0, f1, offset_km in CANALS:
        part = substring(river, f0 * length, f1 * length)
        off = _longest(part.offset_curve(offset_km * 1000.0, quad_segs=4, join_style="round"))
        if off is None:
            continue
        # smooth the joins, start at the river (the intake), keep the part inside Ningxia
        off = off.simplify(600.0)
        intake = part.interpolate(0.0)
        start = shapely.Point(off.coords[0])
        coords = [intake.coords[0]]
        if intake.distance(start) > 1.0:
            mid = shapely.LineString([intake, start]).interpolate(0.5, normalized=True)
            coords.append(mid.coords[0])
        coords += list(off.coords)
        line = _longest(shapely.LineString(coords).intersection(env.region_tm))
        if line is not None and line.length > 5000.0:
            out.append((name_zh, name_en, line))
    return out


def _ridge_field(x, y, env: Environment) -> np.ndarray:
    out = np.zeros(np.shape(x), dtype=np.float64)
    for _name, coords, amp, width in env.ridges:
        lo = coords.min(axis=0) - 4 * width
        hi = coords.max(axis=0) + 4 * width
        sel = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
        if not sel.any():
            continue
        d, a = polyline_distance(x[sel], y[sel], coords, amp)
        out[sel] += a * np.exp(-((d / width) ** 2))
    return out


def _river_fields(x, y, env: Environment) -> dict[str, np.ndarray]:
    widths = (
        np.asarray(YELLOW_PLAIN_KM, float) * 1000.0
        if len(env.yellow) == len(YELLOW_PLAIN_KM)
        else np.full(len(env.yellow), 12000.0)
    )
    dY, v = polyline_distance(x, y, env.yellow, np.column_stack([env.yellow_levels, widths]))
    dQ, rlQ = polyline_distance(x, y, env.qingshui, env.qingshui_levels)
    return {"dY": dY, "rlY": v[..., 0], "wY": v[..., 1], "dQ": dQ, "rlQ": rlQ}


def _rasterize_helper(hg: HelperGrid, geoms) -> np.ndarray:
    """Burn geometries onto a helper grid (rows increase with v, so burn north-up and flip)."""
    top = hg.v0 + (hg.nv - 0.5) * hg.dv
    transform = Affine(hg.du, 0, hg.u0 - hg.du / 2, 0, -hg.dv, top)
    mask = features.rasterize(
        [(g, 1) for g in geoms], out_shape=(hg.nv, hg.nu), transform=transform, dtype="uint8"
    )
    return mask[::-1]


def _geo_fields(env: Environment, ref: Reference) -> None:
    hg = helper_grid(env.geo_bounds, HELPER_DEG, HELPER_DEG)
    env.geo_helper = hg
    lon, lat = np.meshgrid(hg.u, hg.v)
    tr = Transformer.from_crs(GEO_CRS, TM_CRS, always_xy=True)
    x, y = tr.transform(lon, lat)
    fields = _river_fields(x, y, env)
    fields["ridge"] = _ridge_field(x, y, env)
    # soft sand-area mask for dunes
    sand = ref.zone("sand_area").geometry.values
    mask = _rasterize_helper(hg, sand)
    fields["sand"] = ndimage.gaussian_filter(mask.astype(np.float32), 3.0)
    env.geo_fields = {k: hg.lattice(np.asarray(v, dtype=np.float32)) for k, v in fields.items()}


def _tm_fields(env: Environment) -> None:
    hg = helper_grid(env.tm_bounds, HELPER_M, HELPER_M)
    env.tm_helper = hg
    x, y = np.meshgrid(hg.u, hg.v)
    fields = _river_fields(x, y, env)
    fields.pop("wY")
    fields.pop("rlQ")
    helan = next(c for n, c, _a, _w in env.ridges if n == "Helan")
    fields["dHelan"], _ = polyline_distance(x, y, helan)
    urban = np.full(x.shape, -1.0)
    for sx, sy, radius in env.seats.values():
        urban = np.maximum(urban, 1.0 - np.hypot(x - sx, y - sy) / radius)
    fields["urban"] = urban
    nx_, ny_ = _to_tm([NINGDONG])[0]
    fields["ningdong"] = 1.0 - np.hypot(x - nx_, y - ny_) / 16000.0
    lakes = np.full(x.shape, -1.0)
    for _name, lx, ly, radius in env.lakes:
        lakes = np.maximum(lakes, 1.0 - np.hypot(x - lx, y - ly) / radius)
    fields["lakes"] = lakes
    # distance to the nearest canal (Euclidean distance transform of the rasterised lines)
    if env.canals:
        mask = _rasterize_helper(hg, [c for _, _, c in env.canals])
        fields["dC"] = ndimage.distance_transform_edt(mask == 0) * HELPER_M
    else:
        fields["dC"] = np.full(x.shape, 1e9)
    # signed distance to the sand areas (+ inside), for sand thinning out towards their edges
    sand = _rasterize_helper(hg, env.sand_areas) > 0
    if sand.any():
        inside = ndimage.distance_transform_edt(sand) * HELPER_M
        outside = ndimage.distance_transform_edt(~sand) * HELPER_M
        fields["sand_sd"] = np.where(sand, inside, -outside)
    else:
        fields["sand_sd"] = np.full(x.shape, -1e9)
    env.tm_fields = {k: hg.lattice(np.asarray(v, dtype=np.float32)) for k, v in fields.items()}
