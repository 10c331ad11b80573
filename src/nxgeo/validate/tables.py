"""Validation of the CSV tables against their row schemas (the contract's columns,
:mod:`nxgeo.validate.contract`).

Row schemas are JSON-Schema-like: ``required`` columns, ``properties`` with type / minimum /
maximum / pattern / minLength, ``x-key`` (columns unique together) and ``x-covers: [counties,
years]`` (a row for every county adcode of the counties layer x every configured year).
Row numbers in messages count data rows from 1 (the header is not a row); in a spreadsheet
that is one row further down.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .. import keys
from .contract import TABLE
from .contract import item as contract_item
from .core import Context
from .report import examples, fmt_num, plural

MAX_CELL_PROBLEMS = 10  # per column and kind; the rest is summarised in one problem
PATTERN_WORDS = {
    "^[0-9]{6}$": "a 6-digit county code (adcode, e.g. 640104)",
    "^(yes|no)$": "yes or no",
    "^(public|operator|social_capital|legacy)$": "one of public, operator, social_capital, legacy",
}


def _numkey(v) -> str:
    """Numbers as key text: 2023.0 -> '2023', 1.5 -> '1.5'."""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _types(spec: dict) -> list[str]:
    t = spec.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def row_schema(name: str) -> dict | None:
    """The row schema of a declared table (None for a table the contract does not declare)."""
    declared = contract_item(TABLE, name)
    return declared.row_schema() if declared else None


def read_csv(ctx: Context, item: str, rel: str, path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=False
        )
    except UnicodeDecodeError:
        ctx.error(
            item,
            path,
            f"{rel}: is not UTF-8 text (probably GBK/ANSI, or a spreadsheet file renamed to "
            ".csv); in Excel/WPS use 'Save as ▸ CSV UTF-8 (逗号分隔)'.",
        )
    except pd.errors.EmptyDataError:
        ctx.error(item, path, f"{rel}: the file is empty; it needs a header line and data rows.")
    except Exception as exc:
        reason = str(exc).split("\n")[0]
        ctx.error(
            item,
            path,
            f"{rel}: could not be read as CSV ({reason}); check the separators "
            "(commas) and quotes, e.g. by re-saving it as CSV UTF-8.",
        )
    return None


class _Cells:
    """Collects per-cell problems, at most MAX_CELL_PROBLEMS per (column, kind)."""

    def __init__(self, ctx: Context, item: str, path, rel: str):
        self.ctx, self.item, self.path, self.rel = ctx, item, path, rel

    def report(self, col: str, kind: str, rows: list[tuple[int, str]], fmt, advice: str) -> None:
        for idx, value in rows[:MAX_CELL_PROBLEMS]:
            n = idx + 1
            self.ctx.error(
                self.item,
                self.path,
                f"{self.rel}: row {n}, column {col}: {fmt(value)} (row {n} = line "
                f"{n + 1} of the file, after the header); {advice}",
                row=n,
                column=col,
                value=value,
                kind=kind,
            )
        rest = len(rows) - MAX_CELL_PROBLEMS
        if rest > 0:
            more = [idx + 1 for idx, _ in rows[MAX_CELL_PROBLEMS:]]
            self.ctx.error(
                self.item,
                self.path,
                f"{self.rel}: column {col}: {plural(rest, 'more cell')} with the same "
                f"problem ({kind}) in rows {examples(more, 10)}; {advice}",
                column=col,
                kind=kind,
                rows=more[:200],
            )


def _check_cells(cells: _Cells, df: pd.DataFrame, schema: dict) -> dict[str, pd.Series]:
    """Type/range/pattern checks per column; returns normalised key values per column."""
    required = set(schema.get("required") or [])
    norm: dict[str, pd.Series] = {}
    for col, spec in (schema.get("properties") or {}).items():
        if col not in df.columns:
            continue
        types = _types(spec)
        raw = df[col].astype(str)
        s = raw.str.strip()
        empty = s == ""
        if col in required and "null" not in types and empty.any():
            cells.report(
                col,
                "empty",
                [(i, "") for i in s.index[empty]],
                lambda v: "empty cell",
                "every row needs a value here.",
            )
        if "number" in types or "integer" in types:
            num = pd.to_numeric(s.where(~empty), errors="coerce")
            bad = ~empty & num.isna()
            cells.report(
                col,
                "not a number",
                list(zip(s.index[bad], raw[bad])),
                lambda v: f"{v!r} is not a number",
                "write a plain number (no units, no thousands separators; '.' as the "
                "decimal point).",
            )
            ok = ~empty & ~bad
            # inf, -inf, nan and numbers beyond the float range (1e400) parse as numbers but
            # are not values a budget or a price can have
            infinite = ok & ~np.isfinite(num.astype(float))
            cells.report(
                col,
                "not finite",
                list(zip(s.index[infinite], raw[infinite])),
                lambda v: f"{v!r} is not a finite number",
                "write the real value (an allocation, a price ... is never infinite).",
            )
            ok &= ~infinite
            if "integer" in types and "number" not in types:
                frac = ok & (num % 1 != 0)
                cells.report(
                    col,
                    "not a whole number",
                    list(zip(s.index[frac], raw[frac])),
                    lambda v: f"{v!r} is not a whole number",
                    "write an integer.",
                )
                ok &= ~frac
            lo, hi = spec.get("minimum"), spec.get("maximum")
            if lo is not None:
                below = ok & (num < lo)
                what = "is negative" if lo == 0 else f"is below the minimum {fmt_num(lo)}"
                cells.report(
                    col,
                    "below minimum",
                    list(zip(s.index[below], s[below])),
                    lambda v, w=what: f"{v} {w}",
                    f"values must be >= {fmt_num(lo)}.",
                )
            if hi is not None:
                above = ok & (num > hi)
                cells.report(
                    col,
                    "above maximum",
                    list(zip(s.index[above], s[above])),
                    lambda v, hi=hi: f"{v} is above the maximum {fmt_num(hi)}",
                    f"values must be <= {fmt_num(hi)}.",
                )
            norm[col] = num.where(ok).map(lambda v: None if pd.isna(v) else _numkey(v))
        else:
            pattern = spec.get("pattern")
            is_adcode = pattern == keys.ADCODE_RE.pattern
            if pattern:
                # county codes through the normaliser processing uses (nxgeo.keys)
                rx = re.compile(pattern)
                ok_text = (
                    s.map(lambda v: keys.adcode_or_none(v) is not None)
                    if is_adcode
                    else s.map(lambda v, rx=rx: bool(rx.match(v)))
                )
                bad = ~empty & ~ok_text
                want = PATTERN_WORDS.get(pattern, f"text matching {pattern}")
                hint = (
                    " (if a spreadsheet turned the codes into numbers such as 640104.0, "
                    "format the column as text)"
                    if "adcode" in want
                    else ""
                )
                cells.report(
                    col,
                    "wrong format",
                    list(zip(s.index[bad], raw[bad])),
                    lambda v, w=want: f"{v!r} is not {w}",
                    f"fix the value{hint}.",
                )
            min_len = spec.get("minLength")
            if min_len and col not in required:
                short = ~empty & (s.str.len() < min_len)
                cells.report(
                    col,
                    "too short",
                    list(zip(s.index[short], raw[short])),
                    lambda v: f"{v!r} is too short",
                    "write the full value.",
                )
            norm[col] = s.map(keys.adcode_or_none) if is_adcode else s.where(~empty, None)
    return norm


def _check_key(ctx: Context, item: str, path, rel: str, df, schema: dict, norm: dict) -> None:
    key = [c for c in schema.get("x-key") or [] if c in df.columns]
    if not key or len(key) != len(schema.get("x-key") or []):
        return
    cols = [norm.get(c, df[c].astype(str).str.strip()) for c in key]
    keys = pd.Series(list(zip(*cols)), index=df.index)
    dup = keys.duplicated(keep=False)
    if dup.any():
        groups: dict = {}
        for i in keys.index[dup]:
            groups.setdefault(keys[i], []).append(i + 1)
        shown = "; ".join(
            f"({', '.join(map(str, k))}) in rows {', '.join(map(str, rows))}"
            for k, rows in list(groups.items())[:5]
        )
        more = f" … ({len(groups) - 5} more)" if len(groups) > 5 else ""
        ctx.error(
            item,
            path,
            f"{rel}: duplicate rows for ({', '.join(key)}): {shown}{more}; each combination "
            "must appear once — delete or merge the duplicates.",
            key=key,
            duplicates=[{"key": list(k), "rows": r} for k, r in groups.items()][:50],
        )


def _check_covers(ctx: Context, item: str, path, rel: str, df, schema: dict, norm: dict) -> None:
    covers = schema.get("x-covers") or []
    if covers != ["counties", "years"] or ctx.counties is None:
        return
    if "adcode" not in df.columns or "year" not in df.columns:
        return
    years = [int(y) for y in ctx.cfg.get("years") or [] if str(y).strip().isdigit()]
    ad = norm.get("adcode", df["adcode"].astype(str).str.strip())
    yr = norm.get("year", df["year"].astype(str).str.strip())
    have = {(a, y) for a, y in zip(ad, yr) if a is not None and y is not None}
    missing: dict[str, list[int]] = {}
    for code in sorted(ctx.counties):
        for y in years:
            if (code, _numkey(y)) not in have:
                missing.setdefault(code, []).append(y)
    if missing:
        n = sum(len(v) for v in missing.values())
        parts = [
            f"{c} {ctx.counties.get(c, '')} ({', '.join(map(str, ys))})".replace("  ", " ")
            for c, ys in missing.items()
        ]
        shown = "; ".join(parts[:10]) + (
            f" … ({len(parts) - 10} more counties)" if len(parts) > 10 else ""
        )
        ctx.error(
            item,
            path,
            f"{rel}: missing rows for {plural(n, 'county-year', 'county-years')}: {shown}. The "
            "table needs one row per county adcode of the counties layer and per configured "
            f"year ({', '.join(map(str, years))}); add the missing rows.",
            missing={c: ys for c, ys in missing.items()},
        )
    extra = sorted({a for a in ad if a is not None and a not in ctx.counties})
    if extra:
        ctx.warning(
            item,
            path,
            f"{rel}: rows for adcode(s) {examples(extra, 10)} that are not in the counties "
            "layer are ignored; check the codes.",
            extra=extra,
        )


def _check_semantics(ctx: Context, name: str, item: str, path, rel: str, norm: dict) -> None:
    """Cross-table rules: carbon densities for every class, water demand for every target use."""
    if name == "carbon_pools" and "lucode" in norm:
        classes_rel = (ctx.cfg.get("landuse") or {}).get("classes_table")
        if not isinstance(classes_rel, str) or not ctx.resolve(classes_rel).exists():
            return
        classes = pd.read_csv(ctx.resolve(classes_rel))
        have = set(norm["lucode"].dropna())
        missing = [
            (int(cid), can)
            for cid, can in zip(classes["class_id"], classes["canonical"])
            if _numkey(cid) not in have
        ]
        if missing:
            ctx.error(
                item,
                path,
                f"{rel}: no carbon densities for class(es) "
                f"{', '.join(f'{c} ({n})' for c, n in missing)} of {classes_rel}; add one row "
                "per class (lucode = class_id).",
                missing=[c for c, _ in missing],
            )
    if name == "water_demand" and "use" in norm:
        targets = list((ctx.cfg.get("suitability") or {}).get("targets") or {})
        have = set(norm["use"].dropna())
        missing_uses = [t for t in targets if t not in have]
        if missing_uses:
            ctx.error(
                item,
                path,
                f"{rel}: no water demand for target use(s) {', '.join(missing_uses)} "
                "(suitability.targets); add a row per use (m3/ha/yr).",
                missing=missing_uses,
            )
    if name == "unit_costs" and "pathway" in norm and "measure" in norm:
        from ..costs import MEASURES

        have = set(zip(norm["pathway"], norm["measure"]))
        pathways = [p for p in MEASURES if p in (ctx.cfg.get("pathways") or {})]
        missing_costs = [(p, m) for p in pathways for m in MEASURES[p] if (p, m) not in have]
        if missing_costs:
            ctx.error(
                item,
                path,
                f"{rel}: no unit cost for measure(s) "
                f"{', '.join(f'{p}/{m}' for p, m in missing_costs)}; add one row per pathway "
                "and measure (pathway,measure,unit_cost_cny_per_mu,funding,source,"
                "placeholder,note; docs/programme.md).",
                missing=[f"{p}/{m}" for p, m in missing_costs],
            )


def check_table(ctx: Context, name: str, rel: str) -> None:
    item = f"inputs.tables.{name}"
    path = ctx.resolve(rel)
    entry: dict[str, Any] = {"item": item, "kind": "table", "path": rel}
    try:
        if not path.exists():
            ctx.missing_file(item, rel, path, f"{name.replace('_', ' ')} table (CSV)")
            return
        df = read_csv(ctx, item, rel, path)
        if df is None:
            return
        entry.update(rows=len(df), columns=list(df.columns))
        schema = row_schema(name)
        if schema is None:
            return
        required = list(schema.get("required") or [])
        missing = [c for c in required if c not in df.columns]
        if missing:
            near = {
                c: x for c in missing for x in df.columns if str(x).strip().lower() == c.lower()
            }
            hint = (
                "; note " + ", ".join(f"{x!r} should be spelt {c!r}" for c, x in near.items())
                if near
                else ""
            )
            if len(df.columns) == 1 and any(sep in str(df.columns[0]) for sep in ";\t|"):
                hint += (
                    "; the columns seem to be separated by ';' or tabs, not commas: "
                    "save it as CSV (comma-separated)"
                )
            ctx.error(
                item,
                path,
                f"{rel}: missing column(s) {', '.join(missing)}; expected columns: "
                f"{', '.join(required)}; found: {', '.join(map(str, df.columns))}{hint}. "
                "Rename the header line (first row) accordingly.",
                missing=missing,
                expected=required,
                found=list(df.columns),
            )
        if len(df) == 0:
            ctx.error(item, path, f"{rel}: has a header but no rows; add the data rows.")
            return
        cells = _Cells(ctx, item, path, rel)
        norm = _check_cells(cells, df, schema)
        _check_key(ctx, item, path, rel, df, schema, norm)
        _check_covers(ctx, item, path, rel, df, schema, norm)
        _check_semantics(ctx, name, item, path, rel, norm)
    finally:
        ctx.checked(entry)


def check_tables(ctx: Context) -> None:
    for name, rel in (ctx.cfg["inputs"]["tables"] or {}).items():
        if isinstance(rel, str) and rel:
            ctx.guard(f"inputs.tables.{name}", rel, lambda n=name, r=rel: check_table(ctx, n, r))
