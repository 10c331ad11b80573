"""Adapter: candidate parcels of one reach (before the water allocation)."""

from pathlib import Path

from nxgeo.candidates.stage import candidates_reach, reach_rasters
from nxgeo.logs import setup_logging
from nxgeo.suitability import best_use_order

setup_logging(snakemake.log[0], step=snakemake)
p = snakemake.params
names = [Path(rel).name for rel in reach_rasters(best_use_order(p.suitability))]
candidates_reach(
    {n: snakemake.input[n] for n in names},
    snakemake.input.vectors,
    snakemake.wildcards.reach,
    int(snakemake.wildcards.year),
    p.pathways,
    p.suitability,
    p.classes_table,
    snakemake.output.gpkg,
    demand_csv=snakemake.input.demand,
    water_cfg=p.water,
    mu_per_ha=p.mu_per_ha,
    out_stats=snakemake.output.stats,
    hazard_dem=snakemake.input.hazard_dem,
)
