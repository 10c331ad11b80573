"""Synthetic land use in GB/T 21010 (三调) codes, per block, for every survey year.

The first year is built from the environment (precipitation, elevation, slope, distance to the
rivers and canals, zones) and fractal noise for the mosaic; later years apply plausible
changes (regreening, reclamation, urban growth, homestead demolition) to the previous year.
Every code written is a GB/T 21010 code as an integer (0702 -> 702); 0 is nodata (outside
Ningxia).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from scipy.special import ndtr

from ..grid import Grid
from ..nodata import CLASS_NODATA
from .fields import smoothstep
from .noise import Octaves, fractal
from .terrain import PLAIN_SLOPE, GridSampler

NODATA = CLASS_NODATA

# canonical groups of the codes the generator writes (for the tables and the tests)
GREEN_CODES = (201, 301, 305, 307, 401, 403, 404, 1106, 1108)
IRRIGATED_CODES = (101, 102)
BUILT_CODES = (508, 601, 701, 803, 810, 1003, 1004, 1202)
WATER_CODES = (1101, 1102, 1104, 1107)
CODES = tuple(
    sorted(
        {
            101,
            102,
            103,
            201,
            301,
            305,
            307,
            401,
            403,
            404,
            508,
            601,
            602,
            701,
            702,
            803,
            810,
            1003,
            1004,
            1101,
            1102,
            1104,
            1106,
            1107,
            1108,
            1202,
            1204,
            1205,
            1206,
            1207,
        }
    )
)

# points of interest (lon, lat)
HONGSIBU_IRRIGATION = (106.10, 37.36, 15000.0)  # Yellow River pumped-irrigation district
GOJI_BOX = (105.40, 37.30, 105.90, 37.62)  # Zhongning goji orchards
PADDY_LAT = (37.95, 38.95)  # rice on the Yinchuan plain


@dataclass
class ShapeSet:
    """Geometries (EPSG:4507) with burn values, rasterised per window."""

    geoms: np.ndarray
    values: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, geoms, values=None) -> ShapeSet:
        geoms = np.asarray(list(geoms), dtype=object)
        if values is None:
            values = np.ones(len(geoms), dtype=np.int64)
        bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
        return cls(geoms, np.asarray(values), bounds)

    def burn(
        self,
        grid: Grid,
        r0: int,
        r1: int,
        all_touched: bool = False,
        dtype: str = "uint8",
        fill: int = 0,
    ) -> np.ndarray:
        shape = (r1 - r0, grid.width)
        left, right = grid.x0 - grid.res, grid.x0 + (grid.width + 1) * grid.res
        top, bottom = grid.y0 - (r0 - 1) * grid.res, grid.y0 - (r1 + 1) * grid.res
        b = self.bounds
        sel: np.ndarray | list[int] = (
            np.flatnonzero(
                (b[:, 0] <= right) & (b[:, 2] >= left) & (b[:, 1] <= top) & (b[:, 3] >= bottom)
            )
            if len(b)
            else []
        )
        if len(sel) == 0:
            return np.full(shape, fill, dtype=dtype)
        return features.rasterize(
            ((self.geoms[i], int(self.values[i])) for i in sel),
            out_shape=shape,
            transform=grid.window_transform(r0),
            all_touched=all_touched,
            fill=fill,
            dtype=dtype,
        )


@dataclass
class Block:
    """Everything the classifier needs about one row strip of the land-use grid."""

    r0: int
    r1: int
    S: GridSampler  # over EPSG:4507 x (columns) / y (rows)
    lon: np.ndarray
    lat: np.ndarray
    z: np.ndarray
    slope: np.ndarray  # degrees
    north: np.ndarray  # -1 south-facing .. +1 north-facing
    precip: np.ndarray


def _pick(lu: np.ndarray, mask: np.ndarray, u: np.ndarray, table) -> None:
    """Within ``mask``, give code k where u falls in its cumulative slot of ``table``
    [(upper, code), ...] (uppers ascending, scalars or arrays)."""
    for upper, code in reversed(table):
        lu[mask & (u < upper)] = code


class LandCoverModel:
    def __init__(
        self,
        seed: int,
        resolution: float,
        grid: Grid,
        env,
        years,
        shapes: dict,
        parcel_codes: np.ndarray,
    ):
        self.seed, self.res, self.grid, self.env = seed, float(resolution), grid, env
        self.years = tuple(years)
        self.shapes = shapes
        self.parcel_codes = parcel_codes  # (n_parcels + 1, n_years), row 0 = no parcel
        b = env.tm_bounds
        mw = 2.5 * self.res

        def noise(name, wl):
            return fractal(
                seed, f"lu/{name}", b, wl, hurst=0.9, min_wavelength=mw, renormalise_kept=True
            )

        self.noise: dict[str, Octaves] = {
            "mosaic": fractal(
                seed,
                "lu/mosaic",
                b,
                [6000, 3000, 1500, 750, 375, 190],
                hurst=0.5,
                min_wavelength=mw,
                renormalise_kept=True,
            ),
            "town": noise("town", [4000, 2000, 1000, 500]),
            "mosaic2": noise("mosaic2", [4000, 2000, 1000, 500, 250, 125]),
            "sand": fractal(
                seed,
                "lu/sand",
                b,
                [8000, 4000, 2000, 1000, 500, 250],
                hurst=0.0,
                min_wavelength=mw,
                renormalise_kept=True,
            ),
            "edge": noise("edge", [16000, 8000, 4000, 2000]),
            "fine": noise("fine", [1000, 500, 250, 125]),
            "hamlet": noise("hamlet", [500, 250, 125, 62.5]),
            "mine": noise("mine", [3000, 1500, 750, 375]),
        }
        for y in self.years[1:]:
            self.noise[f"change/{y}"] = noise(f"change/{y}", [4000, 2000, 1000, 500])
        self.precip_noise = fractal(
            seed, "precipitation", b, [100000, 50000, 25000, 12500], hurst=1.0
        )
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4490", grid.crs, always_xy=True)
        hx, hy = tr.transform(HONGSIBU_IRRIGATION[0], HONGSIBU_IRRIGATION[1])
        self._hongsibu = (float(hx), float(hy), HONGSIBU_IRRIGATION[2])
        self.burn_lines = {
            "yellow": True,
            "qingshui": self.res <= 500,
            "canals": self.res <= 250,
            "roads": self.res <= 100,
        }

    # -- environment of a block --------------------------------------------------------------
    def env_fields(self, blk: Block) -> dict[str, np.ndarray]:
        f = {k: blk.S(v) for k, v in self.env.tm_fields.items()}
        f["hrel"] = blk.z - f["rlY"] - np.float32(PLAIN_SLOPE) * f["dY"]
        return f

    def zones(self, blk: Block) -> dict[str, np.ndarray]:
        g, r0, r1, s = self.grid, blk.r0, blk.r1, self.shapes
        z = {
            "county": s["counties"].burn(g, r0, r1, dtype="uint8"),
            "region": s["region"].burn(g, r0, r1).astype(bool),
            "sand": s["sand_areas"].burn(g, r0, r1).astype(bool),
            "mine_area": s["mining_areas"].burn(g, r0, r1).astype(bool),
            "protected": s["protected"].burn(g, r0, r1),  # 1 exp, 2 buffer, 3 core
            "emig": s["emigration"].burn(g, r0, r1).astype(bool),
            "villages": s["villages"].burn(g, r0, r1, all_touched=True).astype(bool),
            "parcels": s["homesteads"].burn(g, r0, r1, all_touched=True, dtype="int32"),
            "mines": s["mines"].burn(g, r0, r1).astype(bool),
            "yellow": s["yellow"].burn(g, r0, r1).astype(bool),
        }
        for key in ("qingshui", "canals", "roads"):
            z[key] = (
                s[key].burn(g, r0, r1).astype(bool)
                if self.burn_lines[key]
                else np.zeros(z["county"].shape, bool)
            )
        return z

    # -- the first year ------------------------------------------------------------------------
    def base(self, blk: Block, f: dict, zn: dict, n: dict) -> np.ndarray:
        P, z, slope, north, lat, lon = blk.precip, blk.z, blk.slope, blk.north, blk.lat, blk.lon
        # mosaic variable, shifted by slope: steep land leans to grass, shrub and forest
        u = ndtr(n["mosaic"] + 0.06 * (slope - 6.0)).astype(np.float32)
        u2 = ndtr(n["mosaic2"]).astype(np.float32)
        edge, fine = n["edge"], n["fine"]
        lu = np.full(z.shape, 404, dtype=np.int16)

        # zonal vegetation and rain-fed farming by moisture
        arid = P < 235
        semi = (P >= 235) & (P < 340)
        humid = P >= 340
        _pick(lu, arid, u, [(0.46, 404), (0.60, 401), (0.80, 1206), (0.93, 1207), (1.0, 305)])
        _pick(
            lu,
            semi,
            u,
            [(0.12, 103), (0.45, 401), (0.76, 404), (0.81, 403), (0.93, 305), (1.0, 1206)],
        )
        crop = 0.33 * (1.0 - smoothstep(slope, 15.0, 25.0))
        _pick(
            lu,
            humid,
            u,
            [
                (crop, 103),
                (crop + 0.24, 401),
                (crop + 0.31, 404),
                (crop + 0.36, 403),
                (crop + 0.50, 307),
                (1.0, 305),
            ],
        )

        # Helan Mountains: desert steppe and rock at the foot, forest on shady slopes above 2000 m
        helan = (f["dHelan"] < 30000) & (lat > 38.1) & (f["hrel"] > 90)
        zb = z + 90.0 * edge + 160.0 * north
        b1 = helan & (zb < 1650)
        b2 = helan & (zb >= 1650) & (zb < 2050)
        b3 = helan & (zb >= 2050) & (zb < 3050)
        b4 = helan & (zb >= 3050)
        _pick(lu, b1, u, [(0.40, 404), (0.68, 1207), (0.88, 305), (1.0, 1206)])
        _pick(lu, b2, u, [(0.40, 305), (0.68, 404), (0.88, 1207), (1.0, 401)])
        fr = 0.45 + 0.25 * north
        _pick(
            lu, b3, u, [(fr * 0.8, 301), (fr, 307), (fr + 0.25, 305), (fr + 0.37, 1207), (1.0, 401)]
        )
        _pick(lu, b4, u, [(0.5, 401), (0.9, 1207), (1.0, 305)])
        lu[helan & (slope > 32) & (u2 > 0.45)] = 1207

        # Liupan Mountains and the other southern ranges
        liupan = ~helan & ((P >= 540) | ((lat < 36.3) & (z > 2350)))
        fr = 0.50 + 0.20 * north
        _pick(lu, liupan, u, [(fr * 0.75, 301), (fr, 307), (fr + 0.22, 305), (1.0, 401)])
        high = ~helan & ~liupan & (z > 2250 + 80 * edge) & (lat < 37.6)
        _pick(lu, high, u, [(0.30, 305), (0.45, 307), (0.85, 401), (1.0, 404)])

        # sand: the three sand areas (and a little elsewhere in the dry north)
        s = n["sand"]
        sd = f["sand_sd"] + 4000.0 * edge
        in_sand = (sd > -3000) & (f["dY"] > 2000) & ~helan
        p_dune = 0.66 * smoothstep(sd, -2500.0, 4000.0)
        dune = in_sand & (ndtr(s) < p_dune)
        lu[dune] = 1205
        _pick(
            lu, in_sand & ~dune & (sd > 0), u2, [(0.45, 404), (0.8, 305), (0.9, 1206), (1.0, 401)]
        )
        lu[(sd < -3000) & (P < 280) & (s > 2.4) & ~helan] = 1205

        # the irrigated plain (Yellow River alluvium, along the canals, pumped districts)
        hrel, dY = f["hrel"], f["dY"]
        plain = (dY < 45000) & (hrel < 24 + 12 * edge) & (slope < 4 + 1.5 * edge)
        canal_belt = (f["dC"] < 3500 + 1500 * edge) & (hrel < 60) & (slope < 5) & (P < 350)
        hx, hy, hr = self._hongsibu
        d_hong = np.hypot(blk.S.U - hx, blk.S.V - hy)
        hongsibu = (d_hong < hr * (1 + 0.2 * edge)) & (slope < 6) & (u2 < 0.65)
        qvalley = (f["dQ"] < 1500 + 800 * edge) & (slope < 6) & (u2 < 0.5) & (lat < 37.3)
        irr = (plain | canal_belt) & ~(dune & (sd > 0))
        paddy = (lat > PADDY_LAT[0]) & (lat < PADDY_LAT[1]) & (dY < 12000)
        goji = (lon > GOJI_BOX[0]) & (lon < GOJI_BOX[2]) & (lat > GOJI_BOX[1]) & (lat < GOJI_BOX[3])
        lu[irr] = 102
        lu[irr & paddy & (u < 0.14)] = 101
        lu[irr & goji & (u2 > 0.80)] = 201
        lu[irr & ~goji & (u2 > 0.975)] = 201
        lu[irr & (u > 0.985)] = 1202
        lu[irr & (lat > 38.6) & (edge > 0.9) & (u2 < 0.35) & (hrel < 12)] = 1204
        lu[irr & (dY < 15000) & (fine < -2.05)] = 1104
        lu[(hongsibu | qvalley) & ~irr & ~helan & ~liupan] = 102
        hamlet = n["hamlet"]
        lu[irr & (hamlet > 1.9)] = 702
        lu[~irr & ~helan & ~in_sand & (P > 250) & (hamlet > 2.6)] = 702

        # Helan east-foothill wine belt on the gravel fans
        dh = f["dHelan"]
        wine = (
            (dh > 8000)
            & (dh < 22000)
            & (lat > 37.95)
            & (lat < 38.95)
            & (hrel > 12)
            & (hrel < 220)
            & (slope < 8)
        )
        _pick(lu, wine, u2, [(0.35, 201), (0.58, 404), (0.72, 1206), (0.86, 1207), (1.0, 102)])

        # mining land: Helan foothill mining area, Ningdong coal field
        m = n["mine"]
        lu[zn["mine_area"] & (z < 2100) & (hrel > 15) & (m > 1.1)] = 602
        nd = f["ningdong"]
        lu[(nd > 0) & (m > 1.3)] = 602
        lu[(nd > 0.65 + 0.1 * edge) & (u > 0.3)] = 601

        # towns: built-up core and fringe around every county seat
        urb = f["urban"] + 0.10 * edge + 0.28 * n["town"]
        built = urb > 0
        core = urb > 0.45
        _pick(
            lu, built & ~core, u, [(0.40, 701), (0.62, 601), (0.74, 1004), (0.84, 1202), (1.0, 508)]
        )
        _pick(lu, core, u, [(0.62, 701), (0.78, 1004), (0.86, 601), (0.93, 810), (1.0, 803)])
        lu[zn["roads"]] = 1003
        return lu

    def water(self, lu: np.ndarray, f: dict, zn: dict, n: dict) -> None:
        edge, u2 = n["edge"], ndtr(n["mosaic2"])
        dY, hrel = f["dY"], f["hrel"]
        flood = (dY < 900 + 400 * edge) & (hrel < 10)
        lu[flood & (u2 < 0.45)] = 1106
        lu[flood & (u2 >= 0.45) & (u2 < 0.60)] = 1108
        river = (dY < 250 + 80 * edge) | zn["yellow"]
        lu[river] = 1101
        lakes = f["lakes"] + 0.15 * edge + 0.2 * n["town"]
        lu[(lakes > 0) & (lakes <= 0.35) & (u2 < 0.5)] = 1108
        lu[(lakes > 0) & (lakes <= 0.35) & (u2 >= 0.5) & (u2 < 0.7)] = 1104
        lu[lakes > 0.35] = 1102
        lu[(f["dQ"] < 60) | zn["qingshui"]] = 1101
        lu[zn["canals"]] = 1107

    # -- later years ---------------------------------------------------------------------------
    def change(
        self, prev: np.ndarray, k: int, blk: Block, f: dict, zn: dict, n: dict
    ) -> np.ndarray:
        c = n[f"change/{self.years[k]}"]
        u2 = ndtr(n["mosaic2"])
        P, slope = blk.precip, blk.slope
        lu = prev.copy()
        rg = c > 1.55
        lu[rg & (prev == 1205) & zn["sand"] & (u2 < 0.6)] = 305  # sand fixation shrubs
        lu[rg & (prev == 1205) & zn["sand"] & (u2 >= 0.6)] = 404
        lu[rg & ((prev == 1206) | (prev == 1204))] = 404
        gfg = (c > 1.9) & (prev == 103) & ((slope > 8) | (P > 420))  # Grain for Green
        lu[gfg & (P > 450)] = 307
        lu[gfg & (P <= 450) & (u2 < 0.5)] = 305
        lu[gfg & (P <= 450) & (u2 >= 0.5)] = 401
        lu[(c > 1.4) & (prev == 602) & ~zn["mines"]] = 404  # mine land restored
        newcrop = (
            (c < -2.1)
            & ((prev == 404) | (prev == 401) | (prev == 1206))
            & (f["hrel"] < 60)
            & (f["dY"] < 40000)
        )
        lu[newcrop] = 102
        urb_prev = f["urban"] + 0.10 * n["edge"] + 0.28 * n["town"] + 0.05 * (k - 1)
        grow = (
            (urb_prev <= 0)
            & (urb_prev > -0.08)
            & (c > 0.3)
            & ~np.isin(prev, WATER_CODES + (1106, 1108))
        )
        lu[grow & (u2 < 0.6)] = 701
        lu[grow & (u2 >= 0.6)] = 601
        lu[(c > 1.0) & (prev == 702) & zn["emig"] & (zn["parcels"] == 0)] = 1206
        return lu

    def burn_parcels(self, lu: np.ndarray, k: int, zn: dict) -> None:
        lu[zn["villages"]] = 702
        codes = self.parcel_codes[:, k]
        pc = codes[zn["parcels"]]
        has = pc > 0
        lu[has] = pc[has]
        lu[zn["mines"]] = 602

    def classify(self, blk: Block) -> tuple[list[np.ndarray], dict, dict]:
        f = self.env_fields(blk)
        zn = self.zones(blk)
        n = {k: blk.S(v) for k, v in self.noise.items()}
        lu = self.base(blk, f, zn, n)
        self.burn_parcels(lu, 0, zn)
        self.water(lu, f, zn, n)
        outside = ~zn["region"]
        lu[outside] = NODATA
        out = [lu]
        for k in range(1, len(self.years)):
            nxt = self.change(out[-1], k, blk, f, zn, n)
            self.burn_parcels(nxt, k, zn)
            self.water(nxt, f, zn, n)
            nxt[outside] = NODATA
            out.append(nxt)
        return out, f, zn
