"""Production settings (twofactor_site.settings, from the environment) plus what the load
benchmark needs: the bare view's URL, the SQL counter (bench.server), and, with
BENCH_HASHER=fast, a fast password hasher so the framework's cost shows apart from Argon2id.
Used only by `make bench-load` and `make profile`, never by the app."""

from twofactor_site.settings import *  # noqa: F403
from twofactor_site.settings import DATABASES, MIDDLEWARE, env_str

ROOT_URLCONF = "bench.server"
MIDDLEWARE = ["bench.server.SQLCountMiddleware", *MIDDLEWARE]

if DATABASES["default"]["ENGINE"] == "twofactor_site.postgresql":
    from bench.pgcount import CountingConnection, CountingCursor

    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"]["OPTIONS"],
        "connection_factory": CountingConnection,
        "cursor_factory": CountingCursor,
    }

BENCH_HASHER = env_str("BENCH_HASHER", "argon2")
if BENCH_HASHER == "fast":
    # Django's MD5 hasher: nothing to do with security, here only to take the hasher's cost
    # out of the picture (the test suite uses it for the same reason).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
elif BENCH_HASHER != "argon2":
    raise ValueError(f"BENCH_HASHER must be argon2 or fast; got {BENCH_HASHER!r}")
