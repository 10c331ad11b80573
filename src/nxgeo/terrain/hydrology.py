"""Hydrology: pit filling, D8 receivers, flow accumulation (in memory and tile-wise).


Hydrology (`fill_pits`, `d8_receivers`, `flow_accumulation`) is in memory and exact: depressions
are filled to their spill level (priority-flood result, via a minimum spanning tree), flats are
routed to their nearest way down (breadth-first), and accumulation is solved by pointer jumping.
`flow_accumulation_tiled` gives the same accumulation tile by tile in bounded memory (exact
propagation of pit levels between tiles, flats solved on the flat cells only, a topological sort
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from .common import _check_res

# --------------------------------------------------------------------------------------------
# Hydrology: pit filling, D8 receivers, flow accumulation
# --------------------------------------------------------------------------------------------

# D8 neighbour offsets (drow, dcol): E, NE, N, NW, W, SW, S, SE. Ties go to the first listed.
_D8 = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))
_HALF8 = ((0, 1), (1, -1), (1, 0), (1, 1))  # each undirected neighbour pair once
OUTLET = -1  # receiver code: valid cell that drains out of the grid (edge or next to nodata)
NO_DATA_CELL = -2  # receiver code: nodata cell


def _valid_mask(dem: np.ndarray, nodata) -> np.ndarray:
    valid = np.isfinite(dem)
    if nodata is not None and not math.isnan(float(nodata)):
        valid &= dem != nodata
    return valid


def _pairs(valid: np.ndarray, dr: int, dc: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices (p, q) of every valid cell p whose neighbour q = p + (dr, dc) is valid."""
    rows, cols = valid.shape
    r0, r1 = max(0, -dr), rows - max(0, dr)
    c0, c1 = max(0, -dc), cols - max(0, dc)
    both = valid[r0:r1, c0:c1] & valid[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
    rr, cc = np.nonzero(both)
    p = (rr.astype(np.int64) + r0) * cols + (cc + c0)
    return p, p + (dr * cols + dc)


def _boundary_mask(valid: np.ndarray) -> np.ndarray:
    """Valid cells on the grid edge or 8-adjacent to a nodata cell: they may drain out."""
    invalid = np.pad(~valid, 1, constant_values=True)
    near = ndimage.binary_dilation(invalid, structure=np.ones((3, 3), bool))[1:-1, 1:-1]
    return valid & near


def _jump_max(val: np.ndarray, ptr: np.ndarray, root: int) -> None:
    """In place: val[i] = max of val along the pointer chain i -> ... -> root (pointer jumping)."""
    for _ in range(80):
        active = np.flatnonzero(ptr != root)
        if active.size == 0:
            return
        nxt = ptr[active]
        val[active] = np.maximum(val[active], val[nxt])
        ptr[active] = ptr[nxt]
    raise RuntimeError("pointer jumping did not converge (cycle in the tree)")  # pragma: no cover


def fill_pits(dem: np.ndarray, nodata=None) -> np.ndarray:
    """Fill every depression up to its spill elevation (the priority-flood result), vectorised.

    A cell's filled elevation is the minimax elevation over all paths from it to the outside
    (grid edge or a nodata cell): the lowest "highest point" water must pass to leave. Such
    bottleneck paths all lie on a minimum spanning tree of the 8-neighbour graph (edge weight =
    the higher of the two elevations; a virtual outside node joins every boundary cell), so we
    build the MST with scipy.sparse.csgraph and take the running maximum to the root by pointer
    jumping (log₂(depth) vectorised passes). Cells not in a depression keep their elevation
    exactly; filled depressions become exact flats (no epsilon gradient), which
    `d8_receivers` routes. Returns float64 with NaN on nodata cells.

    Memory is O(cells) with ~100 bytes/cell: fine for tens of millions of cells, not for 10⁸+.
    """
    dem = np.asarray(dem, dtype=np.float64)
    if dem.ndim != 2:
        raise ValueError(f"DEM must be 2-D, got shape {dem.shape}")
    valid = _valid_mask(dem, nodata)
    return _minimax_fill(dem, valid, _boundary_mask(valid))[0]


def _minimax_fill(
    dem: np.ndarray, valid: np.ndarray, boundary: np.ndarray, seeds: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """`fill_pits` core: the minimax elevation from every valid cell to the outside, where the
    cells of `boundary` drain out (at their own elevation). With `seeds`, also the flat index of
    every valid cell's *seed*: the first boundary cell on its path of the minimum spanning tree
    to the outside (a boundary cell is its own seed), in the order of np.flatnonzero(valid);
    the path from a cell to its seed never rises above the cell's filled elevation."""
    dem = np.asarray(dem, dtype=np.float64)
    out = np.full(dem.shape, np.nan)
    cells = np.flatnonzero(valid)
    nv = cells.size
    if nv == 0:
        return out, (cells if seeds else None)
    itype = np.int32 if nv + 1 < 2**31 else np.int64
    # Nodes are numbered in increasing order of elevation, and every edge is stored in the row of
    # its higher end, whose rank is the edge's weight: the CSR data come out sorted, so the stable
    # sort inside scipy's Kruskal is linear (on random data it dominated the run time).
    vals = dem.ravel()[cells]
    order = np.argsort(vals, kind="stable").astype(itype)
    sv = vals[order]
    del vals
    new = np.empty(nv, dtype=bool)
    new[0] = True
    np.not_equal(sv[1:], sv[:-1], out=new[1:])
    uniq = sv[new]
    del sv
    w = np.cumsum(new, dtype=np.int64).astype(np.float64)  # rank + 1 by node: exact ties, > 0
    del new
    pos = np.empty(nv, dtype=itype)
    pos[order] = np.arange(nv, dtype=itype)
    node = np.full(dem.size, -1, dtype=itype)
    node[cells] = pos
    row_parts, col_parts = [], []
    for dr, dc in _HALF8:
        p, q = _pairs(valid, dr, dc)
        a, b = node[p], node[q]
        del p, q
        row_parts.append(np.maximum(a, b))
        col_parts.append(np.minimum(a, b))
        del a, b
    bnodes = node[np.flatnonzero(boundary & valid)]
    del node
    row_parts.append(bnodes)
    col_parts.append(np.full(bnodes.size, nv, dtype=itype))  # the outside node
    rows = np.concatenate(row_parts)
    cols = np.concatenate(col_parts)
    del row_parts, col_parts
    graph = sparse.csr_matrix((w[rows], (rows, cols)), shape=(nv + 1, nv + 1))
    del rows, cols
    tree = csgraph.minimum_spanning_tree(graph, overwrite=True)
    del graph
    _, pred = csgraph.breadth_first_order(tree, nv, directed=False, return_predecessors=True)
    del tree
    parent = pred[:nv].astype(np.int64)
    del pred
    reached = parent >= 0  # every valid cell is reached: each component touches the boundary
    parent[~reached] = nv
    w_ext = np.append(w, 0.0)
    # weight of the tree edge to the parent: max(own, parent) between cells, own to the outside
    val = np.append(np.maximum(w, w_ext[parent]), 0.0)
    del w_ext, w
    ptr = np.append(parent, nv)
    _jump_max(val, ptr, nv)
    del ptr
    out.ravel()[cells] = uniq[val[pos].astype(np.int64) - 1]
    del val
    if not seeds:
        return out, None
    anc = parent
    anc[bnodes] = bnodes  # boundary cells are fixed points; others point to their parent
    anc[anc == nv] = np.flatnonzero(anc == nv)  # (unreached: impossible; keep as own seed)
    for _ in range(80):  # pointer doubling to the fixed points
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            break
        anc = nxt
    return out, cells[order[anc[pos]]]


def d8_receivers(
    dem: np.ndarray, nodata=None, xres: float = 1.0, yres: float = 1.0, *, fill: bool = True
) -> np.ndarray:
    """D8 (steepest descent) receiver of every cell, as flat indices into the grid (int64).

    Codes: ``OUTLET`` (−1) for a valid cell that drains out of the grid, ``NO_DATA_CELL`` (−2)
    for nodata. Pits and flats:

    * with ``fill=True`` (default, as InVEST does before routing) depressions are first filled to
      their spill level with `fill_pits`;
    * a cell with no lower neighbour on the grid edge or next to nodata is an outlet;
    * any other cell with no lower neighbour lies on a flat; it flows to a neighbour of equal
      elevation one step closer (breadth-first, 8-connected, through equal cells) to the
      nearest flat cell that does have a way down — the plateau resolution of pygeoprocessing's
      ``flow_dir_d8`` (towards lower terrain only, no "away from higher" term). Computed with one
      scipy.sparse.csgraph breadth-first search from a virtual source joined to those drains.
    * with ``fill=False`` a true pit (no path down through equal cells) becomes an outlet.

    Drop to a diagonal neighbour is divided by hypot(xres, yres); ties go to E, NE, N, NW, W, SW,
    S, SE in that order.
    """
    xr, yr = _check_res(xres, yres)
    z = np.asarray(dem, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"DEM must be 2-D, got shape {z.shape}")
    valid = _valid_mask(z, nodata)
    if fill:
        z = fill_pits(z, nodata)
    zf = z.ravel()
    size = z.size
    recv = np.full(size, NO_DATA_CELL, dtype=np.int64)
    recv[valid.ravel()] = OUTLET
    best = np.zeros(size)
    diag = math.hypot(xr, yr)
    for dr, dc in _D8:
        p, q = _pairs(valid, dr, dc)
        dist = diag if dr and dc else (xr if dc else yr)
        drop = (zf[p] - zf[q]) / dist
        m = drop > best[p]
        pm = p[m]
        best[pm] = drop[m]
        recv[pm] = q[m]
    del best
    needs = (recv == OUTLET) & ~_boundary_mask(valid).ravel()  # flat cells to route
    if needs.any():
        src, dst = [], []
        for dr, dc in _HALF8:
            p, q = _pairs(valid, dr, dc)
            m = (zf[p] == zf[q]) & (needs[p] | needs[q])
            src.append(p[m])
            dst.append(q[m])
        p = np.concatenate(src)
        q = np.concatenate(dst)
        ends = np.concatenate([p, q])
        drains = np.unique(ends[~needs[ends]])
        root = size
        rows = np.concatenate([p, np.full(drains.size, root, dtype=np.int64)])
        cols = np.concatenate([q, drains])
        graph = sparse.csr_matrix(
            (np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(size + 1, size + 1)
        )
        _, pred = csgraph.breadth_first_order(graph, root, directed=False, return_predecessors=True)
        cells = np.flatnonzero(needs)
        pc = pred[cells]
        ok = (pc >= 0) & (pc != root)
        recv[cells[ok]] = pc[ok]  # unreached (only possible with fill=False): stays an outlet
    return recv.reshape(z.shape)


def flow_accumulation(
    dem: np.ndarray,
    nodata=None,
    *,
    xres: float = 1.0,
    yres: float = 1.0,
    weights: np.ndarray | None = None,
    fill: bool = True,
    receivers: np.ndarray | None = None,
) -> np.ndarray:
    """D8 flow accumulation: number of cells draining through each cell, the cell itself included.

    This is pygeoprocessing's ``flow_accumulation_d8`` convention used by InVEST (a ridge cell
    is 1; InVEST's LS factor then uses ``flow_acc - 1`` as the strictly-upslope count). With
    `weights`, the weighted sum instead (nodata weights count as 0). Routing: `d8_receivers`
    (pits filled, flats routed to their nearest outlet), or pass precomputed `receivers`.

    Solved without any per-cell loop as a ∑ₖ Aᵏ w series, A = Pᵀ the "who drains into me"
    matrix of the D8 forest, by pointer jumping: v ← v + A^(2ʲ) v (one np.bincount) and
    receiver ← receiver∘receiver, j = 0, 1, … — ⌈log₂(longest flow path)⌉ passes, exact.
    Returns float64 with NaN on nodata cells. The accumulations at outlets sum to the total
    weight (the number of valid cells when unweighted).
    """
    z = np.asarray(dem)
    if receivers is None:
        receivers = d8_receivers(z, nodata, xres, yres, fill=fill)
    recv = np.asarray(receivers, dtype=np.int64).ravel()
    size = recv.size
    valid = recv != NO_DATA_CELL
    root = size  # absorbing dummy node
    jump = np.where(recv >= 0, recv, root)
    jump = np.append(jump, root)
    if weights is None:
        acc = valid.astype(np.float64)
    else:
        acc = np.asarray(weights, dtype=np.float64).ravel().copy()
        if acc.size != size:
            raise ValueError(f"weights shape {np.shape(weights)} != DEM shape {z.shape}")
        acc[~valid | ~np.isfinite(acc)] = 0.0
    acc = np.append(acc, 0.0)
    for _ in range(80):
        active = np.flatnonzero(jump[:size] != root)
        if active.size == 0:
            break
        tgt = jump[active]
        acc += np.bincount(tgt, weights=acc[active], minlength=size + 1)
        jump[active] = jump[tgt]
    else:  # pragma: no cover - D8 receivers always descend, so there is no cycle
        raise RuntimeError("flow_accumulation: receiver graph has a cycle")
    out = acc[:size]
    out[~valid] = np.nan
    return out.reshape(np.shape(receivers))


# --------------------------------------------------------------------------------------------
# Tile-wise exact routing: the whole-array results, in bounded memory
# --------------------------------------------------------------------------------------------

#: default side (cells) of the square tiles of `flow_accumulation_tiled`
FLOW_TILE = 1024
_NO_DIR = 8  # D8 code of a cell without receiver (outlet); nodata cells also carry it


def _tiles(h: int, w: int, tile: int):
    for r0 in range(0, h, tile):
        for c0 in range(0, w, tile):
            yield slice(r0, min(r0 + tile, h)), slice(c0, min(c0 + tile, w))


def _itype(n: int):
    return np.int32 if n + 2 < 2**31 else np.int64


def _half_pairs_strip(a: np.ndarray, s0: int, s1: int, dr: int, dc: int):
    """Views (p-side, q-side) of 2-D array `a` for the neighbour pairs p -> q = p + (dr, dc)
    whose p lies in rows [s0, s1); also the (row, col) origin of the p-side view."""
    h, w = a.shape
    r1 = min(s1, h - dr)
    c0, c1 = max(0, -dc), w - max(0, dc)
    return a[s0:r1, c0:c1], a[s0 + dr : r1 + dr, c0 + dc : c1 + dc], (s0, c0)


def _fill_tiled(z: np.ndarray, valid: np.ndarray, tile: int) -> np.ndarray:
    """`fill_pits` of the whole grid, computed tile by tile (exact, same values).

    1. Each tile is filled on its own, its edge cells draining out (`_minimax_fill`), which gives
       a local filled elevation W and, for every cell, its seed: the tile-edge cell (or, label
       "outside", the cell on the grid edge or next to nodata) it drains to locally.
    2. The seeds form a small graph (about 4 cells per tile side): two seeds are joined where
       their cells touch (in one tile or across a tile line), weight max(W_p, W_q) minimised
       over the touching pairs. Its minimax distance to "outside" is the exact filled elevation
       of every seed (Barnes, Lehman & Mulla 2014, "Priority-flood" §parallel; the same argument
       as Barnes 2016, "Parallel priority-flood depression filling for trillion cell DEMs").
    3. A tile with a raised edge cell is filled again with its edge cells at their exact level,
       which gives the exact filled elevation of every cell of the tile (raising an edge cell to
       its exact level changes no path that could set a lower level).
    Memory: the grid-sized arrays (elevation, W, seed labels: ~9 bytes per cell for float32
    input) plus `_minimax_fill` on one tile (~140 bytes per tile cell).
    """
    h, w = z.shape
    n = h * w
    itype = _itype(n)
    fdt = np.float32 if z.dtype == np.float32 else np.float64
    out_lab = n  # label of the outside
    truly = _boundary_mask(valid)
    filled = np.full((h, w), np.nan, dtype=fdt)
    label = np.full((h, w), -1, dtype=itype)
    for rs, cs in _tiles(h, w, tile):
        v = valid[rs, cs]
        if not v.any():
            continue
        th, tw = v.shape
        f, seed = _minimax_fill(z[rs, cs], v, _boundary_mask(v), seeds=True)
        assert seed is not None  # seeds=True
        filled[rs, cs] = f
        del f
        sr, sc = np.divmod(seed, tw)
        g = (sr + rs.start) * w + (sc + cs.start)
        del sr, sc, seed
        lab = np.where(truly.ravel()[g], out_lab, g).astype(itype)
        lt = np.full((th, tw), -1, dtype=itype)
        lt[v] = lab
        label[rs, cs] = lt
        del lab, lt, g
    # 2. the seed graph: every touching pair of cells with different labels
    la_parts, lb_parts, wt_parts = [], [], []
    strip = max(1, (1 << 22) // max(1, w))
    for s0 in range(0, h, strip):
        for dr, dc in _HALF8:
            if s0 >= h - dr:
                continue
            lp, lq, _ = _half_pairs_strip(label, s0, s0 + strip, dr, dc)
            m = (lp >= 0) & (lq >= 0) & (lp != lq)
            if not m.any():
                continue
            fp, fq, _ = _half_pairs_strip(filled, s0, s0 + strip, dr, dc)
            a, b = lp[m], lq[m]
            la_parts.append(np.minimum(a, b))
            lb_parts.append(np.maximum(a, b))
            wt_parts.append(np.maximum(fp[m], fq[m]))
            del a, b, m
    if not la_parts:
        filled[~valid] = np.nan
        return filled
    la, lb, wt = np.concatenate(la_parts), np.concatenate(lb_parts), np.concatenate(wt_parts)
    del la_parts, lb_parts, wt_parts
    nodes, inv = np.unique(np.concatenate([la, lb]), return_inverse=True)
    ia, ib = inv[: la.size], inv[la.size :]
    del inv, la, lb
    m_nodes = nodes.size
    uw, rank = np.unique(wt, return_inverse=True)
    del wt
    key = ia.astype(np.int64) * m_nodes + ib
    order = np.lexsort((rank, key))
    first = np.ones(order.size, dtype=bool)
    first[1:] = key[order[1:]] != key[order[:-1]]
    sel = order[first]  # each pair once, with its smallest weight
    del order, first, key
    ia, ib, rk = ia[sel], ib[sel], rank[sel] + 1.0
    del sel, rank
    graph = sparse.csr_matrix((rk, (ia, ib)), shape=(m_nodes, m_nodes))
    tree = csgraph.minimum_spanning_tree(graph).tocoo()
    del graph
    if nodes[-1] == out_lab:
        root = m_nodes - 1
        _, pred = csgraph.breadth_first_order(tree, root, directed=False, return_predecessors=True)
        ew = np.zeros(m_nodes + 1)
        tu, tv, td = tree.row, tree.col, tree.data
        up = pred[tu] == tv  # edge u -> parent v
        ew[tu[up]] = td[up]
        ew[tv[~up]] = td[~up]
        parent = np.where(pred >= 0, pred, m_nodes).astype(np.int64)
        parent[root] = m_nodes
        ew[root] = 0.0
        ew[m_nodes] = 0.0
        ptr = np.append(parent, m_nodes)
        _jump_max(ew, ptr, m_nodes)
        seed_level = np.where(
            ew[:m_nodes] > 0, uw[np.maximum(ew[:m_nodes], 1).astype(np.int64) - 1], -np.inf
        )
    else:  # no cell reaches the outside (impossible: every component touches the boundary)
        seed_level = np.full(m_nodes, -np.inf)  # pragma: no cover
    del tree
    # 3. refill the tiles whose edge cells are raised
    for rs, cs in _tiles(h, w, tile):
        v = valid[rs, cs]
        if not v.any():
            continue
        lt = label[rs, cs]
        th, tw = v.shape
        edge = np.zeros((th, tw), dtype=bool)
        edge[[0, -1], :] = True
        edge[:, [0, -1]] = True
        edge &= v & (lt != out_lab)
        er, ec = np.nonzero(edge)
        if er.size == 0:
            continue
        g = (er + rs.start) * w + (ec + cs.start)
        pos = np.searchsorted(nodes, g)
        pos = np.minimum(pos, m_nodes - 1)
        known = nodes[pos] == g
        zt = np.array(z[rs, cs], dtype=np.float64)
        lev = np.where(known, seed_level[pos], -np.inf)
        raise_ = lev > zt[er, ec]
        if not raise_.any():
            continue
        zt[er[raise_], ec[raise_]] = lev[raise_]
        filled[rs, cs] = _minimax_fill(zt, v, _boundary_mask(v))[0]
    filled[~valid] = np.nan
    return filled


def fill_pits_tiled(dem: np.ndarray, nodata=None, tile: int = FLOW_TILE) -> np.ndarray:
    """`fill_pits` computed tile by tile (tiles of `tile` × `tile` cells): the same values
    (float64, NaN on nodata) in bounded memory; see `_fill_tiled`."""
    z = _as_dem(dem)
    return _fill_tiled(z, _valid_mask(z, nodata), _check_tile(tile)).astype(np.float64)


def _as_dem(dem) -> np.ndarray:
    z = np.asarray(dem)
    if z.ndim != 2:
        raise ValueError(f"DEM must be 2-D, got shape {z.shape}")
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    return z


def _check_tile(tile) -> int:
    tile = int(tile)
    if tile < 3:
        raise ValueError(f"tile must be at least 3 cells, got {tile}")
    return tile


def _d8_offsets(w: int) -> np.ndarray:
    return np.array([dr * w + dc for dr, dc in _D8] + [0], dtype=np.int64)


def _d8_codes(
    filled: np.ndarray, valid: np.ndarray, boundary: np.ndarray, xr: float, yr: float
) -> np.ndarray:
    """D8 code (0..7 = index into `_D8`, `_NO_DIR` = none) of every cell, as `d8_receivers`:
    steepest descent on the filled DEM in row strips, then the flats resolved on a graph of the
    flat cells only (the same breadth-first search, on the same graph relabelled monotonically,
    so the same choice among equally near neighbours)."""
    h, w = filled.shape
    diag = math.hypot(xr, yr)
    code = np.full((h, w), _NO_DIR, dtype=np.uint8)
    strip = max(1, (1 << 20) // max(1, w))
    for s0 in range(0, h, strip):
        s1 = min(s0 + strip, h)
        a0, a1 = max(s0 - 1, 0), min(s1 + 1, h)
        zp = np.full((s1 - s0 + 2, w + 2), np.nan)
        vp = np.zeros((s1 - s0 + 2, w + 2), dtype=bool)
        zp[1 + a0 - s0 : 1 + a1 - s0, 1:-1] = filled[a0:a1]
        vp[1 + a0 - s0 : 1 + a1 - s0, 1:-1] = valid[a0:a1]
        zc, vc = zp[1:-1, 1:-1], vp[1:-1, 1:-1]
        best = np.zeros((s1 - s0, w))
        cs = code[s0:s1]
        for k, (dr, dc) in enumerate(_D8):
            zn = zp[1 + dr : 1 + dr + s1 - s0, 1 + dc : 1 + dc + w]
            vn = vp[1 + dr : 1 + dr + s1 - s0, 1 + dc : 1 + dc + w]
            dist = diag if dr and dc else (xr if dc else yr)
            with np.errstate(invalid="ignore"):
                drop = (zc - zn) / dist
                m = vc & vn & (drop > best)
            best[m] = drop[m]
            cs[m] = k
        del zp, vp, best
    needs = (code == _NO_DIR) & valid & ~boundary
    if not needs.any():
        return code
    src, dst = [], []
    strip = max(1, (1 << 22) // max(1, w))
    for dr, dc in _HALF8:  # direction-major, as d8_receivers concatenates them
        for s0 in range(0, h, strip):
            if s0 >= h - dr:
                continue
            zp_, zq_, (o_r, o_c) = _half_pairs_strip(filled, s0, s0 + strip, dr, dc)
            vp_, vq_, _ = _half_pairs_strip(valid, s0, s0 + strip, dr, dc)
            np_, nq_, _ = _half_pairs_strip(needs, s0, s0 + strip, dr, dc)
            m = vp_ & vq_ & (zp_ == zq_) & (np_ | nq_)
            rr, cc = np.nonzero(m)
            p = (rr.astype(np.int64) + o_r) * w + (cc + o_c)
            src.append(p)
            dst.append(p + (dr * w + dc))
    p = np.concatenate(src)
    q = np.concatenate(dst)
    del src, dst
    mark = np.zeros(h * w, dtype=bool)  # the graph's cells, relabelled in increasing order
    mark[p] = True
    mark[q] = True
    nodes = np.flatnonzero(mark)
    pn = np.searchsorted(nodes, p)
    qn = np.searchsorted(nodes, q)
    del p, q
    needs_n = needs.ravel()[nodes]
    mark[:] = False
    mark[nodes[pn[~needs_n[pn]]]] = True
    mark[nodes[qn[~needs_n[qn]]]] = True
    drains = np.searchsorted(nodes, np.flatnonzero(mark))
    del mark
    root = nodes.size
    rows = np.concatenate([pn, np.full(drains.size, root, dtype=np.int64)])
    cols = np.concatenate([qn, drains])
    del pn, qn, drains
    graph = sparse.csr_matrix(
        (np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(root + 1, root + 1)
    )
    del rows, cols
    _, pred = csgraph.breadth_first_order(graph, root, directed=False, return_predecessors=True)
    del graph
    cells_n = np.flatnonzero(needs_n)
    pc = pred[cells_n]
    ok = (pc >= 0) & (pc != root)
    cell = nodes[cells_n[ok]]
    rcv = nodes[pc[ok]]
    lut = np.zeros(9, dtype=np.uint8)  # (dr + 1) * 3 + (dc + 1) -> D8 code
    for i, (dr, dc) in enumerate(_D8):
        lut[(dr + 1) * 3 + dc + 1] = i
    k = lut[(rcv // w - cell // w + 1) * 3 + (rcv % w - cell % w + 1)]
    code.ravel()[cell] = k
    return code


def _accumulate_codes(code: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Upslope cell count (the cell itself included; float64, NaN on nodata) of a D8 code grid,
    by a topological sort (Kahn): cells whose donors are all done pass their count on, one
    vectorised step per level (as many steps as the longest flow path has cells)."""
    h, w = code.shape
    indeg = np.zeros((h, w), dtype=np.uint8)
    for k, (dr, dc) in enumerate(_D8):  # indeg[r+dr, c+dc] += code[r, c] == k
        rs = slice(max(0, -dr), h - max(0, dr))
        cs = slice(max(0, -dc), w - max(0, dc))
        rt = slice(max(0, -dr) + dr, h - max(0, dr) + dr)
        ct = slice(max(0, -dc) + dc, w - max(0, dc) + dc)
        indeg[rt, ct] += code[rs, cs] == k
    acc = valid.astype(np.float64).ravel()
    cf = code.ravel()
    deg = indeg.ravel()
    offs = _d8_offsets(w)
    frontier = np.flatnonzero(valid.ravel() & (deg == 0))
    while frontier.size:
        c = cf[frontier]
        m = c != _NO_DIR
        f = frontier[m]
        if f.size == 0:
            break
        r = f + offs[c[m]]
        u, inv = np.unique(r, return_inverse=True)
        acc[u] += np.bincount(inv, weights=acc[f], minlength=u.size)
        deg[u] -= np.bincount(inv, minlength=u.size).astype(np.uint8)
        frontier = u[deg[u] == 0]
    acc[~valid.ravel()] = np.nan
    return acc.reshape(h, w)


def flow_accumulation_tiled(
    dem: np.ndarray, nodata=None, *, xres: float = 1.0, yres: float = 1.0, tile: int = FLOW_TILE
) -> np.ndarray:
    """`flow_accumulation` (unweighted, pits filled) in bounded memory: the same result, cell for
    cell, for any `tile`.

    Pits are filled tile by tile with exact propagation between tiles (`_fill_tiled`), receivers
    are D8 codes (1 byte per cell) from row strips, flats are resolved on the flat cells only,
    and the counts come from a topological sort (`_accumulate_codes`; integer sums, so exactly
    the pointer-jumping result). Memory ≈ 30 bytes per grid cell (float32 DEM) plus ~140 bytes
    per tile cell and ~100 per flat cell, instead of ~140 per grid cell.
    """
    xr, yr = _check_res(xres, yres)
    z = _as_dem(dem)
    tile = _check_tile(tile)
    valid = _valid_mask(z, nodata)
    filled = _fill_tiled(z, valid, tile)
    code = _d8_codes(filled, valid, _boundary_mask(valid), xr, yr)
    del filled
    return _accumulate_codes(code, valid)


def d8_receivers_tiled(
    dem: np.ndarray, nodata=None, xres: float = 1.0, yres: float = 1.0, *, tile: int = FLOW_TILE
) -> np.ndarray:
    """`d8_receivers` (pits filled) computed as `flow_accumulation_tiled` does; the same array."""
    xr, yr = _check_res(xres, yres)
    z = _as_dem(dem)
    valid = _valid_mask(z, nodata)
    code = _d8_codes(_fill_tiled(z, valid, _check_tile(tile)), valid, _boundary_mask(valid), xr, yr)
    h, w = z.shape
    offs = _d8_offsets(w)
    idx = np.arange(h * w, dtype=np.int64)
    recv = idx + offs[code.ravel()]
    recv[code.ravel() == _NO_DIR] = OUTLET
    recv[~valid.ravel()] = NO_DATA_CELL
    return recv.reshape(h, w)
