"""Adapter: the year's budgeted restoration programme (nxgeo.programme)."""

from nxgeo.logs import setup_logging
from nxgeo.programme import programme_year

setup_logging(snakemake.log[0], step=snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
programme_year(
    i.candidates,
    i.water_balance,
    int(snakemake.wildcards.year),
    p.programme,
    o.table,
    o.gpkg,
    o.summary,
    o.marginal,
    o.reference,
)
