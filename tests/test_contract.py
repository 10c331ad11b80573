"""nxgeo.validate.contract: one declaration per input, and everything generated from it agrees
with it (README table, config schema, the checks, the contract files of the rules)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nxgeo import keys, paths
from nxgeo.validate import contract as C
from nxgeo.validate import tables as T
from nxgeo.validate import vectors as V

ROOT = Path(__file__).resolve().parents[1]
CFG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
SCHEMA = yaml.safe_load(
    (ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text(encoding="utf-8")
)["properties"]["inputs"]["properties"]


def readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert C.README_BEGIN in text and C.README_END in text, "README lost the contract markers"
    return text.split(C.README_BEGIN, 1)[1].split(C.README_END, 1)[0].strip("\n") + "\n"


def test_readme_table_is_the_generated_one():
    assert readme_table() == C.markdown_table(), (
        "README's data-contract table differs from the declaration: run "
        "`python -m nxgeo.validate.contract --markdown` and paste its output between the markers"
    )


def test_markdown_command_prints_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "nxgeo.validate.contract", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == C.markdown_table()
    assert out.count("\n") == len(C.ITEMS) + 2  # header, rule, one line per item
    bad = subprocess.run(
        [sys.executable, "-m", "nxgeo.validate.contract"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "usage" in bad.stderr


@pytest.mark.parametrize("kind", [C.RASTER, C.VECTOR, C.TABLE])
def test_optional_agrees_with_the_config_schema(kind):
    """The schema's `required` list under inputs.<section> is the contract's required items."""
    section = SCHEMA[{C.RASTER: "rasters", C.VECTOR: "vectors", C.TABLE: "tables"}[kind]]
    required = {i.name for i in C.items(kind) if not i.optional}
    assert set(section["required"]) == required
    if "properties" in section:  # rasters: every key the schema allows is declared
        assert set(section["properties"]) == {i.name for i in C.items(kind)}


def test_every_shipped_input_is_declared_with_its_fields():
    inputs = CFG["inputs"]
    for kind, section in ((C.RASTER, "rasters"), (C.VECTOR, "vectors"), (C.TABLE, "tables")):
        for name in inputs[section]:
            assert C.item(kind, name) is not None, f"inputs.{section}.{name} is not declared"
    for name, spec in inputs["vectors"].items():
        for role, fname in ((spec or {}).get("fields") or {}).items():
            f = {x.role: x for x in C.item(C.VECTOR, name).fields}.get(role)
            assert f is not None, f"inputs.vectors.{name}.fields.{role} is not declared"
            assert f.default == fname, "the hint's field name is the shipped config's"
    poly = {x.role: x for x in C.item(C.LANDUSE, "files").fields}
    for role, fname in inputs["landuse"]["polygons"]["fields"].items():
        if role in poly:
            assert poly[role].default == fname


def test_allowed_values_are_the_shared_vocabulary():
    """Coded fields take their values from nxgeo.keys (validation = processing)."""
    coded = {(i.name, f.role): f.values for i in C.items(C.VECTOR) for f in i.fields if f.values}
    assert coded == keys.VOCABULARY
    flags = {(i.name, f.role) for i in C.items(C.VECTOR) for f in i.fields if f.boolean}
    assert flags == set(keys.BOOLEAN_ROLES)


def test_checks_read_the_declaration():
    assert C.geometry("settlements") == C.POINT and C.geometry("roads") == C.LINE
    assert C.geometry("no_such_layer") is None
    assert tuple(i.name for i in C.items(C.VECTOR) if i.no_overlap) == V.NO_OVERLAP
    assert V.REQUIRED_ROLES["mines"] == {"id": "mine_id", "status": "status"}
    assert T.row_schema("water_budgets")["x-covers"] == ["counties", "years"]
    assert T.row_schema("no_such_table") is None


def test_row_schema_hand_computed():
    s = C.item(C.TABLE, "prices").row_schema()
    assert s["required"] == ["item", "value", "unit"]
    assert s["properties"]["value"] == {"type": "number", "minimum": 0}
    assert s["properties"]["placeholder"] == {"type": ["string", "null"], "pattern": "^(yes|no)$"}
    assert s["x-key"] == ["item"] and "x-covers" not in s


def test_contract_files_follow_the_declaration():
    files = paths.contract_files(CFG)
    rasters = [k for k, v in CFG["inputs"]["rasters"].items() if v]
    vectors = [k for k, v in CFG["inputs"]["vectors"].items() if v]
    expected = (
        [f"landuse_{y}" for y in CFG["inputs"]["landuse"]["files"]]
        + [f"ownership_{y}" for y in CFG["inputs"]["landuse"]["ownership"]]
        + rasters
        + [f"vector_{k}" for k in vectors]
        + [f"table_{k}" for k in CFG["inputs"]["tables"]]
    )
    assert list(files) == expected  # the shipped config lists inputs in the contract's order
    assert files["vector_counties"] == CFG["inputs"]["vectors"]["counties"]["path"]
    one = paths.contract_files(CFG, year=2024)
    assert [k for k in one if k.startswith(("landuse_", "ownership_"))] == [
        "landuse_2024",
        "ownership_2024",
    ]


def test_contract_files_keep_undeclared_and_reordered_keys():
    cfg = copy.deepcopy(CFG)
    v = cfg["inputs"]["vectors"]
    cfg["inputs"]["vectors"] = {"extra_layer": {"path": "x.gpkg"}, **dict(reversed(v.items()))}
    files = paths.contract_files(cfg)
    assert files["vector_extra_layer"] == "x.gpkg"
    vec = [k for k in files if k.startswith("vector_")]
    assert vec[-1] == "vector_extra_layer" and vec[0] == "vector_counties"
    assert set(files) == set(paths.contract_files(CFG)) | {"vector_extra_layer"}
    cfg["inputs"]["landuse"]["format"] = "polygons"
    assert not [k for k in paths.contract_files(cfg) if k.startswith("ownership_")]
