"""Adding or changing a factor needs a recent proof of presence: every step of setting up an
app, and everything else that changes how a member signs in, asks for the password (or a
current code) when the last proof is older than TWOFACTOR_REAUTH_MINUTES. A forced
enrollment right after sign-in is never asked twice."""

from __future__ import annotations

from http import HTTPStatus

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Account
from security.models import TOTPDevice
from security.totp import services as totp_services
from tests.conftest import PASSWORD, current_code, sign_in_with_link

REAUTH = reverse("security:reauth")

# Every page that starts, continues or finishes a change to how the member signs in.
ENROLLMENT_STEPS = [
    ("post", "security:enroll"),
    ("get", "security:enroll-codes"),
    ("post", "security:enroll-codes"),
    ("get", "security:enroll-codes-download"),
    ("get", "security:enroll-codes-print"),
    ("get", "security:enroll-app"),
    ("post", "security:enroll-app"),
]


def _asks_for_proof(response) -> bool:
    return response.status_code == HTTPStatus.FOUND and response.url.startswith(REAUTH)


def test_every_enrollment_step_asks_for_proof_when_the_last_is_old(client, member, clock):
    sign_in_with_link(client, member.email)
    # The member started setting up an app (proof fresh), then left the browser.
    assert client.post(reverse("security:enroll")).url == reverse("security:enroll-codes")
    clock.advance(minutes=50)  # past the re-auth window, within the idle lifetime
    for method, name in ENROLLMENT_STEPS:
        response = getattr(client, method)(reverse(name))
        assert _asks_for_proof(response), (method, name, response.status_code)


def test_a_cookie_copied_an_hour_ago_cannot_bind_the_thiefs_app(client, member, clock):
    sign_in_with_link(client, member.email)
    clock.advance(minutes=30)
    client.get(reverse("home"))  # the member, still at work: the session stays alive
    clock.advance(minutes=30)
    thief = client  # the same session cookie, in another browser
    assert _asks_for_proof(thief.post(reverse("security:enroll")))
    assert not TOTPDevice.objects.filter(user=member).exists()
    # Even an enrollment the member left half-done cannot be finished with the cookie alone.
    totp_services.totp_enrollment_start(user=member)
    device = totp_services.enrollment_device(user=member)
    code = current_code(totp_services.device_secret(device))
    assert _asks_for_proof(thief.get(reverse("security:enroll-app")))  # the secret stays hidden
    assert _asks_for_proof(thief.post(reverse("security:enroll-app"), {"code": code}))
    assert totp_services.active_device(member) is None


def test_proof_on_the_confirm_page_lets_the_member_enroll(client, member, clock):
    sign_in_with_link(client, member.email)
    clock.advance(minutes=50)
    response = client.post(reverse("security:enroll"))
    assert _asks_for_proof(response)
    back = client.post(REAUTH, {"secret": PASSWORD, "next": reverse("security:enroll")})
    assert back.url == reverse("security:enroll")
    assert client.post(reverse("security:enroll")).url == reverse("security:enroll-codes")


def test_forced_enrollment_right_after_sign_in_needs_no_second_prompt(
    client, member, account, clock
):
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    sign_in_with_link(client, member.email)
    assert client.get(reverse("home")).url == reverse("security:enroll")
    clock.advance(minutes=8)  # reading the page
    assert client.get(reverse("security:enroll")).status_code == HTTPStatus.OK
    assert client.post(reverse("security:enroll")).url == reverse("security:enroll-codes")
    clock.advance(minutes=8)  # 16 minutes after signing in: saving the codes
    assert client.get(reverse("security:enroll-codes")).status_code == HTTPStatus.OK
    assert client.post(reverse("security:enroll-codes"), {"saved": "yes"}).url == reverse(
        "security:enroll-app"
    )
    assert client.get(reverse("security:enroll-app")).status_code == HTTPStatus.OK
    device = totp_services.enrollment_device(user=member)
    code = current_code(totp_services.device_secret(device))
    response = client.post(reverse("security:enroll-app"), {"code": code})
    assert response.url == reverse("security:enroll-done")
    assert totp_services.active_device(member) is not None


def test_a_proof_carried_by_an_enrollment_does_not_open_the_codes_page(client, member, clock):
    sign_in_with_link(client, member.email)
    client.post(reverse("security:enroll"))
    clock.advance(minutes=8)
    client.post(reverse("security:enroll-codes"), {"saved": "yes"})
    device = totp_services.enrollment_device(user=member)
    client.post(
        reverse("security:enroll-app"), {"code": current_code(totp_services.device_secret(device))}
    )
    clock.advance(minutes=4)  # 12 minutes after the last real proof
    assert _asks_for_proof(client.get(reverse("security:recovery-codes")))


def test_turning_the_requirement_on_or_off_asks_for_proof(
    admin_client, account_admin, account, clock
):
    from tests.conftest import enroll_totp

    enroll_totp(account_admin, client=admin_client)
    clock.advance(minutes=30)  # past the re-auth window, within the idle lifetime
    for choice in ("on", "off"):
        response = admin_client.post(reverse("security:security"), {"require": choice})
        assert _asks_for_proof(response), choice
    account.refresh_from_db()
    assert account.require_totp is False
    assert admin_client.get(reverse("security:security")).status_code == HTTPStatus.OK


def _security_views():
    """(url name, view) of every page in the security namespace."""

    def walk(resolver, namespace=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace == "security" and entry.name:
                yield f"security:{entry.name}", entry.callback

    return list(walk(get_resolver()))


# Pages of the security namespace that change nothing about how anyone signs in.
NOT_A_CHANGE = {
    "security:personal",  # settings overview
    "security:reauth",  # the confirm page itself
    "security:manage",  # overview of the app
    "security:enroll-done",  # says it worked
    "security:passkeys",  # the list of keys; each change on it is a guarded page
}


def test_every_factor_changing_view_uses_the_one_guard():
    """A new factor's views (passkeys) land here too: each must carry recent_auth_required."""
    unguarded = [
        name
        for name, view in _security_views()
        if name not in NOT_A_CHANGE and not getattr(view, "recent_auth_required", False)
    ]
    assert unguarded == []
