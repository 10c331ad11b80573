"""Input validation by scope: one check per group of inputs that the steps read together.

Why scopes: in the workflow each step is gated by the check of exactly the inputs it reads
(`validation/items/<scope>.json`), so that a corrected input reruns its own check and the
steps that read it, and nothing else. One check of everything would rerun (and, as a gate,
rerun every step) whenever any input changed; an `ancient()` gate instead lets Snakemake skip
steps whose own input changed (it masks a rerun job's descendants and does not follow ancient
edges), which is how corrected inputs were once silently ignored.

Scopes:
- ``vectors``: every vector layer (read together by `prepare_vectors`);
- ``counties``: the counties layer alone (what `prepare_grid` reads);
- ``raster:<name>``: one continuous raster (``dem``, ``precipitation`` ...);
- ``table:<name>``: one CSV table of ``inputs.tables``;
- ``landuse:<year>``: one survey year's land use (with the scheme and class tables).

A scope's check never fails the job: it writes the problems it found (JSON, the same form as
the full report), and the steps it gates call `require_valid` before they read anything. The
full reports (`validate_common`, `validate_inputs[year]`) gather the scopes and fail, listing
every problem at once. Same checks, same messages as `nxgeo validate`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from ..errors import InputError
from .core import Context
from .report import ERROR, Problem, ValidationReport

KINDS = ("vectors", "counties", "raster", "table", "landuse")
WHOLE = ("vectors", "counties")  # scopes without a name


def scopes(cfg: dict, year: int | str | None = None) -> list[str]:
    """The scopes of the shared inputs (and of one year's land use when `year` is given)."""
    inputs = cfg["inputs"]
    out = ["vectors", "counties"]
    out += [f"raster:{k}" for k, v in inputs["rasters"].items() if v]
    out += [f"table:{k}" for k in inputs["tables"]]
    if year is not None:
        out.append(f"landuse:{year}")
    return out


def scope_file(scope: str) -> str:
    """File name of a scope's result (``raster:dem`` -> ``raster_dem.json``)."""
    return scope.replace(":", "_") + ".json"


def _parse(scope: str) -> tuple[str, str | None]:
    kind, _, name = scope.partition(":")
    if kind not in KINDS or (kind not in WHOLE) != bool(name):
        raise ValueError(f"unknown validation scope {scope!r}")
    return kind, name or None


def _pruned(cfg: dict, kind: str, name: str | None) -> dict:
    """The config with only the scope's inputs left under `inputs` (the rest of the config,
    which some checks consult, unchanged)."""
    one = copy.deepcopy(cfg)
    inputs = one["inputs"]
    files = inputs["landuse"]["files"]
    if kind == "landuse":
        assert name is not None  # _parse: every scope but vectors/counties has a name
        inputs["landuse"]["files"] = {k: v for k, v in files.items() if str(k) == str(name)}
        one["years"] = [int(name)]
    else:
        inputs["landuse"]["files"] = {}
    inputs["rasters"] = {
        k: v for k, v in inputs["rasters"].items() if kind == "raster" and k == name
    }
    inputs["tables"] = {k: v for k, v in inputs["tables"].items() if kind == "table" and k == name}
    one["compare"] = []
    return one


def _load_region(ctx: Context) -> None:
    """Region outline and county codes from the counties layer, for the checks that compare
    against them; its own problems belong to the ``vectors`` scope and are not repeated."""
    from .vectors import check_vector

    spec = (ctx.cfg["inputs"]["vectors"] or {}).get("counties")
    if not isinstance(spec, dict):
        return
    quiet = Context(ctx.cfg, ctx.base_dir, ValidationReport(problems=[], checked=[]))
    try:
        check_vector(quiet, "counties", spec)
    except Exception:
        return
    ctx.region, ctx.counties = quiet.region, quiet.counties


def check_scope(cfg: dict, scope: str, base_dir: str | Path = ".") -> ValidationReport:
    """Run the checks of one scope; every problem collected, none raised."""
    from .rasters import check_rasters
    from .tables import check_table
    from .vectors import check_vectors

    kind, name = _parse(scope)
    report = ValidationReport(problems=[], checked=[])
    ctx = Context(_pruned(cfg, kind, name), base_dir, report)
    if kind == "vectors":
        ctx.guard("inputs.vectors", None, lambda: check_vectors(ctx))
        return report
    if kind == "counties":
        from .vectors import check_vector

        spec = ctx.cfg["inputs"]["vectors"]["counties"]
        ctx.guard(
            "inputs.vectors.counties", spec.get("path"), lambda: check_vector(ctx, "counties", spec)
        )
        # the grid is built from the counties' extent: refuse one over the pixel budget here
        from .runner import check_grid_size

        ctx.guard("grid", None, lambda: check_grid_size(ctx))
        return report
    _load_region(ctx)
    if kind in ("raster", "landuse"):
        ctx.check_landuse = kind == "landuse"
        ctx.guard("inputs.rasters", None, lambda: check_rasters(ctx))
    else:
        assert name is not None  # _parse: a table scope has a name
        rel = ctx.cfg["inputs"]["tables"][name]
        ctx.guard(f"inputs.tables.{name}", rel, lambda: check_table(ctx, name, rel))
    return report


def validate_scope(cfg: dict, scope: str, json_path, base_dir: str | Path = ".") -> bool:
    """Check one scope and write its result (atomically); True when there is no error."""
    from ..atomic import write_json

    report = check_scope(cfg, scope, base_dir)
    data = report.to_dict()
    data["scope"] = scope
    write_json(data, json_path)
    return report.ok


def read_scope(json_path) -> ValidationReport:
    data = json.loads(Path(json_path).read_text(encoding="utf-8"))
    return ValidationReport(
        problems=[Problem(**p) for p in data["problems"]], checked=list(data["checked"])
    )


def merge(json_paths) -> ValidationReport:
    """One report from the results of several scopes (in the order given)."""
    merged = ValidationReport(problems=[], checked=[])
    for p in json_paths:
        one = read_scope(p)
        merged.problems += one.problems
        merged.checked += one.checked
    return merged


def require_valid(*json_paths) -> None:
    """Raise InputError listing the errors of the given scopes (a step calls this before it
    reads its inputs, so nothing is computed from an input that failed its check)."""
    errors = [p for path in json_paths for p in read_scope(path).problems if p.severity == ERROR]
    if errors:
        lines = "\n".join(f"  - [{p.item}] {p.message}" for p in errors)
        raise InputError(
            f"the inputs of this step failed validation ({len(errors)} error(s)); "
            f"fix them and run snakemake again (the full list is in "
            f"results/common/validation/report.md):\n{lines}"
        )


def report_scopes(json_paths, what: str, md_path, json_path, log_path=None) -> bool:
    """The full report (Markdown and JSON) gathered from scope results; every error is also
    printed to stderr so the terminal shows it. Returns True when there is no error."""
    import logging
    import sys

    from .report import write_reports

    report = merge(json_paths)
    write_reports(report, md_path, json_path)
    logging.getLogger("nxgeo.validate").info("\n%s", report.to_markdown())
    if not report.ok:
        print(
            f"\nInput validation for {what} FAILED ({len(report.errors)} error(s)); "
            f"full report in {log_path or md_path}:",
            file=sys.stderr,
        )
        for p in report.errors:
            where = f"{p.path}: " if p.path else ""
            print(f"  - [{p.item}] {where}{p.message}", file=sys.stderr)
    return report.ok
