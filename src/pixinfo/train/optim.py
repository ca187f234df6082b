"""Small factories: the optimizer, the learning-rate schedule and the weight average of a run."""

from __future__ import annotations

import torch
from torch import nn


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weights with decay; biases, norm parameters, class token and position embedding without."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith((".cls", ".pos")) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, config) -> torch.optim.Optimizer:
    """SGD (Nesterov when ``momentum > 0``) or AdamW, as ``config.optimizer`` says.

    Examples
    --------
    >>> from torch import nn
    >>> from pixinfo.train import TrainConfig
    >>> opt = make_optimizer(nn.Linear(2, 2), TrainConfig(optimizer="adamw", lr=0.01))
    >>> type(opt).__name__, [g["weight_decay"] for g in opt.param_groups]
    ('AdamW', [0.0005, 0.0])
    """
    groups = parameter_groups(model, config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=config.momentum > 0)
    return torch.optim.AdamW(groups, lr=config.lr)


def one_cycle(total_steps: int, warmup: float):
    """Linear warm-up from lr/25 to lr over ``warmup`` of the steps, then linear decay to 0."""
    warm = max(1, int(warmup * total_steps))

    def factor(step: int) -> float:
        if step < warm:
            return 0.04 + 0.96 * step / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return factor


def _constant(step: int) -> float:
    return 1.0


def make_schedule(opt: torch.optim.Optimizer, config, total_steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """The per-step schedule ``config.schedule`` over ``total_steps`` steps.

    Examples
    --------
    >>> from torch import nn
    >>> from pixinfo.train import TrainConfig
    >>> opt = make_optimizer(nn.Linear(2, 2), TrainConfig(lr=1.0))
    >>> sched = make_schedule(opt, TrainConfig(lr=1.0, warmup=0.5), total_steps=4)
    >>> [round(sched.get_last_lr()[0], 2)] + [round((opt.step(), sched.step(), sched.get_last_lr()[0])[2], 2)
    ...                                       for _ in range(4)]
    [0.04, 0.52, 1.0, 0.5, 0.0]
    """
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.LambdaLR(opt, one_cycle(total_steps, config.warmup))
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    return torch.optim.lr_scheduler.LambdaLR(opt, _constant)


class WeightAverage:
    """Exponential moving average of a model's parameters and buffers (``decay`` per step).

    ``decay=0`` keeps no average (``model`` is the trained model itself). The average's
    copy lives on the model's device; ``update`` runs once per step without host syncs.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        import copy

        self.decay = decay
        self.source = model
        self.model = copy.deepcopy(model) if decay else model
        if decay:
            self.model.requires_grad_(False)

    @torch.no_grad()
    def update(self) -> None:
        if not self.decay:
            return
        src = self.source.state_dict()
        for name, avg in self.model.state_dict().items():
            if avg.is_floating_point():
                avg.lerp_(src[name], 1.0 - self.decay)
            else:
                avg.copy_(src[name])

    def state_dict(self) -> dict | None:
        return self.model.state_dict() if self.decay else None

    def load_state_dict(self, state: dict | None) -> None:
        if self.decay and state is not None:
            self.model.load_state_dict(state)
