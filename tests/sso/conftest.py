"""SSO tests: the provider speaks http on loopback; a team connected to it."""

from __future__ import annotations

import pytest

from tests.sso.fixtures import Team, connect


@pytest.fixture(autouse=True)
def _sso_settings(settings):
    # The test provider speaks http on loopback.
    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = True


@pytest.fixture
def sso_team(account, provider, settings) -> Team:
    """Acme on the provider, acme.test verified."""
    return connect(account, provider, site_url=settings.SITE_URL)
