"""The yearly HTML report: tables match their CSVs, self-contained, escaped, opens in Chromium."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_maps import CONFIG, YEAR, build_results

from nxgeo.atomic import write_csv
from nxgeo.provenance import write_provenance
from nxgeo.report import numbers_of, parse_tables, report_year

CLASSES = [(1, "cropland_irrigated", "水浇耕地", "Irrigated cropland"),
           (4, "forest", "林地", "Forest"), (8, "water", "水域", "Water")]
ZONES = [("county", "640105", "西夏区"), ("county", "640122", "贺兰县"), ("reach", "r1", "测试段")]
MADE_ON = "2025-01-02"


def write_tables(year_dir: Path, water_balance: bool = True, summary: bool = True) -> dict:
    rng = np.random.default_rng(7)
    rows = []
    for kind, zid, zname in ZONES:
        for cid, cls, zh, en in CLASSES:
            ha = float(rng.uniform(10, 50_000))
            rows.append({"zone_kind": kind, "zone_id": zid, "zone_name": zname, "class_id": cid,
                         "class": cls, "class_zh": zh, "class_en": en, "area_ha": ha,
                         "area_mu": ha * 15, "share": 0.0})
    inv = pd.DataFrame(rows)
    write_csv(inv, year_dir / "tables" / "inventory_by_class.csv")
    names = [c[1] for c in CLASSES]
    tm = pd.DataFrame(rng.uniform(0, 1000, (3, 3)), columns=names)
    tm.insert(0, "from_2023 \\ to_2024 (ha)", names)
    write_csv(tm, year_dir / "compare" / "2023_2024" / "transition_matrix.csv")
    wb = pd.DataFrame({"adcode": ["640105", "640122"], "county_name": ["西夏区", "贺兰县"],
                       "headroom_m3": [2.5e6, -1.0e5], "demand_m3": [3.0e6, 1.0e5],
                       "allocated_m3": [2.4e6, 0.0], "left_m3": [1.0e5, -1.0e5]})
    if water_balance:
        write_csv(wb, year_dir / "tables" / "water_balance.csv")
    cs = pd.DataFrame({"adcode": ["640105", "640105"], "county_name": ["西夏区", "西夏区"],
                       "pathway": ["homestead_greening", "mine_remediation"],
                       "n_parcels": [6, 6], "n_eligible": [6, 6], "n_allocated": [5, 5],
                       "area_ha": [39.0, 39.0], "area_mu": [585.0, 585.0],
                       "allocated_area_ha": [30.0, 30.0], "new_cultivated_ha": [8.0, 0.0],
                       "freed_quota_ha": [6.0, 0.0], "greening_increment_ha": [10.0, 10.0],
                       "pv_mw": [0.0, 1.5], "water_allocated_m3": [1000.0, 2000.0],
                       "n_hazard": [0, 1]})
    if summary:
        write_csv(cs, year_dir / "tables" / "candidates_summary.csv")
    (year_dir / "validation").mkdir(parents=True, exist_ok=True)
    (year_dir / "validation" / "report.json").write_text(json.dumps({
        "ok": True, "summary": "PASSED / 通过: 0 error(s)", "n_errors": 0, "n_warnings": 0,
        "problems": [], "checked": [{"item": "inputs.rasters.dem", "kind": "raster",
                                     "path": "data/dem.tif", "crs": "EPSG:4507",
                                     "shape": [80, 60]}]}, ensure_ascii=False))
    return {"inventory": inv, "transition": tm, "water": wb, "summary": cs}


def write_fake_maps(year_dir: Path) -> None:
    from PIL import Image

    maps = year_dir / "maps"
    maps.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, name in enumerate(("landuse", "best_use")):
        Image.new("RGB", (240, 340), (60 * i, 150, 90)).save(maps / f"{name}.png")
        (maps / f"{name}.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        entries.append({"name": name, "title_zh": f"图{i}", "title_en": f"Map {i}",
                        "png": f"{name}.png", "pdf": f"{name}.pdf"})
    (maps / "index.json").write_text(json.dumps({"maps": entries, "skipped": [
        {"map": "overview_sand_control", "reason": "layer sand_control not in candidates.gpkg"}]},
        ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = build_results(tmp_path_factory.mktemp("report") / "results", suitability=False)
    year_dir = root / str(YEAR)
    frames = write_tables(year_dir)
    write_fake_maps(year_dir)
    write_provenance(year_dir / "provenance.json", CONFIG,
                     {"landuse": year_dir / "grid" / "landuse.tif"},
                     dt.datetime(2025, 1, 2, 8, tzinfo=dt.UTC),
                     dt.datetime(2025, 1, 2, 9, tzinfo=dt.UTC), year=YEAR)
    cfg = dict(CONFIG, region_name="测试区 <b>&amp</b> / Test <region>",
               note="<script>alert('x')</script>")
    out = report_year(YEAR, root, cfg, year_dir / "report" / "index.html", made_on=MADE_ON)
    return out, out.read_text(encoding="utf-8"), frames


def _rows(table):
    return table[1:]


def test_inventory_table_matches_the_csv(report):
    _, text, frames = report
    tables = parse_tables(text)
    inv = frames["inventory"]
    t = tables["tbl-inventory-county"]
    header = t[0]
    assert header[:2] == ["代码 Code", "名称 Name"]
    assert header[2:5] == [f"{zh} {en}" for _, _, zh, en in CLASSES]
    county = inv[inv["zone_kind"] == "county"]
    for row in _rows(t)[:-1]:
        zid = row[0]
        want = county[county["zone_id"] == zid].set_index("class")["area_ha"]
        got = numbers_of(row[2:])
        for (cid, cls, _, _), value in zip(CLASSES, got):
            assert value == pytest.approx(want[cls], abs=0.05), (zid, cls)
        assert got[-1] == pytest.approx(want.sum(), abs=0.05)
    total = _rows(t)[-1]
    assert total[0] == "合计"
    assert numbers_of(total[2:])[-1] == pytest.approx(county["area_ha"].sum(), abs=0.05)
    assert len(_rows(tables["tbl-inventory-reach"])) == 2  # one reach + total


def test_transition_and_water_tables_match_the_csvs(report):
    _, text, frames = report
    tables = parse_tables(text)
    tm = frames["transition"]
    t = tables["tbl-transition-matrix"]
    assert t[0] == list(tm.columns)
    for row, (_, want) in zip(_rows(t), tm.iterrows()):
        assert row[0] == want.iloc[0]
        assert numbers_of(row[1:]) == pytest.approx(list(want.iloc[1:]), abs=0.05)
    wb = frames["water"]
    w = tables["tbl-water"]
    assert [r[0] for r in _rows(w)] == list(wb["adcode"])
    col = w[0].index("allocated_m3")
    assert [numbers_of([r[col]])[0] for r in _rows(w)] == pytest.approx(list(wb["allocated_m3"]))
    cs = tables["tbl-candidates-summary"]
    assert len(_rows(cs)) == len(frames["summary"])
    ind = tables["tbl-indicators"]
    pv_col = ind[0].index("pv_mw")
    assert sum(numbers_of([r[pv_col]])[0] for r in _rows(ind)) == pytest.approx(1.5)


def test_report_is_self_contained_and_escaped(report):
    _, text, _ = report
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert "<region>" not in text and "Test &lt;region&gt;" in text
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "@import" not in text and "url(http" not in text and "@font-face" not in text
    srcs = re.findall(r'<img [^>]*src="([^"]+)"', text)
    assert len(srcs) >= 4  # 2 maps + charts
    from PIL import Image

    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            assert im.size[0] > 0
    # maps link to their PDFs beside the report; sections that have data have no skip note
    assert 'href="../maps/landuse.pdf"' in text
    assert "overview_sand_control" in text
    assert "PASSED / 通过" in text and "config SHA-256" in text
    # config as YAML in a <pre>
    assert "<pre>" in text and "best_use_order" in text


def test_report_rerun_is_identical(report, tmp_path):
    out, text, _ = report
    root = out.parents[2]
    cfg = dict(CONFIG, region_name="测试区 <b>&amp</b> / Test <region>",
               note="<script>alert('x')</script>")
    again = report_year(YEAR, root, cfg, tmp_path / "index.html", made_on=MADE_ON)
    assert again.read_text(encoding="utf-8") == text


def test_report_without_optional_inputs_notes_what_is_missing(tmp_path):
    root = build_results(tmp_path / "results", candidates=(), suitability=False)
    out = report_year(YEAR, root, CONFIG, tmp_path / "index.html", made_on=MADE_ON)
    text = out.read_text(encoding="utf-8")
    for missing in ("candidates not made yet", "inventory_by_class.csv", "no transition matrix",
                    "services_by_county.csv", "greening_ledger.csv", "carbon_balance.csv",
                    "maps not made yet", "validation/report.json", "provenance.json",
                    "no water table"):
        assert missing in text, missing


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_opens_in_headless_chromium(report, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium/chromium-driver not installed (Debian packages); .ci/run installs "
                    "them")
    out, _, _ = report
    url = out.resolve().as_uri()
    common = [exe, "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'ud'}",
              "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]
    shot = tmp_path / "shot.png"
    p1 = subprocess.run(common + [f"--screenshot={shot}", "--window-size=1280,4000", url],
                        check=False, capture_output=True, text=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000, p1.stderr[-2000:]
    p2 = subprocess.run(common + ["--virtual-time-budget=5000", "--dump-dom", url],
                        check=False, capture_output=True, text=True, timeout=120)
    dom = p2.stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body, p2.stderr[-2000:]
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', body.group(0)))
    assert attrs.get("data-images-ok") == "true", attrs
    assert int(attrs.get("data-images-count", "0")) >= 4
    assert attrs.get("data-js-errors", "") == ""
    for log in (p1.stderr, p2.stderr):
        assert "Uncaught" not in log and "ERROR:CONSOLE" not in log
