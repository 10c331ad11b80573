"""Project time and storage to larger runs from the measured benchmark curve.

    .venv/bin/python benchmarks/project.py [benchmarks/runs/results.json]

Model (fitted on the runs of `run_bench.py`, least squares over the resolutions):

    CPU(rule) = jobs(rule) x c0(rule) + px(rule) x c1(rule)

where px is the number of pixels the rule's jobs work on: the grid (whole-region rules:
validation, warping, land use, inventory, transitions, maps) or the sum of the reach windows
(per-reach rules). c0 is the per-job fixed cost (Python start-up, reading vectors), c1 the cost
per pixel. Storage is measured in bytes per grid pixel (two survey years) at the finest run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REACH_RULES = {
    "clip_reach",
    "clip_static",
    "terrain",
    "reach_static",
    "zones",
    "suitability",
    "services_reach",
    "candidates",
}
NINGXIA_KM2 = 66_400.0
YELLOW_RIVER_KM2 = 795_000.0


def fit(runs: list[dict]) -> dict[str, tuple[float, float]]:
    """(c0 s per job, c1 s per M pixels) per rule."""
    out = {}
    rules = sorted({j["rule"] for r in runs for j in r["jobs"]})
    for rule in rules:
        rows, y = [], []
        for r in runs:
            jobs = [j for j in r["jobs"] if j["rule"] == rule]
            if not jobs:
                continue
            px = (r["reach_px"] if rule in REACH_RULES else r["pixels"]) / 1e6
            rows.append([len(jobs), px])
            y.append(sum(j["cpu_exact_s"] for j in jobs))
        a = np.asarray(rows, float)
        if len(rows) >= 2:
            coef, *_ = np.linalg.lstsq(a, np.asarray(y), rcond=None)
            c0, c1 = max(0.0, float(coef[0])), max(0.0, float(coef[1]))
        else:
            c0, c1 = 0.0, y[0] / a[0, 1]
        out[rule] = (c0, c1)
    return out


def reach_pixels(run_dir: Path) -> int:
    import rasterio

    total = 0
    years = sorted(p for p in (run_dir / "results").iterdir() if p.name.isdigit())
    for d in sorted((years[0] / "reaches").iterdir()):
        p = d / "landuse.tif"
        if p.exists():
            with rasterio.open(p) as ds:
                total += ds.width * ds.height
    return total


def results_bytes(run_dir: Path) -> int:
    return sum(p.stat().st_size for p in (run_dir / "results").rglob("*") if p.is_file())


def project(path: Path) -> str:
    data = json.loads(path.read_text())
    runs = sorted(data["runs"], key=lambda r: -r["resolution"])
    for r in runs:
        rd = path.parent / f"{r['resolution']}m"
        r["reach_px"] = reach_pixels(rd)
        r["bytes"] = results_bytes(rd)
    coef = fit(runs)
    fine = runs[-1]
    jobs_by_rule: dict[str, int] = {}
    for j in fine["jobs"]:
        jobs_by_rule[j["rule"]] = jobs_by_rule.get(j["rule"], 0) + 1
    n_reaches = jobs_by_rule.get("terrain", 7)
    grid_px, reach_px = fine["pixels"], fine["reach_px"]
    area_per_grid_px = NINGXIA_KM2 / grid_px  # km2 of the region per grid pixel
    lines = []
    add = lines.append
    add(
        f"Fitted on {', '.join(str(r['resolution']) + ' m' for r in runs)} "
        f"(finest: {grid_px / 1e6:.0f} M grid pixels, {reach_px / 1e6:.0f} M reach-window "
        f"pixels, {n_reaches} reaches, 2 survey years)."
    )
    add("")
    add("| rule | per job (s) | per M pixels (s) | pixels | at finest run: CPU (s) |")
    add("|---|---:|---:|---|---:|")
    for rule, (c0, c1) in sorted(coef.items(), key=lambda kv: -kv[1][1]):
        px = reach_px if rule in REACH_RULES else grid_px
        add(
            f"| {rule} | {c0:.2f} | {c1:.2f} | {'reach windows' if rule in REACH_RULES else 'grid'}"
            f" | {jobs_by_rule.get(rule, 0) * c0 + px / 1e6 * c1:.0f} |"
        )
    add("")

    def scenario(name, grid_scale, reach_scale, reaches):
        cpu = 0.0
        for rule, (c0, c1) in coef.items():
            n = jobs_by_rule.get(rule, 0)
            if rule in REACH_RULES:  # as many jobs as reaches, pixels with the area
                cpu += n * reaches / n_reaches * c0 + reach_px * reach_scale / 1e6 * c1
            else:
                cpu += n * c0 + grid_px * grid_scale / 1e6 * c1
        store = fine["bytes"] * grid_scale
        return (
            f"| {name} | {grid_px * grid_scale / 1e9:.2f} G | {reaches} | "
            f"{cpu / 3600:.1f} | {cpu / 2 / 3600:.1f} | {store / 1e9:.0f} GB |"
        )

    add("| scenario | grid pixels | reaches | CPU (h) | wall on 2 cores (h) | results (2 years) |")
    add("|---|---:|---:|---:|---:|---:|")
    add(scenario(f"Ningxia at {fine['resolution']} m (measured run)", 1.0, 1.0, n_reaches))
    s10 = (fine["resolution"] / 10.0) ** 2
    add(scenario("Ningxia at 10 m", s10, s10, n_reaches))
    add(scenario("Ningxia at 10 m, reaches split ×9", s10, s10, n_reaches * 9))
    # the basin: valid area x (grid bbox / area) as in Ningxia; reaches of Ningxia's mean size
    basin_scale = YELLOW_RIVER_KM2 / NINGXIA_KM2 * (fine["resolution"] / 30.0) ** 2
    reaches = round(n_reaches * YELLOW_RIVER_KM2 / NINGXIA_KM2)
    add(scenario("Yellow River basin at 30 m", basin_scale, basin_scale, reaches))
    add("")
    add(
        f"(one grid pixel = {area_per_grid_px * 1e6:.0f} m² of region at the finest run; the "
        "basin is taken as Ningxia's shape scaled by area: grid and reach windows grow with "
        "the area, reaches of Ningxia's mean size.)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    p = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "runs" / "results.json"
    print(project(p))
