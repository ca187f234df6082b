"""Small-perturbation attacks: FGSM, PGD (L∞ and L2) and Szegedy et al.'s box-constrained L-BFGS.

In the style of foolbox 3: an attack holds only keyword-only hyper-parameters and takes the
model and the perturbation sizes (``epsilons``, one value or a list: one call sweeps them) at
call time; one template ``Attack.__call__`` validates the inputs, runs the attack in eval
mode (restoring the model's mode afterwards), clips to the valid pixel range [0, 1] and reports
success and perturbation sizes. Variants differ by subclass hooks: a fixed-size attack
implements ``FixedEpsilonAttack.run`` (``LinfPGD`` and ``L2PGD`` share PGD's loop and differ
in how they normalise the gradient, project and start), a minimisation attack (L-BFGS) finds
its own size and ``epsilons`` bound what counts as a success.

Examples
--------
>>> import torch
>>> from pixinfo.models import build_model
>>> from pixinfo.adversarial.attacks import FGSM
>>> net = build_model("mlp", image_shape=(1, 8, 8), num_classes=10)
>>> x, y = torch.rand(4, 1, 8, 8), torch.arange(4)
>>> small, large = FGSM()(net, x, y, epsilons=[0.05, 0.1])
>>> bool(small.linf.max() <= 0.05 + 1e-6), bool(large.linf.max() <= 0.1 + 1e-6)
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pixinfo._checks import (
    check_bool,
    check_finite,
    check_image_batch,
    check_positive_int,
    check_seed,
    describe,
    is_real,
)
from pixinfo.errors import ShapeError, ValueRangeError
from pixinfo.models import evaluating


def check_float_images(images: torch.Tensor, *, name: str = "images") -> torch.Tensor:
    """Float ``(B, C, H, W)`` images with values in [0, 1], or a clear error."""
    images = check_image_batch(images)
    if not images.is_floating_point():
        raise ValueRangeError(f"{name} must be float in [0, 1] (use pixinfo.data.to_float), got {describe(images)}")
    if images.numel() and (float(images.min()) < 0.0 or float(images.max()) > 1.0):
        raise ValueRangeError(
            f"{name} must lie in [0, 1], got values in [{float(images.min()):.4g}, {float(images.max()):.4g}]"
        )
    return images


def check_finite_values(values: torch.Tensor, what: str) -> torch.Tensor:
    """``values`` if every entry is finite, else a [`ValueRangeError`][pixinfo.errors.ValueRangeError]
    naming ``what`` and how many entries are NaN or infinite."""
    finite = torch.isfinite(values.detach())
    if not bool(finite.all()):
        n_nan = int(torch.isnan(values.detach()).sum())
        n_inf = int((~finite).sum()) - n_nan
        found = " and ".join(f"{n} {kind}" for n, kind in ((n_nan, "NaN"), (n_inf, "infinite")) if n)
        raise ValueRangeError(f"{what} must be finite, got {found} of {values.numel()} values (a model that "
                              "overflows or divides by zero gives no meaningful attack)")  # fmt: skip
    return values


def model_gradient(model: nn.Module, x: torch.Tensor, objective: Callable[[torch.Tensor], torch.Tensor], *,
                   what: str = "the gradient of the model's loss with respect to the images") -> torch.Tensor:  # fmt: skip
    """The gradient of ``objective(model(x))`` with respect to ``x``, checked finite (logits first)."""
    out = model(x)
    if isinstance(out, torch.Tensor):
        check_finite_values(out, "the model's output (logits)")
    (grad,) = torch.autograd.grad(objective(out), x)
    return check_finite_values(grad, what)


def checked_logits(model: nn.Module, images: torch.Tensor, *, num_classes: int | None = None) -> torch.Tensor:
    """``model(images)`` checked to be finite logits ``(B, K)`` (and K == num_classes when given)."""
    out = model(images)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != images.shape[0]:
        got = describe(out)
        raise ShapeError(f"the model must return logits (B, classes) for B={images.shape[0]} images, got {got}")
    if num_classes is not None and out.shape[1] != num_classes:
        raise ShapeError(f"the model returns {out.shape[1]} classes but the data has {num_classes}")
    return check_finite_values(out, "the model's output (logits)")


def check_labels(labels: torch.Tensor, images: torch.Tensor, num_classes: int) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor) or labels.shape != images.shape[:1] or labels.is_floating_point():
        got = describe(labels)
        raise ShapeError(f"labels must be an integer tensor ({images.shape[0]},), got {got}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueRangeError(f"labels must lie in [0, {num_classes - 1}], got [{int(labels.min())}, {int(labels.max())}]")
    return labels.to(images.device)


def fgsm_step(
    model: nn.Module, images: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor], *, eps: float
) -> torch.Tensor:
    """One signed-gradient step of size ``eps`` that increases ``loss_fn(model(x))``, clipped to [0, 1].

    The model's mode is left as it is (adversarial training calls this in train mode).
    """
    x = images.detach().clone().requires_grad_(True)
    grad = model_gradient(model, x, loss_fn)
    return (images + eps * grad.sign()).clamp(0.0, 1.0).detach()


@dataclass(frozen=True)
class AttackResult:
    """Adversarial images, whether each attack succeeded, and the perturbation sizes."""

    adversarial: torch.Tensor
    success: torch.Tensor  # bool (B,)
    linf: torch.Tensor  # (B,)
    l2: torch.Tensor  # (B,)
    clean_correct: torch.Tensor  # bool (B,): the model was right before the attack

    @property
    def success_rate(self) -> float:
        """Share of the images the model classified correctly that the attack flipped (targeted: hit)."""
        ok = self.clean_correct
        return float(self.success[ok].float().mean()) if bool(ok.any()) else float("nan")

    @property
    def robust_accuracy(self) -> float:
        """Share of all images still classified correctly (untargeted) after the attack."""
        return float((self.clean_correct & ~self.success).float().mean())


def _epsilons(epsilons, *, allow_inf: bool = False) -> tuple[list[float], bool]:
    """(list of sizes, whether one was given as a plain number), each checked finite (or inf when
    ``allow_inf``) and >= 0."""
    single = not isinstance(epsilons, (list, tuple))
    values = [epsilons] if single else list(epsilons)
    if not values:
        raise ValueError("epsilons must be a number or a non-empty list of numbers, got []")
    for e in values:
        if not is_real(e) or math.isnan(e) or e < 0 or (
                math.isinf(e) and not allow_inf):  # fmt: skip
            raise ValueError(f"epsilons must be finite numbers >= 0{' (or inf)' if allow_inf else ''}, got {e!r}")
    return [float(e) for e in values], single


class Attack:
    """Template: validate, run in eval mode, clip to [0, 1], report success, for each epsilon.

    Subclasses implement ``attack``, returning one batch of adversarial images per epsilon.
    ``targeted_only`` attacks aim at the most likely wrong class when no ``target`` is given.
    """

    targeted_only = False

    def __call__(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
                 epsilons=None, target: torch.Tensor | None = None):  # fmt: skip
        """Attack ``images`` with every size in ``epsilons``: one [`AttackResult`][pixinfo.adversarial.attacks.AttackResult] for a
        number, a list of them for a list."""
        images = check_float_images(images)
        eps_list, single = self._sizes(epsilons)
        with evaluating(model):
            with torch.no_grad():
                logits = checked_logits(model, images)
            k = logits.shape[1]
            labels = check_labels(labels, images, k)
            if target is not None:
                target = check_labels(target, images, k)
            elif self.targeted_only:
                target = logits.scatter(1, labels[:, None], float("-inf")).argmax(1)  # the most likely wrong class
            results = []
            for eps, adv in zip(eps_list, self.attack(model, images, labels, target, eps_list), strict=True):
                adv = adv.detach().clamp(0.0, 1.0)
                with torch.no_grad():
                    pred = checked_logits(model, adv).argmax(1)
                results.append(self._result(images, adv, pred, labels, target, eps, logits))
        return results[0] if single else results

    def _sizes(self, epsilons) -> tuple[list[float], bool]:
        if epsilons is None:
            raise TypeError(f"{type(self).__name__} needs epsilons=... at call time (a number or a list)")
        return _epsilons(epsilons)

    def _result(self, images, adv, pred, labels, target, eps, logits) -> AttackResult:
        success = pred == target if target is not None else pred != labels
        delta = (adv - images).flatten(1)
        return AttackResult(adv, success, delta.abs().amax(1), delta.norm(dim=1), logits.argmax(1) == labels)

    def attack(self, model, images, labels, target, epsilons: list[float]) -> list[torch.Tensor]:
        raise NotImplementedError  # pragma: no cover - abstract

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({items})"


class FixedEpsilonAttack(Attack):
    """An attack run once per epsilon: subclasses implement ``run`` for one size ``eps``."""

    def attack(self, model, images, labels, target, epsilons):
        return [self.run(model, images, labels, target, eps) for eps in epsilons]

    def run(self, model, images, labels, target, eps: float) -> torch.Tensor:
        raise NotImplementedError  # pragma: no cover - abstract


def _loss(target: torch.Tensor | None, labels: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Loss to *increase*: CE of the true label (untargeted) or minus CE of the target."""
    if target is None:
        return lambda logits: F.cross_entropy(logits.float(), labels, reduction="sum")
    return lambda logits: -F.cross_entropy(logits.float(), target, reduction="sum")


class FGSM(FixedEpsilonAttack):
    """Fast gradient sign method (Goodfellow et al.): one step of size ``eps`` in L∞."""

    def __init__(self) -> None:
        pass

    def run(self, model, images, labels, target, eps):
        return fgsm_step(model, images, _loss(target, labels), eps=eps)


class PGD(FixedEpsilonAttack):
    """Projected gradient descent (Madry et al.) with a seeded random start; the norm is a
    subclass ([`LinfPGD`][pixinfo.adversarial.attacks.LinfPGD], [`L2PGD`][pixinfo.adversarial.attacks.L2PGD]) that supplies the hooks ``normalize``,
    ``project`` and [`initial_delta`][pixinfo.adversarial.attacks.PGD.initial_delta].

    ``rel_stepsize`` is the step as a fraction of eps (default ``2.5 / steps``).
    """

    def __init__(self, *, steps: int = 40, rel_stepsize: float | None = None, random_start: bool = True,
                 seed: int = 0) -> None:  # fmt: skip
        if type(self) is PGD:
            raise TypeError("PGD is the shared loop; use LinfPGD or L2PGD")
        self.steps = check_positive_int(steps, "steps")
        self.random_init, self.seed = check_bool(random_start, "random_start"), check_seed(seed)
        self.rel_stepsize = 2.5 / self.steps if rel_stepsize is None else check_finite(
            rel_stepsize, "rel_stepsize", low=0, low_open=True)  # fmt: skip

    def normalize(self, grad: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # pragma: no cover - abstract

    def project(self, delta: torch.Tensor, eps: float) -> torch.Tensor:
        raise NotImplementedError  # pragma: no cover - abstract

    def initial_delta(self, images: torch.Tensor, eps: float) -> torch.Tensor:
        """The random start: uniform noise in the eps ball of the norm (seeded)."""
        g = torch.Generator(device=images.device).manual_seed(self.seed)
        noise = torch.rand(images.shape, generator=g, device=images.device, dtype=images.dtype) * 2 - 1
        return self.project(noise * eps, eps)

    def run(self, model, images, labels, target, eps):
        loss_fn = _loss(target, labels)
        delta = self.initial_delta(images, eps) if self.random_init and eps > 0 else torch.zeros_like(images)
        for _ in range(self.steps):
            x = (images + delta).clamp(0, 1).requires_grad_(True)
            grad = model_gradient(model, x, loss_fn)
            delta = self.project((x.detach() + self.rel_stepsize * eps * self.normalize(grad)).clamp(0, 1) - images, eps)
        return (images + delta).clamp(0, 1)


class LinfPGD(PGD):
    """PGD in L∞: signed gradient steps, clipped to the eps box."""

    def normalize(self, grad):
        return grad.sign()

    def project(self, delta, eps):
        return delta.clamp(-eps, eps)


class L2PGD(PGD):
    """PGD in L2: unit-norm gradient steps, projected onto the eps ball."""

    def normalize(self, grad):
        return grad / grad.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)

    def project(self, delta, eps):
        norms = delta.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
        return delta * torch.clamp(eps / norms, max=1.0)


class LBFGS(Attack):
    """Szegedy et al.'s box-constrained L-BFGS: minimise c·‖r‖² + CE(f(x + r), target), x + r ∈ [0, 1].

    A targeted minimisation attack (default target: the most likely wrong class). For each
    image, a bisection over ``c`` (``search_steps`` rounds, starting at ``c0``) keeps the smallest
    perturbation that reaches the target; every round solves all images at once with SciPy's
    L-BFGS-B (the problems are independent, so their sum is minimised jointly). It runs once
    whatever the ``epsilons``; with ``epsilons`` (L2 sizes), a success also needs ``‖r‖₂ ≤ eps``.
    """

    targeted_only = True

    def __init__(self, *, c0: float = 1.0, search_steps: int = 6, max_iter: int = 50) -> None:
        self.c0 = check_finite(c0, "c0", low=0, low_open=True)
        self.search_steps = check_positive_int(search_steps, "search_steps")
        self.max_iter = check_positive_int(max_iter, "max_iter")

    def _sizes(self, epsilons):
        return ([math.inf], True) if epsilons is None else _epsilons(epsilons, allow_inf=True)

    def _result(self, images, adv, pred, labels, target, eps, logits):
        result = super()._result(images, adv, pred, labels, target, eps, logits)
        return dataclasses.replace(result, success=result.success & (result.l2 <= eps + 1e-6))

    def attack(self, model, images, labels, target, epsilons):
        best = self._search(model, images, target)
        return [best] * len(epsilons)

    def _solve(self, model, images, target, c):
        from scipy.optimize import minimize

        shape, device, dtype = images.shape, images.device, images.dtype
        x0 = images.detach().cpu().double().numpy().ravel()
        c_rows = c.view(-1, 1, 1, 1).to(device, dtype)

        def fun(v):
            x = torch.from_numpy(v).to(device, dtype).view(shape).requires_grad_(True)
            out = check_finite_values(model(x), "the model's output (logits)")
            loss = (c_rows * (x - images) ** 2).sum() + F.cross_entropy(out.float(), target, reduction="sum")
            (grad,) = torch.autograd.grad(loss, x)
            check_finite_values(grad, "the gradient of the model's loss with respect to the images")
            return float(loss.detach()), grad.detach().cpu().double().numpy().ravel()

        done = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * x0.size,
                        options={"maxiter": self.max_iter})  # fmt: skip
        return torch.from_numpy(done.x).to(device, dtype).view(shape)

    def _search(self, model, images, target):
        b = images.shape[0]
        lo = torch.zeros(b, dtype=torch.float64)
        hi = torch.full((b,), float("inf"), dtype=torch.float64)
        c = torch.full((b,), self.c0, dtype=torch.float64)
        best = images.clone()
        best_norm = torch.full((b,), float("inf"), device=images.device)
        for _ in range(self.search_steps):
            adv = self._solve(model, images, target, c)
            with torch.no_grad():
                hit = model(adv).argmax(1) == target
            norm = (adv - images).flatten(1).norm(dim=1)
            better = hit & (norm < best_norm)
            best[better] = adv[better]
            best_norm = torch.where(better, norm, best_norm)
            hit_cpu = hit.cpu()
            # success: keep c feasible and try a larger c (smaller perturbation); failure: a smaller c
            lo = torch.where(hit_cpu, c, lo)
            hi = torch.where(hit_cpu, hi, c)
            mid = (lo + hi) / 2
            c = torch.where(hit_cpu, torch.where(torch.isinf(hi), c * 10, mid), torch.where(lo == 0, c / 10, mid))
        return best


ATTACKS = {"fgsm": FGSM, "linf-pgd": LinfPGD, "l2-pgd": L2PGD, "lbfgs": LBFGS}

__all__ = [
    "ATTACKS",
    "FGSM",
    "LBFGS",
    "PGD",
    "L2PGD",
    "LinfPGD",
    "Attack",
    "FixedEpsilonAttack",
    "AttackResult",
    "check_finite_values",
    "check_float_images",
    "checked_logits",
    "fgsm_step",
    "model_gradient",
]
