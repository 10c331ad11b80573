"""Adapter: greening ledger (with trades) and county carbon balance."""

from pathlib import Path

from nxgeo.ledgers import ledgers_year
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
i, w = snakemake.input, snakemake.wildcards
ledgers_year(
    i.transitions,
    i.services,
    i.inventory,
    i.targets,
    i.emissions,
    int(w.year_a),
    int(w.year_b),
    snakemake.params.ledgers,
    snakemake.params.landuse,
    i.prices,
    Path(snakemake.output.ledger).parent,
    water_capacity_csv=i.water_capacity,
    demand_csv=i.demand,
)
