"""Neighbour-information content of one image.

Kernel-weighted spatial autocorrelation (Moran's I with weights f) per channel::

    I(X) = (N / Σ_{p≠q} f) · Σ_{p≠q} f(d(p,q)) (v_p − μ)(v_q − μ) / Σ_p (v_p − μ)²

The quadratic form ``zᵀ F z`` is computed exactly in one of two ways:

* ``"fft"``: ``F`` is translation invariant, so embedded in a circulant of size
  (2H, 2W) with ``z`` zero-padded it is diagonalised by the 2-D DFT, and by
  Parseval ``zᵀ F z = Σ_k |ẑ_k|² f̂_k / (4HW)``: one real FFT per image,
  O(N log N).
* ``"dense"``: one batched matrix product with the N×N matrix ``F``, O(N²) per
  image but BLAS-fast for small images.

``"auto"`` takes ``"dense"`` up to 32×32 pixels (N ≤ 1024) and ``"fft"`` above:
the crossover measured on a 2-core CPU (``analyses/bench_information.py``).
"""

from __future__ import annotations

import torch

from pixinfo._checks import check_image_batch, is_integer
from pixinfo.errors import DTypeError
from pixinfo.info.kernels import DEFAULT_KERNEL, Kernel, cached_pair_sums, cached_weight_matrix

METHODS = ("auto", "fft", "dense")
DENSE_MAX_PIXELS = 1024


def _circular_kernel(kernel: Kernel, h: int, w: int, device, dtype) -> torch.Tensor:
    """f laid out as the first column of a (2h, 2w) circulant (|offsets| < h, w; the rest 0)."""
    table = kernel.offset_table(h, w, device=device, dtype=dtype)

    def folded(length: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        r = torch.arange(length, device=device)
        dist = torch.where(r < size, r, length - r)  # |signed offset|
        return dist.clamp(max=size - 1), dist <= size - 1

    dy, vy = folded(2 * h, h)
    dx, vx = folded(2 * w, w)
    return table[dy[:, None], dx[None, :]] * (vy[:, None] & vx[None, :])


def _spectral_weights(kernel: Kernel, h: int, w: int, device, dtype) -> torch.Tensor:
    """``f̂ / (4hw)`` on the rfft2 half-spectrum, columns weighted for their mirror images."""
    kf = torch.fft.rfft2(_circular_kernel(kernel, h, w, device, dtype)).real  # f is even: f̂ real
    mirror = torch.full((w + 1,), 2.0, dtype=dtype, device=device)
    mirror[0] = mirror[w] = 1.0  # the zero and Nyquist columns have no mirror
    return kf * mirror / (4 * h * w)


def neighbour_information(
    images: torch.Tensor,
    *,
    kernel: Kernel = DEFAULT_KERNEL,
    method: str = "auto",
    batch_size: int = 8192,
) -> torch.Tensor:
    """Kernel-weighted Moran's I of every channel of every image.

    Parameters
    ----------
    images : torch.Tensor
        Float images ``(*, C, H, W)`` with values in [0, 1], on any device.
        The computation runs in the input's dtype and on its device.
    kernel : Kernel
        Distance weight f.
    method : {"auto", "fft", "dense"}
        How ``zᵀ F z`` is computed (both exact; see the module notes).
    batch_size : int
        Channels processed at once (bounds memory).

    Returns
    -------
    torch.Tensor
        ``I`` of shape ``(*, C)``. A constant channel has no defined
        autocorrelation and gives NaN.

    Examples
    --------
    >>> import torch
    >>> stripes = torch.zeros(1, 1, 8, 8); stripes[..., ::2, :] = 1.0
    >>> smooth = torch.linspace(0, 1, 64).reshape(1, 1, 8, 8)
    >>> bool(neighbour_information(smooth) > neighbour_information(stripes))
    True
    >>> bool(torch.allclose(neighbour_information(1 - smooth), neighbour_information(smooth)))
    True
    >>> bool(torch.allclose(neighbour_information(smooth, method="fft"),
    ...                     neighbour_information(smooth, method="dense")))
    True
    """
    images = check_image_batch(images, min_dims=3, float_only=True)
    if not isinstance(kernel, Kernel):
        raise DTypeError(f"kernel must be a pixinfo.info.Kernel, got {type(kernel).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not is_integer(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    h, w = images.shape[-2:]
    lead = images.shape[:-2]
    flat = images.reshape(-1, h, w)
    total, _ = cached_pair_sums(kernel, h, w)
    if total == 0:
        raise ValueError(f"{kernel!r} gives no weight to any pair of a {h}x{w} grid")
    if method == "auto":
        method = "dense" if h * w <= DENSE_MAX_PIXELS else "fft"
    if method == "dense":
        weights = cached_weight_matrix(kernel, h, w).to(device=flat.device, dtype=flat.dtype)
    else:
        weights = _spectral_weights(kernel, h, w, flat.device, flat.dtype)
    out = torch.empty(flat.shape[0], dtype=flat.dtype, device=flat.device)
    for start in range(0, flat.shape[0], batch_size):
        z = flat[start : start + batch_size]
        z = z - z.mean(dim=(-2, -1), keepdim=True)
        if method == "dense":
            zf = z.reshape(z.shape[0], h * w)
            num = ((zf @ weights) * zf).sum(-1)
        else:
            spectrum = torch.fft.rfft2(z, s=(2 * h, 2 * w))
            num = ((spectrum.real**2 + spectrum.imag**2) * weights).sum(dim=(-2, -1))
        den = (z * z).sum(dim=(-2, -1))
        out[start : start + batch_size] = torch.where(den > 0, num / den, torch.nan)
    return (out * (h * w / total)).reshape(lead)
