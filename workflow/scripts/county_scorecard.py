"""Adapter: the county assessment scorecard of one year."""

from nxgeo.layout import files_by_reach
from nxgeo.logs import setup_logging
from nxgeo.scorecard import county_scorecard

setup_logging(snakemake.log[0], step=snakemake)
i, p = snakemake.input, snakemake.params
county_scorecard(
    files_by_reach(snakemake.input, p.reaches),
    int(snakemake.wildcards.year),
    i.vectors,
    i.classes,
    snakemake.output[0],
    cfg_scorecard=p.scorecard,
    fvc_by_class=p.fvc_by_class,
    gep_csv=i.gep,
    candidates_gpkg=i.candidates,
    water_balance_csv=i.water_balance,
    compare_from=p.compare_from,
    gep_change_csv=i.get("gep_change"),
    cropland_csv=i.get("cropland"),
    greening_csv=i.get("greening"),
    carbon_csv=i.get("carbon"),
    programme_csv=i.programme,
    mu_per_ha=p.mu_per_ha,
)
