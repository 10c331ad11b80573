"""The config model (issue #18): the schema is the one place of the defaults.

`check_config` returns the complete config: every optional key the user left out takes the
schema's `default:`, and each default equals the shipped config/config.yaml's value, so a config
of the required keys only and the shipped config run the same. A wrong value in a defaulted key
is still refused, naming the key.
"""

from __future__ import annotations

import copy
import json

import pytest

from nxgeo.config import check_config, fill_section, load_schema, load_yaml
from nxgeo.errors import ConfigError

SHIPPED = "config/config.yaml"


@pytest.fixture(scope="module")
def schema():
    return load_schema("config")


@pytest.fixture(scope="module")
def shipped():
    return load_yaml(SHIPPED)


def _resolve(sub: dict, schema: dict) -> dict:
    """A property's schema with its `$ref` (to `$defs`) merged in."""
    while "$ref" in sub:
        ref = schema["$defs"][sub["$ref"].split("/")[-1]]
        sub = {**ref, **{k: v for k, v in sub.items() if k != "$ref"}}
    return sub


def required_only(value, sub: dict, schema: dict):
    """`value` with every key its schema does not require removed, at every depth. A mapping
    whose schema names no `properties` (user-named entries: targets, tables, vectors) is data
    and kept whole."""
    sub = _resolve(sub, schema)
    props = sub.get("properties")
    if not isinstance(value, dict) or props is None:
        return copy.deepcopy(value)
    required = set(sub.get("required", []))
    out = {}
    for k, v in value.items():
        if k in props and k not in required:
            continue
        out[k] = required_only(v, props[k], schema) if k in props else copy.deepcopy(v)
    return out


def defaults(sub: dict, schema: dict, path: str = ""):
    """(key path, default) of every `default:` under `sub`, following properties."""
    sub = _resolve(sub, schema)
    for k, p in (sub.get("properties") or {}).items():
        key = f"{path}.{k}" if path else k
        if isinstance(p, dict) and "default" in p:
            yield key, p["default"]
        yield from defaults(p, schema, key)


def _get(cfg, path: str):
    for k in path.split("."):
        if not isinstance(cfg, dict) or k not in cfg:
            raise KeyError(path)
        cfg = cfg[k]
    return cfg


def _json(x) -> str:
    return json.dumps(x, sort_keys=True, default=str)


def test_required_only_config_fills_to_the_shipped_config(schema, shipped):
    minimal = required_only(shipped, schema, schema)
    # the reduction is real: sections and keys are gone before filling
    assert "terrain" not in minimal and "sample" not in minimal and "region_name" not in minimal
    assert "mu_per_ha" not in minimal["landuse"] and "block_size" not in minimal["grid"]
    assert "r_a" not in minimal["services"]["rusle"]
    assert _json(check_config(minimal)) == _json(check_config(shipped))


def test_every_schema_default_equals_the_shipped_value(schema, shipped):
    found = list(defaults(schema, schema))
    assert len(found) > 50
    drift = []
    for path, default in found:
        try:
            value = _get(shipped, path)
        except KeyError:
            continue  # not written in the shipped config (e.g. dask.address): the default runs
        if isinstance(default, dict) and default == {} and isinstance(value, dict):
            continue  # a section whose keys have their own defaults
        if _json(value) != _json(default):
            drift.append(f"{path}: schema default {default!r}, config/config.yaml {value!r}")
    assert drift == []


def test_shipped_keys_absent_from_the_schema_are_none(schema, shipped):
    """Every key of the shipped config is declared (and so checked) by the schema."""
    undeclared = []

    def walk(value, sub, path):
        sub = _resolve(sub, schema)
        if not isinstance(value, dict):
            return
        props = sub.get("properties") or {}
        extra = sub.get("additionalProperties", True)
        for k, v in value.items():
            key = f"{path}.{k}" if path else str(k)
            if k in props:
                walk(v, props[k], key)
            elif isinstance(extra, dict):
                walk(v, extra, key)
            elif extra is not False:
                undeclared.append(key)

    walk(shipped, schema, "")
    assert undeclared == []


def test_check_config_returns_the_filled_config_and_leaves_the_input(shipped):
    cfg = copy.deepcopy(shipped)
    del cfg["terrain"]
    del cfg["landuse"]["mu_per_ha"]
    before = _json(cfg)
    full = check_config(cfg)
    assert full["terrain"]["distance_max_m"] == shipped["terrain"]["distance_max_m"]
    assert full["landuse"]["mu_per_ha"] == 15
    assert _json(cfg) == before  # the caller's dict is not changed


def test_a_given_value_is_kept_not_overwritten(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["terrain"] = {"distance_max_m": 5000}
    full = check_config(cfg)
    assert full["terrain"]["distance_max_m"] == 5000
    assert full["terrain"]["s_method"] == "invest"


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        (
            "terrain",
            "distance_max_m",
            "far",
            "terrain.distance_max_m: 'far' is not of type 'number'",
        ),
        ("landuse", "mu_per_ha", -15, "landuse.mu_per_ha: -15 is less than or equal to"),
        ("grid", "block_size", 512.5, "grid.block_size: 512.5 is not of type 'integer'"),
        ("dask", "scheduler", "cluster", "dask.scheduler: 'cluster' is not allowed"),
    ],
)
def test_wrong_type_in_a_defaulted_key_is_refused_naming_it(shipped, section, key, value, message):
    cfg = copy.deepcopy(shipped)
    cfg[section][key] = value
    with pytest.raises(ConfigError) as e:
        check_config(cfg)
    assert any(message in p for p in e.value.problems), e.value.problems


def test_services_are_checked_at_start_up(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["services"]["rusle"]["r_a"] = "0.05"
    cfg["services"]["rweq"]["z_mm"] = 50
    with pytest.raises(ConfigError) as e:
        check_config(cfg)
    text = "\n".join(e.value.problems)
    assert "services.rusle.r_a: '0.05' is not of type 'number'" in text
    assert "'z_mm' (did you mean 'z_m'?)" in text


def test_obsolete_services_key_says_why(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["services"]["rweq"]["ef_by_class"] = {"default": 0.3}
    with pytest.raises(ConfigError, match="ef_by_class: no longer used"):
        check_config(cfg)


def test_fill_section_completes_a_partial_section(shipped):
    t = fill_section("terrain", {"s_method": "domain"})
    assert t["s_method"] == "domain"
    assert t["distance_max_m"] == shipped["terrain"]["distance_max_m"]
    assert fill_section("landuse", {})["mu_per_ha"] == shipped["landuse"]["mu_per_ha"]


def test_services_class_tables_are_checked_at_start_up(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["services"]["rusle"]["k_by_class"]["forst"] = 0.03
    cfg["services"]["rweq"]["exclude_classes"] = ["watr"]
    cfg["services"]["rweq"]["c_coeff"]["forest"] = 0.1
    with pytest.raises(ConfigError) as e:
        check_config(cfg)
    text = "\n".join(e.value.problems)
    assert "services.rusle.k_by_class: unknown class(es) ['forst']" in text
    assert "services.rweq.exclude_classes: unknown class(es) ['watr']" in text
    assert "services.rweq.c_coeff: forest: every coefficient must be <= 0" in text
