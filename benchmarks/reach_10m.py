#!/usr/bin/env python
"""One reach of Ningxia at 10 m, measured: the real pipeline on the region cut down to it.

    make bench-reach10                       # yinchuan at 10 m (+ the same cut at 30 m)
    .venv/bin/python benchmarks/reach_10m.py --reach yinchuan --resolution 10 \\
        --sample-resolution 30 [--compare-resolution 30] [--cores 2]

All of Ningxia at 10 m is ~1.4 G pixels per layer, too big for a 2-core, 24 GB machine. The
analysis grid is the counties' extent (nxgeo.prepare.define_grid; validation checks
grid.max_pixels on the same extent), so this run cuts the region's vector inputs down to the
counties the reach overlaps: the whole-region steps (grid, land use, zones, inventory, maps,
ledgers ...) then run over that area only, while the reach's own steps (clip, terrain,
suitability, services, candidates) run at their true 10 m size.

What is cut, in `<run dir>/inputs/` (the cached sample itself is only read):

- the counties: those the reach overlaps (>= 0.1 % of a county's area inside the reach);
- the reaches: the one reach (`reaches:` in the config lists only it);
- every other vector layer the config references, in GeoPackages of the same layer names:
  the features that intersect those counties (the distance layers — rivers, canals, roads,
  settlements — within terrain.distance_max_m of them, so the capped distances near the
  region's edge are those of the whole region); a layer with no feature there is kept whole
  (validation refuses an empty layer, and the candidates step needs mining_areas and
  sand_areas whenever the mines and sand pathways run), which needs its extent to overlap the
  region's: of the sample's seven reaches only yinchuan (the default) passes both (the others
  miss a required layer's or mining_areas' extent);
- the county tables (water budgets, greening targets, emissions): the rows of those counties.

Rasters (DEM, precipitation, land use, ownership) are not cut: their extent does not define
the grid, and the steps that read them read only the grid's window. The config is otherwise
the shipped one (bench_lib.bench_config); pathway county lists and the greening trading group
are kept as shipped, so a pathway whose counties are all outside the cut finds nothing there
(validation warns).

Measured per run: wall and CPU time of the whole Snakemake process tree (bench_lib.run_timed),
jobs, per rule CPU-s and peak RSS (the exact ``resources used:`` line of each job's log, else
the Snakemake benchmark tsv), the largest job, the grid's and the reach's pixels, disk use.
With --compare-resolution the same cut region also runs at that resolution, for the per rule
ratio of peaks (memory flat across resolution?). Writes benchmarks/runs/reach_10m.md and .json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_lib as B
import run_bench as RB
import yaml

#: layers the distance rasters are computed from: kept within terrain.distance_max_m of the cut
DISTANCE_LAYERS = ("rivers", "canals", "roads", "settlements")
#: tables with one row per county (and year): cut to the counties kept
COUNTY_TABLES = ("water_budgets", "greening_targets", "county_emissions")
#: a county belongs to the cut when at least this share of its area lies in the reach
MIN_COUNTY_SHARE = 0.001


def log(msg: str) -> None:
    print(f"[reach-bench {dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# The cut-down inputs and config


def _read(spec: dict):
    import geopandas as gpd

    return gpd.read_file(spec["path"], layer=spec.get("layer"))


def cut_inputs(cfg: dict, reach: str, inputs_dir: Path) -> dict:
    """Cut cfg's vector inputs and county tables down to the counties `reach` overlaps, written
    under `inputs_dir`; cfg's paths (and `reaches:`) are changed in place. Returns what was
    kept (counties, features per layer)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    inputs_dir.mkdir(parents=True, exist_ok=True)
    vec = cfg["inputs"]["vectors"]
    crs = cfg["grid"]["crs"]
    cspec, rspec = vec["counties"], vec["reaches"]
    counties = _read(cspec)
    reaches = _read(rspec)
    rid = rspec["fields"]["id"]
    cid = cspec["fields"]["id"]
    sel_r = reaches[reaches[rid].astype(str) == str(reach)]
    if sel_r.empty:
        known = ", ".join(sorted(reaches[rid].astype(str)))
        raise SystemExit(f"reach {reach!r} is not in {rspec['path']} (known: {known})")
    poly = sel_r.to_crs(crs).geometry.union_all()
    c_m = counties.to_crs(crs)
    share = c_m.geometry.intersection(poly).area / c_m.geometry.area
    keep = counties[(share >= MIN_COUNTY_SHARE).to_numpy()]
    if keep.empty:
        raise SystemExit(f"reach {reach!r} overlaps no county of {cspec['path']}")
    region = keep.to_crs(crs).geometry.union_all()
    near = region.buffer(float(cfg["terrain"]["distance_max_m"]))
    codes = sorted(keep[cid].astype(str))
    kept: dict = {"counties": codes, "features": {}}

    out_paths: dict[str, Path] = {}  # source file -> its cut copy (one GeoPackage per source)
    written: set[tuple[Path, str]] = set()
    for key, spec in vec.items():
        if not spec:
            continue
        src = spec["path"]
        if src not in out_paths:
            out_paths[src] = inputs_dir / "vector" / (Path(src).stem + ".gpkg")
        dst = out_paths[src]
        layer = spec.get("layer") or Path(src).stem
        if (dst, layer) not in written:
            if key == "counties":
                gdf = keep
            elif key == "reaches":
                gdf = sel_r
            else:
                gdf = _read(spec)
                area = near if key in DISTANCE_LAYERS else region
                hit = gdf.to_crs(crs).geometry.intersects(area).to_numpy()
                gdf = gdf[hit]
            if gdf.empty:
                # validation refuses an empty layer, and the candidates step needs
                # mining_areas / sand_areas whenever mines / sand pathways run: a layer with no
                # feature in the cut is kept whole (its features lie outside the grid, so only
                # its vector steps see them), if it overlaps the region's extent at all
                gdf = _read(spec)
                box = shapely.box(*keep.to_crs(crs).total_bounds)
                if not shapely.box(*gdf.to_crs(crs).total_bounds).intersects(box):
                    raise SystemExit(
                        f"reach {reach!r}: inputs.vectors.{key} has no feature in counties "
                        f"{', '.join(codes)} nor near them (validation would refuse it); "
                        "choose another reach"
                    )
                kept.setdefault("kept_whole", []).append(key)
            kept["features"][key] = len(gdf)  # features written
            dst.parent.mkdir(parents=True, exist_ok=True)
            gpd.GeoDataFrame(gdf).to_file(dst, layer=layer, driver="GPKG")
            written.add((dst, layer))
        spec["path"] = str(dst)
        spec["layer"] = layer
    cfg["reaches"] = [str(reach)]

    tables = cfg["inputs"]["tables"]
    for name in COUNTY_TABLES:
        src = tables.get(name)
        if not src:
            continue
        df = pd.read_csv(src, dtype={"adcode": str})
        df = df[df["adcode"].str.strip().isin(codes)]
        dst = inputs_dir / "tables" / Path(src).name
        dst.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(dst, index=False)
        tables[name] = str(dst)
        kept["features"][f"table:{name}"] = len(df)
    return kept


def plan(cfg: dict, reach: str) -> dict:
    """The grid the cut config gives and the reach's window on it (pixels per layer)."""
    from nxgeo.clip import polygon_window
    from nxgeo.grid import grid_for_region

    vec = cfg["inputs"]["vectors"]
    grid = grid_for_region(
        _read(vec["counties"]), crs=cfg["grid"]["crs"], resolution=cfg["grid"]["resolution"]
    )
    poly = _read(vec["reaches"]).to_crs(cfg["grid"]["crs"]).geometry.union_all()
    win = polygon_window(poly, grid.transform, grid.width, grid.height)
    rh, rw = (int(win.height), int(win.width)) if win is not None else (0, 0)
    res = float(cfg["grid"]["resolution"])
    return {
        "reach": reach,
        "resolution": res,
        "grid": [grid.height, grid.width],
        "grid_pixels": grid.height * grid.width,
        "reach_window": [rh, rw],
        "reach_window_pixels": rh * rw,
        "reach_inside_pixels_est": round(poly.area / res**2),
    }


def reach_config(
    reach: str,
    resolution: float,
    run_dir: Path,
    sample: Path,
    sample_resolution: float | None = None,
) -> tuple[Path, dict]:
    """Write run_dir/config.yaml for `reach` at `resolution` on the cut-down region (inputs in
    run_dir/inputs/); returns its path and what was kept and planned."""
    path = B.bench_config(int(sample_resolution or resolution), run_dir, sample=sample)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["grid"]["resolution"] = float(resolution)
    full = full_grid(cfg)
    kept = cut_inputs(cfg, reach, run_dir / "inputs")
    base = cfg["region_name"].split(" — ")[0]
    cfg["region_name"] = (
        f"{base} — reach {reach} ({', '.join(kept['counties'])}) at {resolution:g} m"
    )
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, {**kept, **plan(cfg, reach), "full_grid": full}


# --------------------------------------------------------------------------------------------
# Measuring


def reach_pixels(run_dir: Path, reach: str) -> dict:
    """The reach rasters' size and cells inside the reach (from its clipped DEM)."""
    import numpy as np
    import rasterio

    d = run_dir / "results" / "common" / "reaches" / reach
    tifs = sorted(d.glob("*.tif"))
    if not tifs:
        return {}
    f = next((t for t in tifs if t.stem == "dem"), tifs[0])
    with rasterio.open(f) as src:
        inside = 0
        for _, win in src.block_windows(1):
            inside += int(np.count_nonzero(src.read_masks(1, window=win)))
        return {"raster": f.name, "shape": [src.height, src.width], "inside": inside}


def du_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=False)
    try:
        return float(out.stdout.split()[0])
    except (IndexError, ValueError):
        return float("nan")


def steps_done(run_dir: Path) -> str:
    text = (run_dir / "snakemake.log").read_text(errors="replace")
    m = re.findall(r"(\d+) of (\d+) steps \(100%\) done", text)
    return f"{m[-1][0]} of {m[-1][1]}" if m else "?"


def run_one(reach: str, resolution: float, run_dir: Path, sample: Path, sample_res, cores: int):
    cfg_path, info = reach_config(reach, resolution, run_dir, sample, sample_res)
    log(
        f"{reach} at {resolution:g} m: grid {info['grid'][0]:,} x {info['grid'][1]:,} = "
        f"{info['grid_pixels']:,} px, reach window {info['reach_window_pixels']:,} px "
        f"(counties {', '.join(info['counties'])}); running in {run_dir}"
    )
    load0 = os.getloadavg()
    t = B.run_pipeline(int(resolution), run_dir, cores=cores, log=log, config=cfg_path)
    load1 = os.getloadavg()
    (run_dir / "timing.json").write_text(json.dumps(t.summary(), indent=1))
    info["loadavg"] = {"start": load0, "end": load1}
    (run_dir / "plan.json").write_text(json.dumps(info, indent=1))
    run = measured(reach, resolution, run_dir)
    log(f"{resolution:g} m: {t.wall_s:.0f} s wall, {t.cpu_s:.0f} CPU-s, {run['steps']} steps")
    return run


def measured(reach: str, resolution: float, run_dir: Path) -> dict:
    """What a finished run in `run_dir` measured (timing.json, plan.json, benchmark files and
    logs, the reach rasters, disk use)."""
    t = B.Timed(**{**json.loads((run_dir / "timing.json").read_text()), "stdout": "", "stderr": ""})
    info = json.loads((run_dir / "plan.json").read_text())
    run = RB.collect(int(resolution), run_dir, t)
    run["plan"] = info
    run["loadavg"] = info.get("loadavg") or {}
    run["reach_pixels"] = reach_pixels(run_dir, reach)
    run["steps"] = steps_done(run_dir)
    run["disk_mb"] = {"results": du_mb(run_dir / "results"), "inputs": du_mb(run_dir / "inputs")}
    return run


# --------------------------------------------------------------------------------------------
# The report


def _num(v) -> float:
    return v if isinstance(v, (int, float)) and v == v else 0.0


def job_peak(j: dict) -> float:
    """A job's peak memory (MB): the larger of its process's exact high-water mark (the
    ``resources used:`` log line) and Snakemake's sampled PSS of the job's whole process tree
    (the tsv; it sees worker processes, e.g. the maps' sheet workers, the log line does not)."""
    return max(_num(j.get("peak_rss_mb")), _num(j.get("max_pss_mb")))


def rules(jobs: list[dict]) -> dict[str, dict]:
    """Per rule: jobs, wall and CPU-s summed, the largest job's peaks."""
    out: dict[str, dict] = {}
    for j in jobs:
        a = out.setdefault(
            j["rule"],
            {"jobs": 0, "s": 0.0, "cpu": 0.0, "peak": 0.0, "proc": 0.0, "rss": 0.0, "pss": 0.0},
        )
        a["jobs"] += 1
        a["s"] += _num(j["s"])
        a["cpu"] += _num(j["cpu_exact_s"])
        a["peak"] = max(a["peak"], job_peak(j))
        a["proc"] = max(a["proc"], _num(j["peak_rss_mb"]))
        a["rss"] = max(a["rss"], _num(j["max_rss_mb"]))
        a["pss"] = max(a["pss"], _num(j.get("max_pss_mb")))
    return out


def largest_job(jobs: list[dict]) -> dict:
    return max(jobs, key=job_peak)


def write_report(path: Path, main: dict, other: dict | None, args) -> str:
    fmt = RB.fmt
    p, t = main["plan"], main["total"]
    res = p["resolution"]
    rp = main["reach_pixels"]
    jobs = main["jobs"]
    peak = largest_job(jobs)
    L = []
    add = L.append
    add(f"# One reach at {res:g} m: {p['reach']}")
    add("")
    add(
        f"`benchmarks/reach_10m.py` on {dt.datetime.now():%Y-%m-%d %H:%M}, commit "
        f"{_commit()}. Machine: {RB.machine()}. The whole pipeline (both survey years, "
        f"`--cores {args.cores}`, default profile) on the embedded sample generated at "
        f"{args.sample_resolution:g} m, the region cut down to the counties the reach overlaps "
        f"({', '.join(p['counties'])}), grid.resolution {res:g} m. Load average at start / end: "
        f"{' / '.join(f'{x[0]:.1f}' for x in main['loadavg'].values()) or '?'} (wall time is only "
        "meaningful on a quiet machine; CPU time and peak memory are)."
    )
    add("")
    add("## Summary")
    add("")
    add(
        f"- Grid (cut region): {p['grid'][0]:,} × {p['grid'][1]:,} = **{p['grid_pixels']:,} "
        "pixels per layer**"
    )
    if rp:
        add(
            f"- Reach {p['reach']}: {rp['shape'][0]:,} × {rp['shape'][1]:,} = "
            f"**{rp['shape'][0] * rp['shape'][1]:,} pixels per layer**, {rp['inside']:,} inside "
            "the reach"
        )
    add(
        f"- Whole pipeline: **{t['wall_s']:,.0f} s wall ({t['wall_s'] / 60:.1f} min), "
        f"{t['cpu_s']:,.0f} CPU-s**, {main['steps']} jobs ({len(jobs)} benchmark files); peak "
        f"RSS of the largest process {t['max_rss_mb']:,.0f} MB"
    )
    wc = f"[{peak['scope']}{'/' + peak['wildcards'] if peak['wildcards'] else ''}]"
    add(
        f"- Largest job: **{peak['rule']}{wc} {job_peak(peak):,.0f} MB** peak (process "
        f"{_num(peak['peak_rss_mb']):,.0f} MB, process tree PSS {_num(peak.get('max_pss_mb')):,.0f}"
        f" MB), {peak['cpu_exact_s']:,.1f} CPU-s"
    )
    add(
        f"- Disk: results {main['disk_mb']['results']:,.0f} MB, cut inputs "
        f"{main['disk_mb']['inputs']:,.0f} MB"
    )
    if other:
        o = other["total"]
        add(
            f"- Same cut region at {other['plan']['resolution']:g} m "
            f"({other['plan']['grid_pixels']:,} px per layer): {o['wall_s']:,.0f} s wall, "
            f"{o['cpu_s']:,.0f} CPU-s, largest job {job_peak(largest_job(other['jobs'])):,.0f}"
            f" MB; CPU {res:g} m / {other['plan']['resolution']:g} m = "
            f"{t['cpu_s'] / o['cpu_s']:.2f}× for {p['grid_pixels'] / other['plan']['grid_pixels']:.1f}× "
            "the pixels"
        )
    add("")
    add("## Per rule")
    add("")
    add(
        "CPU-s summed over the rule's jobs (exact, the jobs' `resources used:` log lines); "
        "memory of the rule's largest job (MB): *process* = the job's process's exact "
        "high-water mark (log line), *tree RSS / PSS* = Snakemake's benchmark tsv, the whole "
        "process tree sampled every 30 s (RSS counts pages shared by forked workers once per "
        "worker, PSS splits them), *peak* = max(process, tree PSS)."
    )
    add("")
    rt = rules(jobs)
    ot = rules(other["jobs"]) if other else {}
    ores = f"{other['plan']['resolution']:g} m" if other else ""
    head = (
        "| rule | jobs | wall sum (s) | CPU-s | peak (MB) | process (MB) | tree RSS (MB) "
        "| tree PSS (MB) |"
    )
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|"
    if other:
        head += (
            f" CPU-s {ores} | peak {ores} (MB) | CPU {res:g} m / {ores} | peak {res:g} m / {ores} |"
        )
        sep += "---:|---:|---:|---:|"
    add(head)
    add(sep)
    for rule, a in sorted(rt.items(), key=lambda kv: -kv[1]["cpu"]):
        row = (
            f"| {rule} | {a['jobs']} | {fmt(a['s'])} | {fmt(a['cpu'])} | {fmt(a['peak'], 0)} | "
            f"{fmt(a['proc'], 0)} | {fmt(a['rss'], 0)} | {fmt(a['pss'], 0)} |"
        )
        if other:
            b = ot.get(rule)
            nan = float("nan")
            cr = a["cpu"] / b["cpu"] if b and b["cpu"] else nan
            pr = a["peak"] / b["peak"] if b and b["peak"] else nan
            row += (
                f" {fmt(b['cpu']) if b else '–'} | {fmt(b['peak'], 0) if b else '–'} | "
                f"{fmt(cr, 2)} | {fmt(pr, 2)} |"
            )
        add(row)
    add("")
    add("## Largest jobs")
    add("")
    add("| job | wall (s) | CPU-s | peak (MB) | process (MB) | tree PSS (MB) |")
    add("|---|---:|---:|---:|---:|---:|")
    for j in sorted(jobs, key=lambda j: -job_peak(j))[:12]:
        add(
            f"| {RB._job_key(j)} | {fmt(j['s'])} | {fmt(j['cpu_exact_s'])} | "
            f"{fmt(job_peak(j), 0)} | {fmt(_num(j['peak_rss_mb']), 0)} | "
            f"{fmt(_num(j.get('max_pss_mb')), 0)} |"
        )
    add("")
    add("## What was cut")
    add("")
    add(
        f"Counties kept: {', '.join(p['counties'])}. Features per layer: "
        + ", ".join(f"{k} {v:,}" for k, v in p["features"].items())
        + (
            f". Kept whole (no feature in the cut): {', '.join(p['kept_whole'])}"
            if p.get("kept_whole")
            else ""
        )
        + f". Whole-region grid at {res:g} m for comparison: "
        f"{p['full_grid'][0]:,} × {p['full_grid'][1]:,} = "
        f"{p['full_grid'][0] * p['full_grid'][1]:,} pixels per layer."
    )
    add("")
    text = "\n".join(L)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def _commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(B.ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "?"


def full_grid(cfg: dict) -> list[int]:
    """The grid of cfg's counties at its grid.resolution, without the pixel cap."""
    from nxgeo.grid import grid_for_region

    g = grid_for_region(
        _read(cfg["inputs"]["vectors"]["counties"]),
        crs=cfg["grid"]["crs"],
        resolution=float(cfg["grid"]["resolution"]),
    )
    return [g.height, g.width]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reach", default="yinchuan")
    ap.add_argument("--resolution", type=float, default=10.0, help="grid.resolution (m)")
    ap.add_argument(
        "--sample-resolution",
        type=float,
        default=30.0,
        help="resolution of the cached sample read as input (built if missing)",
    )
    ap.add_argument(
        "--sample-dir",
        type=Path,
        help="an existing sample folder to read instead of benchmarks/cache/sample_<res>m",
    )
    ap.add_argument(
        "--compare-resolution",
        type=float,
        default=30.0,
        help="also run the same cut region at this resolution (0: not)",
    )
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--run-dir", type=Path, help="default benchmarks/runs/reach_<reach>_<res>m")
    ap.add_argument("--report", type=Path, default=B.RUNS / "reach_10m.md")
    ap.add_argument(
        "--config-only", action="store_true", help="write the config(s) and plan, run nothing"
    )
    ap.add_argument(
        "--report-only", action="store_true", help="the report of the finished runs, no new run"
    )
    args = ap.parse_args(argv)
    if args.sample_dir is None:
        B.ensure_sample(int(args.sample_resolution), log=log)
        args.sample_dir = B.sample_dir(int(args.sample_resolution))
    sample = args.sample_dir.resolve()

    def rdir(res: float) -> Path:
        return (args.run_dir or B.RUNS / f"reach_{args.reach}_{res:g}m").resolve()

    ress = [args.resolution]
    if args.compare_resolution and args.compare_resolution != args.resolution:
        ress.insert(0, args.compare_resolution)  # the coarse (cheap) run first
    if args.run_dir and len(ress) > 1:
        raise SystemExit("--run-dir is for one run: give --compare-resolution 0 with it")
    if args.config_only:
        for res in ress:
            path, info = reach_config(args.reach, res, rdir(res), sample, args.sample_resolution)
            print(path)
            print(json.dumps(info, indent=1))
        return 0
    if args.report_only:
        runs = {res: measured(args.reach, res, rdir(res)) for res in ress}
    else:
        runs = {
            res: run_one(args.reach, res, rdir(res), sample, args.sample_resolution, args.cores)
            for res in ress
        }
    main_run = runs[args.resolution]
    other = runs.get(args.compare_resolution) if len(ress) > 1 else None
    text = write_report(args.report, main_run, other, args)
    args.report.with_suffix(".json").write_text(
        json.dumps(
            {"run": main_run, "compare": other},
            indent=1,
            default=str,
        )
    )
    print(text)
    log(f"report: {args.report} (+ .json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
