/**
 * A real OpenID Provider for the demo and the tests (never for production): the certified
 * `oidc-provider` package from npm (web/node_modules), run with demo users, so that a
 * newcomer signs in to the agent console as `anna` without configuring anything.
 *
 *   node scripts/oidc_provider.mjs --port 0 --client-id idchat-agent \
 *        --client-secret-file secret.txt --redirect-uri http://127.0.0.1:8002/agent/oidc/callback
 *
 * Prints one line `{"issuer": "http://127.0.0.1:<port>"}` on stdout once it listens.
 * The signing key is made at start (RS256, in memory only): a restart is a new key.
 *
 * Demo users (password = user name; `mark` also needs the one-time code 123456):
 *   anna    role agent,              group kcc-algemeen (every topic)
 *   sophie  roles agent, supervisor, group kcc-algemeen
 *   mark    role agent,              group kcc-belastingen, signs in with MFA (acr mfa)
 *   pieter  no role (not an agent)
 *
 * For the tests only, `POST /_test/users/<name>` with a JSON body {roles, groups, active}
 * changes a user (e.g. takes the agent role away); `--test-api` switches that on.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { default: Provider } = await import(
    pathToFileURL(path.join(here, '..', 'web', 'node_modules', 'oidc-provider', 'lib', 'index.js')).href);

const { values: args } = parseArgs({
    options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        'client-id': { type: 'string', default: 'idchat-agent' },
        'client-secret-file': { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true, default: [] },
        'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
        'test-api': { type: 'boolean', default: false },
    },
});

const MFA_CODE = '123456';
const ACR_PASSWORD = 'urn:idchat:demo:password';
const ACR_MFA = 'urn:idchat:demo:mfa';

const USERS = new Map(Object.entries({
    anna: { name: 'Anna de Vries', roles: ['agent'], groups: ['kcc-algemeen'] },
    sophie: { name: 'Sophie Jansen', roles: ['agent', 'supervisor'], groups: ['kcc-algemeen'] },
    mark: { name: 'Mark Bakker', roles: ['agent'], groups: ['kcc-belastingen'], mfa: true },
    pieter: { name: 'Pieter Smit', roles: [], groups: [] },
}).map(([id, user]) => [id, { ...user, active: true }]));

const secret = args['client-secret-file']
    ? readFileSync(args['client-secret-file'], 'utf8').trim()
    : 'idchat-demo-secret';

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

const server = http.createServer();
server.listen(Number(args.port), args.host, () => {
    const { port } = server.address();
    const issuer = `http://${args.host}:${port}`;
    const provider = makeProvider(issuer);
    const callback = provider.callback();
    server.on('request', (req, res) => {
        route(provider, callback, req, res).catch((err) => {
            console.error('oidc_provider:', err?.message ?? err);
            if (!res.headersSent) { res.statusCode = 500; res.end('error'); }
        });
    });
    process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

function makeProvider (issuer) {
    const provider = new Provider(issuer, {
        clients: [{
            client_id: args['client-id'],
            client_secret: secret,
            redirect_uris: args['redirect-uri'],
            post_logout_redirect_uris: args['post-logout-redirect-uri'],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
        }],
        jwks: { keys: [signingKey] },
        cookies: { keys: [crypto.randomBytes(32).toString('base64')] },
        claims: { openid: ['sub'], profile: ['name'], idchat: ['roles', 'groups'] },
        // The roles and groups travel in the ID token itself (the relying party reads them there).
        conformIdTokenClaims: false,
        acrValues: [ACR_PASSWORD, ACR_MFA],
        pkce: { required: () => true },
        features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
        // A refresh token without offline_access ends with the provider session: renewals stop
        // when the user signs out here or the session expires.
        issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
        ttl: { Session: 8 * 3600, Grant: 8 * 3600, Interaction: 600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300 },
        // Our own first-party client: no consent screen.
        loadExistingGrant: async (ctx) => {
            const found = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
            if (found) return ctx.oidc.provider.Grant.find(found);
            const grant = new ctx.oidc.provider.Grant({
                clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
            grant.addOIDCScope('openid profile idchat');
            await grant.save();
            return grant;
        },
        findAccount: async (_ctx, id) => {
            const user = USERS.get(id);
            if (!user || !user.active) return undefined;
            return {
                accountId: id,
                claims: async () => ({ sub: id, name: user.name, roles: user.roles, groups: user.groups }),
            };
        },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    });
    provider.proxy = false;
    return provider;
}

async function route (provider, callback, req, res) {
    const url = new URL(req.url, 'http://x');
    const match = url.pathname.match(/^\/interaction\/([\w-]+)$/);
    if (match && req.method === 'GET') return showLogin(provider, req, res, '');
    if (match && req.method === 'POST') return submitLogin(provider, req, res);
    const test = url.pathname.match(/^\/_test\/users\/(\w+)$/);
    if (test && args['test-api'] && req.method === 'POST') return changeUser(test[1], req, res);
    return callback(req, res);
}

async function showLogin (provider, req, res, error) {
    const details = await provider.interactionDetails(req, res);
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(`<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Inloggen (demo-identiteitsprovider)</title></head>
<body><main><h1>Inloggen bij de demo-identiteitsprovider</h1>
<p>Alleen voor demo en tests. Gebruikers: anna, sophie, mark (met code ${MFA_CODE}), pieter; wachtwoord = gebruikersnaam.</p>
${error ? `<p role="alert" id="error">${error}</p>` : ''}
<form method="post" action="/interaction/${details.uid}">
<label>Gebruikersnaam <input name="login" autocomplete="username" autofocus></label>
<label>Wachtwoord <input name="password" type="password" autocomplete="current-password"></label>
<label>Code (alleen als u die heeft) <input name="otp" inputmode="numeric" autocomplete="one-time-code"></label>
<button type="submit">Inloggen</button></form></main></body></html>`);
}

async function submitLogin (provider, req, res) {
    const form = new URLSearchParams(await body(req));
    const login = (form.get('login') ?? '').trim().toLowerCase();
    const user = USERS.get(login);
    if (!user || !user.active || form.get('password') !== login) {
        return showLogin(provider, req, res, 'Onbekende gebruiker of verkeerd wachtwoord.');
    }
    if (user.mfa && form.get('otp') !== MFA_CODE) {
        return showLogin(provider, req, res, 'Deze gebruiker moet ook de code invullen.');
    }
    const result = {
        login: {
            accountId: login,
            acr: user.mfa ? ACR_MFA : ACR_PASSWORD,
            amr: user.mfa ? ['pwd', 'otp'] : ['pwd'],
        },
    };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function changeUser (name, req, res) {
    const user = USERS.get(name);
    if (!user) { res.statusCode = 404; return res.end(); }
    const change = JSON.parse(await body(req) || '{}');
    for (const key of ['roles', 'groups', 'active']) if (key in change) user[key] = change[key];
    res.statusCode = 204;
    return res.end();
}

function body (req) {
    return new Promise((resolve, reject) => {
        let data = '';
        req.setEncoding('utf8');
        req.on('data', (chunk) => {
            data += chunk;
            if (data.length > 16384) { reject(new Error('body too large')); req.destroy(); }
        });
        req.on('end', () => resolve(data));
        req.on('error', reject);
    });
}
