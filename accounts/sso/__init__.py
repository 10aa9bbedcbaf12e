"""Single sign-on with OpenID Connect, per team: its own app (label ``sso``), so its tables and
migrations stand apart from the rest of ``accounts``.

- ``models``: the team's connection, its email domains, the link of a member to the provider's
  ``sub``.
- ``oidc``: the provider's side, through authlib and joserfc: discovery, JWKS, the
  authorization URL (PKCE S256, state, nonce), the code exchange, the ID token's checks. No
  request, no ORM.
- ``dns``: the TXT lookup that proves a team owns a domain.
- ``services``: state changes (connection, domains, linking, conversion), keyword-only.
- ``flow``: the browser's side of a sign-in: begin (state in the session), finish (single use).
- ``views``: /login/sso/, the callback, the Security page's section, the member conversion.
"""
