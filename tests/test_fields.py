"""The field registry (nxgeo.fields): every field of every output layer has an entry (#17)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from nxgeo import fields
from nxgeo.candidates.outputs import ATTRIBUTE_FIELDS, CORE_FIELDS, schema
from nxgeo.candidates.parcels import PATHWAYS
from nxgeo.services.parcels import GAIN_COLUMNS
from nxgeo.suitability import best_use_order
from nxgeo.suitability.codes import REASONS

CJK = re.compile(r"[\u4e00-\u9fff]")


def shipped_layer_fields() -> list[str]:
    """Every field the shipped config gives a candidates layer: the fixed ones, the service
    gains, a share per canonical class and a score / grade / reason per suitability target."""
    classes = pd.read_csv(ROOT / "config" / "landuse" / "classes.csv")
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    frame = pd.DataFrame(
        columns=[
            *[c for c in GAIN_COLUMNS if c.startswith("d_")],
            *[f"share_{c}" for c in classes["canonical"]],
            *[
                f"{p}_{t}"
                for p in ("score", "grade", "reason")
                for t in best_use_order(cfg["suitability"])
            ],
        ]
    )
    return schema([frame])


def test_every_field_of_every_layer_has_an_entry():
    names = shipped_layer_fields()
    assert set(CORE_FIELDS + ATTRIBUTE_FIELDS) <= set(names)
    missing = []
    for layer in PATHWAYS:
        for n in names:
            try:
                f = fields.lookup(n, layer)
            except KeyError:
                missing.append(f"{layer}.{n}")
                continue
            assert f.name == n
            assert CJK.search(f.zh), f"{n}: no Chinese alias"
            assert f.en and f.en.isascii() is not None and not CJK.search(f.en), n
            assert f.type in fields.TYPES, n
            assert f.codes in ("one", "list", "bits"), n
            assert all(a in fields.PATHWAY_VALUES for a in f.applies), n
            # the alias QGIS shows: Chinese (with unit) then English
            assert f.alias.startswith(f.zh) and f.alias.endswith(f.en)
    assert not missing, "fields without an entry in nxgeo.fields: " + ", ".join(missing)


def test_written_layer_types_match_the_registry():
    """The types the GeoPackage writer gives (conform) agree with the registry's."""
    from nxgeo.candidates.outputs import BOOL_FIELDS, INT_FIELDS, STR_FIELDS

    for n, f in fields.CANDIDATE_FIELDS.items():
        if f.type == "bool":
            assert n in BOOL_FIELDS
        elif f.type == "text":
            assert n in STR_FIELDS, n
        elif f.type == "int":
            assert n in INT_FIELDS, n
        else:
            assert n not in STR_FIELDS | INT_FIELDS | BOOL_FIELDS, n


def test_unknown_field_names_the_registry():
    with pytest.raises(
        KeyError,
        match=r"field 'subsidy_wan_cny' of layer 'sand_control' has no "
        r"entry in the field registry: add a Field to "
        r"nxgeo.fields.CANDIDATE_FIELDS",
    ):
        fields.lookup("subsidy_wan_cny", "sand_control")
    with pytest.raises(KeyError):
        fields.lookup("share_", "sand_control")  # a prefix alone is no field


def test_class_names_equal_the_classes_table():
    classes = pd.read_csv(ROOT / "config" / "landuse" / "classes.csv")
    assert fields.class_names_from_table(classes) == fields.CLASS_VALUES


def test_labels_hand_checked():
    grade = fields.lookup("grade_forest", "mine_remediation")
    assert grade.label(1) == "适宜 Suitable"
    assert grade.label(255) == "无等级 no grade"
    assert fields.lookup("share_sandy").alias == "沙地占比（0–1） Sandy land share"
    # reason bits: 2 + 16 = protected-area core zone and basic farmland
    reason = fields.lookup("reason_cropland")
    assert reason.label(18) == (
        "自然保护地核心保护区；永久基本农田 | Protected-area core zone; Permanent basic farmland"
    )
    assert reason.label(0) == "无 None"
    # a ';'-list with a fallback code
    d = fields.CANDIDATE_FIELDS["decision"]
    assert d.label("protected_area;water_fallback_from_grass") == (
        "位于保护地/生态红线；水量不足，改自草地 protected area or red line; "
        "water short, fell back from Grassland"
    )
    assert d.label("") == ""
    assert fields.CANDIDATE_FIELDS["reason"].label("operating") == (
        "生产矿山（不符合条件） operating mine (not eligible)"
    )


@given(st.integers(min_value=1, max_value=(1 << len(REASONS)) - 1))
def test_reason_label_lists_every_bit_set(value):
    label = fields.lookup("reason_forest").label(value)
    zh, en = label.split(" | ")
    n = value.bit_count()
    assert len(zh.split("；")) == n and len(en.split("; ")) == n
    for bit, _code, name_zh, name_en, _d in REASONS:
        assert ((name_zh in zh.split("；")) and (name_en in en.split("; "))) == bool(
            value >> bit & 1
        )


def test_not_applicable_fields_are_documented():
    """Fields that apply to some pathways only say so (they are hidden in the other layers)."""
    only = {n: f.applies for n, f in fields.CANDIDATE_FIELDS.items() if f.applies}
    assert only["legacy"] == ("mine_remediation",)
    assert only["threat_kind"] == ("sand_control",)
    assert "sand_control" not in only["source_id"]
    assert fields.applies(fields.CANDIDATE_FIELDS["legacy"], "homestead_greening") is False
    assert fields.applies(fields.CANDIDATE_FIELDS["legacy"], "mine_remediation") is True


@pytest.mark.workflow
def test_written_layers_fields_documented_where_empty_or_hidden(tiny_run):
    """In every candidates layer of the tiny run: a field hidden as not applicable to the layer
    holds no information (empty or one value), and a field that applies is not empty for the
    whole layer unless the registry says when it is (note) or that it may be (constant_ok)."""
    import pyogrio

    path = tiny_run / "results" / "2024" / "candidates.gpkg"
    for layer, _g in pyogrio.list_layers(path):
        if layer == "layer_styles":
            continue
        df = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
        if not len(df):
            continue
        for c in df.columns:
            f = fields.lookup(c, layer)
            n = df[c].replace("", None).dropna().nunique()
            if not fields.applies(f, layer):
                assert n <= 1, f"{layer}.{c} is hidden as not applicable but holds {n} values"
            elif not (f.note or f.constant_ok):
                assert n > 0, f"{layer}.{c} is empty for the whole layer and undocumented"


def test_a_field_without_entry_never_stops_writing_the_style(caplog):
    """A field added without a registry entry: the style uses its name and says so."""
    from nxgeo.candidates.styles import qml

    text = qml("sand_control", ["parcel_id", "brand_new_field"])
    assert 'field="brand_new_field" index="1" name="brand_new_field"' in text
    assert "field 'brand_new_field' of layer 'sand_control' has no entry" in caplog.text
