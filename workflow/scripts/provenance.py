"""Adapter: provenance.json of one survey year."""

from pathlib import Path

from nxgeo.logs import setup_logging
from nxgeo.provenance import provenance_year

setup_logging(snakemake.log[0], step=snakemake)
inputs = {}
for key, value in snakemake.input.items():
    if key in ("outputs", "maps"):
        continue
    if isinstance(value, str):
        inputs[key] = value
    elif key == "landuse_tables":  # the class table and every scheme table
        inputs.update({f"landuse_table_{Path(f).stem}": f for f in value})
    else:  # a data file and its sidecars: provenance hashes the sidecars with the file
        inputs[key] = value[0] if len(value) else None
provenance_year(
    snakemake.params.config,
    inputs,
    int(snakemake.wildcards.year),
    Path(snakemake.log[0]).parent,
    snakemake.output[0],
)
