"""Does an encryption that stays learnable stay secret? Ciphertext-only and known-plaintext attacks
on pixinfo's keyed transforms, and measures of what they recover.

* [`attack`][pixinfo.privacy.attacks.attack] (or [`attack_rearrangement`][pixinfo.privacy.attacks.attack_rearrangement], [`attack_blocks`][pixinfo.privacy.attacks.attack_blocks], [`attack_xor`][pixinfo.privacy.attacks.attack_xor],
  [`attack_levels`][pixinfo.privacy.attacks.attack_levels]): from encrypted images alone to a [`RecoveredKey`][pixinfo.privacy.attacks.RecoveredKey],
  whose decryption is a pixinfo transform ([`gather_key`][pixinfo.privacy.attacks.gather_key],
  [`xor_key`][pixinfo.privacy.attacks.xor_key], [`levels_key`][pixinfo.privacy.attacks.levels_key], a cipher's inverse);
* [`recovery_measures`][pixinfo.privacy.measures.recovery_measures]: exact key entries (up to the grid's symmetries, and with a public
  prior), PSNR, SSIM and the accuracy of a model trained on originals, on held-out decryptions;
* [`known_plaintext`][pixinfo.privacy.known_plaintext]: how many (plain, encrypted) pairs determine the key.
"""

from pixinfo.privacy.attacks import (
    RecoveredKey,
    attack,
    attack_blocks,
    attack_levels,
    attack_rearrangement,
    attack_xor,
    gather_key,
    levels_key,
    solve_jigsaw,
    unmoved,
    xor_key,
)
from pixinfo.privacy.known_plaintext import known_plaintext
from pixinfo.privacy.learned import (
    ChainedDiffusionInverse,
    LinearInverse,
    attack_pairs_chaos,
    attack_pairs_rearrangement,
    attack_pairs_values,
    learned_inverse,
)
from pixinfo.privacy.layout import (
    PositionStats,
    d4_maps,
    grow_layout,
    position_stats,
    refine_layout,
    structure_fraction,
)
from pixinfo.privacy.prior import (
    LinearFill,
    attack_block_cipher_prior,
    attack_nibbles_prior,
    attack_rearrangement_prior,
    attack_values_prior,
)
from pixinfo.privacy.threat import ThreatModel
from pixinfo.privacy.measures import accuracy, align_symmetry, image_similarity, key_exactness, recovery_measures

__all__ = [
    "LinearFill",
    "LinearInverse",
    "ThreatModel",
    "attack_block_cipher_prior",
    "attack_pairs_rearrangement",
    "attack_pairs_values",
    "attack_pairs_chaos",
    "ChainedDiffusionInverse",
    "attack_nibbles_prior",
    "attack_rearrangement_prior",
    "attack_values_prior",
    "PositionStats",
    "RecoveredKey",
    "accuracy",
    "align_symmetry",
    "attack",
    "attack_blocks",
    "attack_levels",
    "attack_rearrangement",
    "attack_xor",
    "d4_maps",
    "gather_key",
    "levels_key",
    "unmoved",
    "xor_key",
    "grow_layout",
    "image_similarity",
    "key_exactness",
    "learned_inverse",
    "known_plaintext",
    "position_stats",
    "recovery_measures",
    "refine_layout",
    "solve_jigsaw",
    "structure_fraction",
]
