from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TeamArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with its cost taken from settings (OWASP minimum: 19 MiB, 2 passes, 1 lane).

    Django's ``must_update`` compares these to the stored hash, so raising a setting re-hashes
    each password at its owner's next sign-in.
    """

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_MEMORY_COST_KIB

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM
