"""Adapter: the year's candidate layers and county tables in the formats the department files."""

from nxgeo.export import export_year
from nxgeo.logs import setup_logging

setup_logging(snakemake.log[0], step=snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
export_year(i.candidates, dict(zip(p.tables, i.tables)), o[0], pathways=p.pathways, crs=p.crs)
