import math

import pytest
import torch
from torch import nn

from pixinfo.adversarial import FGSM, L2PGD, LBFGS, PGD, LinfPGD
from pixinfo.errors import ShapeError, ValueRangeError


@pytest.fixture(scope="module")
def batch(digits):
    return digits.test.images[:120].float() / 255.0, digits.test.labels[:120]


def _accuracy(model, x, y):
    with torch.no_grad():
        return float((model.eval()(x).argmax(1) == y).float().mean())


@pytest.mark.parametrize(
    "attack, eps, linf, l2",
    [
        (FGSM(), 0.05, 0.05, None),
        (FGSM(), 0.2, 0.2, None),
        (LinfPGD(steps=10), 0.05, 0.05, None),
        (LinfPGD(steps=10, random_start=False), 0.1, 0.1, None),
        (L2PGD(steps=10), 0.5, None, 0.5),
        (L2PGD(steps=10), 1.5, None, 1.5),
    ],
)
def test_attacks_never_raise_accuracy_and_respect_eps(digits_cnn, batch, attack, eps, linf, l2):
    x, y = batch
    result = attack(digits_cnn, x, y, epsilons=eps)
    assert result.adversarial.min() >= 0 and result.adversarial.max() <= 1
    if linf is not None:
        assert float(result.linf.max()) <= linf + 1e-6
    if l2 is not None:
        assert float(result.l2.max()) <= l2 + 1e-5
    clean = _accuracy(digits_cnn, x, y)
    attacked = _accuracy(digits_cnn, result.adversarial, y)
    assert attacked <= clean
    assert result.robust_accuracy == pytest.approx(attacked, abs=1e-6)


def test_stronger_pgd_lowers_accuracy_more(digits_cnn, batch):
    x, y = batch
    weak, strong = (r.robust_accuracy for r in LinfPGD(steps=20)(digits_cnn, x, y, epsilons=[0.02, 0.3]))
    assert strong < weak and strong < 0.2


def test_one_call_sweeps_epsilons_like_separate_calls(digits_cnn, batch):
    x, y = batch[0][:40], batch[1][:40]
    sweep = LinfPGD(steps=5)(digits_cnn, x, y, epsilons=[0.0, 0.05, 0.1])
    alone = [LinfPGD(steps=5)(digits_cnn, x, y, epsilons=e) for e in (0.0, 0.05, 0.1)]
    for a, b in zip(sweep, alone, strict=True):
        assert torch.equal(a.adversarial, b.adversarial)
    assert float(sweep[0].linf.max()) == 0.0 and sweep[0].robust_accuracy >= sweep[2].robust_accuracy


def test_lbfgs_reaches_the_target_with_a_small_perturbation(digits_cnn, batch):
    x, y = batch[0][:8], batch[1][:8]
    target = (y + 1) % 10
    result, bounded = LBFGS(search_steps=4, max_iter=40)(digits_cnn, x, y, target=target, epsilons=[math.inf, 1e-9])
    assert float(result.success.float().mean()) >= 0.75
    hit = result.success
    assert float(result.l2[hit].mean()) < float((x - 0.5).flatten(1).norm(dim=1).mean())
    assert not bool(bounded.success.any())  # no perturbation is that small: success needs ||r|| <= eps


def test_mode_is_restored_and_bad_inputs_are_refused(digits_cnn, batch):
    x, y = batch
    digits_cnn.train()
    FGSM()(digits_cnn, x[:4], y[:4], epsilons=0.1)
    assert digits_cnn.training
    digits_cnn.eval()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m, x, y: FGSM()(m, x * 2, y, epsilons=0.1), ValueRangeError, r"\[0, 1\]"),
        (lambda m, x, y: FGSM()(m, (x * 255).to(torch.uint8), y, epsilons=0.1), ValueRangeError, "float"),
        (lambda m, x, y: FGSM()(m, x, y[:3], epsilons=0.1), ShapeError, "labels"),
        (lambda m, x, y: FGSM()(nn.Identity(), x, y, epsilons=0.1), ShapeError, "logits"),
        (lambda m, x, y: FGSM()(m, x, y), TypeError, "needs epsilons"),
        (lambda m, x, y: FGSM()(m, x, y, epsilons=[]), ValueError, "non-empty"),
        (lambda m, x, y: FGSM()(m, x, y, epsilons=-0.1), ValueError, "finite numbers >= 0"),
        (lambda m, x, y: FGSM()(m, x, y, epsilons=float("nan")), ValueError, "finite numbers >= 0"),
        (lambda m, x, y: LinfPGD(steps=0), ValueError, "steps must be an integer >= 1"),
        (lambda m, x, y: LinfPGD(rel_stepsize=float("inf")), ValueError, "rel_stepsize"),
        (lambda m, x, y: PGD(steps=3), TypeError, "use LinfPGD or L2PGD"),
        (lambda m, x, y: LinfPGD(3), TypeError, "positional"),  # keyword-only hyper-parameters
        (lambda m, x, y: LBFGS(c0=float("nan")), ValueError, "c0 must be a finite number > 0"),
    ],
)
def test_bad_attack_inputs_raise_typed_errors(digits_cnn, batch, call, error, match):
    x, y = batch
    with pytest.raises(error, match=match):
        call(digits_cnn, x, y)
