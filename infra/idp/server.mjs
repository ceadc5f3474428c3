// Dev identity provider shaped like GビズID (integrations.md §1.3–1.6), for the local stack only.
//
// Authorization code flow with PKCE S256 required, client_secret_basic at the token endpoint,
// RS256 ID tokens carrying no personal data (conformIdTokenClaims), and a UserInfo endpoint that
// returns the GビズID claim names flat at the top level. Accounts are seeded from accounts.json.
//
// `login_hint=<login>` of a seeded account completes the login without any form, so a client that
// keeps cookies and follows redirects ends up logged in. Without a hint a small form lists the
// accounts. Consent is granted automatically.
//
// Machine ("agency") clients, seeded with grant_types ["client_credentials"] and a `scope` list, get
// RS256 JWT access tokens at /oauth/token (client_secret_basic or _post), signed with the ID token
// key: aud = the `resource` parameter (IDP_EXPORT_AUDIENCE by default, or IDP_OTHER_AUDIENCE), scope =
// requested ∩ allowed (all allowed when none asked), lifetime = the client's access_token_ttl or 3600 s.

import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

const host = process.env.IDP_HOST ?? '127.0.0.1';
const port = Number(process.env.IDP_PORT ?? 4000);
const issuer = process.env.IDP_ISSUER ?? `http://${host}:${port}`;
// A client without authorization_code in its grant_types is a machine client: no redirects at all.
const isMachine = (c) => Array.isArray(c.grant_types) && !c.grant_types.includes('authorization_code');
const clients = JSON.parse(process.env.IDP_CLIENTS ?? '[]').map((c) => (isMachine(c)
  ? { response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', ...c }
  : {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    ...c,
  }));
if (clients.length === 0) {
  console.error('IDP_CLIENTS is empty: give [{"client_id","client_secret","redirect_uris":[…]}]');
  process.exit(2);
}
for (const { client_id: id, access_token_ttl: ttl } of clients) {
  if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl > 0)) {
    console.error(`IDP_CLIENTS: ${id}: access_token_ttl must be a positive integer (seconds)`);
    process.exit(2);
  }
}

// The resource servers client credentials tokens may be issued for, and the scopes they know.
const exportAudience = process.env.IDP_EXPORT_AUDIENCE ?? 'keiryoku-export';
const otherAudience = process.env.IDP_OTHER_AUDIENCE ?? 'keiryoku-other';
const exportScopes = ['export/feed', 'export/extracts', 'export/public'];
// oidc-provider takes only absolute URIs as resource indicators: a bare audience name travels inside
// as urn:keiryoku-dev-idp:audience:<name> (see rewriteResources) and comes out as `aud` unchanged.
const indicatorFor = (aud) => (URL.parse(aud) ? aud : `urn:keiryoku-dev-idp:audience:${encodeURIComponent(aud)}`);
const audienceByIndicator = new Map([exportAudience, otherAudience].map((aud) => [indicatorFor(aud), aud]));
const isClientCredentials = (ctx) => ctx.oidc.params?.grant_type === 'client_credentials';

const seeded = JSON.parse(readFileSync(new URL('./accounts.json', import.meta.url), 'utf8')).accounts;
const byLogin = new Map(seeded.map((a) => [a.login, a]));
const bySub = new Map(seeded.map((a) => [a.claims.sub, a]));

const profileClaims = [
  'account_type', 'corp_type', 'parent_id', 'corporate_number', 'name', 'en_name', 'prefecture_name',
  'address1', 'address2', 'rep_last_nm', 'rep_first_nm', 'rep_last_nm_kana', 'rep_first_nm_kana',
];
const userClaims = ['user_last_nm', 'user_first_nm', 'user_last_nm_kana', 'user_first_nm_kana'];

// A fresh RS256 key per start: relying parties must take it from the JWKS, never from a fixture.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `dev-rs256-${Date.now()}`, alg: 'RS256', use: 'sig' };

// Log in again when login_hint names another account than the one this browser is logged in as.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'login_hint_differs', 'login_hint names another account', 'login_required',
  (ctx) => {
    const hinted = byLogin.get(ctx.oidc.params.login_hint);
    return hinted && ctx.oidc.session.accountId !== hinted.claims.sub
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  },
));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  // The export scopes are listed so that a machine client's `scope` metadata passes validation.
  scopes: ['openid', 'profile', 'user', 'email', 'offline_access', ...exportScopes],
  claims: { openid: ['sub'], profile: profileClaims, user: userClaims, email: ['email'] },
  conformIdTokenClaims: true,
  routes: {
    authorization: '/oauth/authorize',
    token: '/oauth/token',
    userinfo: '/oauth/userinfo',
    jwks: '/oauth/jwks',
    end_session: '/oauth/logout',
  },
  // access_token_ttl (seconds, checked above) is kept on the client as client.access_token_ttl.
  extraClientMetadata: { properties: ['access_token_ttl'] },
  ttl: { ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600 },
  features: {
    devInteractions: { enabled: false },
    // Logout from the platform ends this session too (RP-Initiated Logout): the person confirms
    // with one button (a plain form, no script), then comes back to post_logout_redirect_uri.
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="ja"><meta charset="utf-8"><title>GビズID (dev) ログアウト</title>
<h1>GビズIDからもログアウトしますか</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">ログアウトする</button>
<button type="submit" form="op.logoutForm">ログインしたままにする</button></html>`;
      },
    },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Only the client credentials grant has a default resource: authorization code clients keep
      // their opaque access tokens for the UserInfo endpoint.
      async defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf;
        return isClientCredentials(ctx) ? indicatorFor(exportAudience) : undefined;
      },
      async getResourceServerInfo(ctx, indicator, client) {
        const audience = audienceByIndicator.get(indicator);
        if (!audience || !isClientCredentials(ctx)) throw new errors.InvalidTarget();
        const allowed = (client.scope ?? '').split(' ').filter((s) => exportScopes.includes(s));
        // Narrow the requested scope to what the client may have (all of it when none is asked),
        // before oidc-provider's own check, which would refuse a registered scope the client lacks.
        const requested = ctx.oidc.params.scope;
        ctx.oidc.params.scope = (requested ? requested.split(' ').filter((s) => allowed.includes(s)) : allowed)
          .join(' ') || undefined;
        return {
          audience,
          scope: allowed.join(' '),
          accessTokenFormat: 'jwt',
          accessTokenTTL: client.access_token_ttl ?? 3600,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['keiryoku-dev-idp-cookie-key'] },
  async findAccount(ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ ...account.claims }) };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile user email');
    await grant.save();
    return grant;
  },
});

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginForm(uid) {
  const rows = seeded.map((a) => `<li><button name="login" value="${escapeHtml(a.login)}">${escapeHtml(a.login)}</button> ${escapeHtml(a.description)}</li>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>GビズID (dev)</title>
<h1>GビズID 開発用ログイン</h1><form method="post" action="/interaction/${escapeHtml(uid)}"><ul>${rows}</ul></form>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) { body += chunk; if (body.length > 10_000) break; }
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') {
    // Consent is granted by loadExistingGrant; nothing else to ask.
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    return;
  }
  const login = req.method === 'POST' ? (await readForm(req)).get('login') : details.params.login_hint;
  const account = byLogin.get(login);
  if (!account) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginForm(details.uid));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: account.claims.sub } }, { mergeWithLastSubmission: false });
}

// Token requests naming a bare audience as `resource` get it rewritten to its indicator (indicatorFor).
// The body is handed on pre-read as req.body, which oidc-provider accepts (with a one-time warning).
async function rewriteResources(req) {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 56 * 1024) throw new Error('request entity too large');
  }
  const form = new URLSearchParams(body);
  const resources = form.getAll('resource');
  if (resources.some((r) => !URL.parse(r) && audienceByIndicator.has(indicatorFor(r)))) {
    form.delete('resource');
    for (const r of resources) form.append('resource', URL.parse(r) ? r : indicatorFor(r));
    body = form.toString();
  }
  req.body = body;
}

const handle = provider.callback();
http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.split('?')[0] === '/oauth/token'
    && /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
    rewriteResources(req).then(() => handle(req, res), (err) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: `failed to read the body: ${err.message}` }));
    });
    return;
  }
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`interaction failed: ${err.message}`);
    });
    return;
  }
  handle(req, res);
}).listen(port, host, () => {
  console.log(`dev GビズID provider: ${issuer} (clients: ${clients.map((c) => c.client_id).join(', ')})`);
});
