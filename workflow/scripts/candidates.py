"""Adapter: candidate parcels of one reach (before the water allocation)."""

from pathlib import Path

from nxgeo.candidates import candidates_reach
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
p = snakemake.params
candidates_reach(
    Path(snakemake.input.zones).parent,
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
