"""Shared helpers of the benchmark harness: paths, timed subprocesses, the bench config,
Snakemake benchmark TSVs.

Every measurement is a child process run with ``os.wait4`` so wall time, CPU time (user +
system, children included) and peak RSS (the largest process of the tree) are measured the
same way for nxgeo and for the reference tools.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
CACHE = BENCH / "cache"
RUNS = BENCH / "runs"
PYTHON = sys.executable
SNAKEMAKE = str(Path(PYTHON).parent / "snakemake")
SAMPLE_PARAMS = {"seed": 20240601, "n_homesteads": 3000, "n_mines": 300, "years": [2023, 2024]}


@dataclass
class Timed:
    """One measured child process."""

    cmd: list[str]
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    returncode: int
    stdout: str = ""
    stderr: str = ""
    extra: dict = field(default_factory=dict)

    def check(self) -> Timed:
        if self.returncode != 0:
            raise RuntimeError(
                f"command failed ({self.returncode}): {' '.join(self.cmd)}\n"
                f"{self.stdout[-3000:]}\n{self.stderr[-3000:]}"
            )
        return self

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("stdout")
        d.pop("stderr")
        return d


#: Runs argv[2:] as its child and writes its wall time and rusage as JSON to argv[1]. The
#: launcher is a small process: Linux's ru_maxrss of a child also counts the memory of the
#: process it was forked from, so measuring a child of this (big) harness would report the
#: harness's own memory instead.
_LAUNCHER = r"""
import json, os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[2:])
_, status, ru = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
json.dump({"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mb": ru.ru_maxrss / 1024,
           "returncode": os.waitstatus_to_exitcode(status)}, open(sys.argv[1], "w"))
"""


def run_timed(
    cmd: list[str], cwd: Path | None = None, env: dict | None = None, log: Path | None = None
) -> Timed:
    """Run `cmd`: wall time, user+sys CPU (children included) and peak RSS of its process tree
    (the largest process), measured by a small launcher process."""
    import tempfile

    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    cmd = [str(c) for c in cmd]
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        rec = f.name
    try:
        if log:
            with open(log, "w") as out:
                proc = subprocess.run(
                    [PYTHON, "-c", _LAUNCHER, rec, *cmd],
                    cwd=cwd,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    text=True,
                    check=False,
                )
            so = se = ""
        else:
            proc = subprocess.run(
                [PYTHON, "-c", _LAUNCHER, rec, *cmd],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            so, se = proc.stdout, proc.stderr
        try:
            r = json.loads(Path(rec).read_text())
        except (OSError, ValueError):
            r = {
                "wall_s": float("nan"),
                "cpu_s": float("nan"),
                "max_rss_mb": float("nan"),
                "returncode": proc.returncode or 1,
            }
    finally:
        Path(rec).unlink(missing_ok=True)
    return Timed(
        cmd,
        round(r["wall_s"], 3),
        round(r["cpu_s"], 3),
        round(r["max_rss_mb"], 1),
        int(r["returncode"]),
        so,
        se,
    )


# --------------------------------------------------------------------------------------------
# The cached sample


def sample_dir(resolution: int) -> Path:
    return CACHE / f"sample_{int(resolution)}m"


def ensure_sample(resolution: int, log=print) -> dict:
    """The sample at `resolution` m in benchmarks/cache/ (built once; ~3 min and 3.2 GB peak at
    30 m). Returns its build record (wall time and peak RSS of the generator)."""
    d = sample_dir(resolution)
    marker = d / ".complete.json"
    want = {"resolution": float(resolution), **SAMPLE_PARAMS}
    if marker.exists():
        rec = json.loads(marker.read_text())
        if all(rec.get(k) == v for k, v in want.items()):
            return rec
    if d.exists():
        shutil.rmtree(d)
    log(f"building the sample at {resolution} m in {d} (cached for later runs)")
    code = (
        "from nxgeo.sample import build_sample\n"
        f"build_sample({str(ROOT / 'data/reference/ningxia')!r}, {str(d)!r}, "
        f"resolution={float(resolution)!r}, seed={SAMPLE_PARAMS['seed']}, "
        f"n_homesteads={SAMPLE_PARAMS['n_homesteads']}, n_mines={SAMPLE_PARAMS['n_mines']}, "
        f"years={tuple(SAMPLE_PARAMS['years'])!r})\n"
    )
    t = run_timed([PYTHON, "-c", code], cwd=ROOT).check()
    rec = {**want, "wall_s": t.wall_s, "cpu_s": t.cpu_s, "max_rss_mb": t.max_rss_mb}
    marker.write_text(json.dumps(rec, indent=1))
    return rec


# --------------------------------------------------------------------------------------------
# The bench config: config/config.yaml at another resolution, inputs in the cached sample


def bench_config(
    resolution: int, run_dir: Path, dask: dict | None = None, sample: Path | None = None
) -> Path:
    """Write run_dir/config.yaml: the shipped config with grid.resolution = `resolution` and
    every input pointing at the cached sample (absolute paths, so the run folder is free).
    `sample`: another sample folder (e.g. one generated at another resolution than the grid's;
    default: the cached sample at `resolution`)."""
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    cfg = copy.deepcopy(cfg)
    sdir = Path(sample) if sample is not None else sample_dir(resolution)

    def relocate(p):
        if not isinstance(p, str):
            return p
        if p.startswith("data/sample/"):
            return str(sdir / p[len("data/sample/") :])
        if not os.path.isabs(p):
            return str(ROOT / p)
        return p

    cfg["grid"]["resolution"] = float(resolution)
    cfg["region_name"] = f"{cfg.get('region_name', '')} — benchmark at {resolution} m"

    # every path the shipped config gives in the sample folder (inputs of all kinds, ownership
    # rasters included) points at the cached sample; other relative input paths at the checkout
    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str) and node.startswith("data/sample/"):
            return relocate(node)
        return node

    cfg = walk(cfg)
    inp = cfg["inputs"]
    inp["rasters"] = {k: relocate(v) for k, v in inp["rasters"].items()}
    for v in inp["vectors"].values():
        if v:
            v["path"] = relocate(v["path"])
    inp["tables"] = {k: relocate(v) for k, v in inp["tables"].items()}
    cfg["landuse"]["classes_table"] = relocate(cfg["landuse"]["classes_table"])
    # no `sample` rule in the bench DAG: the inputs are not under sample.out_dir
    cfg["sample"]["out_dir"] = str(run_dir / "no-sample-rule")
    cfg["sample"]["reference_dir"] = str(ROOT / cfg["sample"]["reference_dir"])
    cfg["sample"]["resolution"] = float(resolution)
    cfg["results_dir"] = "results"
    if dask is not None:
        cfg["dask"] = dask
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_pipeline(
    resolution: int, run_dir: Path, cores: int = 2, log=print, config: Path | None = None
) -> Timed:
    """A clean run of the whole pipeline on the cached sample; returns its timing. `config`:
    a config already written (default: `bench_config` at `resolution` in `run_dir`)."""
    for sub in ("results", ".snakemake"):
        if (run_dir / sub).exists():
            shutil.rmtree(run_dir / sub)
    cfg = config if config is not None else bench_config(resolution, run_dir)
    cmd = [
        SNAKEMAKE,
        "-s",
        ROOT / "Snakefile",
        "--directory",
        run_dir,
        "--configfile",
        cfg,
        "--profile",
        ROOT / "workflow" / "profiles" / "default",
        "--cores",
        str(cores),
    ]
    log(f"running the pipeline at {resolution} m ({run_dir})")
    t = run_timed(cmd, cwd=ROOT, log=run_dir / "snakemake.log")
    if t.returncode != 0:
        tail = (run_dir / "snakemake.log").read_text(errors="replace")[-4000:]
        raise RuntimeError(f"pipeline at {resolution} m failed:\n{tail}")
    return t


# --------------------------------------------------------------------------------------------
# Snakemake benchmark files


def benchmark_patterns() -> list[tuple[str, object]]:
    """(rule, regex of its benchmark file name) for every rule of the workflow, from the
    rules' `benchmark:` directives (e.g. services_reach writes services_<reach>.tsv)."""
    import re

    out = []
    for f in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        text = f.read_text(encoding="utf-8")
        for m in re.finditer(
            r"^\s*rule (\w+):(.*?)(?=^\s*rule \w+:|\Z)", text, re.MULTILINE | re.DOTALL
        ):
            # a path string (f"{RESULTS}/{{year}}/benchmarks/x_{{reach}}.tsv") or the layout's
            # OUT.benchmark("x_{reach}", ...) / OUT.common_benchmark(...): the file's stem
            b = re.search(r"benchmark:\s*\n\s*(OUT\.\w+\()?f?\"([^\"]+)\"", m.group(2))
            if not b:
                continue
            name = b.group(2).rsplit("/", 1)[-1]
            if not b.group(1):
                if not name.endswith(".tsv"):
                    continue
                name = name[:-4]
            parts = re.split(r"\{\{?\w+\}?\}", name)
            out.append(
                (
                    m.group(1),
                    re.compile("^" + "(.+?)".join(map(re.escape, parts)) + "$"),
                    sum(map(len, parts)),
                )
            )
    # most specific first: the longest literal text (services_year before services_<reach>)
    return [(r, pat) for r, pat, _ in sorted(out, key=lambda x: -x[2])]


def read_benchmarks(run_dir: Path, reaches: list[str] | None = None) -> list[dict]:
    """One row per job: rule, scope (year folder or common), wildcards (reach, raster name or
    year pair), s, cpu_time and max_rss (MB) of the Snakemake benchmark file."""
    patterns = benchmark_patterns()
    rows = []
    for tsv in sorted((run_dir / "results").rglob("benchmarks/*.tsv")):
        lines = tsv.read_text().strip().splitlines()
        if len(lines) < 2:
            continue
        head = lines[0].split("\t")
        vals = dict(zip(head, lines[-1].split("\t")))
        scope = tsv.parent.parent.name  # year folder, "common" or "results"
        stem = tsv.stem
        rule, wc = stem, ""
        for r, pat in patterns:
            m = pat.match(stem)
            if m:
                rule, wc = r, "-".join(m.groups())
                break

        def num(k, vals=vals):
            try:
                return float(vals.get(k, "nan"))
            except ValueError:
                return float("nan")

        rows.append(
            {
                "rule": rule,
                "scope": scope,
                "wildcards": wc,
                "stem": stem,
                "s": num("s"),
                "cpu_s": num("cpu_time"),
                "max_rss_mb": num("max_rss"),
                "max_pss_mb": num("max_pss"),
            }
        )
    return rows


def per_rule(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        a = out.setdefault(
            r["rule"], {"jobs": 0, "s_sum": 0.0, "s_max": 0.0, "cpu_sum": 0.0, "rss_max": 0.0}
        )
        a["jobs"] += 1
        a["s_sum"] += r["s"]
        a["s_max"] = max(a["s_max"], r["s"])
        a["cpu_sum"] += r["cpu_s"] if r["cpu_s"] == r["cpu_s"] else 0.0
        a["rss_max"] = max(a["rss_max"], r["max_rss_mb"])
    return out


def grid_pixels(run_dir: Path) -> tuple[int, int]:
    g = json.loads((run_dir / "results" / "common" / "grid.json").read_text())
    return int(g["height"]), int(g["width"])
