/**
 * Authentication during the chat (docs/protocol.md §11) as both clients read it: the
 * examples of the protocol, and what a broken or hostile stanza turns into.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { methodLabel, parseAuth } from '../../web/idchat/shared/auth.js';
import { parseAuthMethods } from '../../web/idchat/agent/parsers.js';
import { NS, example, xml } from './stanza.mjs';

const COMPONENT = 'component.idchat.localhost';

function auth (attrs) {
    const list = Object.entries(attrs).map(([k, v]) => ` ${k}="${v}"`).join('');
    return xml(`<message type="headline"><auth xmlns="${NS}"${list}/></message>`);
}

describe('parseAuth (§11)', () => {
    test('reads the example of the protocol, with the core\'s link', () => {
        const parsed = parseAuth(example('auth', 'message', COMPONENT));
        assert.equal(parsed.chat, 'k7f…');
        assert.equal(parsed.state, 'requested');
        assert.equal(parsed.method, 'digid');
        assert.ok(parsed.url.startsWith('https://core.example.nl/'));
    });

    test('every state of the table, and nothing else', () => {
        for (const state of ['requested', 'verified', 'failed', 'declined', 'cancelled', 'expired']) {
            assert.equal(parseAuth(auth({ chat: 'c', state })).state, state);
        }
        assert.equal(parseAuth(auth({ chat: 'c', state: 'hacked' })), null);
        assert.equal(parseAuth(auth({ chat: 'c' })), null);
        assert.equal(parseAuth(xml('<message type="headline"><auth state="verified"/></message>')), null);
    });

    test('a link that is not http(s) never becomes one', () => {
        for (const url of ['javascript:alert(1)', 'data:text/html,hi', 'not a url', '']) {
            assert.equal(parseAuth(auth({ chat: 'c', state: 'requested', url })).url, '');
        }
        assert.equal(parseAuth(auth({ chat: 'c', state: 'requested', url: 'http://127.0.0.1:8002/demo/core/login/x' })).url,
                     'http://127.0.0.1:8002/demo/core/login/x');
    });
});

describe('parseAuthMethods (§11)', () => {
    test('reads the example of the protocol', () => {
        assert.deepEqual(parseAuthMethods(example('auth-methods', 'iq', COMPONENT)), ['digid', 'yivi']);
    });

    test('skips malformed tags; none is an empty list', () => {
        const answer = xml(`<iq type="result"><auth-methods xmlns="${NS}" chat="c"><method tag="digid"/>`
            + `<method tag="a b"/><method/><method xmlns="urn:other" tag="x"/></auth-methods></iq>`);
        assert.deepEqual(parseAuthMethods(answer), ['digid']);
        assert.deepEqual(parseAuthMethods(xml('<iq type="result"/>')), []);
    });
});

describe('methodLabel', () => {
    test('brand names for the known tags, the tag itself otherwise', () => {
        assert.equal(methodLabel('digid'), 'DigiD');
        assert.equal(methodLabel('yivi'), 'Yivi');
        assert.equal(methodLabel('eidas'), 'eidas');
    });
});

describe('parseAgentPresence with a request out (§3, §11)', async () => {
    const { parseAgentPresence } = await import('../../web/idchat/agent/parsers.js');
    test('a chat whose request to log in is out says so; others do not', () => {
        const parsed = parseAgentPresence(xml(`<presence><agent xmlns="${NS}" max-chats="2" active="2">
            <chat id="a" room="a@rooms" purpose="report_move" auth="requested" auth-method="digid"/>
            <chat id="b" room="b@rooms" purpose="report_move" auth="bogus"/></agent></presence>`));
        assert.equal(parsed.chats[0].auth, 'requested');
        assert.equal(parsed.chats[0].auth_method, 'digid');
        assert.equal(parsed.chats[1].auth, undefined);
    });
});
