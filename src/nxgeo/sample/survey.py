"""The sample's survey layers: 地类图斑 (DLTB) polygons and the ownership raster per year.

The polygons are the land-use raster polygonised (connected cells of one code and one
ownership within one county and one 256 × 256-cell tile, the tile standing for a village's
map sheet), so the rasterised DLTB and the land-use raster agree cell for cell. Attributes as in the survey
database (三调 / 变更调查), all synthetic:

- DLBM / DLMC: the code ("0103") and name of the cell's GB/T 21010 class;
- TBMJ: the polygon's ellipsoidal area on CGCS2000 (m², 2 decimals);
- KCMJ / KCDLBM: 田坎 deducted from cropland at a fixed share of TBMJ (TIANKAN_SHARE,
  placeholder coefficients; real ones come from the survey's slope grades), 1203;
- TBDLMJ = TBMJ − KCMJ;
- QSXZ: ownership. State-owned: water surfaces, highways and mining land (10 国有土地所有权),
  urban land (20 国有土地使用权), and — in 5 km cells drawn by a fixed hash — 70 % of the
  barren, sandy, saline and unused grassland (0404, 1204–1207), 40 % of the forest and 30 % of
  the natural pasture (国有林场 / 国有草场); everything else collective (30, some 31). A
  polygon is cut where the ownership changes (as 权属 boundaries cut 图斑). Later years keep
  each cell's ownership, except land that became urban land, a highway, water or a mine
  (collective → state: 征收);
- ZLDWDM: county adcode + 3-digit town + 3-digit village (from the tile) + 0000000 (19
  digits, like the survey's unit codes); QSDWDM: the same for collective land, the county
  (adcode + 13 zeros) for state land.
The layer is written in CGCS2000 / 3-degree Gauss-Kruger CM 105E (EPSG:4544), as departments
file it. The ownership raster (1 state, 2 collective, 255 nodata) is the QSXZ of each cell
(its polygon's) on the land-use grid.
"""

from __future__ import annotations

import numpy as np
import shapely
from rasterio import features
from rasterio.transform import Affine

from ..grid import Grid
from ..nodata import OWNERSHIP_NODATA as OWNER_NODATA
from .grids import TM3_CM105_CRS, TM_CRS

TILE = 256
HASH_CELL_M = 5000.0
#: 田坎系数 by code (share of TBMJ deducted as 1203 田坎): placeholders
TIANKAN_SHARE = {101: 0.02, 102: 0.04, 103: 0.08}
STATE_OWNED = {
    1101: "10",
    1102: "10",
    1106: "10",
    1003: "10",
    602: "10",
    508: "20",
    601: "20",
    701: "20",
    803: "20",
    810: "20",
    1004: "20",
}
#: GB/T 21010-2017 names (DLMC) of the codes the generator writes
CODE_NAMES = {
    101: "水田",
    102: "水浇地",
    103: "旱地",
    201: "果园",
    301: "乔木林地",
    305: "灌木林地",
    307: "其他林地",
    401: "天然牧草地",
    403: "人工牧草地",
    404: "其他草地",
    508: "物流仓储用地",
    601: "工业用地",
    602: "采矿用地",
    701: "城镇住宅用地",
    702: "农村宅基地",
    803: "教育用地",
    810: "公园与绿地",
    1003: "公路用地",
    1004: "城镇村道路用地",
    1101: "河流水面",
    1102: "湖泊水面",
    1104: "坑塘水面",
    1106: "内陆滩涂",
    1107: "沟渠",
    1108: "沼泽地",
    1202: "设施农用地",
    1204: "盐碱地",
    1205: "沙地",
    1206: "裸土地",
    1207: "裸岩石砾地",
}
#: code -> share of polygons state-owned (by 5 km hash cell)
STATE_SHARE = {
    404: 0.7,
    1204: 0.7,
    1205: 0.7,
    1206: 0.7,
    1207: 0.7,
    301: 0.4,
    305: 0.4,
    307: 0.4,
    401: 0.3,
}


def _hash01(ix: np.ndarray, iy: np.ndarray, salt: int) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per integer cell (same on every machine)."""
    h = (ix.astype(np.int64) * 73856093) ^ (iy.astype(np.int64) * 19349663) ^ np.int64(salt)
    h = (h * 2654435761) & 0xFFFFFFFF
    return (h % 100000) / 100000.0


#: QSXZ values by index (the key the polygons are cut by): 0, 1 collective; 2, 3 state-owned
QSXZ = np.array(["30", "31", "10", "20"], dtype=object)


def qsxz_index(codes: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Index into QSXZ of the ownership of cells of `codes` at (x, y) (EPSG:4507 metres):
    fixed by the code and the 5 km hash cell, so ownership boundaries follow the hash cells
    and cut the polygons (as 权属 boundaries cut 图斑 in the survey)."""
    ix, iy = np.floor(x / HASH_CELL_M), np.floor(y / HASH_CELL_M)
    u = _hash01(ix, iy, seed)
    out = np.where(_hash01(ix, iy, seed + 1) < 0.2, 1, 0).astype(np.int64)
    for code, q in STATE_OWNED.items():
        out[codes == code] = 2 if q == "10" else 3
    for code, share in STATE_SHARE.items():
        out[(codes == code) & (u < share)] = 2
    return out


def _polygons(shapes: list) -> np.ndarray:
    """Shapely polygons of rasterio's GeoJSON-like shapes, built vectorised (rings first)."""
    coords, ring_ix, poly_ix = [], [], []
    r = 0
    for i, (geom, _) in enumerate(shapes):
        for ring in geom["coordinates"]:
            coords.append(np.asarray(ring, dtype=float))
            ring_ix.append(np.full(len(ring), r))
            poly_ix.append(i)
            r += 1
    rings = shapely.linearrings(np.concatenate(coords), indices=np.concatenate(ring_ix))
    return shapely.polygons(rings, indices=np.asarray(poly_ix))


def assert_same_projection(a: str, b: str) -> None:
    from pyproj import CRS, Transformer

    t = Transformer.from_crs(CRS(a), CRS(b), always_xy=True)
    x, y = t.transform([300_000.0, 700_000.0], [3_900_000.0, 4_400_000.0])
    if (
        max(
            abs(x[0] - 300_000.0),
            abs(x[1] - 700_000.0),
            abs(y[0] - 3_900_000.0),
            abs(y[1] - 4_400_000.0),
        )
        > 1e-6
    ):
        raise RuntimeError(f"internal: {a} and {b} are not the same projection")


class DltbBuilder:
    """Collects the DLTB polygons of every year strip by strip (``add``), then ``frames``."""

    def __init__(
        self, grid: Grid, adcodes: list[str], names: dict[int, str], seed: int, n_years: int
    ):
        self.grid, self.adcodes, self.names, self.seed = grid, list(adcodes), names, seed
        self.parts: list[list[tuple]] = [[] for _ in range(n_years)]

    def add(
        self, k: int, r0: int, lu: np.ndarray, cid: np.ndarray, prev: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Polygonise one strip of year `k` (codes `lu`, county index `cid`, 0 = outside);
        returns the strip's ownership raster (1 state, 2 collective, 255 nodata) and its
        QSXZ index per cell. `prev`: the previous year's QSXZ index: ownership stays as it
        was, except where land became a code that is state land by itself (urban land,
        highways, water, mines: 征收 of collective land)."""
        g = self.grid
        h, w = lu.shape
        valid = (cid > 0) & (lu != 0)
        q = qsxz_index(lu, g.xs()[None, :], g.ys(r0, r0 + h)[:, None], self.seed)
        if prev is not None:
            q = np.where(np.isin(lu, list(STATE_OWNED)), q, prev)
        key = np.where(valid, (cid.astype(np.int64) * 4 + q) * 10000 + lu, 0).astype(np.int32)
        owner = np.where(valid, np.where(q >= 2, 1, 2), OWNER_NODATA).astype(np.uint8)
        for tr in range(0, h, TILE):
            for tc in range(0, w, TILE):
                blk = key[tr : tr + TILE, tc : tc + TILE]
                m = valid[tr : tr + TILE, tc : tc + TILE]
                if not m.any():
                    continue
                t = g.window_transform(r0 + tr) @ Affine.translation(tc, 0)
                shapes = list(features.shapes(blk, mask=m, transform=t, connectivity=4))
                vals = np.array([int(v) for _, v in shapes], np.int64)
                codes, cq = vals % 10000, vals // 10000
                town, village = 1 + ((r0 + tr) // TILE) % 999, 1 + (tc // TILE) % 999
                self.parts[k].append(
                    (_polygons(shapes), codes, cq // 4, QSXZ[cq % 4], town, village)
                )
        return owner, q

    def frame(self, k: int):
        """The DLTB GeoDataFrame of year `k` (EPSG:4544)."""
        import geopandas as gpd
        import pandas as pd

        from ..survey.read import ellipsoidal_area_m2

        rows = []
        for geoms, codes, ci, q, town, village in self.parts[k]:
            rows.append(
                pd.DataFrame(
                    {
                        "geometry": geoms,
                        "code": codes,
                        "ci": ci,
                        "QSXZ": q,
                        "unit": f"{town:03d}{village:03d}",
                    }
                )
            )
        df = (
            pd.concat(rows, ignore_index=True)
            if rows
            else pd.DataFrame({"geometry": [], "code": [], "ci": [], "QSXZ": [], "unit": []})
        )
        # EPSG:4507 (6-degree zone 18) and EPSG:4544 (3-degree CM 105E) are the same
        # projection (TM, CM 105E, k = 1, x0 = 500 000 m): the coordinates stay as they are
        assert_same_projection(TM_CRS, TM3_CM105_CRS)
        gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=TM3_CM105_CRS)
        code = gdf["code"].to_numpy(np.int64)
        tbmj = np.round(ellipsoidal_area_m2(gdf.geometry), 2)
        share = np.array([TIANKAN_SHARE.get(int(c), 0.0) for c in code])
        kcmj = np.round(tbmj * share, 2)
        adcode = np.array(self.adcodes, dtype=object)[gdf["ci"].to_numpy(np.int64) - 1]
        zl = [f"{a}{u}0000000" for a, u in zip(adcode, gdf["unit"])]
        state = gdf["QSXZ"].isin(["10", "20"]).to_numpy()
        out = gpd.GeoDataFrame(
            {
                "BSM": np.arange(1, len(gdf) + 1, dtype=np.int64),
                "TBBH": [str(i) for i in range(1, len(gdf) + 1)],
                "DLBM": [f"{c:04d}" for c in code],
                "DLMC": [self.names.get(int(c), "") for c in code],
                "QSXZ": gdf["QSXZ"].to_numpy(),
                "QSDWDM": [f"{a}{'0' * 13}" if s else z for a, z, s in zip(adcode, zl, state)],
                "ZLDWDM": zl,
                "TBMJ": tbmj,
                "KCDLBM": np.where(kcmj > 0, "1203", ""),
                "KCMJ": kcmj,
                "TBDLMJ": np.round(tbmj - kcmj, 2),
            },
            geometry=gdf.geometry.to_numpy(),
            crs=TM3_CM105_CRS,
        )
        return out
