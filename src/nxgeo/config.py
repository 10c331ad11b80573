"""Load the YAML configuration and check it against the JSON Schema plus a few semantic rules.

Every problem is collected (not just the first) and named by its key path, e.g.
``grid.resolution: -5 is less than the minimum of 0``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from .errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def load_yaml(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise ConfigError([f"file not found: {path}"], source=str(path))
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], source=str(path)) from exc


def load_schema(name: str = "config") -> dict:
    return load_yaml(SCHEMA_DIR / f"{name}.schema.yaml")


def load_table_schema(table: str) -> dict | None:
    path = SCHEMA_DIR / "tables" / f"{table}.schema.yaml"
    return load_yaml(path) if path.exists() else None


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
        return f"{key}: {err.message} (check the spelling of the key)"
    return f"{key}: {err.message}"


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
            problems.append(f"grid.crs: {crs_text!r} is not a CRS that PROJ knows; use e.g. 'EPSG:4507'")
        else:
            if not crs.is_projected:
                problems.append(
                    f"grid.crs: {crs_text!r} ({crs.name}) is geographic (degrees); the analysis grid "
                    "must be a projected metric CRS such as 'EPSG:4507' (CGCS2000 / Gauss-Kruger CM 105E)"
                )
            else:
                unit = crs.axis_info[0].unit_name if crs.axis_info else ""
                if unit not in ("metre", "meter"):
                    problems.append(f"grid.crs: {crs_text!r} has units of {unit!r}; use a metric CRS")
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
    for pair in cfg.get("compare") or []:
        for y in pair:
            if y not in years:
                problems.append(f"compare: year {y} in {pair} is not one of years {years}")
    if isinstance(cfg.get("suitability"), dict):
        from .suitability import spec_problems

        problems += spec_problems(cfg)
        problems += pathway_problems(cfg)
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
            problems.append(f"{key}: {p!r} points outside the project folder; keep inputs under "
                            "data/ and results under results/, or give an absolute path if you "
                            "really mean a folder elsewhere")
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
    for i, t in enumerate((cfg.get("water") or {}).get("fallback_chain") or []):
        named.append((f"water.fallback_chain[{i}]", t))
    for key, t in named:
        if t is not None and t not in targets:
            problems.append(f"{key}: {t!r} is not a target use of suitability.targets; "
                            f"use one of {known} (or add a target for it)")
    return problems


def check_config(cfg: Any, source: str = "config") -> dict:
    """Return the config unchanged if valid, else raise ConfigError listing every problem."""
    if not isinstance(cfg, dict):
        raise ConfigError(["the configuration must be a mapping of keys to values"], source=source)
    problems = schema_problems(cfg)
    if not problems:
        problems = semantic_problems(cfg)
    if problems:
        raise ConfigError(problems, source=source)
    return cfg


def load_config(path: str | Path) -> dict:
    """Load and check a config file; raises ConfigError naming the file."""
    cfg = load_yaml(path)
    return check_config(cfg, source=str(path))
