"""dask schedulers for the block-wise raster steps: a real two-process dask.distributed cluster
(TCP on loopback) gives the same bytes as the default in-process run, for the reprojection
onto the grid and for the suitability overlay."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from conftest import ROOT
from pyproj import Transformer
from rasterio.transform import Affine, from_origin

from nxgeo.grid import Grid
from nxgeo.parallel import dask_settings, map_blocks, runs_inline
from nxgeo.prepare import reproject_to_grid
from nxgeo.suitability import suitability_files
from nxgeo.suitability.spec import MASK_LAYERS

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'dask[distributed]')"
)


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, talking TCP on 127.0.0.1."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as lc:
        assert lc.scheduler_address.startswith("tcp://127.0.0.1:")
        yield lc.scheduler_address


def _square(x):
    return x * x


def test_settings_and_order(cluster):
    assert dask_settings(None) == {
        "scheduler": "threads",
        "address": None,
        "num_workers": 1,
        "in_flight": 2,
    }
    assert runs_inline(None) and runs_inline({"scheduler": "synchronous", "num_workers": 4})
    assert not runs_inline({"scheduler": "threads", "num_workers": 2})
    assert dask_settings({"address": cluster})["scheduler"] == "distributed"
    with pytest.raises(ValueError, match="address"):
        dask_settings({"scheduler": "distributed"})
    with pytest.raises(ValueError, match="scheduler"):
        dask_settings({"scheduler": "mpi"})
    expect = [i * i for i in range(23)]
    for cfg in (
        None,
        {"scheduler": "threads", "num_workers": 2, "in_flight": 3},
        {"address": cluster, "in_flight": 4},
    ):
        assert list(map_blocks(_square, range(23), cfg)) == expect


def _geographic_dem(tmp_path):
    rng = np.random.default_rng(3)
    tr = from_origin(106.0, 37.06, 0.001, 0.001)
    z = (1200 + np.cumsum(rng.normal(0, 3, (70, 80)), axis=1)).astype(np.float32)
    z[:5, :6] = -9999.0
    path = tmp_path / "dem4490.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=80,
        height=70,
        count=1,
        dtype="float32",
        crs="EPSG:4490",
        transform=tr,
        nodata=-9999.0,
    ) as dst:
        dst.write(z, 1)
    x0, y0 = Transformer.from_crs("EPSG:4490", "EPSG:4507", always_xy=True).transform(106.0, 37.06)
    grid = Grid(
        "EPSG:4507",
        from_origin(np.floor(x0 / 60) * 60 - 120, np.floor(y0 / 60) * 60, 60, 60),
        130,
        120,
    )
    return path, grid


@pytest.mark.parametrize("categorical", [False, True])
def test_reprojection_on_a_cluster_is_byte_identical(cluster, tmp_path, categorical):
    src, grid = _geographic_dem(tmp_path)
    default = reproject_to_grid(src, tmp_path / "default.tif", grid, categorical, block_size=16)
    on_cluster = reproject_to_grid(
        src,
        tmp_path / "cluster.tif",
        grid,
        categorical,
        block_size=16,
        dask={"address": cluster, "in_flight": 3},
    )
    threads = reproject_to_grid(
        src,
        tmp_path / "threads.tif",
        grid,
        categorical,
        block_size=16,
        dask={"scheduler": "threads", "num_workers": 2},
    )
    assert sha(default) == sha(on_cluster) == sha(threads)
    with rasterio.open(default) as ds:
        a = ds.read(1)
    assert (a != ds.nodata).sum() > 1000  # the test raster overlaps the grid


def test_suitability_on_a_cluster_is_byte_identical(cluster, tmp_path):
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as f:
        suit = yaml.safe_load(f)["suitability"]
    classes = pd.read_csv(ROOT / "config" / "landuse" / "classes.csv")
    h, w = 70, 45
    rng = np.random.default_rng(11)
    layers = {
        "slope": rng.uniform(0, 40, (h, w)),
        "elevation": rng.uniform(1000, 3000, (h, w)),
        "precipitation": rng.uniform(150, 700, (h, w)),
        "distance_water": rng.uniform(0, 20000, (h, w)),
        "distance_roads": rng.uniform(0, 20000, (h, w)),
        "distance_settlements": rng.uniform(0, 25000, (h, w)),
        "ls": rng.uniform(0, 10, (h, w)),
        "water_quota_modulus": rng.uniform(0, 40, (h, w)),
    }
    layers = {k: v.astype(np.float32) for k, v in layers.items()}
    layers["slope"][3, :9] = -9999.0
    layers["landuse"] = rng.integers(0, 14, (h, w)).astype(np.uint8)
    for m in MASK_LAYERS:
        layers[m] = (rng.random((h, w)) < 0.2).astype(np.uint8)
    tr = Affine(30, 0, 500000, 0, -30, 4000000)
    paths = {}
    for name, arr in layers.items():
        paths[name] = tmp_path / "in" / f"{name}.tif"
        paths[name].parent.mkdir(exist_ok=True)
        nodata = -9999.0 if arr.dtype.kind == "f" else (0 if name == "landuse" else 255)
        with rasterio.open(
            paths[name],
            "w",
            driver="GTiff",
            height=h,
            width=w,
            count=1,
            dtype=arr.dtype.name,
            crs="EPSG:4507",
            transform=tr,
            nodata=nodata,
        ) as ds:
            ds.write(arr, 1)
    a = suitability_files(paths, tmp_path / "default", suit, classes, block_rows=8)
    b = suitability_files(
        paths, tmp_path / "cluster", suit, classes, block_rows=8, dask={"address": cluster}
    )
    assert a.keys() == b.keys()
    differ = [k for k in a if sha(a[k]) != sha(b[k])]
    assert not differ, f"outputs differ between the default and the cluster run: {differ}"
    with rasterio.open(a["best_use"]) as ds:
        assert len(np.unique(ds.read(1))) > 2
