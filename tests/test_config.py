"""The shipped config validates; bad values get a message naming the key and what is allowed."""

import copy

import pytest

from nxgeo.config import check_config, load_config, load_yaml
from nxgeo.errors import ConfigError

SHIPPED = "config/config.yaml"


@pytest.fixture(scope="module")
def cfg():
    return load_yaml(SHIPPED)


def problems_of(cfg):
    with pytest.raises(ConfigError) as exc:
        check_config(cfg)
    return exc.value.problems, str(exc.value)


def test_shipped_config_validates():
    cfg = load_config(SHIPPED)
    assert cfg["grid"]["crs"] == "EPSG:4507"
    assert set(cfg["suitability"]["targets"]) >= {
        "cropland",
        "forest",
        "shrub",
        "grass",
        "wetland",
        "solar_pv",
        "wine_grape",
        "forage",
    }


def test_unknown_scheme_names_key_and_allowed_values(cfg):
    bad = copy.deepcopy(cfg)
    bad["inputs"]["landuse"]["scheme"] = "corine"
    problems, text = problems_of(bad)
    assert len(problems) == 1
    assert "inputs.landuse.scheme" in text and "'corine'" in text
    assert "'gbt21010'" in text and "'clcd'" in text and "'cnlucc'" in text


def test_geographic_analysis_crs_is_rejected(cfg):
    bad = copy.deepcopy(cfg)
    bad["grid"]["crs"] = "EPSG:4490"
    _, text = problems_of(bad)
    assert "grid.crs" in text and "geographic" in text and "EPSG:4507" in text


def test_unknown_crs_is_rejected(cfg):
    bad = copy.deepcopy(cfg)
    bad["grid"]["crs"] = "EPSG:999999"
    _, text = problems_of(bad)
    assert "grid.crs" in text and "not a CRS" in text


def test_negative_resolution(cfg):
    bad = copy.deepcopy(cfg)
    bad["grid"]["resolution"] = -5
    _, text = problems_of(bad)
    assert "grid.resolution" in text and "-5" in text


def test_misspelt_grid_key(cfg):
    bad = copy.deepcopy(cfg)
    bad["grid"]["resolutoin"] = 30
    _, text = problems_of(bad)
    assert "resolutoin" in text and "spelling" in text


def test_year_without_landuse_file(cfg):
    bad = copy.deepcopy(cfg)
    bad["years"] = [2023, 2024, 2025]
    _, text = problems_of(bad)
    assert "year 2025" in text and "no land-use file" in text


def test_compare_year_not_configured(cfg):
    bad = copy.deepcopy(cfg)
    bad["compare"] = [[2019, 2024]]
    _, text = problems_of(bad)
    assert "compare" in text and "2019" in text


def test_best_use_order_names_unknown_target(cfg):
    bad = copy.deepcopy(cfg)
    bad["suitability"]["best_use_order"] = ["cropland", "rice"]
    _, text = problems_of(bad)
    assert "'rice'" in text and "best_use_order" in text


def test_all_problems_listed_at_once(cfg):
    bad = copy.deepcopy(cfg)
    bad["inputs"]["landuse"]["scheme"] = "corine"
    bad["grid"]["resolution"] = 0
    bad["reaches"] = ["Bad Name"]
    problems, _ = problems_of(bad)
    assert len(problems) == 3


def test_missing_required_section(cfg):
    bad = copy.deepcopy(cfg)
    del bad["inputs"]["tables"]["water_budgets"]
    _, text = problems_of(bad)
    assert "water_budgets" in text and "required" in text


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("grid: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)


def test_not_a_mapping(tmp_path):
    p = tmp_path / "list.yaml"
    p.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(p)


def test_relative_path_escaping_the_project_is_rejected(cfg):
    bad = copy.deepcopy(cfg)
    bad["inputs"]["rasters"]["dem"] = "../../etc/dem.tif"
    bad["results_dir"] = "../elsewhere"
    problems, text = problems_of(bad)
    assert len(problems) == 2
    assert "inputs.rasters.dem" in text and "outside the project folder" in text
    assert "results_dir" in text


def test_absolute_paths_are_allowed_on_purpose(cfg, tmp_path):
    ok = copy.deepcopy(cfg)
    ok["inputs"]["rasters"]["dem"] = str(tmp_path / "dem.tif")
    check_config(ok)


def test_criteria_are_data_never_evaluated():
    """Nothing in the library evaluates or unpickles text that could come from a user."""
    import pathlib
    import re

    src = pathlib.Path(__file__).resolve().parents[1] / "src" / "nxgeo"
    pattern = re.compile(r"\b(eval|exec)\s*\(|\bpickle\b|yaml\.load\(|yaml\.unsafe_load")
    offenders = [
        f"{p}:{i}"
        for p in src.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
