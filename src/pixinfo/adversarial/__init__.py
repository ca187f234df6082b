"""Adversarial and semantic evaluation: small-perturbation attacks, semantic (meaning-preserving)
accuracy, and fooling images generated from noise."""

from pixinfo.adversarial.attacks import (
    ATTACKS,
    FGSM,
    LBFGS,
    PGD,
    Attack,
    AttackResult,
    FixedEpsilonAttack,
    L2PGD,
    LinfPGD,
)

__all__ = ["ATTACKS", "FGSM", "L2PGD", "LBFGS", "PGD", "Attack", "AttackResult", "FixedEpsilonAttack", "LinfPGD"]
