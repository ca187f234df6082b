import pytest
import torch
from torch import nn

from pixinfo.adversarial import FGSM, LBFGS, PGD
from pixinfo.errors import ShapeError, ValueRangeError


@pytest.fixture(scope="module")
def batch(digits):
    return digits.test.images[:120].float() / 255.0, digits.test.labels[:120]


def _accuracy(model, x, y):
    with torch.no_grad():
        return float((model.eval()(x).argmax(1) == y).float().mean())


@pytest.mark.parametrize(
    "attack, linf, l2",
    [
        (FGSM(eps=0.05), 0.05, None),
        (FGSM(eps=0.2), 0.2, None),
        (PGD(eps=0.05, steps=10), 0.05, None),
        (PGD(eps=0.1, steps=10, random_start=False), 0.1, None),
        (PGD(eps=0.5, norm="l2", steps=10), None, 0.5),
        (PGD(eps=1.5, norm="l2", steps=10), None, 1.5),
    ],
)
def test_attacks_never_raise_accuracy_and_respect_eps(digits_cnn, batch, attack, linf, l2):
    x, y = batch
    result = attack(digits_cnn, x, y)
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
    weak, strong = (PGD(eps=e, steps=20)(digits_cnn, x, y).robust_accuracy for e in (0.02, 0.3))
    assert strong < weak and strong < 0.2


def test_lbfgs_reaches_the_target_with_a_small_perturbation(digits_cnn, batch):
    x, y = batch[0][:8], batch[1][:8]
    target = (y + 1) % 10
    result = LBFGS(search_steps=4, max_iter=40)(digits_cnn, x, y, target=target)
    assert float(result.success.float().mean()) >= 0.75
    hit = result.success
    assert float(result.l2[hit].mean()) < float((x - 0.5).flatten(1).norm(dim=1).mean())


def test_mode_is_restored_and_bad_inputs_are_refused(digits_cnn, batch):
    x, y = batch
    digits_cnn.train()
    FGSM(eps=0.1)(digits_cnn, x[:4], y[:4])
    assert digits_cnn.training
    digits_cnn.eval()
    with pytest.raises(ValueRangeError, match=r"\[0, 1\]"):
        FGSM(eps=0.1)(digits_cnn, x * 2, y)
    with pytest.raises(ValueRangeError, match="float"):
        FGSM(eps=0.1)(digits_cnn, (x * 255).to(torch.uint8), y)
    with pytest.raises(ShapeError, match="labels"):
        FGSM(eps=0.1)(digits_cnn, x, y[:3])
    with pytest.raises(ShapeError, match="logits"):
        FGSM(eps=0.1)(nn.Identity(), x, y)
    with pytest.raises(ValueError, match="norm"):
        PGD(eps=0.1, norm="l1")
    with pytest.raises(TypeError):
        FGSM(0.1)  # keyword-only hyper-parameters
