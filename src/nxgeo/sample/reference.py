"""Reference layers (real county boundaries and relief, approximate rivers and zones) and the
few hand-placed facts the sample adds to them (county seats, mountain ridges, river levels,
canal alignments, lakes). Coordinates are CGCS2000 geographic (lon, lat); all approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import rasterio
import shapely

from ..errors import InputError
from .grids import GEO_CRS, TM_CRS

if TYPE_CHECKING:
    from affine import Affine

# County seats (approximate town centres) and the radius (km) of their built-up area.
COUNTY_SEATS: dict[str, tuple[float, float, float]] = {
    "640104": (106.29, 38.47, 6.5),  # Xingqing (Yinchuan old town)
    "640105": (106.13, 38.49, 4.5),  # Xixia
    "640106": (106.23, 38.47, 4.5),  # Jinfeng
    "640121": (106.25, 38.28, 2.2),  # Yongning (Yanghe)
    "640122": (106.35, 38.55, 2.2),  # Helan (Xigang)
    "640181": (106.34, 38.10, 2.5),  # Lingwu
    "640202": (106.38, 39.02, 3.5),  # Dawukou
    "640205": (106.77, 39.23, 2.5),  # Huinong
    "640221": (106.54, 38.91, 2.2),  # Pingluo
    "640302": (106.20, 37.99, 3.0),  # Litong (Wuzhong)
    "640303": (106.06, 37.42, 1.8),  # Hongsibu
    "640323": (107.40, 37.78, 1.8),  # Yanchi
    "640324": (105.91, 36.97, 1.8),  # Tongxin
    "640381": (106.07, 38.02, 2.2),  # Qingtongxia
    "640402": (106.28, 36.00, 3.0),  # Yuanzhou (Guyuan)
    "640422": (105.73, 35.96, 1.6),  # Xiji
    "640423": (106.12, 35.62, 1.4),  # Longde
    "640424": (106.33, 35.49, 1.2),  # Jingyuan
    "640425": (106.64, 35.85, 1.4),  # Pengyang
    "640502": (105.19, 37.51, 3.0),  # Shapotou (Zhongwei)
    "640521": (105.68, 37.49, 1.8),  # Zhongning
    "640522": (105.64, 36.56, 1.6),  # Haiyuan
}

# Ningdong energy and chemical base (Lingwu): industry and coal mining.
NINGDONG = (106.58, 38.02)


@dataclass(frozen=True)
class Ridge:
    name: str
    coords: tuple[tuple[float, float], ...]  # lon, lat
    peaks: tuple[float | None, ...]  # target crest height (m); None = fade out
    width_m: float


# Mountain crests added to the coarse relief (0.2 deg cells smear the real peaks).
RIDGES: tuple[Ridge, ...] = (
    Ridge(
        "Helan",
        (
            (105.79, 38.12),
            (105.88, 38.32),
            (105.94, 38.52),
            (106.02, 38.72),
            (106.10, 38.86),
            (106.22, 39.00),
            (106.36, 39.13),
            (106.48, 39.25),
            (106.58, 39.37),
        ),
        (None, 2300, 2900, 3400, 3300, 2850, 2400, 1950, None),
        9000.0,
    ),
    Ridge(
        "Liupan",
        (
            (106.38, 35.08),
            (106.31, 35.27),
            (106.26, 35.42),
            (106.22, 35.56),
            (106.20, 35.70),
            (106.16, 35.86),
            (106.09, 36.00),
            (106.00, 36.12),
        ),
        (None, 2650, 2920, 2800, 2600, 2400, 2250, None),
        6000.0,
    ),
    Ridge(
        "Nanhua",
        ((105.38, 36.37), (105.52, 36.44), (105.63, 36.50), (105.74, 36.56), (105.83, 36.61)),
        (None, 2750, 2950, 2600, None),
        4500.0,
    ),
    Ridge(
        "Yueliang",
        ((105.70, 36.04), (105.82, 36.12), (105.92, 36.20), (106.01, 36.27)),
        (None, 2550, 2630, None),
        4000.0,
    ),
    Ridge(
        "Luoshan",
        ((106.27, 37.10), (106.28, 37.21), (106.29, 37.29), (106.30, 37.40)),
        (None, 2450, 2620, None),
        3500.0,
    ),
    Ridge(
        "Xiangshan",
        ((105.12, 37.21), (105.30, 37.27), (105.45, 37.30), (105.60, 37.33)),
        (None, 2250, 2360, None),
        4500.0,
    ),
    Ridge(
        "Niushou",
        ((105.98, 37.70), (106.04, 37.79), (106.10, 37.88), (106.15, 37.95)),
        (None, 1760, 1700, None),
        3000.0,
    ),
)

# Water level of the Yellow River at each vertex of the reference line (m), and the
# half-width (km) of the alluvial plain the valley blends into there.
YELLOW_LEVELS = (
    1240,
    1232,
    1226,
    1222,
    1212,
    1196,
    1185,
    1165,
    1135,
    1125,
    1118,
    1112,
    1106,
    1101,
    1097,
    1094,
    1091,
    1088,
)
YELLOW_PLAIN_KM = (7, 8, 7, 7, 9, 10, 10, 5, 6, 14, 18, 22, 24, 24, 20, 16, 12, 10)
QINGSHUI_LEVELS = (1780, 1690, 1560, 1450, 1340, 1250, 1185)

# Trunk canals: (name_zh, name_en, start, end chainage along the Yellow River (fraction of its
# length), offset (km, + = left/west bank looking downstream)).
CANALS: tuple[tuple[str, str, float, float, float], ...] = (
    ("美利渠", "Meili Canal", 0.16, 0.34, 3.0),
    ("跃进渠", "Yuejin Canal", 0.22, 0.40, -3.5),
    ("七星渠", "Qixing Canal", 0.36, 0.49, -5.0),
    ("西干渠", "Xigan Canal", 0.56, 0.86, 21.0),
    ("唐徕渠", "Tanglai Canal", 0.54, 0.90, 13.0),
    ("汉延渠", "Hanyan Canal", 0.54, 0.78, 7.0),
    ("惠农渠", "Huinong Canal", 0.54, 0.96, 3.5),
    ("秦渠", "Qin Canal", 0.54, 0.68, -4.0),
    ("汉渠", "Han Canal", 0.52, 0.62, -7.5),
    ("东干渠", "Donggan Canal", 0.54, 0.74, -11.0),
)

# Lakes and marshes of the Yinchuan plain (lon, lat, radius km).
LAKES: tuple[tuple[str, float, float, float], ...] = (
    ("沙湖", 106.36, 38.82, 3.0),
    ("阅海", 106.21, 38.56, 2.0),
    ("鸣翠湖", 106.38, 38.45, 1.4),
    ("星海湖", 106.42, 39.00, 1.6),
    ("宝湖", 106.27, 38.42, 0.9),
)

# Reaches of docs/domain.md section 3 as unions of counties.
REACHES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("weining", "卫宁段", "Weining reach", ("640502", "640521")),
    ("qingtongxia", "青铜峡段", "Qingtongxia reach", ("640381", "640302", "640303")),
    (
        "yinchuan",
        "银川段",
        "Yinchuan reach",
        ("640104", "640105", "640106", "640121", "640122", "640181"),
    ),
    ("shizuishan", "石嘴山段", "Shizuishan reach", ("640202", "640205", "640221")),
    ("qingshui", "清水河流域", "Qingshui River basin", ("640402", "640522", "640324")),
    ("jinghe", "泾河/葫芦河流域", "Jing and Hulu rivers", ("640424", "640425", "640423", "640422")),
    ("yanchi", "盐池内流区", "Yanchi inland area", ("640323",)),
)

# Nine central-southern counties with ecological-migration emigration areas (迁出区).
EMIGRATION_COUNTIES = (
    "640402",
    "640422",
    "640423",
    "640424",
    "640425",
    "640324",
    "640323",
    "640303",
    "640522",
)
# Counties on the irrigated Yellow River plain.
PLAIN_COUNTIES = (
    "640104",
    "640105",
    "640106",
    "640121",
    "640122",
    "640181",
    "640202",
    "640205",
    "640221",
    "640302",
    "640381",
    "640502",
    "640521",
)


@dataclass
class Reference:
    counties: gpd.GeoDataFrame  # EPSG:4490, fields adcode, name_zh, name_en, city_zh, city_en
    rivers: gpd.GeoDataFrame  # EPSG:4490
    zones: gpd.GeoDataFrame  # EPSG:4490
    relief: np.ndarray  # float32 metres
    relief_transform: Affine  # lon/lat

    @property
    def counties_tm(self) -> gpd.GeoDataFrame:
        return self.counties.to_crs(TM_CRS)

    def zone(self, zone_type: str) -> gpd.GeoDataFrame:
        return self.zones[self.zones["zone_type"] == zone_type].reset_index(drop=True)

    def river(self, river_id: str) -> shapely.LineString:
        return self.rivers.loc[self.rivers["river_id"] == river_id].geometry.iloc[0]


def load_reference(reference_dir: str | Path) -> Reference:
    ref = Path(reference_dir)
    files = {
        n: ref / n
        for n in (
            "counties.geojson",
            "rivers_approx.geojson",
            "zones_approx.geojson",
            "relief_0p2deg.tif",
        )
    }
    for p in files.values():
        if not p.exists():
            raise InputError(
                f"{p}: reference file not found (the sample is built from "
                f"{ref}/, see its README.md)"
            )
    counties = gpd.read_file(files["counties.geojson"], engine="pyogrio")
    counties["adcode"] = counties["adcode"].astype(str).str.strip()
    counties = counties.sort_values("adcode").reset_index(drop=True)
    counties = counties.to_crs(GEO_CRS) if counties.crs is not None else counties.set_crs(GEO_CRS)
    counties["geometry"] = shapely.make_valid(counties.geometry.values)
    missing = set(COUNTY_SEATS) - set(counties["adcode"])
    if missing:
        raise InputError(f"{files['counties.geojson']}: counties {sorted(missing)} not found")
    rivers = gpd.read_file(files["rivers_approx.geojson"], engine="pyogrio").to_crs(GEO_CRS)
    zones = gpd.read_file(files["zones_approx.geojson"], engine="pyogrio").to_crs(GEO_CRS)
    with rasterio.open(files["relief_0p2deg.tif"]) as src:
        relief = src.read(1).astype(np.float32)
        transform = src.transform
    return Reference(
        counties=counties, rivers=rivers, zones=zones, relief=relief, relief_transform=transform
    )
