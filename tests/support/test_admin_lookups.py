"""The admin answers no yes/no question about a secret: only the filters it offers are
accepted in the query string, anything else is a 400 and a security event; malformed action
input is a 400 too, never a 500."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import User
from security.models import RecoveryCode, SecurityEvent, TOTPDevice
from tests.conftest import PASSWORD, enroll_totp
from tests.staff import signed_in_client

USERS = reverse("admin:accounts_user_changelist")
ACCOUNTS = reverse("admin:accounts_account_changelist")
EVENTS = reverse("admin:security_securityevent_changelist")
GROUPS = reverse("admin:auth_group_changelist")


@pytest.fixture(params=["support", "superuser"])
def staff_client(request, db) -> Client:
    if request.param == "superuser":
        User.objects.create_superuser("root@twofactor.test", PASSWORD)
        email = "root@twofactor.test"
    else:
        user = User.objects.create_user("help@twofactor.test", PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name="Support"))
        email = user.email
    return signed_in_client(email)


def _secret_prefixes(member: User) -> dict[str, str]:
    """A true first character for every secret column a lookup could probe."""
    member.refresh_from_db()
    device = TOTPDevice.objects.get(user=member)
    code = RecoveryCode.objects.filter(user=member).first()
    return {
        "password": member.password[:1],
        "security_stamp": member.security_stamp[:1],
        "secret_encrypted": device.secret_encrypted[:1],
        "digest": code.digest[:1],
        "code_encrypted": code.code_encrypted[:1],
    }


def _probes(member: User) -> list[tuple[str, str, str]]:
    p = _secret_prefixes(member)
    return [
        (USERS, "password__startswith", p["password"]),
        (USERS, "password__regex", "^" + p["password"]),
        (USERS, "security_stamp__startswith", p["security_stamp"]),
        (USERS, "totp_device__secret_encrypted__startswith", p["secret_encrypted"]),
        (USERS, "recovery_codes__digest__startswith", p["digest"]),
        (USERS, "recovery_codes__code_encrypted__startswith", p["code_encrypted"]),
        (USERS, "email__startswith", "member"),  # not offered either: nothing but the filters
        (ACCOUNTS, "members__password__startswith", p["password"]),
        (ACCOUNTS, "members__security_stamp__startswith", p["security_stamp"]),
        (EVENTS, "user__password__startswith", p["password"]),
        (EVENTS, "actor__security_stamp__startswith", p["security_stamp"]),
        (EVENTS, "detail__contains", "{}"),
        (GROUPS, "user__password__startswith", p["password"]),
    ]


def test_admin_refuses_every_lookup_it_does_not_offer(staff_client, member):
    enroll_totp(member)
    for url, lookup, value in _probes(member):
        before = SecurityEvent.objects.filter(kind="admin_lookup_refused").count()
        response = staff_client.get(url, {lookup: value})
        if url == GROUPS and response.status_code == HTTPStatus.FORBIDDEN:
            continue  # support staff cannot open groups at all
        assert response.status_code == HTTPStatus.BAD_REQUEST, (url, lookup)
        events = SecurityEvent.objects.filter(kind="admin_lookup_refused")
        assert events.count() == before + 1, (url, lookup)
        event = events.first()
        assert event.detail["lookup"] == lookup
        assert set(event.detail) == {"model", "lookup"}  # the value tried is not kept


def test_admin_lookup_gives_the_same_answer_for_a_right_and_a_wrong_guess(staff_client, member):
    member.refresh_from_db()
    right, wrong = member.password[:4], "zzzz"
    answers = [staff_client.get(USERS, {"password__startswith": guess}) for guess in (right, wrong)]
    assert [a.status_code for a in answers] == [HTTPStatus.BAD_REQUEST] * 2
    assert answers[0].content == answers[1].content


def test_admin_offered_filters_still_work(staff_client, member, other_admin):
    enroll_totp(member)
    for url, query in [
        (USERS, {"factor": "totp"}),
        (USERS, {"role__exact": "admin"}),
        (USERS, {"identity__exact": "sso"}),
        (USERS, {"is_staff__exact": "1"}),
        (USERS, {"is_active__exact": "1"}),
        (USERS, {"account__id__exact": str(other_admin.account_id)}),
        (USERS, {"account__isnull": "True"}),
        (USERS, {"q": "member"}),
        (USERS, {"o": "1.-2"}),
        (ACCOUNTS, {"require_totp__exact": "1", "q": "Acme"}),
        (EVENTS, {"kind__exact": "sign_in", "account__id__exact": str(member.account_id)}),
        (
            EVENTS,
            {
                "created_at__gte": "2020-01-01 00:00:00+00:00",
                "created_at__lt": "2999-01-01 00:00:00+00:00",
            },
        ),
    ]:
        response = staff_client.get(url, query)
        assert response.status_code == HTTPStatus.OK, (url, query)
    html = staff_client.get(USERS, {"factor": "totp"}).content.decode()
    assert "member@acme.test" in html and "admin@acme.test" not in html
    assert not SecurityEvent.objects.filter(kind="admin_lookup_refused").exists()


@pytest.mark.parametrize(
    "selected",
    [["abc"], [""], ["1.5"], ["99999999"], ["99999999999999999999"], ["-1"]],
)
@pytest.mark.parametrize("action", ["readd_members", "remove_members"])
def test_admin_action_with_malformed_or_unknown_ids_is_a_400(
    staff_client, member, action, selected
):
    response = staff_client.post(
        USERS, {"action": action, "index": "0", "_selected_action": selected}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.status_code
    assert "could not be read" in response.content.decode()
    assert User.objects.filter(pk=member.pk).exists()


def test_admin_action_with_one_good_and_one_unknown_id_does_nothing(staff_client, member):
    response = staff_client.post(
        USERS,
        {"action": "remove_members", "index": "0", "_selected_action": [member.pk, 99999999]},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert User.objects.filter(pk=member.pk).exists()
