"""Adapter: the maps of one survey year."""

from nxgeo.logs import setup_logging
from nxgeo.maps import maps_year

setup_logging(snakemake.log[0], step=snakemake)
i, p = snakemake.input, snakemake.params
files = {
    "vectors": i.vectors,
    "grid": i.grid,
    "dem": i.dem,
    "candidates": i.candidates,
    "landuse": [i.landuse],
    "best_use": list(i.best_use),
    "best_use_legend": i.best_use_legend,
    "grades": {t: list(i[f"grade_{t}"]) for t in p.targets},
}
maps_year(
    int(snakemake.wildcards.year),
    files,
    p.classes_table,
    p.subset,
    snakemake.output[0],
    county_names=getattr(snakemake.input, "county_names", None),
    workers=snakemake.threads,
)
