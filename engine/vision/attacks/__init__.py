"""Attack families; importing this package fills the registry in ``base``."""

from engine.vision.attacks import least_likely  # noqa: F401
from engine.vision.attacks.base import (  # noqa: F401
    REGISTRY,
    AttackResult,
    AttackSpec,
    attack_names,
    get_attack,
)
