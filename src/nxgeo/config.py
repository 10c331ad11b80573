"""Load the YAML configuration and check it against the JSON Schema plus a few semantic rules.

Every problem is collected (not just the first) and named by its key path, e.g.
``grid.resolution: -5 is less than the minimum of 0``.

The schema (``workflow/schemas/config.schema.yaml``) is the one place of the defaults: every
optional key has a ``default:`` (equal to the shipped config/config.yaml, which
tests/test_config_model.py checks), and `check_config` returns the config with the absent keys
filled in (the jsonschema "extend with default-setting" pattern). Code reads ``cfg["key"]``,
never ``cfg.get("key", <default>)``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators

from .errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def load_yaml(path: str | Path) -> Any:
    """A YAML file as plain data (nxgeo.yamlsafe: no templating, no tags, no duplicate keys;
    syntax errors with line and column)."""
    from .yamlsafe import ConfigSyntaxError, load_strict

    path = Path(path)
    if not path.exists():
        raise ConfigError([f"file not found: {path}"], source=str(path))
    try:
        return load_strict(path)
    except ConfigSyntaxError as exc:
        raise ConfigError([str(exc)], source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")],
            source=str(path),
        ) from None


def check_config_files(paths) -> None:
    """Read every config file again as plain data (refusing templating, tags and duplicate
    keys): the Snakefile's second line of defence when the start-up hook (nxgeo.yamlguard)
    was not installed."""
    problems = []
    for p in paths:
        try:
            load_yaml(p)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems, source="the workflow configuration")


def load_schema(name: str = "config") -> dict:
    return load_yaml(SCHEMA_DIR / f"{name}.schema.yaml")


def _key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _describe(err) -> str:
    key = _key_path(err.absolute_path)
    if err.validator == "enum":
        allowed = ", ".join(repr(v) for v in err.validator_value)
        return f"{key}: {err.instance!r} is not allowed; use one of {allowed}"
    if err.validator == "required":
        return f"{key}: {err.message} (add this key; see config/config.yaml for an example)"
    if err.validator == "additionalProperties" and err.validator_value is False:
        return _unknown_keys(key, err)
    return f"{key}: {err.message}"


# keys of earlier versions: an unknown key that is one of these says why it went
_RWEQ_POTENTIAL = (
    "no longer used — the RWEQ potential is the soil's and the terrain's, not the land-cover "
    "class's (EF/SCF from rweq.texture or the sand_fraction raster, K′ from the slope); "
    "remove the key (docs/gep.md)"
)
OBSOLETE_KEYS = {
    "services.rweq.ef_by_class": _RWEQ_POTENTIAL,
    "services.rweq.scf_by_class": _RWEQ_POTENTIAL,
    "services.rweq.k_prime_by_class": _RWEQ_POTENTIAL,
}


def _unknown_keys(key: str, err) -> str:
    """Name each unknown key with the nearest valid one."""
    import difflib

    known = sorted(err.schema.get("properties") or {})
    extra = [k for k in (err.instance or {}) if k not in known]
    obsolete = [
        f"{key}.{k}: {OBSOLETE_KEYS[f'{key}.{k}']}" for k in extra if f"{key}.{k}" in OBSOLETE_KEYS
    ]
    if obsolete and len(obsolete) == len(extra):
        return "; ".join(obsolete)
    parts = []
    for k in extra:
        near = difflib.get_close_matches(str(k), known, n=1, cutoff=0.6)
        parts.append(f"{k!r} (did you mean {near[0]!r}?)" if near else repr(k))
    where = "at the top level" if key == "(top level)" else f"in {key}"
    return (
        f"{key}: unknown key(s) {', '.join(parts)} {where}; valid keys: {', '.join(known)}. "
        "Check the spelling, or remove the key"
    )


def _non_finite(obj, path: str = "") -> list[str]:
    """Keys whose value is a number that is not finite (inf, -inf, nan, 1e400)."""
    import math

    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _non_finite(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _non_finite(v, f"{path}[{i}]")
    elif isinstance(obj, float) and not math.isfinite(obj):
        out.append(
            f"{path}: {obj!r} is not a finite number (YAML reads .inf, .nan and numbers "
            "beyond 1.8e308 that way); write the real value"
        )
    return out


def _extend_with_default(validator_class):
    """A validator class that also sets each absent property to its schema ``default`` (a
    copy), before validating it, so nested sections are filled too."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for key, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _extend_with_default(Draft202012Validator)


def fill_defaults(cfg: Any, schema: dict | None = None) -> Any:
    """A deep copy of `cfg` with every absent key that has a schema ``default`` set to it
    (nested sections included; keys the user gave are kept as they are, wrong or not)."""
    schema = schema or load_schema("config")
    out = copy.deepcopy(cfg)
    for _ in DefaultFillingValidator(schema).iter_errors(out):
        pass
    return out


def section_schema(name: str) -> dict:
    """The schema of one top-level section (with the shared ``$defs``), e.g. "terrain"."""
    schema = load_schema("config")
    return {"$defs": schema.get("$defs", {}), **schema["properties"][name]}


def fill_section(name: str, partial: Any = None) -> dict:
    """One config section with its absent keys set to the schema defaults, e.g.
    ``fill_section("terrain", {"s_method": "domain"})`` (for library calls with a partial
    section, e.g. in tests)."""
    return fill_defaults({} if partial is None else partial, section_schema(name))


def schema_problems(cfg: Any, schema: dict | None = None) -> list[str]:
    schema = schema or load_schema("config")
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    return [_describe(e) for e in errors]


def semantic_problems(cfg: dict) -> list[str]:
    """Rules JSON Schema cannot express: projected grid CRS, years with land-use files, ..."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    problems: list[str] = []
    crs_text = (cfg.get("grid") or {}).get("crs")
    if isinstance(crs_text, str):
        try:
            crs = CRS.from_user_input(crs_text)
        except CRSError:
            problems.append(
                f"grid.crs: {crs_text!r} is not a CRS that PROJ knows; use e.g. 'EPSG:4507'"
            )
        else:
            if not crs.is_projected:
                problems.append(
                    f"grid.crs: {crs_text!r} ({crs.name}) is geographic (degrees); the analysis grid "
                    "must be a projected metric CRS such as 'EPSG:4507' (CGCS2000 / Gauss-Kruger CM 105E)"
                )
            else:
                unit = crs.axis_info[0].unit_name if crs.axis_info else ""
                if unit not in ("metre", "meter"):
                    problems.append(
                        f"grid.crs: {crs_text!r} has units of {unit!r}; use a metric CRS"
                    )
    problems += path_problems(cfg)
    years = cfg.get("years") or []
    files = ((cfg.get("inputs") or {}).get("landuse") or {}).get("files") or {}
    file_years = {str(y) for y in files}
    for y in years:
        if str(y) not in file_years:
            problems.append(
                f"inputs.landuse.files: year {y} is listed in `years` but has no land-use file; "
                f"add `{y}: path/to/landuse_{y}.tif` or remove {y} from `years`"
            )
    budgets = {str(y) for y in ((cfg.get("programme") or {}).get("budget_yi_cny") or {})}
    for y in years:
        if str(y) not in budgets:
            problems.append(
                f"programme.budget_yi_cny: year {y} is listed in `years` but has no budget; "
                f"add `{y}: <亿元>` (docs/programme.md)"
            )
    for pair in cfg.get("compare") or []:
        for y in pair:
            if y not in years:
                problems.append(f"compare: year {y} in {pair} is not one of years {years}")
        if isinstance(pair, list) and len(pair) == 2 and pair[0] == pair[1]:
            problems.append(
                f"compare: {pair} compares {pair[0]} with itself; give an earlier "
                f"and a later survey year, e.g. [{pair[0] - 1}, {pair[0]}]"
            )
        elif isinstance(pair, list) and len(pair) == 2 and pair[0] > pair[1]:
            problems.append(
                f"compare: {pair} lists the later year first; write "
                f"[{pair[1]}, {pair[0]}] (results go under the later year)"
            )
    if isinstance(cfg.get("suitability"), dict):
        from .suitability import spec_problems

        problems += spec_problems(cfg)
        problems += pathway_problems(cfg)
        problems += official_problems(cfg)
    if isinstance(cfg.get("services"), dict) and isinstance(cfg.get("landuse"), dict):
        import contextlib

        # a section the schema refuses is reported there
        with contextlib.suppress(KeyError, TypeError, AttributeError, ValueError):
            problems += services_problems(cfg)
    if isinstance(cfg.get("stability"), dict):
        from .stability import check_uncertain

        try:
            check_uncertain(
                cfg["stability"].get("uncertain") or {},
                cfg.get("water") or {},
                cfg.get("pathways") or {},
            )
        except ConfigError as e:
            problems += list(e.problems)
    return problems


#: the per-class tables and class lists of ``services`` (keys: canonical classes or `default`)
SERVICE_CLASS_TABLES = (
    "rusle.k_by_class",
    "rusle.c_by_class",
    "rusle.p_by_class",
    "rweq.c_coeff",
    "fvc_by_class",
    "water_conservation.runoff_coeff",
    "water_conservation.et_ratio_by_class",
    "water_conservation.et_mm_by_class",
)
SERVICE_CLASS_LISTS = ("rusle.exclude_classes", "rweq.exclude_classes")


def services_problems(cfg: dict) -> list[str]:
    """The ``services`` section at start-up, as the services step reads it: every class a
    per-class table or class list names is a canonical class of ``landuse.classes_table``
    (the table itself is checked by the input validation), every RWEQ C coefficient <= 0."""
    import pandas as pd

    from .services.params import class_lut, class_mask

    path = Path(cfg["landuse"]["classes_table"])
    try:
        classes = pd.read_csv(path)
        classes[["canonical", "class_id"]]
    except (OSError, ValueError, KeyError):
        return []  # reported by the validation of landuse.classes_table
    svc = cfg["services"]
    problems: list[str] = []
    for key in SERVICE_CLASS_TABLES + SERVICE_CLASS_LISTS:
        section, _, name = key.rpartition(".")
        value = (svc[section] if section else svc).get(name)  # optional tables may be absent
        check = class_lut if key in SERVICE_CLASS_TABLES else class_mask
        try:
            check(value, classes, f"services.{key}")
        except ConfigError as e:
            problems += list(e.problems)
    positive = sorted(k for k, v in svc["rweq"]["c_coeff"].items() if float(v) > 0)
    if positive:
        problems.append(
            f"services.rweq.c_coeff: {', '.join(positive)}: every coefficient must be <= 0 "
            "(C = exp(a·FVC%) must not grow with vegetation cover)"
        )
    return problems


def official_problems(cfg: dict) -> list[str]:
    """The department's own 双评价 layers (suitability.official): known classes and targets; a
    layer given both as raster and as polygons; a layer's class map fitting its kind."""
    from .suitability.official import CLASS_CODES, KINDS, check_config

    suit = cfg.get("suitability") or {}
    off = suit.get("official") or {}
    problems = check_config(off, (suit.get("targets") or {}).keys())
    inputs = cfg.get("inputs") or {}
    for kind in KINDS:
        for raw, cls in (((off.get(kind) or {}).get("values")) or {}).items():
            if cls not in CLASS_CODES[kind]:
                problems.append(
                    f"suitability.official.{kind}.values: {raw!r} -> {cls!r} is not "
                    f"a class of this layer; use one of {', '.join(CLASS_CODES[kind])}"
                )
        key = f"official_{kind}"
        if (inputs.get("rasters") or {}).get(key) and (inputs.get("vectors") or {}).get(key):
            problems.append(
                f"inputs: official layer {key} is given both as inputs.rasters.{key} "
                f"and inputs.vectors.{key}; keep one"
            )
    return problems


def _config_paths(cfg: dict):
    """(key, path) of every file or folder the config names."""
    inputs = cfg.get("inputs") or {}
    for y, p in ((inputs.get("landuse") or {}).get("files") or {}).items():
        yield f"inputs.landuse.files.{y}", p
    for k, p in (inputs.get("rasters") or {}).items():
        yield f"inputs.rasters.{k}", p
    for k, v in (inputs.get("vectors") or {}).items():
        if isinstance(v, dict):
            yield f"inputs.vectors.{k}.path", v.get("path")
    for k, p in (inputs.get("tables") or {}).items():
        yield f"inputs.tables.{k}", p
    yield "results_dir", cfg.get("results_dir")
    yield "landuse.classes_table", (cfg.get("landuse") or {}).get("classes_table")
    for k in ("reference_dir", "out_dir"):
        yield f"sample.{k}", (cfg.get("sample") or {}).get(k)


def path_problems(cfg: dict) -> list[str]:
    """A relative path may not climb out of the project folder ('../..'): what a run reads and
    writes stays inside it unless the user names an absolute path on purpose."""
    import posixpath

    problems = []
    for key, p in _config_paths(cfg):
        if not isinstance(p, str) or not p or Path(p).is_absolute():
            continue
        norm = posixpath.normpath(p.replace("\\", "/"))
        if norm == ".." or norm.startswith("../"):
            problems.append(
                f"{key}: {p!r} points outside the project folder; keep inputs under "
                "data/ and results under results/, or give an absolute path if you "
                "really mean a folder elsewhere"
            )
    return problems


def pathway_problems(cfg: dict) -> list[str]:
    """Target uses named by the pathways and the water fallback chain must be target uses."""
    targets = set((cfg.get("suitability") or {}).get("targets") or {})
    known = ", ".join(sorted(targets))
    problems = []
    named: list[tuple[str, object]] = []
    hg = (cfg.get("pathways") or {}).get("homestead_greening") or {}
    named.append(("pathways.homestead_greening.reclaim_target", hg.get("reclaim_target")))
    for i, t in enumerate(hg.get("regreen_targets") or []):
        named.append((f"pathways.homestead_greening.regreen_targets[{i}]", t))
    sw = (cfg.get("pathways") or {}).get("state_wasteland") or {}
    for i, t in enumerate(sw.get("targets") or []):
        named.append((f"pathways.state_wasteland.targets[{i}]", t))
    lc = (cfg.get("pathways") or {}).get("land_consolidation") or {}
    named.append(("pathways.land_consolidation.reclaim_target", lc.get("reclaim_target")))
    for i, t in enumerate(lc.get("regreen_targets") or []):
        named.append((f"pathways.land_consolidation.regreen_targets[{i}]", t))
    for i, t in enumerate((cfg.get("water") or {}).get("fallback_chain") or []):
        named.append((f"water.fallback_chain[{i}]", t))
    for key, t in named:
        if t is not None and t not in targets:
            problems.append(
                f"{key}: {t!r} is not a target use of suitability.targets; "
                f"use one of {known} (or add a target for it)"
            )
    return problems


def check_config(cfg: Any, source: str = "config") -> dict:
    """Return the COMPLETE config (a copy, every absent optional key set to its schema default)
    if valid, else raise ConfigError listing every problem."""
    if not isinstance(cfg, dict):
        raise ConfigError(["the configuration must be a mapping of keys to values"], source=source)
    schema = load_schema("config")
    full = fill_defaults(cfg, schema)
    problems = _non_finite(cfg) + schema_problems(full, schema)
    if not problems:
        problems = semantic_problems(full)
    if problems:
        raise ConfigError(problems, source=source)
    return full


def load_config(path: str | Path) -> dict:
    """Load and check a config file; raises ConfigError naming the file."""
    cfg = load_yaml(path)
    return check_config(cfg, source=str(path))
