"""Members for `make bench-load`, written straight into the bench's own database.

Run by bench/load.py with the server's environment (DJANGO_SETTINGS_MODULE=bench.settings),
so passwords are hashed with the hasher the server will verify with. The first run creates
two teams: one whose members have a confirmed authenticator app and ten recovery codes each,
one whose members sign in with the emailed link. A later run (another hasher) only sets every
member's password again. Prints one JSON object: the password, the link members' emails and
the app members' emails with their secrets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account, User  # noqa: E402
from security import encryption  # noqa: E402
from security.models import RecoveryCode, TOTPDevice  # noqa: E402
from security.recovery_codes import codes as recovery_codes  # noqa: E402
from security.totp import codes as totp  # noqa: E402

PASSWORD = "bench passphrase 2fa load"
APP_TEAM, LINK_TEAM = "Bench app team", "Bench link team"


def seed(app_members: int, link_members: int) -> dict:
    hashed = make_password(PASSWORD)
    with transaction.atomic():
        if not Account.objects.filter(name=APP_TEAM).exists():
            app_team = Account.objects.create(name=APP_TEAM)
            link_team = Account.objects.create(name=LINK_TEAM)
            users = User.objects.bulk_create(
                [
                    User(email=f"app{n}@bench.test", password=hashed, account=app_team)
                    for n in range(app_members)
                ]
                + [
                    User(email=f"link{n}@bench.test", password=hashed, account=link_team)
                    for n in range(link_members)
                ]
            )
            now = timezone.now()
            devices, codes = [], []
            for user in users[:app_members]:
                secret = totp.secret_new()
                devices.append(
                    TOTPDevice(
                        user=user, secret_encrypted=encryption.encrypt(secret), confirmed_at=now
                    )
                )
                for code in recovery_codes.generate():
                    normalized = recovery_codes.normalize(code)
                    codes.append(
                        RecoveryCode(
                            user=user,
                            digest=encryption.keyed_digest(normalized),
                            code_encrypted=encryption.encrypt(normalized),
                            active=True,
                        )
                    )
            TOTPDevice.objects.bulk_create(devices)
            RecoveryCode.objects.bulk_create(codes)
        else:
            User.objects.filter(email__endswith="@bench.test").update(password=hashed)
    devices = TOTPDevice.objects.filter(user__account__name=APP_TEAM).select_related("user")
    return {
        "password": PASSWORD,
        "app": {d.user.email: encryption.decrypt(d.secret_encrypted) for d in devices},
        "link": list(
            User.objects.filter(account__name=LINK_TEAM).values_list("email", flat=True)
        ),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-members", type=int, default=800)
    parser.add_argument("--link-members", type=int, default=800)
    args = parser.parse_args()
    print(json.dumps(seed(args.app_members, args.link_members)))
