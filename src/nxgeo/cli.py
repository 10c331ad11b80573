"""Command line: `nxgeo sample`, `nxgeo validate`, `nxgeo where`.

Every command prints a short message and exits non-zero on bad input, naming the file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import NxgeoError

DEFAULT_CONFIG = "config/config.yaml"


def _cmd_sample(args) -> int:
    from .config import load_config
    from .sample import build_sample

    cfg = load_config(args.config)
    s = cfg["sample"]
    out_dir = Path(args.out or s["out_dir"])
    written = build_sample(
        reference_dir=s["reference_dir"],
        out_dir=out_dir,
        resolution=float(args.resolution or s["resolution"]),
        seed=int(args.seed if args.seed is not None else s["seed"]),
        n_homesteads=int(s["n_homesteads"]),
        n_mines=int(s["n_mines"]),
        years=tuple(int(y) for y in cfg["years"]),
        progress=sys.stderr.isatty(),
    )
    print(f"sample region written to {out_dir}/ ({len(written)} files)")
    return 0


def _cmd_validate(args) -> int:
    from .config import load_yaml
    from .validate import validate_inputs, write_reports

    cfg = load_yaml(args.config)
    report = validate_inputs(cfg, base_dir=".")
    out = Path(args.out_dir)
    md, js = out / "validation_report.md", out / "validation_report.json"
    write_reports(report, md, js)
    print(report.to_markdown())
    print(f"\nreports: {md} and {js}")
    if not report.ok:
        print(
            f"validation FAILED: {len(report.errors)} error(s), {len(report.warnings)} warning(s)",
            file=sys.stderr,
        )
        return 1
    print(f"validation passed ({len(report.warnings)} warning(s))")
    return 0


def _cmd_quicklook(args) -> int:
    from .config import load_config
    from .sample import quicklook

    cfg = load_config(args.config)
    out_dir = cfg["sample"]["out_dir"]
    png = quicklook(out_dir, args.out)
    print(f"quick-look of {out_dir}: {png}")
    return 0


def _cmd_where(args) -> int:
    from pathlib import Path

    from .config import load_config
    from .layout import Layout
    from .paths import results_dir

    cfg = load_config(args.config)
    print("\nResults / 结果 (open the .tif and .gpkg files in QGIS, the .csv in Excel):")
    for y in cfg["years"]:
        d = results_dir(cfg, y)
        if not d.exists():
            print(f"  {y}: {d.resolve()}  (not produced yet)")
            continue
        print(f"  {y}: {d.resolve()}")
        lay = Layout(d.parent)
        for label, p in (
            ("validation report", Path(lay.validation("report.md", y))),
            ("tables (CSV)", Path(lay.year("tables", y))),
            ("per-reach rasters (COG)", Path(lay.year("reaches", y))),
            ("candidate parcels", Path(lay.candidates(y))),
            ("maps", Path(lay.maps(y))),
            ("report", Path(lay.report(y))),
        ):
            if p.exists():
                print(f"      {label:<26} {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nxgeo", description="Ningxia ecological survey and restoration siting"
    )
    p.add_argument("--version", action="version", version=f"nxgeo {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="build the embedded sample region (synthetic Ningxia)")
    s.add_argument("--config", default=DEFAULT_CONFIG)
    s.add_argument("--out", help="output folder (default: sample.out_dir in the config)")
    s.add_argument("--resolution", type=float, help="metres (default: sample.resolution)")
    s.add_argument("--seed", type=int, help="random seed (default: sample.seed)")
    s.set_defaults(func=_cmd_sample)

    v = sub.add_parser("validate", help="check every input of the data contract before any compute")
    v.add_argument("--config", default=DEFAULT_CONFIG)
    v.add_argument("--out-dir", default="results/validation", help="where to write the reports")
    v.set_defaults(func=_cmd_validate)

    q = sub.add_parser(
        "quicklook", help="render DEM, precipitation and land use of the sample as a PNG"
    )
    q.add_argument("--config", default=DEFAULT_CONFIG)
    q.add_argument("--out", default="results/sample_quicklook.png")
    q.set_defaults(func=_cmd_quicklook)

    w = sub.add_parser("where", help="print where the results are")
    w.add_argument("--config", default=DEFAULT_CONFIG)
    w.set_defaults(func=_cmd_where)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NxgeoError as exc:
        print(f"nxgeo {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
