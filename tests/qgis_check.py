"""Open a year's results in real QGIS (PyQGIS, headless) and report what a GIS user sees (#17).

Run with the system Python that has PyQGIS (Debian: ``apt-get install qgis python3-qgis``), not
the project's virtual environment:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py results/2024 out.png

Prints one JSON object: for the project ``nxgeo_<year>.qgz`` every layer (valid, renderer type,
legend entries, the distinct values of a categorical raster), for every ``.tif`` of the year
opened on its own (its ``.qml`` sidecar loads by default) the same, and the rendered PNG's
share of non-background pixels and number of colours. tests/test_qgis.py asserts on it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage


def distinct_values(path: str) -> list[int] | None:
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    if band.DataType in (gdal.GDT_Float32, gdal.GDT_Float64):
        return None
    a = band.ReadAsArray()
    nd = band.GetNoDataValue()
    if nd is not None:
        a = a[a != nd]
    return [int(v) for v in np.unique(a)]


def raster_info(layer) -> dict:
    r = layer.renderer()
    legend = r.legendSymbologyItems() if r is not None else []
    out = {
        "valid": layer.isValid(),
        "renderer": r.type() if r else None,
        "legend": [label for label, _c in legend],
        "source": layer.source(),
    }
    if r is not None and r.type() == "paletted":
        out["classes"] = [int(c.value) for c in r.classes()]
    return out


def vector_info(layer) -> dict:
    r = layer.renderer()
    out = {
        "valid": layer.isValid(),
        "renderer": r.type() if r else None,
        "features": layer.featureCount(),
        "source": layer.source(),
    }
    if r is not None and r.type() == "categorizedSymbol":
        out["categories"] = [str(c.value()) for c in r.categories()]
        out["labels"] = [c.label() for c in r.categories()]
    fields = layer.fields()
    out["aliases"] = {f.name(): f.alias() for f in fields}
    out["widgets"] = {f.name(): f.editorWidgetSetup().type() for f in fields}
    out["types"] = {f.name(): f.typeName() for f in fields}
    return out


def render(project, png: str, size=(900, 700)) -> dict:
    root = project.layerTreeRoot()
    layers = [n.layer() for n in root.findLayers() if n.isVisible() and n.layer() is not None]
    ms = QgsMapSettings()
    ms.setLayers(layers)
    ms.setDestinationCrs(project.crs())
    ext = None
    for lyr in layers:
        if isinstance(lyr, QgsRasterLayer) and "landuse" not in lyr.source():
            e = lyr.extent()
            ext = e if ext is None else ext.combineExtentWith(e) or ext
    ms.setExtent(ext if ext is not None else layers[0].extent())
    ms.setOutputSize(QSize(*size))
    ms.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(ms)
    job.start()
    job.waitForFinished()
    img = QImage(job.renderedImage())
    img.save(png, "PNG")
    px = [img.pixel(x, y) for y in range(0, img.height(), 5) for x in range(0, img.width(), 5)]
    rgb = np.array([((p >> 16) & 255, (p >> 8) & 255, p & 255) for p in px])
    non_white = float(np.mean(np.any(rgb < 250, axis=1)))
    colours = len({tuple(c) for c in rgb})
    return {
        "png": png,
        "layers_drawn": [lyr.name() for lyr in layers],
        "non_background_share": non_white,
        "colours": int(colours),
    }


def main(year_dir: str, png: str) -> dict:
    year_dir = Path(year_dir)
    app = QgsApplication([], True)  # GUI on (offscreen): rendering needs fonts
    app.initQgis()
    if True:  # no exitQgis(): PyQGIS 3.22 crashes tearing down; the caller exits the process
        qgz = next(year_dir.glob("nxgeo_*.qgz"))
        project = QgsProject.instance()
        ok = project.read(str(qgz))
        report = {
            "project": str(qgz),
            "read": bool(ok),
            "layers": {},
            "rasters": {},
            "groups": [g.name() for g in project.layerTreeRoot().children()],
        }
        for lid, layer in project.mapLayers().items():
            info = raster_info(layer) if isinstance(layer, QgsRasterLayer) else vector_info(layer)
            info["name"] = layer.name()
            report["layers"][lid] = info
        print("project read", file=sys.stderr, flush=True)
        for tif in sorted(year_dir.rglob("*.tif")):
            layer = QgsRasterLayer(str(tif), tif.stem, "gdal")
            info = raster_info(layer)
            info["values"] = distinct_values(str(tif))
            report["rasters"][str(tif.relative_to(year_dir))] = info
        gpkg = year_dir / "candidates.gpkg"
        report["gpkg"] = {}
        for name in ("homestead_greening", "mine_remediation", "sand_control"):
            layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
            if layer.isValid():
                report["gpkg"][name] = vector_info(layer)
        print("rendering", file=sys.stderr, flush=True)
        report["render"] = render(project, png)
        return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2]), ensure_ascii=False), flush=True)
    os._exit(0)  # PyQGIS 3.22 may crash while tearing down Qt; the report is out
