"""Vector layers of the sample: reaches, zones, emigration areas, homesteads, mines, water and
infrastructure. Geometry is built in EPSG:4507 metres and written in the CRS each layer is
delivered in (see data/sample/README.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
from pyproj import Transformer
from rasterio import features
from rasterio.transform import Affine
from scipy.sparse.csgraph import minimum_spanning_tree

from .fields import Environment, polyline_distance
from .grids import GEO_CRS, TM_CRS
from .noise import rng_for
from .reference import EMIGRATION_COUNTIES, NINGDONG, PLAIN_COUNTIES, REACHES, Reference

TO_GEO = Transformer.from_crs(TM_CRS, GEO_CRS, always_xy=True)
TO_TM = Transformer.from_crs(GEO_CRS, TM_CRS, always_xy=True)

MINE_STATUS = ("abandoned", "closed", "operating")
HOMESTEAD_MIX = {"demolished": 0.20, "idle": 0.35}  # rest occupied
MINE_MIX = {"abandoned": 0.40, "closed": 0.30}  # rest operating


def _gdf(rows: list[dict], geoms, crs: str, columns: list[str]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(list(geoms), crs=crs), crs=crs)


def _sample_in(geom, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform random points inside a polygon (rejection in its bounding box)."""
    if n <= 0 or geom.is_empty:
        return np.zeros((0, 2))
    minx, miny, maxx, maxy = geom.bounds
    frac = max(geom.area / ((maxx - minx) * (maxy - miny)), 0.02)
    out = []
    got = 0
    shapely.prepare(geom)
    for _ in range(50):
        m = int(n / frac * 1.3) + 16
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        inside = shapely.contains_xy(geom, x, y)
        pts = np.column_stack([x[inside], y[inside]])
        out.append(pts)
        got += len(pts)
        if got >= n:
            break
    return np.concatenate(out)[:n]


def _blob(
    cx: float, cy: float, radius: float, rng: np.random.Generator, n: int = 48, wobble: float = 0.25
) -> shapely.Polygon:
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k, a in ((2, wobble), (3, wobble * 0.6), (5, wobble * 0.35)):
        r += a * rng.uniform(-1, 1) * np.sin(k * th + rng.uniform(0, 2 * np.pi))
    r = radius * np.clip(r, 0.4, None)
    return shapely.Polygon(np.column_stack([cx + r * np.cos(th), cy + r * np.sin(th)]))


def _largest(geom):
    if geom.is_empty:
        return geom
    parts = list(getattr(geom, "geoms", [geom]))
    parts = [p for p in parts if p.geom_type == "Polygon"]
    return max(parts, key=lambda p: p.area) if parts else shapely.Polygon()


def _elev(terrain, xy: np.ndarray) -> np.ndarray:
    if len(xy) == 0:
        return np.zeros(0)
    lon, lat = TO_GEO.transform(xy[:, 0], xy[:, 1])
    return terrain.elevation_points(np.asarray(lon), np.asarray(lat))


def _county_of(counties_tm: gpd.GeoDataFrame, xy: np.ndarray) -> np.ndarray:
    out = np.full(len(xy), "", dtype=object)
    for code, geom in zip(counties_tm["adcode"], counties_tm.geometry):
        inside = shapely.contains_xy(geom, xy[:, 0], xy[:, 1]) & (out == "")
        out[inside] = code
    return out


def _spaced(
    cands: np.ndarray,
    radii: np.ndarray,
    n: int,
    gap: float,
    taken: list[tuple[float, float, float]] | None = None,
) -> list[int]:
    """Greedy pick (in candidate order) of up to n points at least r_i + r_j + gap apart."""
    taken = list(taken or [])
    pts = np.array([(x, y) for x, y, _ in taken]).reshape(-1, 2)
    rr = np.array([r for _, _, r in taken])
    chosen: list[int] = []
    for i, (x, y) in enumerate(cands):
        if len(chosen) >= n:
            break
        if len(pts):
            d = np.hypot(pts[:, 0] - x, pts[:, 1] - y)
            if np.any(d < rr + radii[i] + gap):
                continue
        chosen.append(i)
        pts = np.vstack([pts, [x, y]])
        rr = np.append(rr, radii[i])
    return chosen


# ---------------------------------------------------------------------------------------------
def counties_layer(ref: Reference) -> gpd.GeoDataFrame:
    cols = ["adcode", "name_zh", "name_en", "city_zh", "city_en"]
    out = ref.counties[cols + ["geometry"]].copy()
    out["adcode"] = out["adcode"].astype(str)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=GEO_CRS)


def reaches_layer(ref: Reference) -> gpd.GeoDataFrame:
    ctm = ref.counties_tm.set_index("adcode")
    rows, geoms = [], []
    for reach_id, name_zh, name_en, codes in REACHES:
        rows.append(
            {"reach_id": reach_id, "name": name_zh, "name_en": name_en, "counties": ",".join(codes)}
        )
        geoms.append(shapely.union_all(ctm.loc[list(codes)].geometry.values))
    return _gdf(rows, geoms, TM_CRS, ["reach_id", "name", "name_en", "counties"])


def zone_layer(ref: Reference, zone_type: str, region_tm) -> gpd.GeoDataFrame:
    z = ref.zone(zone_type).to_crs(TM_CRS)
    rows, geoms = [], []
    for _, r in z.iterrows():
        g = shapely.intersection(r.geometry, region_tm)
        if g.is_empty:
            continue
        rows.append({"name": r["name_zh"], "name_en": r["name_en"]})
        geoms.append(g)
    return _gdf(rows, geoms, TM_CRS, ["name", "name_en"])


def _inner(poly, frac: float):
    """poly shrunk inwards until it keeps ``frac`` of the area (bisection on the distance)."""
    target = poly.area * frac
    lo, hi = 0.0, math.sqrt(poly.area)
    for _ in range(40):
        mid = (lo + hi) / 2
        if poly.buffer(-mid).area > target:
            lo = mid
        else:
            hi = mid
    return poly.buffer(-lo)


def protected_layer(ref: Reference, region_tm) -> gpd.GeoDataFrame:
    """Nature reserves as core (~35%), buffer (~30%) and experimental (~35%) zones."""
    reserves = zone_layer(ref, "protected", region_tm)
    rows, geoms = [], []
    for _, r in reserves.iterrows():
        poly = r.geometry
        core = _inner(poly, 0.35)
        mid = _inner(poly, 0.65)
        parts = {"core": core, "buffer": mid.difference(core), "experimental": poly.difference(mid)}
        for zone, g in parts.items():
            if g.is_empty or g.area < 1.0:
                continue
            rows.append({"name": r["name"], "name_en": r["name_en"], "zone": zone})
            geoms.append(g)
    return _gdf(rows, geoms, TM_CRS, ["name", "name_en", "zone"])


def emigration_layer(ref: Reference, env: Environment, terrain, seed: int) -> gpd.GeoDataFrame:
    """Ecological-migration emigration areas (迁出区): remote uplands of the nine counties."""
    ctm = ref.counties_tm.set_index("adcode")
    rows, geoms = [], []
    for code in sorted(EMIGRATION_COUNTIES):
        rng = rng_for(seed, "emigration", code)
        county = ctm.loc[code]
        poly = county.geometry
        area_km2 = poly.area / 1e6
        n_blobs = 1 + int(area_km2 > 2000) + int(area_km2 > 4500)
        cands = _sample_in(poly, 300, rng)
        z = _elev(terrain, cands)
        sx, sy, _ = env.seats[code]
        far = np.hypot(cands[:, 0] - sx, cands[:, 1] - sy) > 9000
        score = np.argsort(np.argsort(z)) / max(len(z), 1) + 0.6 * rng.random(len(z))
        order = np.argsort(-np.where(far, score, -1.0), kind="stable")
        radius = math.sqrt(area_km2 * 1e6 * 0.2 / n_blobs / math.pi)
        picked = _spaced(cands[order], np.full(len(order), radius), n_blobs, gap=2000.0)
        for k, i in enumerate(picked, start=1):
            cx, cy = cands[order][i]
            g = _largest(shapely.intersection(_blob(cx, cy, radius, rng), poly))
            if g.is_empty:
                continue
            rows.append(
                {
                    "area_id": f"EM-{code}-{k}",
                    "name": f"{county['name_zh']}生态移民迁出区{k}",
                    "name_en": f"{county['name_en']} emigration area {k}",
                    "adcode": code,
                }
            )
            geoms.append(g)
    return _gdf(rows, geoms, TM_CRS, ["area_id", "name", "name_en", "adcode"])


_VILLAGE_A = (
    "马家",
    "李家",
    "王家",
    "张家",
    "杨家",
    "周家",
    "田家",
    "何家",
    "苏家",
    "白家",
    "红崖",
    "黄沟",
    "石门",
    "沙窝",
    "双井",
    "高台",
    "柳树",
    "新庄",
    "东沟",
    "西洼",
    "南塬",
    "北梁",
    "大湾",
    "小川",
    "庙儿",
    "杏树",
    "红柳",
    "羊圈",
    "蒿店",
)
_VILLAGE_B = ("村", "庄村", "湾村", "沟村", "堡村", "岔村", "塬村", "梁村", "洼村", "台村")


@dataclass
class Homesteads:
    villages: gpd.GeoDataFrame  # EPSG:4507 village centres with radius_m, kind
    disks: list  # village footprints (EPSG:4507)
    parcels: gpd.GeoDataFrame  # EPSG:4507
    codes: np.ndarray  # (n_parcels + 1, n_years) land-use code per parcel and year


def _village_names(codes: np.ndarray, rng: np.random.Generator) -> list[str]:
    names: list[str] = []
    seen: set[tuple[str, object]] = set()  # (name, county)
    a = _VILLAGE_A
    for _code in codes:
        for _ in range(20):
            nm = a[rng.integers(len(a))] + _VILLAGE_B[rng.integers(len(_VILLAGE_B))]
            if (nm, _code) not in seen:
                break
        else:
            nm = nm.replace("村", f"{len(seen)}村")
        seen.add((nm, _code))
        names.append(nm)
    return names


def homesteads(
    ref: Reference,
    env: Environment,
    terrain,
    emigration: gpd.GeoDataFrame,
    n_homesteads: int,
    years,
    seed: int,
) -> Homesteads:
    rng = rng_for(seed, "homesteads")
    years = tuple(years)
    ctm = ref.counties_tm.set_index("adcode")
    n_v = 0 if n_homesteads <= 0 else max(1, round(n_homesteads / 10))
    n_in = round(0.75 * n_v) if len(emigration) else 0
    emig_union = (
        shapely.union_all(emigration.geometry.values) if len(emigration) else shapely.Polygon()
    )
    nine = shapely.union_all(ctm.loc[list(EMIGRATION_COUNTIES)].geometry.values)
    towns = shapely.union_all(
        [shapely.Point(x, y).buffer(r * 1.6) for x, y, r in env.seats.values()]
    )
    rest = nine.difference(emig_union).difference(towns)

    def candidates(geom, m):
        c = _sample_in(geom, m, rng)
        if len(c) == 0:
            return c
        z = _elev(terrain, c)
        dY, _ = polyline_distance(c[:, 0], c[:, 1], env.yellow)
        return c[(z < 2400) & (dY > 1500)]

    # parcels per village: skewed sizes, at least one each
    w = rng.lognormal(0.0, 0.5, n_v)
    counts = (rng.multinomial(n_homesteads - n_v, w / w.sum()) + 1) if n_v else np.zeros(0, int)
    radii = 150.0 + 30.0 * np.sqrt(counts)
    cin = candidates(emig_union, 30 * max(n_in, 1)) if n_in else np.zeros((0, 2))
    cout = candidates(rest, 30 * max(n_v - n_in, 1)) if n_v - n_in else np.zeros((0, 2))
    chosen_in = _spaced(cin, np.full(len(cin), radii.max() if n_v else 0), n_in, gap=800.0)
    taken = [(cin[i][0], cin[i][1], radii.max()) for i in chosen_in]
    chosen_out = _spaced(
        cout,
        np.full(len(cout), radii.max() if n_v else 0),
        n_v - len(chosen_in),
        gap=800.0,
        taken=taken,
    )
    centres = np.vstack([cin[chosen_in].reshape(-1, 2), cout[chosen_out].reshape(-1, 2)])
    in_emig = np.r_[np.ones(len(chosen_in), bool), np.zeros(len(chosen_out), bool)]
    if len(centres) < n_v:  # not enough room: put the remaining parcels in the last villages
        counts = counts[: len(centres)].copy()
        if len(counts):
            counts[-1] += n_homesteads - counts.sum()
        radii = 150.0 + 30.0 * np.sqrt(counts)
    adcodes = _county_of(ref.counties_tm, centres)
    vnames = _village_names(adcodes, rng)

    # village tendency towards emigration (idle / demolished houses)
    tendency = np.where(
        in_emig, rng.beta(2.0, 2.0, len(centres)), rng.beta(1.2, 4.0, len(centres)) * 0.8 - 0.25
    )
    polys, vids, keys, areas = [], [], [], []
    disks = []
    for v, ((cx, cy), n, r) in enumerate(zip(centres, counts, radii)):
        theta = rng.uniform(0, np.pi)
        disks.append(shapely.Point(cx, cy).buffer(r, quad_segs=8))
        pts = np.zeros((0, 2))
        rr = r
        while len(pts) < n:
            g = np.arange(-rr, rr + 1, 65.0)
            gx, gy = np.meshgrid(g, g)
            keep = np.hypot(gx, gy) <= 0.85 * rr
            pts = np.column_stack([gx[keep], gy[keep]])
            rr *= 1.15
        pick = pts[rng.choice(len(pts), n, replace=False)] + rng.uniform(-8, 8, (n, 2))
        area_m2 = np.clip(np.exp(rng.normal(np.log(700.0), 0.5, n)), 200.0, 2000.0)
        asp = rng.uniform(1.0, 1.6, n)
        hw, hh = np.sqrt(area_m2 * asp) / 2, np.sqrt(area_m2 / asp) / 2
        ang = theta + rng.normal(0, 0.12, n)
        corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)], float)
        lx = corners[None, :, 0] * hw[:, None]
        ly = corners[None, :, 1] * hh[:, None]
        ca, sa = np.cos(ang)[:, None], np.sin(ang)[:, None]
        px = cx + pick[:, 0:1] + lx * ca - ly * sa
        py = cy + pick[:, 1:2] + lx * sa + ly * ca
        polys.extend(shapely.polygons(np.stack([px, py], axis=-1)))
        vids.extend([v] * n)
        keys.extend(tendency[v] + 0.35 * rng.random(n))
        areas.extend(area_m2 / 1e4)
    n_p = len(polys)
    vid = np.asarray(vids, dtype=int)
    # latest status by rank: the highest tendency -> demolished, then idle, then occupied
    status = np.full(n_p, "occupied", dtype=object)
    order = np.argsort(-np.asarray(keys), kind="stable")
    n_dem = round(HOMESTEAD_MIX["demolished"] * n_p)
    n_idle = round(HOMESTEAD_MIX["idle"] * n_p)
    status[order[:n_dem]] = "demolished"
    status[order[n_dem : n_dem + n_idle]] = "idle"
    per_year = [status]
    for _ in range(len(years) - 1):  # walk back in time
        nxt = per_year[0]
        u = rng.random(n_p)
        prev = nxt.copy()
        dem = nxt == "demolished"
        prev[dem & (u >= 0.55) & (u < 0.90)] = "idle"
        prev[dem & (u >= 0.90)] = "occupied"
        prev[(nxt == "idle") & (u < 0.20)] = "occupied"
        per_year.insert(0, prev)
    # land-use code per parcel and year
    after = np.where(rng.random(n_p) < 0.6, 1206, 404)
    codes = np.zeros((n_p + 1, len(years)), dtype=np.int16)
    for k in range(len(years)):
        st = per_year[k]
        c = np.full(n_p, 702, dtype=np.int16)
        if k > 0:
            newly = (st == "demolished") & (per_year[k - 1] != "demolished")
            was = codes[1:, k - 1]
            c = np.where(st == "demolished", np.where(newly, after, was), 702).astype(np.int16)
        codes[1:, k] = c
    p_adcode = adcodes[vid] if n_p else np.zeros(0, object)
    rows = []
    for i in range(n_p):
        row = {"parcel_id": f"HS-{i + 1:06d}", "status": per_year[-1][i]}
        for k, y in enumerate(years):
            row[f"status_{y}"] = per_year[k][i]
        row.update(
            village_id=f"V-{vid[i] + 1:04d}",
            adcode=p_adcode[i],
            area_ha=round(float(areas[i]), 4),
            in_emigration_area=bool(in_emig[vid[i]]),
        )
        rows.append(row)
    cols = (
        ["parcel_id", "status"]
        + [f"status_{y}" for y in years]
        + ["village_id", "adcode", "area_ha", "in_emigration_area"]
    )
    parcels = _gdf(rows, polys, TM_CRS, cols)
    vrows = [
        {
            "village_id": f"V-{v + 1:04d}",
            "name": vnames[v],
            "adcode": adcodes[v],
            "kind": "village",
            "radius_m": float(radii[v]),
            "in_emigration_area": bool(in_emig[v]),
        }
        for v in range(len(centres))
    ]
    villages = _gdf(
        vrows,
        shapely.points(centres) if len(centres) else [],
        TM_CRS,
        ["village_id", "name", "adcode", "kind", "radius_m", "in_emigration_area"],
    )
    return Homesteads(villages=villages, disks=disks, parcels=parcels, codes=codes)


_MINERALS = {
    "coal": "煤矿",
    "limestone": "石灰岩矿",
    "silica": "硅石矿",
    "sand_gravel": "砂石料场",
    "clay": "黏土矿",
}


def mines_layer(
    ref: Reference,
    env: Environment,
    terrain,
    n_mines: int,
    years,
    seed: int,
    protected: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    rng = rng_for(seed, "mines")
    years = tuple(years)
    region = env.region_tm
    cols = (
        ["mine_id", "name", "mineral", "status"]
        + [f"status_{y}" for y in years]
        + ["legacy", "area_ha", "adcode", "setting"]
    )
    if n_mines <= 0:
        return _gdf([], [], TM_CRS, cols)
    area = shapely.intersection(
        shapely.union_all(ref.zone("mining_area").to_crs(TM_CRS).geometry.values), region
    )
    nx_, ny_ = TO_TM.transform(*NINGDONG)
    ningdong = shapely.intersection(shapely.Point(nx_, ny_).buffer(14000), region)
    n_nd = round(0.10 * n_mines)
    n_q = round(0.10 * n_mines)
    n_area = n_mines - n_nd - n_q
    size_ha = np.clip(np.exp(rng.normal(np.log(4.0), 0.9, n_mines)), 0.5, 30.0)
    rad = np.sqrt(size_ha * 1e4 / np.pi)

    seats = np.array([(x, y) for x, y, _ in env.seats.values()])
    seat_r = np.array([r for _, _, r in env.seats.values()])

    def off_plain(c):
        """Above the irrigated plain, away from the rivers and the towns."""
        if len(c) == 0:
            return np.zeros(0, bool)
        z = _elev(terrain, c)
        dY, level = polyline_distance(c[:, 0], c[:, 1], env.yellow, env.yellow_levels)
        d_seat = np.hypot(c[:, None, 0] - seats[None, :, 0], c[:, None, 1] - seats[None, :, 1])
        return (
            (z - level - 2.5e-3 * dY > 35)
            & (dY > 2500)
            & (z < 2300)
            & np.all(d_seat > 1.5 * seat_r[None, :] + 1000, axis=1)
        )

    def cands(geom, m, zmin, zmax):
        c = _sample_in(geom, m, rng)
        z = _elev(terrain, c)
        return c[(z >= zmin) & (z <= zmax) & off_plain(c)]

    def quarries(m):
        """Quarries: a few km from random county seats."""
        k = rng.integers(len(seats), size=m)
        ang = rng.uniform(0, 2 * np.pi, m)
        dist = rng.uniform(4000, 20000, m)
        q = seats[k] + np.column_stack([dist * np.cos(ang), dist * np.sin(ang)])
        q = q[shapely.contains_xy(region, q[:, 0], q[:, 1])]
        return q[off_plain(q)]

    groups = [
        ("helan_mining_area", lambda m: cands(area, m, 1130, 2100), n_area),
        ("ningdong", lambda m: cands(ningdong, m, 0, 5000), n_nd),
        ("quarry", quarries, n_q),
    ]
    centre_list, setting_list, radius_list = [], [], []
    taken: list = []
    offset = 0
    short = 0
    for name, make, n in groups:
        n += short if name == "quarry" else 0  # whatever a group could not place
        r = rad[offset : offset + n] if offset + n <= len(rad) else np.resize(rad, n)
        chosen, c, r_full = [], np.zeros((0, 2)), np.zeros(0)
        for attempt in range(1, 6):  # more candidates until the group is full
            c = make(40 * attempt * max(n, 1))
            r_full = np.resize(r, len(c)) if len(r) else np.zeros(len(c))
            chosen = _spaced(c, r_full, n, gap=150.0, taken=taken)
            if len(chosen) >= n:
                break
        if name != "quarry":
            short += n - len(chosen)
        for i in chosen:
            taken.append((c[i][0], c[i][1], r_full[i]))
            centre_list.append(c[i])
            setting_list.append(name)
            radius_list.append(r_full[i])
        offset += n
    centres = np.asarray(centre_list).reshape(-1, 2)
    radii = np.asarray(radius_list)
    n = len(centres)
    geoms = []
    for (cx, cy), r in zip(centres, radii):
        th = np.sort(rng.uniform(0, 2 * np.pi, 11))
        rr = r * (1 + 0.3 * rng.uniform(-1, 1, 11))
        poly = shapely.Polygon(np.column_stack([cx + rr * np.cos(th), cy + rr * np.sin(th)]))
        poly = shapely.make_valid(poly)
        poly = _largest(poly) if poly.geom_type != "Polygon" else poly
        scale = math.sqrt(math.pi * r * r / poly.area)
        geoms.append(shapely.affinity.scale(poly, scale, scale, origin=(cx, cy)))
    setting = np.asarray(setting_list, dtype=object)
    prot_any = shapely.union_all(protected.geometry.values) if len(protected) else shapely.Polygon()
    in_prot = (
        shapely.contains_xy(prot_any, centres[:, 0], centres[:, 1]) if n else np.zeros(0, bool)
    )
    key = rng.random(n) + 0.6 * in_prot - 0.5 * (setting == "ningdong")
    order = np.argsort(-key, kind="stable")
    status = np.full(n, "operating", dtype=object)
    n_ab = round(MINE_MIX["abandoned"] * n)
    n_cl = round(MINE_MIX["closed"] * n)
    status[order[:n_ab]] = "abandoned"
    status[order[n_ab : n_ab + n_cl]] = "closed"
    per_year = [status]
    for _ in range(len(years) - 1):
        nxt = per_year[0]
        prev = nxt.copy()
        prev[(nxt == "closed") & (rng.random(n) < 0.35)] = "operating"
        per_year.insert(0, prev)
    u = rng.random(n)
    legacy = np.where(status == "abandoned", u < 0.9, np.where(status == "closed", u < 0.3, False))
    adcodes = _county_of(ref.counties_tm, centres)
    cnames = ref.counties.set_index("adcode")["name_zh"].to_dict()
    rows = []
    for i in range(n):
        if setting[i] == "ningdong":
            mineral = "coal"
        elif setting[i] == "quarry":
            mineral = ("sand_gravel", "clay", "limestone")[
                int(np.searchsorted([0.6, 0.85], u[i] * 0.999))
            ]
        else:
            mineral = ("coal", "limestone", "silica", "sand_gravel")[
                int(np.searchsorted([0.5, 0.7, 0.85], rng.random()))
            ]
        row = {
            "mine_id": f"MN-{i + 1:04d}",
            "name": f"{cnames.get(adcodes[i], '')}{_MINERALS[mineral]}{i + 1}号",
            "mineral": mineral,
            "status": per_year[-1][i],
        }
        for k, y in enumerate(years):
            row[f"status_{y}"] = per_year[k][i]
        row.update(
            legacy=bool(legacy[i]),
            area_ha=round(float(geoms[i].area / 1e4), 3),
            adcode=adcodes[i],
            setting=setting[i],
        )
        rows.append(row)
    return _gdf(rows, geoms, TM_CRS, cols)


def rivers_layer(ref: Reference) -> gpd.GeoDataFrame:
    r = ref.rivers
    rows = [
        {"river_id": a, "name": b, "name_en": c, "kind": d}
        for a, b, c, d in zip(r["river_id"], r["name_zh"], r["name_en"], r["kind"])
    ]
    return _gdf(rows, r.geometry.values, GEO_CRS, ["river_id", "name", "name_en", "kind"])


def canals_layer(env: Environment) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (zh, en, line) in enumerate(env.canals, start=1):
        rows.append({"canal_id": f"CN-{i:02d}", "name": zh, "name_en": en, "kind": "trunk"})
        geoms.append(line)
    return _gdf(rows, geoms, TM_CRS, ["canal_id", "name", "name_en", "kind"]).to_crs(GEO_CRS)


def settlements_roads(ref: Reference, env: Environment, villages: gpd.GeoDataFrame, seed: int):
    rng = rng_for(seed, "roads")
    cn = ref.counties.set_index("adcode")
    rows, pt_list = [], []
    for code in sorted(env.seats):
        x, y, _r = env.seats[code]
        rows.append(
            {
                "name": f"{cn.loc[code, 'name_zh']}政府驻地",
                "name_en": f"{cn.loc[code, 'name_en']} seat",
                "kind": "county_seat",
                "adcode": code,
            }
        )
        pt_list.append((x, y))
    n_seats = len(rows)
    for _, v in villages.iterrows():
        rows.append({"name": v["name"], "name_en": "", "kind": "village", "adcode": v["adcode"]})
        pt_list.append((v.geometry.x, v.geometry.y))
    for i, row in enumerate(rows, start=1):
        row["settlement_id"] = f"ST-{i:04d}"
    pts = np.asarray(pt_list)
    settlements = _gdf(
        rows, shapely.points(pts), TM_CRS, ["settlement_id", "name", "name_en", "kind", "adcode"]
    )
    # roads: spanning tree of the county seats (+ a few loops), villages linked to the network
    edges = []
    d_seats = np.hypot(*(pts[:n_seats, None, :] - pts[None, :n_seats, :]).transpose(2, 0, 1))
    mst = minimum_spanning_tree(d_seats).tocoo()
    plain = set(PLAIN_COUNTIES)
    codes = sorted(env.seats)
    seat_pairs = {tuple(sorted((int(i), int(j)))) for i, j in zip(mst.row, mst.col)}
    for i in range(n_seats):  # second-nearest links make a few loops
        order = np.argsort(d_seats[i])
        j = int(order[2]) if n_seats > 2 else int(order[1])
        seat_pairs.add(tuple(sorted((i, j))))
    for i, j in sorted(seat_pairs):
        kind = "expressway" if codes[i] in plain and codes[j] in plain else "national"
        edges.append((i, j, kind))
    if len(pts) > n_seats:
        d_all = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
        for v in range(n_seats, len(pts)):
            dv = d_all[v].copy()
            dv[v] = np.inf
            dv[n_seats:][np.arange(len(pts) - n_seats) >= v - n_seats] = np.inf  # earlier only
            j = int(np.argmin(dv))
            edges.append((v, j, "rural"))
    geoms, rrows = [], []
    for k, (i, j, kind) in enumerate(edges, start=1):
        a, b = pts[i], pts[j]
        d = b - a
        L = float(np.hypot(*d))
        nrm = np.array([-d[1], d[0]]) / max(L, 1.0)
        ts = np.array([0.33, 0.66])
        mids = a + ts[:, None] * d + (rng.normal(0, 0.04, 2) * L)[:, None] * nrm
        geoms.append(shapely.LineString(np.vstack([a, mids, b])))
        rrows.append({"road_id": f"RD-{k:04d}", "kind": kind})
    roads = _gdf(rrows, geoms, TM_CRS, ["road_id", "kind"])
    return settlements, roads


# --- layers derived from the land-use summary grid ------------------------------------------
@dataclass
class Summary:
    """Per coarse cell (EPSG:4507) counts gathered during the land-use pass (first year)."""

    x0: float
    y0: float
    cell: float
    valid: np.ndarray
    irrigated: np.ndarray
    z_sum: np.ndarray
    slope_sum: np.ndarray

    @property
    def transform(self) -> Affine:
        return Affine(self.cell, 0, self.x0, 0, -self.cell, self.y0)


def _polygons(mask: np.ndarray, transform: Affine, min_area: float) -> list:
    out = []
    for geom, val in features.shapes(mask.astype(np.uint8), mask=mask, transform=transform):
        if val != 1:
            continue
        g = shapely.geometry.shape(geom)
        if g.area >= min_area:
            out.append(g)
    return out


def redline_layer(
    summary: Summary, protected: gpd.GeoDataFrame, env: Environment, ref: Reference
) -> gpd.GeoDataFrame:
    """Ecological red line: nature reserves, steep or high land, the Yellow River corridor."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = summary.z_sum / summary.valid
        slope = summary.slope_sum / summary.valid
    high = (summary.valid > 0) & ((z > 2150) | (slope > 22))
    from scipy import ndimage

    high = ndimage.binary_opening(high, iterations=1) if high.any() else high
    geoms = _polygons(high, summary.transform, 4e6)
    geoms = [g.simplify(summary.cell * 0.5) for g in geoms]
    geoms += list(protected.geometry.values)
    geoms.append(shapely.LineString(env.yellow).buffer(800.0))
    sand = zone_layer(ref, "sand_area", env.region_tm)
    geoms += [_inner(g, 0.3) for g in sand.geometry.values]
    merged = shapely.intersection(shapely.union_all(geoms), env.region_tm)
    parts = [
        p for p in getattr(merged, "geoms", [merged]) if p.geom_type == "Polygon" and p.area >= 1e6
    ]
    parts.sort(key=lambda p: (-p.area, p.bounds))
    rows = [
        {"redline_id": f"RL-{i:04d}", "area_km2": round(p.area / 1e6, 3)}
        for i, p in enumerate(parts, start=1)
    ]
    return _gdf(rows, parts, TM_CRS, ["redline_id", "area_km2"])


def farmland_layer(summary: Summary, env: Environment, tile_m: float = 4000.0) -> gpd.GeoDataFrame:
    """Permanent basic farmland: most of the irrigated cropland of the plain, in tiles."""
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = summary.irrigated / summary.valid
    mask = (summary.valid > 0) & (frac >= 0.5)
    from scipy import ndimage

    mask = ndimage.binary_closing(mask, iterations=1) & (summary.valid > 0)
    geoms = _polygons(mask, summary.transform, 1e6)
    if not geoms:
        return _gdf([], [], TM_CRS, ["farmland_id", "area_ha"])
    allf = shapely.union_all([g.simplify(summary.cell * 0.3) for g in geoms])
    minx, miny, maxx, maxy = allf.bounds
    x0 = math.floor(minx / tile_m) * tile_m
    y0 = math.floor(miny / tile_m) * tile_m
    tiles = [
        shapely.box(x, y, x + tile_m, y + tile_m)
        for y in np.arange(y0, maxy, tile_m)
        for x in np.arange(x0, maxx, tile_m)
    ]
    pieces = shapely.intersection(np.asarray(tiles, dtype=object), allf)
    out = []
    for p in pieces:
        for q in getattr(p, "geoms", [p]):
            if q.geom_type == "Polygon" and q.area >= 2.5e5:
                out.append(q)
    rows = [
        {"farmland_id": f"BF-{i:05d}", "area_ha": round(q.area / 1e4, 2)}
        for i, q in enumerate(out, start=1)
    ]
    return _gdf(rows, out, TM_CRS, ["farmland_id", "area_ha"])
