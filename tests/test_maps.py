"""Maps: CJK font, map furniture, decimated reading, the sheets of a year (synthetic results).

`build_results(root)` makes a tiny results tree (common layers, one year with land use, one
reach with suitability, candidates for two pathways, tables); test_report.py uses it too.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import LineString, box

from nxgeo.atomic import write_csv
from nxgeo.raster_io import write_cog, write_raster
from nxgeo.vector_io import write_layers

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ROOT / "config" / "landuse" / "classes.csv"
CRS = "EPSG:4507"
YEAR = 2024
RES = 1000.0
X0, Y0 = 500_000.0, 4_200_000.0
W, H = 60, 80  # 60 km x 80 km
T = Affine(RES, 0, X0, 0, -RES, Y0)
COUNTIES = {
    "640105": ("西夏区", box(X0, Y0 - 40_000, X0 + 60_000, Y0)),
    "640122": ("贺兰县", box(X0, Y0 - 80_000, X0 + 60_000, Y0 - 40_000)),
}
LANDUSE_PRESENT = [1, 4, 8]  # irrigated cropland, forest, water
BEST_USE_LEGEND = pd.DataFrame(
    {
        "code": [0, 1, 2, 3, 4, 255],
        "target": ["none", "cropland", "forest", "shrub", "grass", "nodata"],
        "name_zh": ["无适宜用途", "耕地", "林地", "灌木林地", "草地", "无数据"],
        "name_en": ["No suitable use", "Cropland", "Forest", "Shrubland", "Grassland", "No data"],
    }
)
CONFIG = {
    "region_name": "测试区 / Test region",
    "grid": {"crs": CRS},
    "reaches": ["r1"],
    "pathways": {"homestead_greening": {}, "mine_remediation": {}, "sand_control": {}},
    "suitability": {
        "best_use_order": ["cropland", "forest"],
        "targets": {"cropland": {"name_zh": "耕地", "name_en": "Cropland"}},
    },
}
MADE_ON = "2025-01-02"


def _glyph_warnings(records) -> list[str]:
    return [str(w.message) for w in records if "Glyph" in str(w.message)]


def landuse_array() -> np.ndarray:
    a = np.full((H, W), 1, dtype="uint8")
    a[:, 30:] = 4
    a[60:, :] = 8
    a[:3, :3] = 0  # nodata corner
    return a


def make_candidates(year_dir: Path, pathways=("homestead_greening", "mine_remediation")):
    layers = {}
    specs = {
        "homestead_greening": [("640105", "西夏区", ["cropland", "forest", "grass"])],
        "mine_remediation": [("640105", "西夏区", ["ecological", "solar_pv"])],
        "sand_control": [("640122", "贺兰县", ["closed_protection", "public_benefit"])],
    }
    for k, pw in enumerate(pathways):
        rows = []
        for adcode, name, targets in specs[pw]:
            y0 = Y0 - 8_000 - (40_000 if adcode == "640122" else 0) - k * 3_000
            for i in range(6):
                x = X0 + 5_000 + i * 8_000
                y = y0 - (i % 3) * 9_000
                target = targets[i % len(targets)]
                rows.append(
                    {
                        "parcel_id": f"{pw[:2]}{i}",
                        "pathway": pw,
                        "adcode": adcode,
                        "county_name": name,
                        "reach": "r1",
                        "area_ha": 4.0 + i,
                        "area_mu": (4.0 + i) * 15,
                        "current_class": "bare",
                        "recommended_target": target,
                        "target_zh": target,
                        "score": 80.0,
                        "grade": 1,
                        "water_demand_m3": 1000.0 * i,
                        # parcel 4: not eligible (already restored); 5: eligible, no water
                        "eligible": int(i != 4),
                        "allocated": int(i < 4),
                        "rank_in_county": i + 1,
                        "reason": {4: "already_restored", 5: "water_budget"}.get(i, ""),
                        "new_cultivated_ha": (4.0 + i) if target == "cropland" else 0.0,
                        "freed_quota_ha": 1.0 if pw == "homestead_greening" else 0.0,
                        "greening_increment_ha": 2.0,
                        "pv_mw": 0.5 if target == "solar_pv" else 0.0,
                        "sand_priority": 0.0,
                        "hazard_flag": 0,
                        "geometry": box(x, y, x + 400, y + 300),
                    }
                )
        layers[pw] = gpd.GeoDataFrame(rows, crs=CRS)
    write_layers(year_dir / "candidates.gpkg", layers)
    return layers


def build_results(
    root: Path, candidates=("homestead_greening", "mine_remediation"), suitability: bool = True
) -> Path:
    """A small results tree (root = the results folder). Returns root."""
    common = root / "common"
    yr = root / str(YEAR)
    counties = gpd.GeoDataFrame(
        {"id": list(COUNTIES), "name": [v[0] for v in COUNTIES.values()]},
        geometry=[v[1] for v in COUNTIES.values()],
        crs=CRS,
    )
    reaches = gpd.GeoDataFrame(
        {"id": ["r1"], "name": ["测试段"]},
        geometry=[box(X0 + 2_000, Y0 - 78_000, X0 + 58_000, Y0 - 2_000)],
        crs=CRS,
    )
    rivers = gpd.GeoDataFrame(
        {"id": [1], "name": ["黄河"]},
        geometry=[LineString([(X0 + 20_000, Y0), (X0 + 40_000, Y0 - 80_000)])],
        crs=CRS,
    )
    # context outlines: a reserve with its three zones, the red line, an emigration area, a
    # mining area and a sand area, all inside 西夏区
    pa = gpd.GeoDataFrame(
        {
            "name": ["测试保护区"] * 3,
            "name_en": ["Test NNR"] * 3,
            "zone": ["core", "buffer", "experimental"],
        },
        geometry=[
            box(X0 + 30_000, Y0 - 20_000, X0 + 34_000, Y0 - 16_000),
            box(X0 + 28_000, Y0 - 22_000, X0 + 36_000, Y0 - 14_000),
            box(X0 + 26_000, Y0 - 24_000, X0 + 38_000, Y0 - 12_000),
        ],
        crs=CRS,
    )
    one = {"id": [1], "name": ["区"], "name_en": ["area"]}
    ctx_layers = {
        k: gpd.GeoDataFrame(one, geometry=[g], crs=CRS)
        for k, g in {
            "ecological_redline": box(X0 + 5_000, Y0 - 30_000, X0 + 15_000, Y0 - 20_000),
            "emigration_areas": box(X0 + 40_000, Y0 - 15_000, X0 + 55_000, Y0 - 5_000),
            "mining_areas": box(X0 + 2_000, Y0 - 12_000, X0 + 20_000, Y0 - 3_000),
            "sand_areas": box(X0 + 20_000, Y0 - 38_000, X0 + 50_000, Y0 - 28_000),
        }.items()
    }
    write_layers(
        common / "vectors.gpkg",
        {
            "counties": counties,
            "reaches": reaches,
            "rivers": rivers,
            "protected_areas": pa,
            **ctx_layers,
        },
    )
    yy, xx = np.mgrid[0:H, 0:W]
    dem = (1200 + 300 * np.sin(xx / 7.0) * np.cos(yy / 9.0) + 5 * yy).astype("float32")
    write_raster(common / "grid" / "dem.tif", dem, CRS, T)
    (common / "grid.json").write_text(
        json.dumps({"crs": CRS, "bounds": [X0, Y0 - H * RES, X0 + W * RES, Y0]})
    )
    write_raster(yr / "grid" / "landuse.tif", landuse_array(), CRS, T, nodata=0)
    if suitability:
        suit = yr / "reaches" / "r1" / "suitability"
        best = np.where(xx < 20, 1, np.where(xx < 40, 2, 0)).astype("uint8")
        best[:2, :] = 255
        write_cog(suit / "best_use.tif", best, CRS, T, nodata=255)
        write_csv(BEST_USE_LEGEND, suit / "best_use_legend.csv")
        grade = (1 + (xx // 15) % 4).astype("uint8")  # grades 1..4
        grade[:2, :] = 255
        write_cog(suit / "suit_cropland_grade.tif", grade, CRS, T, nodata=255)
    if candidates:
        make_candidates(yr, candidates)
    return root


# ---------------------------------------------------------------------------------------------
# font


def test_cjk_font_renders_chinese_without_missing_glyphs(tmp_path, caplog):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from nxgeo.maps.fonts import font_source, setup_cjk_font

    family = setup_cjk_font()
    assert family
    assert font_source()
    with warnings.catch_warnings(record=True) as rec, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        fig = Figure(figsize=(3, 1))
        FigureCanvasAgg(fig)
        fig.text(0.05, 0.5, "宁夏回族自治区 土地利用 适宜性 灌木林地 km² −5 °", fontsize=9)
        fig.savefig(tmp_path / "t.png", dpi=100)
        fig.savefig(tmp_path / "t.pdf")
    assert not _glyph_warnings(rec)
    assert not [r for r in caplog.records if "missing" in r.getMessage().lower()]


def test_cjk_font_missing_names_the_package(monkeypatch):
    from nxgeo.maps import fonts

    fonts.find_cjk_font.cache_clear()
    monkeypatch.setattr(fonts, "packaged_font_file", lambda: None)
    monkeypatch.setattr(fonts, "system_font_file", lambda: None)
    monkeypatch.setattr(fonts, "_known_family", lambda: None)
    try:
        with pytest.raises(fonts.CJKFontNotFound, match="pylopdf-fonts-zh-cn"):
            fonts.setup_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()


def test_cjk_font_comes_from_the_pip_package():
    from nxgeo.maps import fonts

    path = fonts.packaged_font_file()
    assert path is not None and path.name == "NotoSansSC-Regular.otf"
    assert fonts.setup_cjk_font() == "Noto Sans SC"


# ---------------------------------------------------------------------------------------------
# furniture and reading


def test_nice_length_and_scale_bar_in_km():
    from matplotlib.figure import Figure

    from nxgeo.maps import elements as el

    assert el.nice_length(73_000) == 50_000
    assert el.nice_length(19_000) == 10_000
    assert el.nice_length(2_300) == 2_000
    fig = Figure(figsize=(4, 4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 200_000)
    ax.set_ylim(0, 200_000)
    ax.set_aspect("equal")
    out = el.add_scale_bar(ax)
    assert out["length_km"] == 50.0
    # 200 km across 4 inches (0.1016 m) -> 1:1,970,000 (3 significant digits)
    assert out["scale"] == 1_970_000
    bars = [
        p
        for p in ax.patches
        if p.get_facecolor()[:3] in ((0, 0, 0), (1, 1, 1)) and p.get_height() < 0.05
    ]
    assert sum(p.get_width() for p in bars) == pytest.approx(50_000)
    assert el.check_metric_crs("EPSG:4507").startswith("CGCS2000")
    with pytest.raises(ValueError, match="projected"):
        el.check_metric_crs("EPSG:4490")


def test_notes_name_crs_and_wrap_chinese():
    from nxgeo.maps import elements as el

    lines = el.note_lines(
        crs="EPSG:4507", region_name="测试区", version="9.9", year=2024, made_on="2025-01-02"
    )
    assert "EPSG:4507" in lines[0] and "CGCS2000" in lines[0]
    assert any("nxgeo 9.9" in s for s in lines) and any("2025-01-02" in s for s in lines)
    wrapped = el.wrap_mixed(
        "等级：双评价 适宜/一般适宜/不适宜；禁止 = 保护区、生态红线等硬约束" * 2, 30
    )
    assert len(wrapped) > 1 and all(el.display_width(w) <= 32 for w in wrapped)


def test_read_map_raster_is_decimated(tmp_path):
    from nxgeo.maps import data as mdata

    arr = (np.arange(1000 * 3000) % 7).astype("uint8").reshape(1000, 3000)
    p = write_raster(tmp_path / "big.tif", arr, CRS, Affine(30, 0, X0, 0, -30, Y0))
    r = mdata.read_map_raster(p, max_px=500)
    assert r.array.shape == (167, 500)
    assert r.bounds == pytest.approx((X0, Y0 - 30_000, X0 + 90_000, Y0))
    m = mdata.mosaic_map_raster([p], max_px=500)
    assert max(m.array.shape) <= 500
    # a window (county) read is decimated too and covers the requested bounds
    w = mdata.read_map_raster(p, max_px=100, bounds=(X0 + 1_000, Y0 - 20_000, X0 + 50_000, Y0))
    assert max(w.array.shape) <= 100
    assert w.bounds[0] <= X0 + 1_000 and w.bounds[2] >= X0 + 50_000
    counts = mdata.class_counts([p])
    assert sum(counts.values()) == arr.size and set(counts) == set(range(7))


def test_progress_is_quiet_without_a_tty(capsys):
    from nxgeo.progress import progress

    assert list(progress(range(5), desc="x", total=5)) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------
# sheets


def test_landuse_legend_lists_exactly_the_classes_present(tmp_path):
    from nxgeo.maps import sheets

    p = write_raster(tmp_path / "lu.tif", landuse_array(), CRS, T, nodata=0)
    ctx = sheets.MapContext(year=YEAR, region_name="测试区 / Test", crs=CRS, made_on=MADE_ON)
    sheet = sheets.landuse_figure([p], CLASSES, ctx)
    texts = [t.get_text() for t in sheet.legend.get_texts()]
    classes = pd.read_csv(CLASSES)
    want = classes[classes["class_id"].isin(LANDUSE_PRESENT)]
    assert len(texts) == len(LANDUSE_PRESENT)
    for text, (_, row) in zip(texts, want.iterrows()):
        assert text.startswith(f"{row['name_zh']} {row['name_en']}")
        assert text.endswith("%")
    # shares add up to 100 %
    shares = [float(t.rsplit(" ", 1)[1].rstrip("%")) for t in texts]
    assert sum(shares) == pytest.approx(100.0, abs=0.2)
    # the land-use colours are those of classes.csv
    img = sheet.ax.images[0].get_array()
    forest_rgb = tuple(
        int(want.set_index("class_id").loc[4, "color"][i : i + 2], 16) / 255 for i in (1, 3, 5)
    )
    assert np.allclose(np.asarray(img[10, 45, :3], dtype=float), forest_rgb, atol=1e-3)


def test_rerender_gives_identical_bytes(tmp_path):
    from nxgeo.maps import sheets

    p = write_raster(tmp_path / "lu.tif", landuse_array(), CRS, T, nodata=0)
    ctx = sheets.MapContext(year=YEAR, region_name="测试区 / Test", crs=CRS, made_on=MADE_ON)
    out = []
    for name in ("a", "b"):
        sheet = sheets.landuse_figure([p], CLASSES, ctx)
        out.append(sheets.save_figure(sheet.fig, tmp_path / name / "landuse"))
    for fa, fb in zip(*out):
        assert fa.read_bytes() == fb.read_bytes(), fa.name


@pytest.fixture(scope="module")
def year_maps(tmp_path_factory):
    from nxgeo.maps import maps_year

    root = build_results(tmp_path_factory.mktemp("maps") / "results")
    out = root / str(YEAR) / "maps"
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        files = maps_year(YEAR, root, CLASSES, CONFIG, out, made_on=MADE_ON)
    return root, out, files, rec


def test_maps_year_makes_every_sheet(year_maps):
    _, out, files, rec = year_maps
    names = {p.name for p in files}
    expected = {
        "overview_homestead_greening",
        "overview_mine_remediation",
        "county_640105",
        "best_use",
        "suitability_cropland",
        "landuse",
    }
    for stem in expected:
        assert f"{stem}.png" in names and f"{stem}.pdf" in names, stem
    # only counties that have candidates get a sheet; the missing pathway is skipped, noted
    assert not (out / "county_640122.png").exists()
    assert not (out / "overview_sand_control.png").exists()
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert any(s["map"] == "overview_sand_control" for s in index["skipped"])
    assert {m["name"] for m in index["maps"]} == expected
    assert all(m["title_zh"] and m["title_en"] for m in index["maps"])
    assert not _glyph_warnings(rec)


def test_parallel_sheets_give_the_same_files(year_maps, tmp_path):
    from nxgeo.maps import maps_year

    root, _, files, _ = year_maps
    again = maps_year(YEAR, root, CLASSES, CONFIG, tmp_path / "maps", made_on=MADE_ON, workers=2)
    assert [p.name for p in again] == [p.name for p in files]
    for a, b in zip(files, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_map_files_are_300_dpi_png_and_pdf(year_maps):
    from PIL import Image

    from nxgeo.maps.style import A4_LANDSCAPE, A4_PORTRAIT

    _, _, files, _ = year_maps
    for png in (p for p in files if p.suffix == ".png"):
        with Image.open(png) as im:
            w, h = im.size
            dpi = im.info.get("dpi")
        sizes = [
            (round(pg.width * 300), round(pg.height * 300)) for pg in (A4_PORTRAIT, A4_LANDSCAPE)
        ]
        assert any(abs(w - sw) <= 1 and abs(h - sh) <= 1 for sw, sh in sizes), (png, w, h)
        assert dpi is not None and round(dpi[0]) == 300
        pdf = png.with_suffix(".pdf")
        head = pdf.read_bytes()
        assert head.startswith(b"%PDF") and b"CreationDate" not in head


def test_maps_without_candidates_or_suitability_skip_with_a_note(tmp_path):
    from nxgeo.maps import maps_year

    root = build_results(tmp_path / "results", candidates=(), suitability=False)
    files = maps_year(YEAR, root, CLASSES, CONFIG, tmp_path / "maps", made_on=MADE_ON)
    assert sorted(p.name for p in files) == ["index.json", "landuse.pdf", "landuse.png"]
    index = json.loads((tmp_path / "maps" / "index.json").read_text(encoding="utf-8"))
    reasons = " ".join(s["reason"] for s in index["skipped"])
    assert "candidates.gpkg not found" in reasons and "best_use" in reasons


def test_candidate_legend_counts_parcels_and_area():
    from nxgeo.maps import sheets

    gdf = gpd.GeoDataFrame(
        {
            "recommended_target": [
                "forest",
                "forest",
                "solar_pv",
                "cropland",
                "ecological",
                "ecological",
            ],
            "eligible": [1, 1, 1, 1, 0, 0],
            "allocated": [1, 1, 1, 0, 0, 0],
            "reason": ["", "", "", "water_budget", "operating", "already_restored"],
            "area_ha": [1.0, 2.5, 3.0, 4.0, 5.0, 6.0],
            "pathway": ["mine_remediation"] * 6,
        },
        geometry=[box(0, 0, 1, 1)] * 6,
        crs=CRS,
    )
    entries = sheets.candidate_legend_entries(gdf, {})
    texts = [e.label for e in entries]
    assert texts == [
        "林地 Forest：2 块 parcels，3.5 ha",
        "光伏 Solar PV：1 块 parcels，3.0 ha",
        "符合条件但未配水（县域水量不足） Eligible, no water allocated：1 块 parcels，4.0 ha",
        (
            "不符合条件：已是绿地或耕地 Not eligible: already green or cropland：1 块 "
            "parcels，6.0 ha"
        ),
        "不符合条件：生产矿山 Not eligible: operating mine：1 块 parcels，5.0 ha",
    ]
    # three different classes: no water, and one per reason of not being eligible
    styles = {(e.color, e.hatch) for e in entries[2:]}
    assert len(styles) == 3 and all(h for _, h in styles)


def _legend_texts(sheet) -> list[str]:
    return [t.get_text() for t in sheet.legend.get_texts()]


def test_county_sheet_legend_has_outlines_and_the_pinyin_subtitle(tmp_path):
    from nxgeo.maps import data as mdata
    from nxgeo.maps import sheets

    root = build_results(tmp_path / "results")
    names = pd.DataFrame(
        {
            "adcode": ["640105"],
            "name_zh": ["西夏区"],
            "name_pinyin": ["Xixia"],
            "name_en": ["Xixia District"],
        }
    )
    ctx = sheets.build_context(YEAR, root, CONFIG, made_on=MADE_ON, county_names=names)
    cands = mdata.read_candidates(root / str(YEAR) / "candidates.gpkg")
    sub = pd.concat([g[g["adcode"] == "640105"] for g in cands.values()])
    sheet = sheets.county_figure("640105", "西夏区", gpd.GeoDataFrame(sub, crs=CRS), ctx)
    assert sheet.title_en == f"Restoration candidate parcels, Xixia District (640105), {YEAR}"
    texts = " | ".join(_legend_texts(sheet))
    for label in (
        "自然保护区核心区",
        "自然保护区缓冲区",
        "自然保护区实验区",
        "生态保护红线",
        "移民迁出区",
        "矿区 Mining area",
        "沙化土地区",
    ):
        assert label in texts, label
    assert "符合条件但未配水" in texts and "不符合条件：已是绿地或耕地" in texts
    # parcel ids are printed (12 small parcels, all legible at county scale)
    labels = {t.get_text() for t in sheet.ax.texts}
    assert {"ho0", "ho3", "mi5"} <= labels
    # an outline outside the view is not in the legend
    far = sheets.build_context(YEAR, root, CONFIG, made_on=MADE_ON, county_names=names)
    far.context = {"sand_areas": far.context["sand_areas"].translate(5e5, 0)}
    sheet2 = sheets.county_figure("640105", "西夏区", gpd.GeoDataFrame(sub, crs=CRS), far)
    assert not any("沙化土地区" in t for t in _legend_texts(sheet2))


def test_subtitle_without_a_names_table_uses_the_code(tmp_path):
    from nxgeo.maps import sheets

    root = build_results(tmp_path / "results")
    ctx = sheets.build_context(YEAR, root, CONFIG, made_on=MADE_ON)
    assert sheets.county_english(ctx, "640105") == "county 640105"
    ctx.county_en = sheets.read_county_names(ROOT / "config" / "tables" / "county_names.csv")
    assert sheets.county_english(ctx, "640323") == "Yanchi County (640323)"


def test_detail_groups_cover_every_parcel_once():
    from nxgeo.maps.sheets import detail_groups

    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(0, 5e4, 333), rng.uniform(0, 2e4, 333)
    gdf = gpd.GeoDataFrame(
        {"parcel_id": [f"p{i}" for i in range(333)]},
        geometry=[box(x, y, x + 50, y + 50) for x, y in zip(xs, ys)],
        crs=CRS,
    )
    groups = detail_groups(gdf, 60)
    assert all(len(g) <= 60 for g in groups)
    assert sorted(np.concatenate(groups).tolist()) == list(range(333))
    assert [g.tolist() for g in detail_groups(gdf, 60)] == [g.tolist() for g in groups]


def test_dense_county_gets_detail_sheets(tmp_path, monkeypatch):
    from nxgeo.maps import maps_year, style

    monkeypatch.setattr(style, "LABEL_MAX_PARCELS", 5)
    monkeypatch.setattr(style, "DETAIL_MAX_PARCELS", 4)
    monkeypatch.setattr(style, "DETAIL_MAX_SHEETS", 1)
    monkeypatch.setattr(style, "DETAIL_MIN_PARCELS", 2)
    root = build_results(tmp_path / "results", suitability=False)
    out = tmp_path / "maps"
    maps_year(YEAR, root, CLASSES, CONFIG, out, made_on=MADE_ON)
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    names = {m["name"] for m in index["maps"]}
    assert {"detail_640105_homestead_greening_1", "detail_640105_mine_remediation_1"} <= names
    assert (out / "detail_640105_homestead_greening_1.pdf").exists()
    # 6 parcels per pathway -> 2 groups of 3; one sheet drawn, the other listed as skipped
    assert any(s["map"].startswith("detail_640105_homestead_greening_2") for s in index["skipped"])
    title = next(m for m in index["maps"] if m["name"] == "detail_640105_homestead_greening_1")
    assert "（1/2）" in title["title_zh"] and "sheet 1 of 2" in title["title_en"]


def test_pdf_images_are_at_full_dpi_unless_the_only_raster_is_the_hillshade():
    """Class rasters keep 300 dpi in the PDF; a sheet whose only image is the hillshade embeds
    it at style.SHADE_PDF_DPI (its text and lines are vectors at any dpi)."""
    from matplotlib.figure import Figure

    from nxgeo.maps import sheets, style

    fig = Figure(figsize=(4, 3), dpi=300)
    ax = fig.add_axes((0, 0, 1, 1))
    assert sheets.pdf_image_dpi(fig) == 300  # no image at all
    ax.imshow(np.zeros((4, 4)), label=sheets.HILLSHADE_LABEL)
    assert sheets.pdf_image_dpi(fig) == style.SHADE_PDF_DPI == 150
    ax.imshow(np.zeros((4, 4, 4)))  # a class raster beside it
    assert sheets.pdf_image_dpi(fig) == 300
