"""``pixinfo recover-key``: attack one transform on one dataset under a threat model, print the measures, save a gallery."""

from __future__ import annotations

from pathlib import Path

import torch

from pixinfo.data import load_dataset, to_uint8
from pixinfo.errors import ParameterError
from pixinfo.files import save_figure_atomic
from pixinfo.privacy.attacks import attack
from pixinfo.privacy.measures import align_symmetry, recovery_measures
from pixinfo.privacy.threat import ThreatModel
from pixinfo.runs import RunSpec, RunStore
from pixinfo.transforms import build_transform


def _split(ds, threat: ThreatModel, n_images: int | None):
    """(ciphertexts' plain images, what the attacker holds, scored test images, orienting prior)."""
    test = ds.test.images
    if threat.kind == "prior" and threat.public_images > len(test) - 2:
        raise ParameterError(f"public_images: expected at most {len(test) - 2} (the test split's {len(test)} images, "
                             f"two left to score), got {threat.public_images}")  # fmt: skip
    if threat.kind == "known-plaintext" and threat.pairs >= len(ds.train):
        raise ParameterError(f"pairs: expected fewer than the {len(ds.train)} training images, got {threat.pairs}")
    if threat.kind == "prior":
        public = test[-threat.public_images :]
        return ds.train.images[: n_images or len(ds.train)], public, test[: len(test) - len(public)], public
    if threat.kind == "known-plaintext":
        pairs = ds.train.images[: threat.pairs]
        rest = ds.train.images[threat.pairs :]
        return rest[: n_images or len(rest)], pairs, test[:-300], test[-300:]
    return ds.train.images[: n_images or len(ds.train)], None, test[:-300], test[-300:]


def default_threat(kind: str, ds, *, public_images: int | None = None, pairs: int | None = None) -> ThreatModel:
    """The threat model ``kind`` with the attacker's holdings: public images (default: the test images
    beyond the first 1,000, at most 9,000, at least half the split scored) or pairs (default 100)."""
    if kind == "prior":
        default = min(9000, max(len(ds.test) - 1000, len(ds.test) // 2))
        return ThreatModel("prior", public_images=public_images or default)
    if kind == "known-plaintext":
        return ThreatModel("known-plaintext", pairs=pairs or 100)
    if kind != "blind":  # chosen-plaintext: one-hot probing (pixinfo.info.probe_map), not a recovery run
        raise ParameterError(f"threat: expected 'blind', 'prior' or 'known-plaintext', got {kind!r}")
    return ThreatModel.parse(kind)


def run_attack(*, spec: str, dataset: str, threat: str | ThreatModel = "blind", n_images: int | None = None,
               out: str | Path = "results", n_gallery: int = 8, root: str | Path | None = None,
               seed: int = 0) -> dict:  # fmt: skip
    """Attack ``spec`` under ``threat`` with ``n_images`` training ciphertexts of ``dataset``
    (default: all); score it on test images the attacker never holds; write
    ``attack-<dataset>-<spec>-<threat>-<digest>.json`` through the run store (threat model, the key's
    details, measures and provenance) and a gallery PNG beside it (original / encrypted / recovered)
    to ``out``. ``root``: where the dataset's files are (datasets that are not embedded); ``seed``:
    the blind rearrangement attack's random restarts. Returns the measures.

    Threat models (see [`ThreatModel`][pixinfo.privacy.threat.ThreatModel]): "blind" (the last 300
    test images only orient the recovered layout), "prior" (``public_images`` test images, from the
    end of the split, disjoint from the scored ones), "known-plaintext" (the first ``pairs``
    training images and their encryptions; the ciphertexts are the training images after them).
    """
    from pixinfo._checks import check_positive_int

    if n_images is not None:
        check_positive_int(n_images, "n_images")  # 0 or -5 would slice all or nearly all images
    ds = load_dataset(dataset, **({"root": root} if root is not None else {}))
    given = ThreatModel.parse(threat)  # a kind, or a ThreatModel whose holdings may be left to the defaults
    threat = default_threat(given.kind, ds, public_images=given.public_images, pairs=given.pairs)
    t = build_transform(spec, shape=ds.image_shape, dataset=ds.name)
    plain, held, test, orient = _split(ds, threat, n_images)
    if threat.kind == "known-plaintext":
        key = attack(t, t(plain), pairs=(held, t(held)))
    else:
        key = attack(t, t(plain), public=held, seed=seed)
    fresh = build_transform(spec, shape=ds.image_shape, dataset=ds.name)  # per-image keys restart: same stream
    measures = recovery_measures(key=key, transform=fresh, original=test, prior=orient)
    store = RunStore(out)
    identity = {"spec": spec, "dataset": ds.name, "threat": threat.to_dict(), "n_images": len(plain), "seed": seed}
    run = RunSpec("key-recovery", f"attack-{ds.name}-{spec}-{threat.kind}", identity)
    store.write(run, {**identity, "info": key.info, "measures": measures})
    stem = run.stem
    shown = test[:n_gallery]
    encrypted = build_transform(spec, shape=ds.image_shape, dataset=ds.name)(shown)
    recovered = align_symmetry(key, t(test), prior=orient).decrypt(encrypted)
    gallery(torch.stack([shown, encrypted, to_uint8(recovered)]), Path(out) / f"{stem}.png",
            title=f"{spec} on {ds.name}, threat model {threat.label}")  # fmt: skip
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
