"""The GEP coefficient table (inputs.tables.gep_coefficients, docs/gep.md).

One row per service, parameter and (optionally) land-use class::

    service,parameter,class,value,unit,source,placeholder
    carbon_sequestration,rate,forest,1.2,t C/ha/yr,"...",yes
    carbon_sequestration,maturation_years,,20,yr,"...",yes

A row with an empty ``class`` is a scalar; rows with a class form a per-class table (canonical
class names, ``default`` for the classes not listed). `Coefficients.scalar` and
`Coefficients.lut` raise an error naming the missing row, so a table that lacks a coefficient
never falls back silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .params import class_lut

REQUIRED = ("service", "parameter", "class", "value", "unit", "source", "placeholder")


@dataclass
class Coefficients:
    table: pd.DataFrame
    source: str = "gep_coefficients table"

    def _rows(self, service: str, parameter: str) -> pd.DataFrame:
        t = self.table
        return t[(t["service"] == service) & (t["parameter"] == parameter)]

    def scalar(self, service: str, parameter: str) -> float:
        rows = self._rows(service, parameter)
        rows = rows[rows["class"] == ""]
        if rows.empty:
            raise InputError(
                f"{self.source}: no row `{service},{parameter},,<value>,<unit>,"
                f"<source>,<placeholder>`; add it (see docs/gep.md)"
            )
        return float(rows["value"].iloc[0])

    def per_class(self, service: str, parameter: str) -> dict[str, float]:
        rows = self._rows(service, parameter)
        rows = rows[rows["class"] != ""]
        if rows.empty:
            raise InputError(
                f"{self.source}: no per-class rows for {service}.{parameter}; add "
                f"one row per canonical class (or a `default` row)"
            )
        return dict(zip(rows["class"], rows["value"].astype(float)))

    def lut(self, service: str, parameter: str, classes: pd.DataFrame) -> np.ndarray:
        """Lookup array (256) by canonical class id; NaN for a class neither listed nor
        covered by `default` (lookups on such pixels raise an error naming the class)."""
        return class_lut(
            self.per_class(service, parameter), classes, f"{self.source} {service}.{parameter}"
        )

    def unit(self, service: str, parameter: str) -> str:
        rows = self._rows(service, parameter)
        return str(rows["unit"].iloc[0]) if len(rows) else ""


def read_coefficients(path_or_df) -> Coefficients:
    """Read and check the coefficient table (columns REQUIRED; value numeric and >= 0;
    placeholder yes/no; one row per service, parameter and class)."""
    if isinstance(path_or_df, Coefficients):
        return path_or_df
    if isinstance(path_or_df, pd.DataFrame):
        df, src = path_or_df.copy(), "gep_coefficients table"
    else:
        path = Path(path_or_df)
        if not path.exists():
            raise InputError(
                f"{path}: GEP coefficient table not found (inputs.tables.gep_coefficients)"
            )
        df, src = pd.read_csv(path, encoding="utf-8-sig", dtype={"class": str}), str(path)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{src}: column(s) {missing} missing; expected {list(REQUIRED)}")
    for c in ("service", "parameter", "class", "unit", "source", "placeholder"):
        df[c] = df[c].fillna("").astype(str).str.strip()
    vals = pd.to_numeric(df["value"], errors="coerce")
    bad = vals.isna() | (vals < 0)
    if bad.any():
        raise InputError(
            f"{src}: value must be a number >= 0 (lines {list(df.index[bad][:5] + 2)})"
        )
    df["value"] = vals.astype(float)
    badp = ~df["placeholder"].isin(["yes", "no"])
    if badp.any():
        raise InputError(
            f"{src}: placeholder must be yes or no (lines {list(df.index[badp][:5] + 2)})"
        )
    dup = df.duplicated(["service", "parameter", "class"])
    if dup.any():
        rows = df.loc[dup, ["service", "parameter", "class"]].astype(str).agg(".".join, axis=1)
        raise InputError(f"{src}: duplicate row(s) {sorted(rows)[:5]}")
    return Coefficients(df.reset_index(drop=True), src)
