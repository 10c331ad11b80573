"""Block-wise file driver: layer rasters (one grid) -> per-target score/grade/reason rasters,
best use, and legends.

Outputs in `out_dir` (all atomic; Cloud-Optimised GeoTIFFs with internal overviews, copied by
`nxgeo.raster_io.cog_output` from uncompressed temporaries when every block is written):

- ``suit_<target>_score.tif``  uint8 0..100, nodata 255
- ``suit_<target>_grade.tif``  uint8 1..4, nodata 255 (codes in ``grade_legend.csv``)
- ``suit_<target>_reason.tif`` uint16 reason bits (``reason_legend.csv`` / ``.json``); nodata
  65535 outside the study area (land use 0 / nodata); inside, bit 8 marks pixels where an input
  has no data
- ``best_use.tif``, ``best_use_runner_up.tif`` uint8 codes (``best_use_legend.csv``), nodata 255
- ``best_use_score.tif`` uint8 score of the best use, nodata 255

Layers are read window by window (`block_rows` x `block_cols` pixels at a time), so memory is
about (number of layers + 3 x targets) x the block size, whatever the size of the reach. Mask
rasters: 1 = inside (uint8 or any integer); land use: canonical class ids, its nodata (and 0)
= no data; continuous rasters: their nodata value and NaN = no data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.windows import Window

from ..atomic import write_csv, write_json
from ..errors import InputError
from ..nodata import REASON_NODATA
from ..parallel import map_blocks, runs_inline
from ..raster_io import GTIFF_OPTIONS, cog_output, uncompressed
from .codes import (
    BEST_NODATA,
    GRADE_NODATA,
    SCORE_NODATA,
    best_use_legend_df,
    grade_legend_df,
    write_reason_legend,
)
from .official import (
    DISAGREE_COLUMNS,
    NOT_COMPARED,
    apply_official,
    disagreement_counts,
    disagreement_raster,
    disagreement_table,
)
from .overlay import best_use, compile_target, evaluate_compiled, prepare_layers
from .spec import best_use_order, parse_all


def _profile(ref, dtype: str, nodata) -> dict:
    profile = dict(GTIFF_OPTIONS)
    profile.update(
        height=ref.height,
        width=ref.width,
        count=1,
        dtype=dtype,
        crs=ref.crs,
        transform=ref.transform,
        nodata=nodata,
        predictor=2,
    )
    if ref.height < 256 or ref.width < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize")
        profile.pop("blockysize")
    return profile


def _check_grid(name: str, ds, ref_name: str, ref) -> None:
    problems = []
    if (ds.width, ds.height) != (ref.width, ref.height):
        problems.append(f"size {ds.width}x{ds.height} vs {ref.width}x{ref.height}")
    if not ds.transform.almost_equals(ref.transform, precision=1e-6):
        problems.append(f"transform {tuple(ds.transform)[:6]} vs {tuple(ref.transform)[:6]}")
    if ds.crs != ref.crs:
        problems.append(f"CRS {ds.crs} vs {ref.crs}")
    if problems:
        raise InputError(
            f"layer {name!r} ({ds.name}) is not on the grid of {ref_name!r} "
            f"({ref.name}): {'; '.join(problems)}; resample it onto the analysis grid"
        )


def _compute_block(
    raw: Mapping[str, np.ndarray],
    needed,
    nodata: Mapping,
    comps: Mapping,
    order,
    official: Mapping | None = None,
) -> tuple[dict, tuple, dict]:
    """All targets on one block: ({(target, score|grade|reason): array}, best-use arrays,
    {"disagree": {(layer, target): raster}, "counts": {(layer, target): frame}}).

    `official`: None, or {"codes": {layer: class codes}, "county": adcodes, "cfg":
    ``suitability.official``} (`nxgeo.suitability.official.apply_official`)."""
    layers = prepare_layers(raw, needed, nodata)
    out, scores, grades_ = {}, {}, {}
    extra: dict = {"disagree": {}, "counts": {}}
    for t in order:
        comp = comps[t]
        s, g, r = evaluate_compiled(comp, {n: layers[n] for n in comp.layers})
        if official:
            p = comp.spec.params
            s, g, r, before = apply_official(
                t, s, g, r, official["codes"], official["cfg"], (p.suitable, p.moderately_suitable)
            )
            for kind, computed in before.items():
                codes = official["codes"][kind]
                extra["disagree"][(kind, t)] = disagreement_raster(computed, codes)
                extra["counts"][(kind, t)] = disagreement_counts(
                    computed, codes, official["county"]
                )
        out[(t, "score")], out[(t, "grade")], out[(t, "reason")] = s, g, r
        scores[t], grades_[t] = s, g
    lu = np.asarray(raw["landuse"])
    outside = lu == 0
    if nodata.get("landuse") is not None:
        outside |= lu == nodata["landuse"]
    if outside.any():  # outside the study area: the reason rasters' declared nodata (#17)
        for t in order:
            out[(t, "reason")] = np.where(outside, REASON_NODATA, out[(t, "reason")]).astype(
                out[(t, "reason")].dtype
            )
    return out, best_use(scores, grades_, order), extra


def _read_official(ds_or_paths: Mapping, window) -> dict:
    out = {}
    for k, src in ds_or_paths.items():
        if isinstance(src, (str, Path)):
            with rasterio.open(src) as ds:
                out[k] = ds.read(1, window=window)
        else:
            out[k] = src.read(1, window=window)
    return out


def _block_task(task: tuple) -> tuple[dict, tuple, dict]:
    """One block read from the layer files and evaluated (a task of `map_blocks`)."""
    paths, needed, nodata, comps, order, win, off = task
    window = Window(*win)
    raw = {}
    for n in needed:
        with rasterio.open(paths[n]) as ds:
            raw[n] = ds.read(1, window=window)
    official = None
    if off is not None:
        arrs = _read_official(off["paths"], window)
        county = arrs.pop("__county__")
        official = {"codes": arrs, "county": county, "cfg": off["cfg"]}
    return _compute_block(raw, needed, nodata, comps, order, official)


def suitability_files(
    layer_paths: Mapping[str, str | Path],
    out_dir: str | Path,
    suit_cfg: Mapping,
    classes_df: pd.DataFrame,
    block_rows: int = 512,
    dask: Mapping | None = None,
    block_cols: int | None = None,
    official: Mapping[str, str | Path] | None = None,
    county: str | Path | None = None,
    reach: str = "",
) -> dict[str, Path]:
    """Evaluate every target of `suit_cfg` block by block; returns {output key: path}.

    Blocks are `block_rows` x `block_cols` (default: square) windows in row-major order, so
    memory is bounded by the block whatever the width of the reach.

    `dask`: the ``dask`` config (`nxgeo.parallel`): blocks may be evaluated on local threads,
    processes or a dask.distributed cluster; this process writes them in order, so the output
    bytes do not depend on the scheduler.

    Keys: ``suit_<target>_score|grade|reason``, ``best_use``, ``best_use_runner_up``,
    ``best_use_score``, ``reason_legend_csv``, ``reason_legend_json``, ``best_use_legend``,
    ``grade_legend``. Raises ConfigError for a bad spec, InputError for a missing layer or a
    layer on another grid.

    `official`: {layer: coded raster} of the department's own evaluation layers
    (`nxgeo.suitability.official`, rules in ``suit_cfg["official"]``) with `county` (the
    reach's zone_county.tif): the targets' grades follow them, and the outputs add
    ``official_disagreement.csv`` (key ``official_disagreement``; `reach` names the rows) and
    ``official_disagree_<layer>_<target>.tif`` per grade target.
    """
    block_cols = block_rows if block_cols is None else block_cols
    if block_rows < 1 or block_cols < 1:
        raise ValueError(f"block size must be >= 1, got {block_rows} x {block_cols}")
    out_dir = Path(out_dir)
    specs = parse_all(suit_cfg, classes_df, layers=list(layer_paths))
    order = best_use_order(suit_cfg)
    comps = {name: compile_target(specs[name], classes_df) for name in order}
    needed = sorted(set().union(*(c.layers for c in comps.values())))
    missing = [n for n in needed if n not in layer_paths]
    if missing:  # pragma: no cover - parse_all already checks layer names
        raise InputError(f"suitability needs layer(s) {', '.join(missing)}")

    outputs: dict[str, Path] = {}
    with contextlib.ExitStack() as stack:
        src = {n: stack.enter_context(rasterio.open(layer_paths[n])) for n in needed}
        ref_name = "landuse"
        ref = src[ref_name]
        for n, ds in src.items():
            _check_grid(n, ds, ref_name, ref)
        nodata = {n: ds.nodata for n, ds in src.items()}
        off_src = {}
        if official:
            if county is None:
                raise InputError(
                    "suitability: the official layers need the reach's county "
                    "raster (zone_county.tif) for the disagreement table"
                )
            off_src = {k: stack.enter_context(rasterio.open(p)) for k, p in official.items()}
            off_src["__county__"] = stack.enter_context(rasterio.open(county))
            for k, ds in off_src.items():
                _check_grid(k, ds, ref_name, ref)
        off_cfg = suit_cfg["official"] if official else None
        grade_pairs = [
            (k, t)
            for k in (official or {})
            for t in order
            if t in suit_cfg["official"][k]["grade_targets"]  # = off_cfg
        ]

        def open_out(key: str, fname: str, dtype: str, nd, description: str, tags: dict):
            final = out_dir / fname
            # a COG with overviews, copied from an uncompressed temporary when the stack
            # closes (the dataset first), only when every block is in (#17)
            tmp = stack.enter_context(cog_output(final))
            ds = stack.enter_context(
                rasterio.open(tmp, "w", **uncompressed(_profile(ref, dtype, nd)))
            )
            ds.set_band_description(1, description)
            ds.update_tags(**tags)
            outputs[key] = final
            return ds

        dst: dict[tuple[str, str], rasterio.io.DatasetWriter] = {}
        for t in order:
            sp = specs[t]
            label = f"{sp.name_zh} / {sp.name_en}"
            dst[(t, "score")] = open_out(
                f"suit_{t}_score",
                f"suit_{t}_score.tif",
                "uint8",
                SCORE_NODATA,
                f"suitability score 0-100, {label}",
                {"target": t},
            )
            dst[(t, "grade")] = open_out(
                f"suit_{t}_grade",
                f"suit_{t}_grade.tif",
                "uint8",
                GRADE_NODATA,
                f"suitability grade, {label}",
                {
                    "target": t,
                    "codes": "1 suitable 适宜; 2 moderately suitable 一般适宜; "
                    "3 unsuitable 不适宜; 4 excluded 禁止; 255 nodata",
                    "legend": "grade_legend.csv",
                },
            )
            dst[(t, "reason")] = open_out(
                f"suit_{t}_reason",
                f"suit_{t}_reason.tif",
                "uint16",
                REASON_NODATA,
                f"exclusion reason bits, {label}",
                {"target": t, "legend": "reason_legend.csv"},
            )
        best_tags = {
            "order": ",".join(order),
            "legend": "best_use_legend.csv",
            "codes": "0 none; "
            + "; ".join(f"{i} {t}" for i, t in enumerate(order, 1))
            + "; 255 nodata",
        }
        d_best = open_out("best_use", "best_use.tif", "uint8", BEST_NODATA, "best use", best_tags)
        d_run = open_out(
            "best_use_runner_up",
            "best_use_runner_up.tif",
            "uint8",
            BEST_NODATA,
            "runner-up use",
            best_tags,
        )
        d_bsc = open_out(
            "best_use_score",
            "best_use_score.tif",
            "uint8",
            SCORE_NODATA,
            "score of the best use",
            {"legend": "best_use_legend.csv"},
        )
        d_dis = {
            (k, t): open_out(
                f"official_disagree_{k}_{t}",
                f"official_disagree_{k}_{t}.tif",
                "uint8",
                NOT_COMPARED,
                f"computed vs official grade, {t} / official {k}",
                {
                    "codes": "0 agree; 1 computed better than official; 2 computed worse; "
                    "3 computed excluded where official grades; 255 not compared"
                },
            )
            for k, t in grade_pairs
        }
        counts: dict = {pair: [] for pair in grade_pairs}

        windows = [
            Window(c0, r0, min(block_cols, ref.width - c0), min(block_rows, ref.height - r0))
            for r0 in range(0, ref.height, block_rows)
            for c0 in range(0, ref.width, block_cols)
        ]

        def official_block(win):
            if not official:
                return None
            arrs = _read_official(off_src, win)
            cty = arrs.pop("__county__")
            return {"codes": arrs, "county": cty, "cfg": off_cfg}

        results: Iterator[tuple[dict, tuple, dict]]
        if runs_inline(dask):
            results = (
                _compute_block(
                    {n: ds.read(1, window=win) for n, ds in src.items()},
                    needed,
                    nodata,
                    comps,
                    order,
                    official_block(win),
                )
                for win in windows
            )
        else:
            paths = {n: str(layer_paths[n]) for n in needed}
            off_task = (
                {
                    "paths": {
                        **{k: str(p) for k, p in official.items()},
                        "__county__": str(county),
                    },
                    "cfg": off_cfg,
                }
                if official
                else None
            )
            tasks = (
                (
                    paths,
                    needed,
                    nodata,
                    comps,
                    order,
                    (w.col_off, w.row_off, w.width, w.height),
                    off_task,
                )
                for w in windows
            )
            results = map_blocks(_block_task, tasks, dask)
        for win, (arrays, (b, ru, bs), extra) in zip(windows, results):
            for key, a in arrays.items():
                dst[key].write(a, 1, window=win)
            d_best.write(b, 1, window=win)
            d_run.write(ru, 1, window=win)
            d_bsc.write(bs, 1, window=win)
            for pair, a in extra["disagree"].items():
                d_dis[pair].write(a, 1, window=win)
                counts[pair].append(extra["counts"][pair])
        pixel_ha = abs(ref.transform.a * ref.transform.e) / 1e4

    csv_path, json_path = write_reason_legend(out_dir / "reason_legend.csv")
    outputs["reason_legend_csv"], outputs["reason_legend_json"] = csv_path, json_path
    targets_cfg = suit_cfg["targets"]
    legend = best_use_legend_df(order, targets_cfg)
    outputs["best_use_legend"] = write_csv(legend, out_dir / "best_use_legend.csv")
    write_json(legend.to_dict(orient="records"), out_dir / "best_use_legend.json")
    outputs["best_use_legend_json"] = out_dir / "best_use_legend.json"
    outputs["grade_legend"] = write_csv(grade_legend_df(), out_dir / "grade_legend.csv")
    if official:
        frames = {
            pair: (
                pd.concat(c, ignore_index=True)
                if c
                else pd.DataFrame(columns=["adcode", "computed_grade", "official_code", "cells"])
            )
            for pair, c in counts.items()
        }
        table = (
            disagreement_table(frames, reach, pixel_ha)
            if frames
            else pd.DataFrame(columns=DISAGREE_COLUMNS)
        )
        outputs["official_disagreement"] = write_csv(table, out_dir / "official_disagreement.csv")
    return outputs


def read_outputs(outputs: Mapping[str, Path]) -> dict[str, np.ndarray]:
    """Read every raster output back (for tests and small reports)."""
    out = {}
    for k, p in outputs.items():
        if str(p).endswith(".tif"):
            with rasterio.open(p) as ds:
                out[k] = ds.read(1)
    return out
