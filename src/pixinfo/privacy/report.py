"""``pixinfo attack``: attack one transform on one dataset, print the measures, save a gallery."""

from __future__ import annotations

from pathlib import Path

import torch

from pixinfo.data import load_dataset
from pixinfo.files import save_figure_atomic
from pixinfo.privacy.attacks import attack
from pixinfo.privacy.measures import align_symmetry, recovery_measures
from pixinfo.provenance import write_json
from pixinfo.transforms import build_transform


def run_attack(*, spec: str, dataset: str, n_images: int | None = None, out: str | Path = "results",
               n_gallery: int = 8, prior_images: int = 300) -> dict:  # fmt: skip
    """Attack ``spec`` with ``n_images`` training ciphertexts of ``dataset`` (default: all); score it on
    the test split (the last ``prior_images`` test images serve as the public prior and are not
    scored); write ``attack-<dataset>-<spec>.json`` and a gallery PNG (original / encrypted /
    recovered) to ``out``. Returns the measures."""
    from pixinfo._checks import check_positive_int

    if n_images is not None:
        check_positive_int(n_images, "n_images")  # 0 or -5 would slice all or nearly all images
    ds = load_dataset(dataset)
    t = build_transform(spec, shape=ds.image_shape, dataset=ds.name)
    train = ds.train.images[: n_images or len(ds.train)]
    key = attack(t, t(train))
    test, prior = ds.test.images[:-prior_images], ds.test.images[-prior_images:]
    fresh = build_transform(spec, shape=ds.image_shape, dataset=ds.name)  # per-image keys restart: same stream
    measures = recovery_measures(key=key, transform=fresh, original=test, prior=prior)
    out = Path(out)
    stem = f"attack-{ds.name}-{spec.replace(':', '_').replace(',', '_').replace('=', '')}"
    write_json(out / f"{stem}.json", {"spec": spec, "dataset": ds.name, "n_images": len(train), "info": key.info,
                                      "measures": measures})  # fmt: skip
    shown = test[:n_gallery]
    encrypted = build_transform(spec, shape=ds.image_shape, dataset=ds.name)(shown)
    recovered = align_symmetry(key, t(test), prior=prior).decrypt(encrypted)
    gallery(torch.stack([shown, encrypted, recovered]), out / f"{stem}.png", title=f"{spec} on {ds.name}")
    return measures


def gallery(rows: torch.Tensor, path: Path, *, title: str) -> Path:
    """Save ``(3, B, C, H, W)`` uint8 images as a 3-row grid (original, encrypted, recovered); written whole."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = rows.shape[1]
    fig, axes = plt.subplots(3, n, figsize=(1.2 * n, 3.9), squeeze=False)
    for i, name in enumerate(("original", "encrypted", "recovered")):
        for j in range(n):
            ax = axes[i][j]
            ax.imshow(rows[i, j].float().mean(0).cpu().numpy(), cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i][0].set_ylabel(name, fontsize=8)
    fig.suptitle(title, fontsize=9)
    return save_figure_atomic(fig, path, dpi=110)
