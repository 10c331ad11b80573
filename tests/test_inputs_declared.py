"""A rule is the truth about what its step reads (issue #18): every file a step opens is
declared as an input of its rule, so Snakemake reruns exactly what a change affects.

- The steps that used to get a folder (candidates, services, water capacity, scorecard, maps)
  read only the files they are given: given copies scattered over unrelated folders (nothing at
  the usual places), they run, give the same result as from the reach folder, and every raster
  they open is one of those given (rasterio.open audited).
- Through the real `snakemake` on the tiny run: touching a reach raster that the candidates,
  maps or water-capacity step reads (and that its rule did not declare before) plans that step.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
from test_services import two_reaches  # noqa: F401 (the fixture)

from nxgeo.candidates.parcels import ReachContext
from nxgeo.errors import InputError
from nxgeo.layout import NOT_GIVEN, Layout, files_by_reach, per_reach, reach_file

# --------------------------------------------------------------------------------------------
# The registry's helpers (hand-checked)


def test_layout_patterns_and_files():
    out = Layout("res")
    assert out.reach("slope") == "res/{year}/reaches/{reach}/slope.tif"
    assert out.zone("county", 2024, "yanchi") == "res/2024/reaches/yanchi/zone_county.tif"
    assert out.table("gep_by_county", year=2024) == "res/2024/tables/gep_by_county.csv"
    assert out.compare("change.tif", 2023, 2024) == "res/2024/compare/2023_2024/change.tif"
    assert out.compare("change.tif") == "res/{year_b}/compare/{year_a}_{year_b}/change.tif"
    assert out.common_reach("dem", "weining") == "res/common/reaches/weining/dem.tif"
    assert out.log("inventory") == "res/{year}/logs/inventory.log"
    assert out.qgz(2024) == "res/2024/nxgeo_2024.qgz"
    assert per_reach(out.reach("dem"), ["a", "b"]) == [
        "res/{year}/reaches/a/dem.tif",
        "res/{year}/reaches/b/dem.tif",
    ]


def test_files_by_reach_groups_by_the_reach_folder_and_stem():
    got = files_by_reach(
        [
            "r/2024/reaches/b/landuse.tif",
            "r/2024/reaches/a/suitability/best_use.tif",
            "r/2024/reaches/a/landuse.tif",
            "r/2024/tables/x.csv",  # outside every reach folder: left out
            "r/2024/reaches/zz/landuse.tif",  # not a listed reach: left out
        ],
        ["a", "b"],
    )
    assert got == {
        "a": {
            "best_use": "r/2024/reaches/a/suitability/best_use.tif",
            "landuse": "r/2024/reaches/a/landuse.tif",
        },
        "b": {"landuse": "r/2024/reaches/b/landuse.tif"},
    }
    assert list(got) == ["a", "b"]


def test_reach_file_from_files_or_folder():
    files = {"best_use": "/x/1.tif", "zone_county": "/y/2.tif"}
    assert reach_file(files, "suitability/best_use.tif") == Path("/x/1.tif")
    assert reach_file(files, "zone_county.tif") == Path("/y/2.tif")
    missing = reach_file(files, "fvc.tif")
    assert missing.parts[0] == NOT_GIVEN and not missing.exists()
    assert reach_file("/d", "suitability/best_use.tif") == Path("/d/suitability/best_use.tif")


# --------------------------------------------------------------------------------------------
# The steps open only what they are given


def scatter(folder: Path, dest: Path) -> dict[str, str]:
    """Every file under `folder` copied to a folder of its own under `dest` (renamed, so no
    file is where a folder convention would look), by file stem."""
    out = {}
    for i, p in enumerate(sorted(q for q in folder.rglob("*") if q.is_file())):
        d = dest / f"f{i:03d}"
        d.mkdir(parents=True)
        q = d / f"given_{i}{''.join(p.suffixes)}"
        shutil.copy2(p, q)
        out[p.name.split(".", 1)[0]] = str(q)
    return out


@pytest.fixture
def opened(monkeypatch):
    """The paths rasterio.open is called with while the test runs."""
    seen: list[str] = []
    real = rasterio.open

    def audit(fp, *args, **kwargs):
        seen.append(str(fp))
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(rasterio, "open", audit)
    return seen


def test_candidates_read_only_the_rasters_given(tmp_path, opened):
    from test_candidates import LAYERS, build_reach, run_reach

    d, gpkg = build_reach(tmp_path / "reach")
    files = scatter(d, tmp_path / "scattered")
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    opened.clear()
    out_files, stats_files = run_reach(tmp_path / "a", files, gpkg)
    from_files = set(opened)
    out_dir, stats_dir = run_reach(tmp_path / "b", d, gpkg)
    assert from_files, "the step opened no raster"
    assert from_files <= set(files.values()), sorted(from_files - set(files.values()))

    def counts(stats):  # the timings aside
        return {
            k: {kk: vv for kk, vv in v.items() if kk != "seconds"} if isinstance(v, dict) else v
            for k, v in stats.items()
        }

    assert counts(stats_files) == counts(stats_dir)
    for layer in LAYERS:
        a = gpd.read_file(out_files, layer=layer)
        b = gpd.read_file(out_dir, layer=layer)
        pd.testing.assert_frame_equal(a, b)


def test_candidates_name_a_raster_that_was_not_given(tmp_path):
    from test_candidates import build_reach

    d, gpkg = build_reach(tmp_path / "reach")
    files = scatter(d, tmp_path / "scattered")
    files.pop("slope")
    classes = pd.read_csv(Path(__file__).resolve().parents[1] / "config/landuse/classes.csv")
    ctx = ReachContext.load(files, gpkg, "r1", classes)
    with pytest.raises(InputError, match="raster 'slope' is read by the candidate parcels but"):
        ctx.read("slope")
    assert ctx.read_optional("slope") is None  # an optional read: absent, not an error
    with pytest.raises(InputError, match="no land-use raster given"):
        ReachContext.load({"slope": files["dem"]}, gpkg, "r1", classes)


def test_services_year_reads_only_the_rasters_given(two_reaches, tmp_path, opened):  # noqa: F811
    from test_services import CARBON, CFG, CLASSES, COEF, PRICES

    from nxgeo.services import services_reach, services_year

    given, folders = {}, {}
    for n in ("a", "b"):
        d = two_reaches[n]
        services_reach(d, CFG, CARBON, PRICES, COEF, CLASSES, d / "services")
        given[n] = scatter(d, tmp_path / "scattered" / n)
        folders[n] = d
    outs = {}
    for tag, where in (("files", given), ("dirs", folders)):
        opened.clear()
        o = {k: tmp_path / f"{k}_{tag}.csv" for k in ("c", "r")}
        services_year(
            where,
            2024,
            two_reaches["vec"],
            o["c"],
            o["r"],
            cfg_services=CFG,
            prices_csv=PRICES,
            coefficients_csv=COEF,
            classes_table=CLASSES,
        )
        outs[tag] = (o, set(opened))
    allowed = {p for files in given.values() for p in files.values()}
    assert outs["files"][1] and outs["files"][1] <= allowed, outs["files"][1] - allowed
    for k in ("c", "r"):
        assert outs["files"][0][k].read_bytes() == outs["dirs"][0][k].read_bytes()


# --------------------------------------------------------------------------------------------
# Through Snakemake: changing a file a step reads plans that step


def _touch(path: Path) -> None:
    """A new version of the file: other bytes and a later time. A bare touch is not enough:
    Snakemake 9 reruns on a newer input only when its checksum differs from the recorded one."""
    import rasterio

    with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:  # a test edit
        ds.update_tags(NXGEO_TEST_EDIT="1")
    later = time.time() + 60
    os.utime(path, (later, later))


@pytest.mark.workflow
@pytest.mark.parametrize(
    "rel, rule",
    [
        ("reaches/{reach}/aspect.tif", "candidates"),  # the sand parcels' wind exposure
        ("reaches/{reach}/suitability/suit_forest_score.tif", "candidates"),
        ("reaches/{reach}/zone_protected_core.tif", "candidates"),
        ("reaches/{reach}/suitability/suit_forest_grade.tif", "maps"),
        ("reaches/{reach}/precipitation.tif", "water_capacity"),
        ("reaches/{reach}/landuse.tif", "water_capacity"),
    ],
)
def test_touching_a_file_a_step_reads_plans_that_step(rel, rule, tiny_run, tmp_path):
    from test_trust import _cfg, _copy_run, planned

    work = _copy_run(tiny_run, tmp_path / "run")
    cfg = _cfg(work)
    year, reach = max(cfg["years"]), list(cfg["reaches"])[0]
    path = work / "results" / str(year) / rel.format(reach=reach)
    assert path.is_file(), path
    _touch(path)
    jobs = planned(work)
    assert rule in jobs, f"touching {rel} does not rerun {rule}: {jobs}"
