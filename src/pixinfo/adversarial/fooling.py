"""Fooling images from noise (Nguyen, Yosinski & Clune): MAP-Elites evolution with a direct or a
CPPN encoding, and gradient ascent on a class's confidence.

The search is declared in parts (in the style of pyribs): an [`Encoding`][pixinfo.adversarial.fooling.Encoding] turns genomes
into images (``init`` / ``mutate`` / ``render`` / ``take``, all drawing from one
[`Random`][pixinfo.adversarial.fooling.Random]), an [`EliteArchive`][pixinfo.adversarial.fooling.EliteArchive] keeps one elite per class and is driven by ``ask``
(parents for the next generation) and ``tell`` (offspring and their confidences), and
[`evolve`][pixinfo.adversarial.fooling.evolve] is the short loop between them. A new encoding is one class with those four
methods. The whole population is rendered and classified in one batched forward pass per
generation on the model's device. Every run is seeded.

Examples
--------
>>> import torch
>>> from pixinfo.models import build_model
>>> from pixinfo.adversarial.fooling import DirectEncoding, evolve
>>> net = build_model("mlp", image_shape=(1, 8, 8), num_classes=3)
>>> run = evolve(net, encoding=DirectEncoding((1, 8, 8)), population=20, generations=5, seed=0, progress=False)
>>> run.images.shape, run.history.shape
(torch.Size([3, 1, 8, 8]), torch.Size([6, 3]))
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from pixinfo._checks import (
    check_bool,
    check_finite,
    check_int,
    check_nonnegative_int,
    check_positive_int,
    check_seed,
)
from pixinfo.adversarial.attacks import check_finite_values, checked_logits
from pixinfo.errors import ParameterError
from pixinfo.models import evaluating, model_device


def _check_shape(shape: Sequence[int]) -> tuple[int, int, int]:
    if not isinstance(shape, Sequence) or len(shape) != 3:
        raise ParameterError(f"shape must be (C, H, W) with positive sizes, got {shape!r}")
    c, h, w = (check_positive_int(s, "each size in shape") for s in shape)
    return c, h, w


def _check_classes(classes: Sequence[int] | None, k: int) -> list[int]:
    """The classes to search: all ``k`` by default, else distinct integers in ``[0, k)``."""
    if classes is None:
        return list(range(k))
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence) or not classes:
        raise ParameterError(f"classes must be a non-empty sequence of class indices, got {classes!r}")
    chosen = [check_int(c, "each of classes", low=0, high=k - 1) for c in classes]
    if len(set(chosen)) != len(chosen):
        raise ParameterError(f"classes must be distinct, got {list(classes)!r}")
    return chosen


@dataclass
class Random:
    """The one source of randomness of a search: a torch generator on the model's device (batched
    draws) and a NumPy generator (host-side choices: parents, CPPN structure), seeded together."""

    torch: torch.Generator
    numpy: np.random.Generator

    @classmethod
    def seeded(cls, seed: int, device) -> Random:
        return cls(torch.Generator(device=device).manual_seed(seed), np.random.default_rng(seed))


@runtime_checkable
class Encoding(Protocol):
    """How genomes become images. ``shape`` is the ``(C, H, W)`` of the images.

    ``init`` draws ``n`` genomes, ``mutate`` returns mutated copies of ``parents``, ``render``
    turns a collection of genomes into a float batch ``(P, C, H, W)`` in [0, 1] on ``device``,
    and ``take`` gathers genomes by index from a collection (or from a list of single genomes).
    A collection supports ``collection[i]`` for one genome.
    """

    shape: tuple[int, int, int]

    def init(self, n: int, *, random: Random, device) -> Any: ...

    def mutate(self, parents: Any, *, generation: int, random: Random) -> Any: ...

    def render(self, genomes: Any, *, device) -> torch.Tensor: ...

    def take(self, genomes: Any, index: Sequence[int]) -> Any: ...


# -- direct encoding -------------------------------------------------------------------------


def polynomial_mutation(
    values: torch.Tensor, *, rate: float, eta: float, low: float, high: float, generator: torch.Generator
) -> torch.Tensor:
    """Deb's bounded polynomial mutation (as in Sferes2) of each entry with probability ``rate``."""
    span = high - low
    r = torch.rand(values.shape, generator=generator, device=values.device, dtype=values.dtype)
    mutate = torch.rand(values.shape, generator=generator, device=values.device, dtype=values.dtype) < rate
    d1, d2 = (values - low) / span, (high - values) / span
    power = 1.0 / (eta + 1.0)
    lower = (2 * r + (1 - 2 * r) * (1 - d1) ** (eta + 1)) ** power - 1
    upper = 1 - (2 * (1 - r) + 2 * (r - 0.5) * (1 - d2) ** (eta + 1)) ** power
    delta = torch.where(r < 0.5, lower, upper)
    return torch.where(mutate, (values + delta * span).clamp(low, high), values)


@dataclass(frozen=True)
class DirectEncoding:
    """One gene per pixel, uniform in [0, 255] at the start; per-pixel mutation rate ``rate``
    halved every ``halve_every`` generations; polynomial mutation of strength ``eta``."""

    shape: tuple[int, int, int]
    rate: float = 0.1
    halve_every: int = 1000
    eta: float = 15.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _check_shape(self.shape))

    def init(self, n: int, *, random: Random, device) -> torch.Tensor:
        return torch.rand((n, *self.shape), generator=random.torch, device=device) * 255.0

    def mutate(self, parents: torch.Tensor, *, generation: int, random: Random) -> torch.Tensor:
        rate = self.rate * 0.5 ** (generation // self.halve_every)
        return polynomial_mutation(parents, rate=rate, eta=self.eta, low=0.0, high=255.0, generator=random.torch)

    def render(self, genomes: torch.Tensor, *, device) -> torch.Tensor:
        return (genomes / 255.0).to(device)

    @staticmethod
    def take(genomes, index: Sequence[int]) -> torch.Tensor:
        if isinstance(genomes, torch.Tensor):
            return genomes[torch.as_tensor(list(index), device=genomes.device, dtype=torch.long)]
        return torch.stack([genomes[i] for i in index])


# -- CPPN encoding ---------------------------------------------------------------------------

ACTIVATIONS = ("sin", "sigmoid", "gaussian", "linear")
N_INPUTS = 4  # x, y, distance from the centre, bias


@dataclass
class CPPN:
    """A compositional pattern-producing network: nodes with positions in [0, 1] (inputs at 0,
    outputs at 1; connections only go from a lower to a higher position, so it is feed-forward)."""

    positions: list[float]
    activations: list[int]  # index into ACTIVATIONS (outputs: sigmoid)
    connections: dict[tuple[int, int], float] = field(default_factory=dict)

    @property
    def n_hidden(self) -> int:
        return sum(1 for p in self.positions if 0.0 < p < 1.0)

    def copy(self) -> CPPN:
        return CPPN(list(self.positions), list(self.activations), dict(self.connections))


@dataclass(frozen=True)
class CPPNEncoding:
    """CPPN genomes on inputs (x, y, d, bias) starting with no hidden nodes (inputs wired to the
    outputs with random weights); mutations add/remove nodes and connections, change a node's
    activation (sine, sigmoid, Gaussian, linear) and perturb weights. At most ``max_hidden``
    hidden nodes: without a cap, long runs grow networks whose rendering cost grows with the
    square of their size (one 1000-generation run took 13 minutes instead of one)."""

    shape: tuple[int, int, int]
    weight_sigma: float = 0.5
    weight_rate: float = 0.5
    p_add_connection: float = 0.3
    p_remove_connection: float = 0.1
    p_add_node: float = 0.2
    p_remove_node: float = 0.05
    p_change_activation: float = 0.1
    max_weight: float = 3.0
    max_hidden: int = 32

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _check_shape(self.shape))

    @property
    def n_outputs(self) -> int:
        return self.shape[0]

    def init(self, n: int, *, random: Random, device) -> list[CPPN]:
        rng, out = random.numpy, []
        for _ in range(n):
            positions = [0.0] * N_INPUTS + [1.0] * self.n_outputs
            acts = [3] * N_INPUTS + [1] * self.n_outputs
            conns = {(i, N_INPUTS + o): float(rng.normal(0, 1.0)) for i in range(N_INPUTS) for o in range(self.n_outputs)}
            out.append(CPPN(positions, acts, conns))
        return out

    def mutate(self, parents: list[CPPN], *, generation: int, random: Random) -> list[CPPN]:
        return [self._mutate_one(p.copy(), random.numpy) for p in parents]

    def _mutate_one(self, g: CPPN, rng) -> CPPN:
        for key in list(g.connections):
            if rng.random() < self.weight_rate:
                w = g.connections[key] + rng.normal(0, self.weight_sigma)
                g.connections[key] = float(np.clip(w, -self.max_weight, self.max_weight))
        hidden = [i for i, p in enumerate(g.positions) if 0.0 < p < 1.0]
        if rng.random() < self.p_add_node and g.connections and len(hidden) < self.max_hidden:
            (src, dst), w = list(g.connections.items())[rng.integers(len(g.connections))]
            new = len(g.positions)
            g.positions.append((g.positions[src] + g.positions[dst]) / 2)
            g.activations.append(int(rng.integers(len(ACTIVATIONS))))
            del g.connections[(src, dst)]
            g.connections[(src, new)] = 1.0
            g.connections[(new, dst)] = w
            hidden.append(new)
        if rng.random() < self.p_add_connection:
            n = len(g.positions)
            a, b = int(rng.integers(n)), int(rng.integers(n))
            if g.positions[a] > g.positions[b]:
                a, b = b, a
            if g.positions[a] < g.positions[b] and (a, b) not in g.connections:
                g.connections[(a, b)] = float(rng.normal(0, 1.0))
        if rng.random() < self.p_remove_connection and len(g.connections) > 1:
            del g.connections[list(g.connections)[rng.integers(len(g.connections))]]
        if rng.random() < self.p_change_activation and hidden:
            g.activations[hidden[rng.integers(len(hidden))]] = int(rng.integers(len(ACTIVATIONS)))
        if rng.random() < self.p_remove_node and hidden:
            g = _remove_node(g, hidden[rng.integers(len(hidden))])
        return g

    def render(self, genomes: list[CPPN], *, device) -> torch.Tensor:
        """All genomes as one batch of images ``(P, C, H, W)`` in [0, 1], evaluated layer by layer."""
        c, h, w = self.shape
        p = len(genomes)
        n_hidden = max((g.n_hidden for g in genomes), default=0)
        n = N_INPUTS + n_hidden + c
        # gather every genome's entries in flat lists and scatter them in one go (assigning tensor
        # elements one by one cost more than the forward pass of the whole population)
        weights = np.zeros((p, n, n), dtype=np.float32)
        acts = np.full((p, n), 3, dtype=np.int64)
        wk, wdst, wsrc, wval, ak, aslot, aval = [], [], [], [], [], [], []
        for k, g in enumerate(genomes):
            hidden = sorted((i for i, q in enumerate(g.positions) if 0.0 < q < 1.0), key=lambda i: g.positions[i])
            slot = {i: i for i in range(N_INPUTS)}
            slot.update({i: N_INPUTS + r for r, i in enumerate(hidden)})
            slot.update({N_INPUTS + o: n - c + o for o in range(c)})
            ak += [k] * len(slot)
            aslot += slot.values()
            aval += [g.activations[i] for i in slot]
            wk += [k] * len(g.connections)
            wdst += [slot[dst] for _, dst in g.connections]
            wsrc += [slot[src] for src, _ in g.connections]
            wval += g.connections.values()
        acts[ak, aslot] = aval
        weights[wk, wdst, wsrc] = wval
        weights, acts = torch.from_numpy(weights).to(device), torch.from_numpy(acts).to(device)
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h, device=device), torch.linspace(-1, 1, w, device=device),
                                indexing="ij")  # fmt: skip
        inputs = torch.stack([xs, ys, torch.sqrt(xs**2 + ys**2) * math.sqrt(2) - 1, torch.ones_like(xs)]).flatten(1)
        values = torch.zeros(p, n, h * w, device=device)
        values[:, :N_INPUTS] = inputs
        for j in range(N_INPUTS, n):
            pre = torch.einsum("pi,pix->px", weights[:, j, :j], values[:, :j])
            a = acts[:, j : j + 1]
            out = torch.where(a == 0, torch.sin(pre), torch.sigmoid(pre))
            out = torch.where(a == 2, torch.exp(-0.5 * pre**2), out)
            values[:, j] = torch.where(a == 3, pre, out)
        return values[:, n - c :].view(p, c, h, w).clamp(0.0, 1.0)

    @staticmethod
    def take(genomes: list[CPPN], index: Sequence[int]) -> list[CPPN]:
        return [genomes[i] for i in index]


def _remove_node(g: CPPN, node: int) -> CPPN:
    keep = [i for i in range(len(g.positions)) if i != node]
    new_id = {old: new for new, old in enumerate(keep)}
    conns = {(new_id[a], new_id[b]): w for (a, b), w in g.connections.items() if node not in (a, b)}
    return CPPN([g.positions[i] for i in keep], [g.activations[i] for i in keep], conns)


ENCODINGS = {"direct": DirectEncoding, "cppn": CPPNEncoding}


# -- MAP-Elites ------------------------------------------------------------------------------


@dataclass
class FoolingResult:
    """Elites (one per class), their confidences and the run's history.

    ``history[g, k]``: the class-``k`` elite's confidence after generation ``g``
    (row 0: the random initial population). ``reached[k]``: the first
    generation at which class ``k`` reached ``target`` (−1: never);
    ``generations_to_all``: the first generation at which every class had (None: never).
    """

    images: torch.Tensor
    confidences: torch.Tensor
    genomes: list[Any]
    history: torch.Tensor
    reached: torch.Tensor
    target: float
    generations: int
    seconds: float
    config: dict[str, Any]

    @property
    def generations_to_all(self) -> int | None:
        return int(self.reached.max()) if bool((self.reached >= 0).all()) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "confidences": self.confidences.tolist(),
            "reached": self.reached.tolist(),
            "generations_to_all": self.generations_to_all,
            "generations": self.generations,
            "seconds": self.seconds,
            "history": self.history.tolist(),
        }


def _class_confidences(model, images, classes):
    logits = checked_logits(model, images)
    return torch.softmax(logits.float(), dim=1)[:, classes]


class EliteArchive:
    """MAP-Elites archive with one cell per class: the best genome, image and confidence so far.

    ``ask`` draws parents uniformly from the cells; ``tell`` lets each offspring replace the
    elite of every class it beats and records the history and the generation at which each
    class first reached ``target``.

    Examples
    --------
    >>> import torch
    >>> archive = EliteArchive(n_classes=2, target=0.9)
    >>> archive.tell(torch.zeros(3, 1, 2, 2), torch.rand(3, 1, 2, 2), torch.tensor([[0.1, 0.95], [0.5, 0.2],
    ...              [0.3, 0.3]]), generation=0)
    >>> archive.confidences.tolist(), archive.reached.tolist(), archive.full
    ([0.5, 0.949999988079071], [-1, 0], False)
    """

    def __init__(self, *, n_classes: int, target: float) -> None:
        self.target = target
        self.confidences = torch.full((n_classes,), -math.inf)
        self.genomes: list[Any] = [None] * n_classes
        self.images: torch.Tensor | None = None
        self.history: list[torch.Tensor] = []
        self.reached = torch.full((n_classes,), -1, dtype=torch.long)

    @property
    def full(self) -> bool:
        """Every class's elite has reached the target."""
        return bool((self.confidences >= self.target).all())

    def ask(self, n: int, *, encoding: Encoding, random: Random):
        """``n`` parents drawn uniformly from the cells."""
        return encoding.take(self.genomes, random.numpy.integers(0, len(self.genomes), size=n).tolist())

    def tell(self, genomes, images: torch.Tensor, confidences: torch.Tensor, *, generation: int) -> None:
        """Offspring ``genomes`` with their ``images`` and per-class ``confidences`` ``(P, K)``."""
        if self.images is None:
            self.confidences = self.confidences.to(confidences.device)
            self.images = torch.zeros((len(self.genomes), *images.shape[1:]), device=images.device)
        best, idx = confidences.max(0)
        for c in (best > self.confidences).nonzero().flatten().tolist():
            self.confidences[c] = best[c]
            self.images[c] = images[idx[c]]
            self.genomes[c] = genomes[int(idx[c])]
        conf = self.confidences.cpu().clone()
        self.history.append(conf)
        self.reached[(conf >= self.target) & (self.reached < 0)] = generation


def evolve(
    model: nn.Module,
    *,
    encoding: Encoding,
    population: int = 200,
    generations: int = 1000,
    target: float = 0.9999,
    classes: Sequence[int] | None = None,
    seed: int = 0,
    stop_at_target: bool = True,
    progress: bool = True,
) -> FoolingResult:
    """MAP-Elites with one elite per class; fitness = that class's softmax confidence.

    Each generation asks the [`EliteArchive`][pixinfo.adversarial.fooling.EliteArchive] for ``population`` parents (drawn uniformly
    from the cells), mutates them with the ``encoding``, classifies all offspring in one forward
    pass and tells the archive, which keeps every offspring that beats a class's elite. Stops
    when every class's elite reaches ``target`` (unless ``stop_at_target=False``, for timing a
    fixed number of generations) or after ``generations`` generations.
    """
    from tqdm.auto import tqdm

    population = check_positive_int(population, "population")
    generations = check_nonnegative_int(generations, "generations")
    target = check_finite(target, "target", low=0, high=1, low_open=True)
    seed, stop_at_target = check_seed(seed), check_bool(stop_at_target, "stop_at_target")
    progress = check_bool(progress, "progress")
    if not isinstance(encoding, Encoding):  # checked once, at the boundary
        raise TypeError(f"encoding must have shape, init, mutate, render and take, got {type(encoding).__name__}")
    device = model_device(model)
    random = Random.seeded(seed, device)
    start = time.perf_counter()
    with evaluating(model), torch.no_grad():
        probe = checked_logits(model, torch.zeros(1, *encoding.shape, device=device))
        classes = _check_classes(classes, probe.shape[1])
        archive = EliteArchive(n_classes=len(classes), target=target)
        genomes = encoding.init(population, random=random, device=device)
        images = encoding.render(genomes, device=device)
        archive.tell(genomes, images, _class_confidences(model, images, classes), generation=0)
        bar = tqdm(range(1, generations + 1), disable=None if progress else True, unit="gen",
                   desc=f"{type(encoding).__name__}")  # fmt: skip
        for g in bar:
            if stop_at_target and archive.full:
                break
            children = encoding.mutate(archive.ask(population, encoding=encoding, random=random), generation=g,
                                       random=random)  # fmt: skip
            images = encoding.render(children, device=device)
            archive.tell(children, images, _class_confidences(model, images, classes), generation=g)
            bar.set_postfix(min=f"{float(archive.confidences.min()):.4f}",
                            median=f"{float(archive.confidences.median()):.4f}")  # fmt: skip
    config = {"encoding": type(encoding).__name__, "encoding_options": dict(vars(encoding), shape=list(encoding.shape)),
              "population": population, "generations": generations, "target": target, "classes": classes,
              "seed": seed, "stop_at_target": stop_at_target}  # fmt: skip
    return FoolingResult(
        images=archive.images.cpu(), confidences=archive.confidences.cpu(),
        genomes=list(archive.genomes),
        history=torch.stack(archive.history), reached=archive.reached, target=target,
        generations=len(archive.history) - 1, seconds=time.perf_counter() - start, config=config,
    )  # fmt: skip


# -- gradient ascent -------------------------------------------------------------------------


@dataclass
class AscentResult:
    """Images (one per class), final confidences, and for each threshold the first iteration at which
    each class reached it (−1: never)."""

    images: torch.Tensor
    confidences: torch.Tensor
    first_reached: dict[float, torch.Tensor]
    history: torch.Tensor
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "confidences": self.confidences.tolist(),
                "first_reached": {str(t): v.tolist() for t, v in self.first_reached.items()}}  # fmt: skip


def gradient_ascent(
    model: nn.Module,
    *,
    shape: Sequence[int],
    classes: Sequence[int] | None = None,
    steps: int = 200,
    lr: float = 0.05,
    l2_decay: float = 0.0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    objective: str = "softmax",
    thresholds: Sequence[float] = (0.5, 0.99, 0.999, 0.9999),
    seed: int = 0,
) -> AscentResult:
    """Raise each class's confidence from noise by gradient ascent, all classes in one batch.

    Starts at 0.5 + 0.1·N(0, 1) noise; each step moves the image along the normalised gradient of
    the class's log-softmax (``objective="softmax"``) or logit (``"logit"``) by ``lr``, pulls it
    towards mid-grey by ``l2_decay`` (L2 decay), blurs it every ``blur_every`` steps, and clips to
    [0, 1]. Records the first iteration at which each class's softmax confidence reaches each
    threshold.
    """
    from torchvision.transforms.v2.functional import gaussian_blur

    if objective not in ("softmax", "logit"):
        raise ValueError(f"objective must be 'softmax' or 'logit', got {objective!r}")
    c, h, w = _check_shape(shape)
    steps, seed = check_nonnegative_int(steps, "steps"), check_seed(seed)
    lr = check_finite(lr, "lr", low=0, low_open=True)
    l2_decay = check_finite(l2_decay, "l2_decay", low=0)
    blur_every = check_nonnegative_int(blur_every, "blur_every")
    blur_sigma = check_finite(blur_sigma, "blur_sigma", low=0, low_open=True)
    thresholds = [check_finite(t, "each of thresholds", low=0, high=1) for t in thresholds]
    device = model_device(model)
    with evaluating(model):
        with torch.no_grad():
            k_all = checked_logits(model, torch.zeros(1, c, h, w, device=device)).shape[1]
        classes = _check_classes(classes, k_all)
        target = torch.tensor(classes, device=device)
        g = torch.Generator(device=device).manual_seed(seed)
        x = (0.5 + 0.1 * torch.randn((len(classes), c, h, w), generator=g, device=device)).clamp(0, 1)
        rows = torch.arange(len(classes), device=device)
        first = {float(t): torch.full((len(classes),), -1, dtype=torch.long) for t in thresholds}
        history = []
        for step in range(steps + 1):
            x.requires_grad_(True)
            logits = checked_logits(model, x).float()
            conf = torch.softmax(logits, 1)[rows, target].detach().cpu()
            history.append(conf)
            for t, reached in first.items():
                reached[(conf >= t) & (reached < 0)] = step
            if step == steps:
                break
            score = torch.log_softmax(logits, 1)[rows, target] if objective == "softmax" else logits[rows, target]
            (grad,) = torch.autograd.grad(score.sum(), x)
            check_finite_values(grad, "the gradient of the model's class score with respect to the images")
            grad = grad / grad.flatten(1).abs().mean(1).clamp_min(1e-12).view(-1, 1, 1, 1)
            with torch.no_grad():
                x = x + lr * grad
                x = 0.5 + (x - 0.5) * (1 - l2_decay)
                if blur_every and (step + 1) % blur_every == 0:
                    x = gaussian_blur(x, kernel_size=3, sigma=blur_sigma)
                x = x.clamp(0, 1).detach()
    config = {"shape": [c, h, w], "classes": classes, "steps": steps, "lr": lr, "l2_decay": l2_decay,
              "blur_every": blur_every, "blur_sigma": blur_sigma, "objective": objective, "seed": seed}  # fmt: skip
    return AscentResult(x.detach().cpu(), history[-1], first, torch.stack(history), config)
