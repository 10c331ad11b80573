"""Where things are: input paths from config, result paths per year (one folder a year)."""

from __future__ import annotations

from pathlib import Path


def resolve(path: str | Path | None, base_dir: str | Path = ".") -> Path | None:
    if path is None:
        return None
    p = Path(path)
    return p if p.is_absolute() else Path(base_dir) / p


def results_dir(cfg: dict, year: int | str | None = None) -> Path:
    root = Path(cfg["results_dir"])
    return root if year is None else root / str(year)


def contract_files(cfg: dict, year: int | str | None = None) -> dict[str, str]:
    """Every input file of the data contract (optionally only one year's land use), by file
    key (see nxgeo.validate.contract.contract_files)."""
    from .validate.contract import contract_files as files

    return files(cfg, year)


def sample_outputs(cfg: dict) -> list[str]:
    """Contract files that live under the sample folder (so the sample rule can make them)."""
    out_dir = Path(cfg["sample"]["out_dir"])
    files = set(contract_files(cfg).values())
    return sorted(f for f in files if Path(f).is_relative_to(out_dir))


# Files beside a data file that GDAL/OGR read with it: editing any of them changes the data
# (a Shapefile's attributes live in .dbf, its CRS in .prj, its encoding in .cpg; a GeoTIFF's
# nodata or CRS can come from .aux.xml). All are declared as inputs, so an edit reruns.
SIDECARS = {
    ".shp": (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx"),
    ".tif": (".tif.aux.xml", ".tfw", ".tif.ovr", ".prj"),
    ".tiff": (".tiff.aux.xml", ".tfw", ".tiff.ovr", ".prj"),
}


def with_sidecars(path: str | Path) -> list[str]:
    """The data file itself plus the sidecar files that exist beside it; for a folder dataset
    (a File Geodatabase), every file inside it."""
    p = Path(path)
    if p.is_dir():
        return sorted(str(f) for f in p.rglob("*") if f.is_file() and not f.name.endswith(".lock"))
    out = [str(p)]
    for ext in SIDECARS.get(p.suffix.lower(), ()):
        side = (
            p.with_name(p.name + ext[len(p.suffix) :])
            if ext.startswith(p.suffix.lower())
            else p.with_suffix(ext)
        )
        if side.exists():
            out.append(str(side))
    return out


def contract_inputs(
    cfg: dict, year: int | str | None = None, kinds: tuple[str, ...] = ()
) -> list[str]:
    """Every file of the data contract with its sidecars (what a rule declares as input so
    that an edit of any of them reruns it). `kinds` limits to item prefixes, e.g. ("vector_",)."""
    out: list[str] = []
    for key, path in contract_files(cfg, year).items():
        if kinds and not key.startswith(kinds):
            continue
        out += [f for f in with_sidecars(path) if f not in out]
    return out
