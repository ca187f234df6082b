"""Structural neighbour information retained by a rearrangement.

For a gather map ``s`` (output position ``o`` takes its value from ``s(o)``)::

    R(s) = Σ_{o≠o'} f(d(o,o')) f(d(s(o),s(o'))) / Σ_{p≠q} f(d(p,q))²  =  <F, S F Sᵀ> / ||F||²

Pairs with the same source contribute 0 (``F[p, p] = 0``). For a permutation,
``R <= 1`` with equality exactly for grid isometries; on grids of at least 5
pixels every swap of two pixels gives ``R < 1``. A non-bijective map may give
``R > 1`` (the theorem covers permutations only). A soft map (influence matrix
``A``) generalises ``R`` to ``<F, A F Aᵀ> / ||F||²``.
"""

from __future__ import annotations

import functools
import math

import torch

from pixinfo._checks import check_gather_index, check_grid_shape, check_tensor, describe, is_integer
from pixinfo.errors import DeviceError, DTypeError, ShapeError
from pixinfo.info.kernels import DEFAULT_KERNEL, Kernel, cached_pair_sums

_DEFAULT_CHUNK_ELEMENTS = 1 << 23  # pair-table entries held at once (~64 MiB in float64)


def _work_dtype(device: torch.device, dtype: torch.dtype | None) -> torch.dtype:
    if dtype is not None:
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise DTypeError(f"dtype (the accumulation dtype) must be a floating torch dtype, got {dtype!r}")
        return dtype
    return torch.float64 if device.type == "cpu" else torch.float32


METHODS = ("auto", "fused", "reference")


def structural_retention(
    index: torch.Tensor,
    *,
    shape: tuple[int, ...],
    kernel: Kernel = DEFAULT_KERNEL,
    method: str = "auto",
    chunk_elements: int = _DEFAULT_CHUNK_ELEMENTS,
    max_pairs: int | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Retention ``R`` of neighbour structure under a gather map or influence matrix.

    Parameters
    ----------
    index : torch.Tensor
        Either a gather map, an integer tensor ``(..., H*W)`` whose entry ``o``
        is the flat source position of output ``o`` (batched over leading
        dimensions), or a floating influence matrix ``(..., H*W, H*W)`` with
        ``A[o, p]`` the weight of input ``p`` in output ``o``.
    shape : (H, W) or (C, H, W)
        The image grid the map acts on.
    kernel : Kernel
        Distance weight f. With a cutoff the sum runs only over pairs within
        the cutoff (exact, and O(N·r²) instead of O(N²)).
    method : {"auto", "fused", "reference"}
        How a gather map is summed. ``"fused"``: one compiled pass over the
        pairs ``o < o'`` on the CPU threads (numba, compiled on first use),
        float64; ``"reference"``: vectorised torch over chunks of pair tables
        (any device and dtype). ``"auto"`` takes ``"fused"`` for maps on the
        CPU accumulated in float64 and ``"reference"`` otherwise. Influence
        matrices always use one dense product (``"auto"`` or ``"reference"``).
    chunk_elements : int
        Upper bound on pair entries materialised at once by ``"reference"``
        (memory bound).
    max_pairs : int, optional
        Refuse ([`WorkTooLargeError`][pixinfo.errors.WorkTooLargeError], with the time it would take and the
        cutoff that bounds it) a gather-map computation that visits more pairs than this;
        default ``pixinfo.info.cost.DEFAULT_MAX_PAIRS`` (1e11: an exact 1024x1024 R is refused).
    dtype : torch.dtype, optional
        Accumulation dtype; float64 on the CPU and float32 on CUDA by default.
        ``"fused"`` accumulates in float64 only.

    Returns
    -------
    torch.Tensor
        ``R`` with the leading shape of ``index`` (0-dim for a single map), on
        the map's device. The identity map gives exactly 1 (other maps are
        exact to float64 rounding, whatever the method).

    Examples
    --------
    >>> import torch
    >>> identity = torch.arange(16)
    >>> float(structural_retention(identity, shape=(4, 4)))
    1.0
    >>> swap = identity.clone(); swap[[0, 5]] = swap[[5, 0]]
    >>> float(structural_retention(swap, shape=(4, 4))) < 1
    True
    >>> slow = structural_retention(swap, shape=(4, 4), method="reference")
    >>> bool(torch.isclose(slow, structural_retention(swap, shape=(4, 4)), rtol=1e-12))
    True
    """
    h, w = check_grid_shape(shape)
    _check_options(kernel, method, chunk_elements)
    index = check_tensor(index, "index")
    if index.is_floating_point():
        if method == "fused":
            raise ValueError("method='fused' sums gather maps; influence matrices use method='auto'")
        return _soft_retention(index, h, w, kernel, dtype)
    return _gather_retention(check_gather_index(index, h * w), h, w, kernel, method, chunk_elements, max_pairs, dtype)


def _gather_retention(
    index: torch.Tensor, h: int, w: int, kernel: Kernel, method: str, chunk_elements: int, max_pairs: int | None,
    dtype: torch.dtype | None,
) -> torch.Tensor:
    """``R`` of checked gather maps ``(..., H*W)``: the pair budget checked, then the numerator over the denominator."""
    from pixinfo.info.cost import DEFAULT_MAX_PAIRS, FUSED_PAIRS_PER_SECOND, PAIRS_PER_SECOND, check_pair_budget

    flat = index.reshape(-1, h * w)
    work = _work_dtype(flat.device, dtype)
    check_pair_budget(h * w, max_pairs=DEFAULT_MAX_PAIRS if max_pairs is None else max_pairs, cutoff=kernel.cutoff,
                      batch=max(1, flat.shape[0]), pairs_per_second=PAIRS_PER_SECOND if method == "reference"
                      else FUSED_PAIRS_PER_SECOND)  # fmt: skip
    _, denom = cached_pair_sums(kernel, h, w)
    if denom == 0:
        raise ValueError(f"{kernel!r} gives no weight to any pair of a {h}x{w} grid")
    num = _gather_numerator(flat, h, w, kernel, method, work, chunk_elements)
    identity = (flat == torch.arange(h * w, device=flat.device)).all(dim=-1)
    num = torch.where(identity, torch.as_tensor(denom, dtype=num.dtype, device=num.device), num)  # R = 1 exactly
    return (num / denom).reshape(index.shape[:-1])


def _gather_numerator(
    flat: torch.Tensor, h: int, w: int, kernel: Kernel, method: str, work: torch.dtype, chunk_elements: int
) -> torch.Tensor:
    """``Σ_{o≠o'} F[o,o'] F[s(o),s(o')]`` of ``(B, n)`` maps by the chosen method."""
    fused = flat.device.type == "cpu" and work == torch.float64
    if method == "fused" and not fused:
        raise DeviceError(
            f"method='fused' needs a CPU index and float64 accumulation, got index on "
            f"{flat.device} and dtype {work}; use method='reference'"
        )
    if method == "reference" or not fused:
        return _reference_numerator(flat, h, w, kernel, work, chunk_elements)
    from pixinfo.info import _fused  # imports numba: only when a fused sum is asked for

    return _fused.numerator(flat, _fused_constants(kernel, h, w))


@functools.lru_cache(maxsize=16)
def _fused_constants(kernel: Kernel, h: int, w: int):
    """The fused kernels' ``GridConstants``, cached per kernel and grid."""
    from pixinfo.info import _fused

    offsets = None if kernel.cutoff is None else half_plane_offsets(kernel, h, w)
    return _fused.grid_constants(kernel.offset_table(h, w).numpy(), offsets)


def _check_options(kernel: object, method: object, chunk_elements: object) -> None:
    if not is_integer(chunk_elements) or chunk_elements < 1:
        raise ValueError(f"chunk_elements must be a positive int, got {chunk_elements!r}")
    if not isinstance(kernel, Kernel):
        raise DTypeError(f"kernel must be a pixinfo.info.Kernel, got {type(kernel).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _reference_numerator(
    flat: torch.Tensor, h: int, w: int, kernel: Kernel, work: torch.dtype, chunk_elements: int
) -> torch.Tensor:
    """Today's vectorised torch sums (any device and dtype): the reference of the fused kernels."""
    table = kernel.offset_table(h, w, device=flat.device, dtype=work)
    if kernel.cutoff is not None:
        return _local_numerator(flat, h, w, kernel, table)
    return _exact_numerator(flat, h, w, table, chunk_elements)


def _exact_numerator(
    flat: torch.Tensor, h: int, w: int, table: torch.Tensor, chunk_elements: int
) -> torch.Tensor:
    """All pairs, using symmetry: each block of rows ``[r0, r1)`` meets columns ``>= r0``.

    A block's pairs with columns ``>= r1`` stand for themselves and their
    mirror (counted twice); the square ``[r0, r1)²`` holds both orders already.
    """
    b, n = flat.shape
    device = flat.device
    tab = table.reshape(-1)
    idt = torch.int32 if n * n < 2**31 else torch.int64
    pos = torch.arange(n, device=device, dtype=idt)
    py, px = pos // w, pos % w
    src = flat.to(idt)
    sy, sx = src // w, src % w  # (B, n) source coordinates
    num = torch.zeros(b, dtype=torch.float64, device=device)
    rows = min(n, max(1, chunk_elements // n))
    for r0 in range(0, n, rows):
        r1 = min(n, r0 + rows)
        # F[o, o'] for o in the block, o' >= r0: the same for every map
        f_out = tab[(py[r0:r1, None] - py[r0:]).abs() * w + (px[r0:r1, None] - px[r0:]).abs()]
        maps = max(1, chunk_elements // ((r1 - r0) * (n - r0)))
        for b0 in range(0, b, maps):
            b1 = min(b, b0 + maps)
            dy = (sy[b0:b1, r0:r1, None] - sy[b0:b1, None, r0:]).abs_()
            dx = (sx[b0:b1, r0:r1, None] - sx[b0:b1, None, r0:]).abs_()
            prod = tab[dy.mul_(w).add_(dx)].mul_(f_out)
            block = prod.sum(dim=(1, 2), dtype=tab.dtype).double()
            square = prod[:, :, : r1 - r0].sum(dim=(1, 2), dtype=tab.dtype).double()
            num[b0:b1] += 2 * block - square
    return num


def cutoff_offsets(kernel: Kernel, h: int, w: int) -> list[tuple[int, int]]:
    """Signed offsets ``(dy, dx) ≠ 0`` within the kernel's cutoff that fit an h×w grid."""
    assert kernel.cutoff is not None
    r = int(math.floor(kernel.cutoff))
    return [
        (dy, dx)
        for dy in range(-min(r, h - 1), min(r, h - 1) + 1)
        for dx in range(-min(r, w - 1), min(r, w - 1) + 1)
        if (dy or dx) and math.sqrt(dy * dy + dx * dx) <= kernel.cutoff  # as Kernel.__call__ decides
    ]


def half_plane_offsets(kernel: Kernel, h: int, w: int) -> list[tuple[int, int]]:
    """One offset of each ``±(dy, dx)`` pair of ``cutoff_offsets``: ``dy > 0``, or ``dy == 0 < dx``."""
    return [(dy, dx) for dy, dx in cutoff_offsets(kernel, h, w) if dy > 0 or (dy == 0 and dx > 0)]


def _local_numerator(
    flat: torch.Tensor, h: int, w: int, kernel: Kernel, table: torch.Tensor
) -> torch.Tensor:
    """Only pairs within the cutoff: one vectorised pass per offset."""
    b = flat.shape[0]
    tab = table.reshape(-1)
    sy = (flat // w).reshape(b, h, w)
    sx = (flat % w).reshape(b, h, w)
    num = torch.zeros(b, dtype=torch.float64, device=flat.device)
    for dy, dx in cutoff_offsets(kernel, h, w):
        weight = table[abs(dy), abs(dx)]
        ys, yt = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
        xs, xt = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
        ddy = (sy[:, ys, xs] - sy[:, yt, xt]).abs()
        ddx = (sx[:, ys, xs] - sx[:, yt, xt]).abs()
        num += (weight * tab[ddy * w + ddx]).sum(dim=(1, 2), dtype=tab.dtype).double()
    return num


def _soft_retention(
    a: torch.Tensor, h: int, w: int, kernel: Kernel, dtype: torch.dtype | None
) -> torch.Tensor:
    n = h * w
    if a.ndim < 2 or a.shape[-2:] != (n, n):
        raise ShapeError(f"an influence matrix must have shape (..., {n}, {n}), got {describe(a)}")
    work = _work_dtype(a.device, dtype)
    f = kernel.weight_matrix(h, w, device=a.device, dtype=work)
    a = a.to(work)
    # <F, A F Aᵀ> = Σ_ij (F A)_ij (A F)_ij because F is symmetric
    num = ((f @ a) * (a @ f)).sum(dim=(-2, -1))
    return num / (f * f).sum()
