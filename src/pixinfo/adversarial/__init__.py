"""Adversarial and semantic evaluation: small-perturbation attacks, semantic (meaning-preserving)
accuracy, and fooling images generated from noise."""

from pixinfo.adversarial.attacks import ATTACKS, FGSM, LBFGS, PGD, Attack, AttackResult

__all__ = ["ATTACKS", "FGSM", "LBFGS", "PGD", "Attack", "AttackResult"]
