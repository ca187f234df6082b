"""One report on a transform's learnability and secrecy: ``pixinfo assess`` and [`assess`][pixinfo.assess.assess].

The report puts side by side what pixinfo can say about one transform on one dataset:

* the three neighbour-information measures with their 95% intervals
  ([`pixinfo.score`][pixinfo.scoring.score]), next to the paper's transforms on one chart
  (``pixinfo.plots.plot_scores``, the chart of ``pixinfo score``);
* the accuracy each model family is predicted to keep ([`pixinfo.predict`][pixinfo.predict.predict]),
  and, when asked, the accuracy a quick training run measures, with the untransformed run beside it;
* key recovery under each threat model (blind, prior, known-plaintext;
  [`pixinfo.privacy.attack`][pixinfo.privacy.attacks.attack], scored with
  [`recovery_measures`][pixinfo.privacy.measures.recovery_measures] on held-out images split as
  ``pixinfo recover-key`` splits them);
* a gallery of plain, transformed and recovered images, the provenance of every number, and a
  verdict written from the numbers.

[`assess`][pixinfo.assess.assess] returns the report as a JSON-ready dict and, given ``out``,
writes ``report.json``, ``report.md`` (with ``scores.png`` and ``gallery.png`` beside it) and a
self-contained ``report.html`` (its images embedded as data URIs).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from pixinfo._callable import make_module_callable
from pixinfo.errors import ParameterError, PixinfoError, UnsupportedSchemeError
from pixinfo.info.registry import MEASURES

THREATS = ("blind", "prior", "known-plaintext")  # from the weakest attacker to the strongest
RECOVERED = 0.9  # SSIM or exact share at or above which a threat model counts as recovering the transform
KEPT = 0.9  # share of the untransformed accuracy at or above which a transform counts as learnable
LEARNED = 0.1  # a quick run judges learnability when it got this far above chance on the originals
NO_ATTACK = "no attack written for this scheme under this threat model"
HOLDS = {"blind": "ciphertexts only", "prior": "ciphertexts and public plain images of the same kind",
         "known-plaintext": "ciphertexts and (plain, encrypted) pairs"}  # fmt: skip
DEFAULT_SIZES = {"n_score": 5000, "n_ciphertexts": 10000, "n_public": 2000, "n_pairs": 100, "n_held_out": 1000,
                 "n_gallery": 8, "train_images": 5000, "epochs": 2}  # fmt: skip


class _Progress:
    """Progress lines on stderr, each with the seconds since the assessment started."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.start = enabled, time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"assess: {message} ({time.perf_counter() - self.start:.0f} s)", file=sys.stderr, flush=True)


# -- the transform: a spec or an object, rebuilt fresh for every use ---------------------------------
def _factory(transform: object, ds) -> tuple[Callable[[], Any], str | None]:
    """A function returning a fresh copy of ``transform`` (per-image key streams restart with each
    copy), and a spec that rebuilds it (None when it has none: no training run then)."""
    from pixinfo.transforms import build_transform

    if isinstance(transform, str):
        build = lambda: build_transform(transform, shape=ds.image_shape, dataset=ds.name)  # noqa: E731
        return build, build().spec
    if not callable(transform):
        raise ParameterError(f"transform must be a spec string, a pixinfo Transform or a callable on (B, C, H, W) "
                             f"images, got {type(transform).__name__}")  # fmt: skip
    template = copy.deepcopy(transform)
    spec = getattr(transform, "spec", None)
    try:
        rebuilt = isinstance(spec, str) and build_transform(spec, shape=ds.image_shape, dataset=ds.name).spec == spec
    except PixinfoError:
        rebuilt = False
    return (lambda: copy.deepcopy(template)), (spec if rebuilt else None)


def reference_specs(dataset: str) -> list[str]:
    """The paper's transforms the assessed one is charted against: the authors' vortex key where the
    dataset has one (else ``vortex:seed=0``), 4×4 block scrambling, a fixed pixel permutation and
    the identity.

    Examples
    --------
    >>> reference_specs("digits")
    ['vortex:seed=0', 'block:size=4', 'permutation:seed=0', 'identity']
    """
    from pixinfo.transforms.registry import default_transforms

    return [default_transforms(dataset)[1], "block:size=4", "permutation:seed=0", "identity"]


# -- the sections of the report ----------------------------------------------------------------------
def _measures(factory, ds, *, n_score: int, seed: int, log: _Progress) -> list:
    """Scores of the assessed transform (first) and of the paper's transforms not equal to it."""
    from pixinfo.scoring import score_table
    from pixinfo.transforms import build_transform

    images = ds.split("all").images[:n_score]
    assessed = factory()
    label = getattr(assessed, "spec", None)
    others = [build_transform(s, shape=ds.image_shape, dataset=ds.name) for s in reference_specs(ds.name)]
    transforms = [assessed, *(t for t in others if t.spec != label)]
    log(f"scoring {len(transforms)} transforms on {len(images):,} images of {ds.name}")
    return [dataclasses.replace(sc, dataset=ds.name) for sc in score_table(transforms, images, seed=seed)]


def _prediction(score, factory, spec: str | None, ds, *, seed: int, log: _Progress) -> dict[str, Any]:
    """Predicted accuracy kept per model family, or a note saying that none is fitted for ``ds``."""
    from pixinfo.predict import STUDY_IMAGES, LossPredictor, features, predict

    predictor = LossPredictor.load()
    families = [family for _, family in predictor.families(ds.name)]
    if not families:
        fitted = ", ".join(sorted({d for d, _ in predictor.families()}))
        note = f"No accuracy predictor is fitted on {ds.name} (fitted on: {fitted}); no accuracy is predicted."
        return {"available": False, "families": [], "notes": [], "note": note}
    log(f"predicting the accuracy kept by {len(families)} model families (probes on {STUDY_IMAGES:,} images)")
    feats = features(score if spec is not None else factory(), ds.name, max_images=STUDY_IMAGES, seed=seed,
                     probes=predictor.probes(ds.name, families), baseline=predictor.baseline(ds.name))  # fmt: skip
    rows = [predict(feats, ds.name, family, predictor=predictor) for family in families]
    return {"available": True, "note": None, "level": rows[0].level, "seconds": feats.seconds,
            "notes": list(rows[0].notes), "families": [r.to_dict() for r in rows]}  # fmt: skip


def default_model(families: list[str]) -> str:
    """The model a quick run trains: the first of ``cnn``, ``lenet`` the predictor has, else ``cnn``.

    Examples
    --------
    >>> default_model(["lenet", "mlp"]), default_model([])
    ('lenet', 'cnn')
    """
    return next((m for m in ("cnn", "lenet") if m in families), "cnn")


def _training(spec: str | None, ds, *, model: str, sizes: dict[str, int], seed: int, device: str,
              log: _Progress) -> tuple[dict[str, Any], torch.nn.Module]:  # fmt: skip
    """Quick runs of ``model`` on the original and on the transformed images (``sizes["epochs"]`` epochs on
    ``sizes["train_images"]`` images); the original run's model is the reference model of the key-recovery accuracy."""
    from pixinfo.train import train
    from pixinfo.train.recipes import recipe

    epochs, train_images = sizes["epochs"], sizes["train_images"]

    subset = train_images if train_images < len(ds.train) else None
    out: dict[str, Any] = {"model": model, "epochs": epochs, "train_images": min(train_images, len(ds.train)),
                           "test_images": len(ds.test), "classes": ds.num_classes, "seed": seed}  # fmt: skip
    reference = None
    for name, transform in (("original", None), ("transformed", spec)):
        if name == "transformed" and spec is None:
            out[name] = {"skipped": "the transform has no spec pixinfo can rebuild, so it cannot be trained on"}
            continue
        log(f"training {model} on {name} images ({epochs} epochs, {out['train_images']:,} images)")
        config = recipe(model, ds.name, transform=transform, epochs=epochs, max_train=subset, seed=seed, device=device)
        run = train(config, results_dir=None, progress=False, data=ds)
        res = run.record["results"]
        out[name] = {"accuracy": res["final_test_acc"], "seconds": res["train_seconds"],
                     "config": config.to_dict()}  # fmt: skip
        reference = run.model if name == "original" else reference
    out["device"] = run.record["environment"].get("device")
    return out, reference


def _attack_one(factory, ds, threat, sizes: dict[str, int], reference) -> tuple[dict[str, Any], torch.Tensor | None]:
    """One threat model: the attack, its measures on held-out images and the gallery's recovered row."""
    from pixinfo.privacy import align_symmetry, attack, recovery_measures
    from pixinfo.privacy.report import _split

    plain, held, test, orient = _split(ds, threat, sizes["n_ciphertexts"])
    test = test[: sizes["n_held_out"]]
    labels = ds.test.labels[: len(test)]  # every split's held-out images are the first test images
    row: dict[str, Any] = {"threat": threat.kind, "label": threat.label, "holds": HOLDS[threat.kind],
                           "threat_model": threat.to_dict(), "n_ciphertexts": len(plain), "held_out": len(test)}
    t, start = factory(), time.perf_counter()
    try:
        if threat.kind == "known-plaintext":
            key = attack(t, t(plain), pairs=(held, t(held)))
        else:
            key = attack(t, t(plain), public=held)
    except UnsupportedSchemeError as err:
        return {**row, "supported": False, "message": NO_ATTACK, "error": str(err)}, None
    row["seconds"] = time.perf_counter() - start
    m = recovery_measures(key=key, transform=factory(), original=test, prior=orient, model=reference,
                          labels=labels if reference is not None else None)  # fmt: skip
    exact_field = next(f for f in ("exact_sources", "exact_prior", "exact") if f in m)
    row |= {"supported": True, "found": bool(key.found), "solver": key.info.get("solver"), "exact": m[exact_field],
            "exact_field": exact_field, "ssim": m["ssim_prior"], "psnr": m["psnr_prior"],
            "accuracy": m.get("accuracy_prior"), "accuracy_original": m.get("accuracy_original"), "measures": m}
    ciphertexts = factory()(test)
    shown = ciphertexts[: sizes["n_gallery"]]
    return row, align_symmetry(key, ciphertexts, prior=orient).decrypt(shown)


def _key_recovery(factory, ds, sizes: dict[str, int], reference, log: _Progress) -> tuple[dict[str, Any], dict]:
    """Every threat model of ``THREATS``, with ``pixinfo recover-key``'s splits; and the gallery rows."""
    from pixinfo.data import to_uint8
    from pixinfo.privacy.report import default_threat

    public = min(sizes["n_public"], len(ds.test) // 2)  # at least half the test split stays held out
    rows, gallery = [], {"plain": ds.test.images[: sizes["n_gallery"]]}
    gallery["transformed"] = to_uint8(factory()(ds.test.images[: sizes["n_held_out"]])[: sizes["n_gallery"]])
    for kind in THREATS:
        threat = default_threat(kind, ds, public_images=public, pairs=sizes["n_pairs"])
        log(f"key recovery, threat model {threat.label}")
        row, recovered = _attack_one(factory, ds, threat, sizes, reference)
        rows.append(row)
        if recovered is not None:
            gallery[f"recovered ({kind})"] = to_uint8(recovered)
    note = ("Accuracy: of the originals-trained reference model (the quick untransformed run) on the decryptions"
            if reference is not None else "Accuracy column skipped: no reference model was trained (run with --train)")
    return {"threats": rows, "accuracy_note": note, "recovered_at": RECOVERED}, gallery


# -- the verdict ---------------------------------------------------------------------------------------
def _predicted(prediction: dict[str, Any]) -> tuple[str | None, float]:
    """The prediction for the quick-run family (else the first) in words, and the share of accuracy it keeps."""
    if not prediction["available"]:
        return None, math.nan
    rows = prediction["families"]
    row = next((r for r in rows if r["model"] == default_model([r["model"] for r in rows])), rows[0])
    text = (f"the predictor expects {row['model']} to keep {row['accuracy']:.1f}% "
            f"[{row['accuracy_interval_low']:.1f}, {row['accuracy_interval_high']:.1f}] against "
            f"{row['untransformed_accuracy']:.1f}% untransformed")  # fmt: skip
    text += f" (an extrapolation: {row['reason']})" if row["out_of_domain"] else ""
    base = row["untransformed_accuracy"]
    return text, (row["accuracy"] / base if base > 0 else math.nan)


def _learnable(report: dict[str, Any]) -> str:
    """The learnability sentences: judged from the quick training run where it learned the originals
    (at least ``LEARNED`` above chance), else from the prediction."""
    training, prediction = report.get("training"), report["prediction"]
    predicted, kept = _predicted(prediction)
    if training and "accuracy" in training.get("transformed", {}):
        acc, base = training["transformed"]["accuracy"], training["original"]["accuracy"]
        chance, epochs = 1 / training["classes"], training["epochs"]
        source = (f"a quick {training['model']} run ({epochs} epoch{'s' if epochs != 1 else ''}, "
                  f"{training['train_images']:,} images) reached {100 * acc:.1f}% on transformed images against "
                  f"{100 * base:.1f}% on the originals")  # fmt: skip
        if base - chance >= LEARNED:
            return _judge(acc / base, source + (f"; {predicted}" if predicted else ""))
        source += f", too short a run to judge by (chance: {100 * chance:.0f}%)"
        return _judge(kept, f"{predicted}; {source}") if predicted else f"Learnable? Undetermined: {source}."
    if predicted is not None:
        return _judge(kept, predicted)
    return ("Learnable? Not assessed: " + prediction["note"].rstrip(".").replace("No ", "no ", 1)
            + ", and no training run was asked for (--train).")


def _judge(kept: float, source: str) -> str:
    if not math.isfinite(kept):
        return f"Learnable? Undetermined: {source}."
    verdict = "yes" if kept >= KEPT else ("partly" if kept >= 0.5 else "hardly")
    return f"Learnable? {verdict.capitalize()}, {100 * kept:.0f}% of the accuracy kept: {source}."


def _recoverable(rows: list[dict[str, Any]]) -> str:
    """The recoverability sentences: the weakest threat model whose attack recovered the transform."""
    tried = [r for r in rows if r["supported"]]
    facts = "; ".join(f"{r['label']}: SSIM {_number(r['ssim'], '.2f')}, exact {_number(r['exact'], '.2f')}"
                      for r in tried)  # fmt: skip
    missing = [r["label"] for r in rows if not r["supported"]]
    gaps = f" No attack is written for this scheme under {' or '.join(missing)}." if missing else ""
    winner = next((r for r in tried if any((r[m] or 0) >= RECOVERED for m in ("ssim", "exact"))), None)
    if winner is not None:
        return (f"Recoverable? Yes: by the {winner['label']} attacker ({winner['holds']}), the weakest threat model "
                f"under which an attack reached SSIM or exact ≥ {RECOVERED} ({facts}).{gaps}")
    if not tried:
        return ("Recoverable? Untested: no attack is written for this scheme under any threat model "
                f"({', '.join(missing)}).")
    return (f"Recoverable? No attack tried recovered it (SSIM and exact below {RECOVERED} under every threat model "
            f"tried: {facts}); that is not a proof of secrecy.{gaps}")


def verdict(report: dict[str, Any]) -> str:
    """One paragraph from the report's numbers: learnable (from the training run, else the
    prediction)? recoverable, and by whom (the weakest threat model under which SSIM ≥ 0.9 or
    exact ≥ 0.9)?"""
    return f"{_learnable(report)} {_recoverable(report['key_recovery']['threats'])}"


# -- the report as Markdown and HTML ------------------------------------------------------------------
def _interval(value: Any, low: Any, high: Any, digits: int = 3) -> str:
    """``value [low, high]``, the value alone when the interval is a point or missing, "n/a" without a value."""
    if value is None:
        return "n/a"
    if low is None or high is None or low == high:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _ci(row: dict[str, Any], name: str) -> str:
    """A measure of a score row (``name``, ``name_low``, ``name_high``) with its interval."""
    return _interval(row.get(name), row.get(f"{name}_low"), row.get(f"{name}_high"))


def _number(value: Any, fmt: str = ".3f") -> str:
    """``value`` formatted, or "n/a" where it is missing (None or NaN)."""
    return "n/a" if value is None or value != value else format(value, fmt)


def _measure_blocks(report: dict[str, Any]) -> list[tuple]:
    m = report["measures"]
    rows = [[("▶ " if i == 0 else "") + s["transform"], "yes" if s["shared_key"] else "no",
             *(_ci(s, measure.name) for measure in MEASURES)]
            for i, s in enumerate([m["assessed"], *m["references"]])]  # fmt: skip
    return [("p", f"On {m['n_images']:,} images of {report['dataset']}, against the paper's transforms (▶: the "
                  "assessed one). Each measure is 1 when the transform keeps everything a network could use: "
                  "structural R (the neighbour structure of the pixel map), content retention (the images' "
                  "neighbour information kept), value NMI and Spearman (how well each pixel's value survives). "
                  "[low, high]: 95% bootstrap intervals; a single number is exact."),
            ("table", ["transform", "shared key", *(measure.label for measure in MEASURES)], rows),
            ("img", "scores.png", "the three measures per transform, with 95% intervals")]  # fmt: skip


def _accuracy_blocks(report: dict[str, Any]) -> list[tuple]:
    p, training = report["prediction"], report.get("training")
    if not p["available"]:
        blocks: list[tuple] = [("p", p["note"])]
    else:
        rows = [[r["model"], _interval(r["accuracy"], r["accuracy_interval_low"], r["accuracy_interval_high"], 1),
                 _interval(r["loss"], r["interval_low"], r["interval_high"], 1),
                 f"{r['untransformed_accuracy']:.1f}", f"yes: {r['reason']}" if r["out_of_domain"] else "no"]
                for r in p["families"]]  # fmt: skip
        blocks = [("p", f"Predicted accuracy kept per model family ({p['level']:.0%} intervals for one training run; "
                        "out of domain: the transform lies outside the settings the family was fitted on, so the "
                        "numbers are an extrapolation)."),
                  ("table", ["model", "accuracy kept %", "loss (points)", "untransformed %", "out of domain"], rows),
                  *(("p", f"Note: {n}") for n in p["notes"])]  # fmt: skip
    if not training:
        return [*blocks, ("p", "No training run was made (--train measures the accuracy of a quick run).")]
    runs = [[name, _number(100 * training[name]["accuracy"], ".2f") if "accuracy" in training[name]
             else training[name]["skipped"], _number(training[name].get("seconds"), ".1f")]
            for name in ("original", "transformed")]  # fmt: skip
    return [*blocks, ("p", f"Measured: a quick {training['model']} run, {training['epochs']} epoch(s) on "
                           f"{training['train_images']:,} training images, tested on the {training['test_images']:,} "
                           "test images: shorter than the runs the predictor was fitted on, so compare the share of "
                           "the accuracy kept rather than the accuracies."),
            ("table", ["images", "test accuracy %", "training seconds"], runs)]


def _recovery_blocks(report: dict[str, Any]) -> list[tuple]:
    k = report["key_recovery"]
    rows = []
    for r in k["threats"]:
        if not r["supported"]:
            rows.append([r["label"], r["holds"], NO_ATTACK, "", "", "", ""])
            continue
        acc = ("skipped" if r["accuracy"] is None
               else f"{100 * r['accuracy']:.1f} (originals {100 * r['accuracy_original']:.1f})")  # fmt: skip
        rows.append([r["label"], r["holds"], "yes" if r["found"] else "no", _number(r["exact"]), _number(r["ssim"]),
                     acc, f"{r['seconds']:.1f}"])  # fmt: skip
    return [("p", f"Each attack sees the transformed training images ({k['threats'][0]['n_ciphertexts']:,} "
                  "ciphertexts) and what its threat model grants; it is scored on held-out test images it never saw. "
                  "exact: share of the key recovered (each encrypted position's source where the attack estimates it, "
                  "else grid positions back in place after a public prior picks the orientation); SSIM: of the "
                  f"decryptions against the originals; recovered at SSIM or exact ≥ {k['recovered_at']}. "
                  f"{k['accuracy_note']}."),
            ("table", ["threat model", "attacker holds", "key found", "exact", "SSIM", "accuracy on decryptions %",
                       "attack seconds"], rows)]  # fmt: skip


def _provenance_blocks(report: dict[str, Any]) -> list[tuple]:
    prov = report["provenance"]
    env, git = prov["environment"], prov["environment"].get("git", {})
    commit = f"{git.get('commit') or 'unknown'}" + (" (with uncommitted changes)" if git.get("dirty") else "")
    rows = [["pixinfo", env["pixinfo"]],
            ["python / torch / numpy", f"{env['python']} / {env['torch']} / {env['numpy']}"],
            ["commit", commit], ["device", env.get("device", "")], ["platform", env["platform"]],
            ["seed", str(prov["seed"])], ["command", " ".join(prov["command"])],
            *([f"size: {k}", f"{v:,}" + (f" (asked {prov['sizes'][k]:,})" if v != prov["sizes"][k] else "")]
              for k, v in prov["sizes_used"].items()),
            *([f"seconds: {k}", f"{v:.1f}"] for k, v in prov["seconds"].items())]  # fmt: skip
    return [("table", ["what", "value"], rows)]


def sections(report: dict[str, Any]) -> list[tuple[str, list[tuple]]]:
    """The report as (heading, blocks) pairs; a block is ``("p", text)``, ``("table", header, rows)`` or
    ``("img", file name, alt text)``. Both the Markdown and the HTML are written from these."""
    names = ", ".join(n for n in report["gallery"]["rows"])
    return [("Verdict", [("p", report["verdict"])]),
            ("Information measures", _measure_blocks(report)),
            ("Accuracy", _accuracy_blocks(report)),
            ("Key recovery", _recovery_blocks(report)),
            ("Gallery", [("p", f"Rows: {names}; the first held-out test images."),
                         ("img", "gallery.png", "plain, transformed and recovered images")]),
            ("Provenance", _provenance_blocks(report))]  # fmt: skip


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown; its images are the PNG files written beside it."""
    lines = [f"# Assessment of `{report['transform']}` on {report['dataset']}", ""]
    for heading, blocks in sections(report):
        lines += [f"## {heading}", ""]
        for block in blocks:
            if block[0] == "p":
                lines += [block[1], ""]
            elif block[0] == "img":
                lines += [f"![{block[2]}]({block[1]})", ""]
            else:
                header, rows = block[1], block[2]
                lines += ["| " + " | ".join(map(_cell, header)) + " |", "|" + "---|" * len(header)]
                lines += ["| " + " | ".join(map(_cell, r)) + " |" for r in rows] + [""]
    return "\n".join(lines)


STYLE = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
         "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
         "text-align:left;vertical-align:top}th{background:#f2f2f2}img{max-width:100%}")  # fmt: skip


def to_html(report: dict[str, Any], images: dict[str, bytes]) -> str:
    """The report as one self-contained HTML page: ``images`` (file name → PNG bytes) embedded as data URIs."""
    import base64
    from html import escape

    title = f"Assessment of {report['transform']} on {report['dataset']}"
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{escape(title)}</title>",
           f"<style>{STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>"]  # fmt: skip
    for heading, blocks in sections(report):
        out.append(f"<h2>{escape(heading)}</h2>")
        for block in blocks:
            if block[0] == "p":
                out.append(f"<p>{escape(block[1])}</p>")
            elif block[0] == "img":
                data = base64.b64encode(images[block[1]]).decode("ascii")
                out.append(f'<p><img src="data:image/png;base64,{data}" alt="{escape(block[2])}"></p>')
            else:
                head = "".join(f"<th>{escape(h)}</th>" for h in block[1])
                body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in block[2])
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "\n".join([*out, "</body></html>", ""])


def plot_gallery(rows: dict[str, torch.Tensor], path: str | Path, *, title: str) -> Path:
    """One figure: a row per entry of ``rows`` (name → ``(B, C, H, W)`` uint8 images); written whole."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pixinfo.files import save_figure_atomic

    n = max(len(r) for r in rows.values())
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n + 1.2, 1.15 * len(rows) + 0.4), squeeze=False)
    for i, (name, images) in enumerate(rows.items()):
        for j in range(n):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(images):
                image = images[j].cpu()
                shown = image.permute(1, 2, 0).numpy() if image.shape[0] == 3 else image.float().mean(0).numpy()
                ax.imshow(shown, cmap="gray", vmin=0, vmax=255)
        axes[i][0].set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure_atomic(fig, Path(path), dpi=100)


def _jsonable(value: Any) -> Any:
    """Tuples as lists, NumPy scalars as Python numbers, NaN and infinities as None (strict JSON)."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def write_report(report: dict[str, Any], gallery: dict[str, torch.Tensor], out: str | Path, *, frame) -> dict[str, str]:
    """Write ``report.json``, ``report.md`` with ``scores.png`` and ``gallery.png``, and ``report.html`` to ``out``."""
    import json

    from pixinfo.files import write_text_atomic
    from pixinfo.plots import plot_scores

    out = Path(out)
    title = f"{report['transform']} on {report['dataset']}"
    frame = frame.assign(transform=[f"{t} (assessed)" if i == 0 else t for i, t in enumerate(frame["transform"])])
    n = report["measures"]["n_images"]
    charts = {"scores.png": plot_scores(frame, out / "scores.png", title=f"{title}: {n:,} images"),
              "gallery.png": plot_gallery(gallery, out / "gallery.png", title=title)}  # fmt: skip
    files = {name: str(p) for name, p in charts.items()}
    text = json.dumps(report, indent=1, allow_nan=False) + "\n"
    files["report.json"] = str(write_text_atomic(out / "report.json", text))
    files["report.md"] = str(write_text_atomic(out / "report.md", to_markdown(report)))
    html = to_html(report, {name: p.read_bytes() for name, p in charts.items()})
    files["report.html"] = str(write_text_atomic(out / "report.html", html))
    return files


# -- the whole assessment --------------------------------------------------------------------------------
def _check_options(*, sizes: dict[str, Any], seed, train, progress, model, out) -> Path | None:
    """Every scalar option, checked before any image is touched; the output folder, created and writable."""
    from pixinfo._checks import check_bool, check_choice, check_positive_int, check_seed
    from pixinfo.files import check_writable_dir
    from pixinfo.train.recipes import RECIPES

    for name, value in sizes.items():
        check_positive_int(value, name)
    check_seed(seed)
    check_bool(train, "train")
    check_bool(progress, "progress")
    if model is not None:
        check_choice(model, "model", tuple(sorted(RECIPES)))
    return check_writable_dir(out, name="out") if out is not None else None


def assess(transform, dataset, *, out: str | Path | None = None, train: bool = False, model: str | None = None,
           n_score: int = 5000, n_ciphertexts: int = 10000, n_public: int = 2000, n_pairs: int = 100,
           n_held_out: int = 1000, n_gallery: int = 8, train_images: int = 5000, epochs: int = 2, seed: int = 0,
           device: str = "auto", progress: bool = True) -> dict[str, Any]:  # fmt: skip
    """Assess one transform on one dataset: how learnable it is and who can undo it.

    Parameters
    ----------
    transform : str, Transform or callable
        A spec as on the command line (``"vortex:authors"``), a pixinfo
        [`Transform`][pixinfo.transforms.base.Transform] or any callable mapping float ``(B, C, H, W)``
        images in [0, 1] to images of the same shape (no attack is written for a plain callable,
        and only a transform whose spec rebuilds it can be trained on).
    dataset : str or Dataset
        The dataset's name (see ``pixinfo datasets``) or a loaded [`Dataset`][pixinfo.data.Dataset].
    out : path, optional
        Folder for ``report.json``, ``report.md``, ``report.html``, ``scores.png`` and ``gallery.png``
        (created; nothing is written without it).
    train : bool
        Also train ``model`` quickly on the original and on the transformed images: their test
        accuracy goes beside the prediction, and the original run's model measures the accuracy of
        each attack's decryptions.
    model : str, optional
        The model of the quick runs (a recipe of [`pixinfo.train.recipes`][pixinfo.train.recipes]);
        default: ``cnn``, or ``lenet`` where the predictor has a LeNet family and no CNN one.
    n_score : int
        Images scored with the three measures (the dataset's first, of its ``"all"`` split).
    n_ciphertexts, n_public, n_pairs : int
        What the attackers hold: transformed training images (every threat model), public plain
        test images (prior; at most half the test split) and (plain, encrypted) pairs
        (known-plaintext).
    n_held_out : int
        Held-out test images every attack is scored on (at most what its split leaves).
    n_gallery : int
        Images per gallery row.
    train_images, epochs : int
        Training images and epochs of each quick run.
    seed : int
        Seed of the measures' subsamples and bootstraps, the label probe and the quick runs.
    device : str
        Where the quick runs train (``auto``, ``cpu``, ``cuda``, ...); everything else runs on the CPU.
    progress : bool
        Print what it is doing, and since when, on stderr.

    Returns
    -------
    dict
        The report as written to ``report.json``: ``measures``, ``prediction``, ``training`` (None
        without ``train``), ``key_recovery``, ``gallery``, ``verdict`` and ``provenance``; with
        ``out``, also ``files`` (name → path).

    Raises
    ------
    ParameterError
        A bad count, seed, flag, model or transform.
    OutputPathError
        ``out`` cannot be created or written to.
    """
    from pixinfo.data import Dataset, load_dataset
    from pixinfo.scoring import to_frame

    sizes = {"n_score": n_score, "n_ciphertexts": n_ciphertexts, "n_public": n_public, "n_pairs": n_pairs,
             "n_held_out": n_held_out, "n_gallery": n_gallery, "train_images": train_images, "epochs": epochs}
    folder = _check_options(sizes=sizes, seed=seed, train=train, progress=progress, model=model, out=out)
    log, seconds = _Progress(progress), _Laps()  # the first lap, "measures", includes loading the dataset
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    factory, spec = _factory(transform, ds)
    scores = seconds("measures", lambda: _measures(factory, ds, n_score=n_score, seed=seed, log=log))
    prediction = seconds("prediction", lambda: _prediction(scores[0], factory, spec, ds, seed=seed, log=log))
    chosen = model or default_model([r["model"] for r in prediction["families"]])
    quick_runs = lambda: _training(spec, ds, model=chosen, sizes=sizes, seed=seed, device=device, log=log)  # noqa: E731
    training, reference = seconds("training", quick_runs) if train else (None, None)
    recovery, gallery = seconds("key_recovery", lambda: _key_recovery(factory, ds, sizes, reference, log))
    report = _report(scores, prediction, training, recovery, gallery, ds=ds, sizes=sizes, seed=seed,
                     seconds=dict(seconds), device=device if train else None)  # fmt: skip
    if folder is not None:
        report["files"] = write_report(report, gallery, folder, frame=to_frame(scores))
        log(f"wrote {folder / 'report.html'}, report.md and report.json")
    return report


class _Laps(dict):
    """Wall seconds per named step of the assessment, each counted from the end of the step before
    (the first from the creation of the laps)."""

    def __init__(self) -> None:
        super().__init__()
        self._mark = time.perf_counter()

    def __call__(self, name: str, work: Callable[[], Any]) -> Any:
        """``work()``, the seconds since the last lap recorded as ``self[name]``."""
        value = work()
        now = time.perf_counter()
        self[name], self._mark = now - self._mark, now
        return value


def _sizes_used(scores: list, training: dict[str, Any] | None, recovery: dict[str, Any], gallery: dict,
                sizes: dict[str, int]) -> dict[str, int]:  # fmt: skip
    """The sizes the sections ran with (the ones asked for, capped by what the dataset holds)."""
    rows = recovery["threats"]
    return {"n_score": scores[0].n_images, "n_ciphertexts": rows[0]["n_ciphertexts"],
            "n_public": next(r for r in rows if r["threat"] == "prior")["threat_model"]["public_images"],
            "n_pairs": sizes["n_pairs"],
            "n_held_out": min(r["held_out"] for r in rows), "n_gallery": len(gallery["plain"]),
            **({"train_images": training["train_images"], "epochs": sizes["epochs"]} if training else {})}  # fmt: skip


def _report(scores: list, prediction: dict[str, Any], training: dict[str, Any] | None, recovery: dict[str, Any],
            gallery: dict, *, ds, sizes: dict[str, int], seed: int, seconds: dict[str, float],
            device: str | None) -> dict[str, Any]:  # fmt: skip
    """The sections as one JSON-ready report, with its provenance and verdict (``device``: where the quick
    runs trained; None: everything ran on the CPU)."""
    from pixinfo.provenance import environment
    from pixinfo.train import resolve_device

    report: dict[str, Any] = {
        "kind": "pixinfo.assess", "version": 1, "transform": scores[0].transform, "dataset": ds.name,
        "measures": {"n_images": scores[0].n_images, "assessed": scores[0].to_dict(),
                     "references": [s.to_dict() for s in scores[1:]]},
        "prediction": prediction, "training": training, "key_recovery": recovery,
        "gallery": {"rows": list(gallery), "images": len(gallery["plain"])},
        "provenance": {"environment": environment(resolve_device(device) if device else "cpu"), "seed": seed,
                       "sizes": sizes, "sizes_used": _sizes_used(scores, training, recovery, gallery, sizes),
                       "seconds": seconds, "command": list(sys.argv), "dataset_source": ds.source},
    }  # fmt: skip
    report["verdict"] = verdict(report)
    return _jsonable(report)


make_module_callable(__name__, "assess")

__all__ = ["DEFAULT_SIZES", "THREATS", "assess", "default_model", "plot_gallery", "reference_specs", "sections",
           "to_html", "to_markdown", "verdict", "write_report"]  # fmt: skip
