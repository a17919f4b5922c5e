"""Attack families, one module each; importing this package fills the registry in ``base``.

Gradient attacks share :mod:`~engine.vision.attacks.loop` (the batched, masked loop) and
:mod:`~engine.vision.attacks.balls` (random starts and projections); targeted mode lives in
:mod:`~engine.vision.attacks.targets`.
"""

# ruff: noqa: I001  (import order is the registry's listing order)
from engine.vision.attacks import (  # noqa: F401
    least_likely,
    fgsm,
    bim,
    pgd,
    pgd_l2,
    illc,
    mifgsm,
    pgd_l0,
    onepixel,
    apgd,
    fab,
    square,
    autoattack,
)
from engine.vision.attacks.base import (  # noqa: F401
    REGISTRY,
    AttackResult,
    AttackSpec,
    get_attack,
)
