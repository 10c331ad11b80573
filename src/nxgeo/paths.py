"""Where things are: input paths from config, result paths per year (one folder a year)."""

from __future__ import annotations

from pathlib import Path


def resolve(path: str | Path | None, base_dir: str | Path = ".") -> Path | None:
    if path is None:
        return None
    p = Path(path)
    return p if p.is_absolute() else Path(base_dir) / p


def results_dir(cfg: dict, year: int | str | None = None) -> Path:
    root = Path(cfg.get("results_dir", "results"))
    return root if year is None else root / str(year)


def contract_files(cfg: dict, year: int | str | None = None) -> dict[str, str]:
    """Every input file of the data contract (optionally only one year's land use), by item."""
    inputs = cfg["inputs"]
    out: dict[str, str] = {}
    for y, p in inputs["landuse"]["files"].items():
        if year is None or str(y) == str(year):
            out[f"landuse_{y}"] = str(p)
    for k, p in inputs["rasters"].items():
        if p:
            out[k] = str(p)
    for k, v in inputs["vectors"].items():
        if v:
            out[f"vector_{k}"] = str(v["path"])
    for k, p in inputs["tables"].items():
        out[f"table_{k}"] = str(p)
    return out


def sample_outputs(cfg: dict) -> list[str]:
    """Contract files that live under the sample folder (so the sample rule can make them)."""
    out_dir = Path(cfg.get("sample", {}).get("out_dir", "data/sample"))
    files = set(contract_files(cfg).values())
    return sorted(f for f in files if Path(f).is_relative_to(out_dir))
