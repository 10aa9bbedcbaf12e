// A real OpenID Provider for the SSO tests: node-oidc-provider (OpenID Certified), on loopback.
//
// It listens on 127.0.0.1 at a port the system picks and prints one line, `listening <issuer>`,
// when ready. Everything else is the library's own behaviour: discovery, JWKS, the
// authorization code flow with PKCE required, dynamic client registration (RFC 7591, how the
// tests register a client per team), the token endpoint.
//
// Only the sign-in pages are ours (the library's development pages load web fonts from the
// internet): a form that takes a login (an email), and a "Cancel" that denies the request.
// Accounts: the login is the email; `sub` is derived from it unless the tests say otherwise
// with POST /__test__/accounts {"<login>": {"sub": ..., "email": ..., "email_verified": ...}}.
//
// With TLS_CERT and TLS_KEY (PEM files) it serves HTTPS instead, for the certificate tests.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import Provider from 'oidc-provider';

const accounts = new Map();
const tls = process.env.TLS_CERT && process.env.TLS_KEY
  ? { cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) }
  : null;
const host = process.env.HOST_NAME || '127.0.0.1';

function claimsFor(login) {
  const known = accounts.get(login) || {};
  const derived = `uid-${createHash('sha256').update(login).digest('hex').slice(0, 16)}`;
  return {
    sub: known.sub || derived,
    email: known.email || login,
    email_verified: known.email_verified ?? true,
    name: known.name || login.split('@')[0],
  };
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto}label,input,button{display:block;margin:.5rem 0}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString() || '{}');
}

const server = (tls ? https.createServer(tls) : http.createServer());
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `${tls ? 'https' : 'http'}://${host}:${port}`;
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Put the scope's claims in the ID token, as Okta, Google and Entra ID do.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      return { accountId: id, async claims() { return claimsFor(id); } };
    },
    // Consent is the admin's job at a real provider; here every client gets what it asks.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      if (url.pathname === '/__test__/accounts' && req.method === 'POST') {
        for (const [login, claims] of Object.entries(await readJson(req))) accounts.set(login, claims);
        res.writeHead(204).end();
        return;
      }
      const match = url.pathname.match(/^\/interaction\/([\w-]+)(\/login|\/abort)?$/);
      if (match) {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET' && !match[2]) {
          const hint = details.params.login_hint || '';
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(page('Test provider sign-in', `
<form method="post" action="/interaction/${details.uid}/login">
  <label for="login">Email</label><input id="login" name="login" type="email" value="${escapeHtml(hint)}" required>
  <label for="password">Password</label><input id="password" name="password" type="password" value="any">
  <button type="submit">Sign in at the provider</button>
</form>
<form method="post" action="/interaction/${details.uid}/abort"><button type="submit">Cancel</button></form>`));
          return;
        }
        if (req.method === 'POST' && match[2] === '/login') {
          const form = await readForm(req);
          await provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, { mergeWithLastSubmission: false });
          return;
        }
        if (req.method === 'POST' && match[2] === '/abort') {
          await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person cancelled the sign-in' }, { mergeWithLastSubmission: false });
          return;
        }
      }
      callback(req, res);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`test provider error: ${error.message}`);
    }
  });
  process.stdout.write(`listening ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
