/**
 * web/idchat/citizen/parsers.js: the examples of docs/protocol.md §1–§2 as the citizen's
 * page reads them, and what a broken or hostile component stanza turns into.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseClaimed, parseStatus } from '../../web/idchat/citizen/parsers.js';
import { NS, example, xml } from './stanza.mjs';

const COMPONENT = 'component.idchat.localhost';

function status (attrs, children = '') {
    const list = Object.entries(attrs).map(([k, v]) => ` ${k}="${v}"`).join('');
    return xml(`<message type="headline"><status xmlns="${NS}"${list}>${children}</status></message>`);
}

describe('parseClaimed (§1)', () => {
    test('reads the example of the protocol', () => {
        assert.deepEqual(parseClaimed(example('claimed', 'iq', COMPONENT)), {
            room: 'k7f…@rooms.idchat.localhost', nick: 'Inwoner', chat: 'k7f…',
            purpose: 'report_move', state: 'queued', position: 2, wait: 240,
            agent: undefined, by: undefined, interrupted: false, transferred: false, alternatives: {},
        });
    });

    test('fills in nick, chat and purpose when only the room is given', () => {
        const claimed = parseClaimed(xml(`<iq type="result"><claimed xmlns="${NS}" room="abc@rooms.example"/></iq>`));
        assert.equal(claimed.nick, 'Inwoner');
        assert.equal(claimed.chat, 'abc');
        assert.equal(claimed.purpose, '');
        assert.equal(claimed.state, 'queued');
    });

    test('is null without a room, or in another namespace, or absent', () => {
        assert.equal(parseClaimed(xml(`<iq type="result"><claimed xmlns="${NS}" chat="abc"/></iq>`)), null);
        assert.equal(parseClaimed(xml(`<iq type="result"><claimed xmlns="${NS}" room=""/></iq>`)), null);
        assert.equal(parseClaimed(xml('<iq type="result"><claimed xmlns="https://idchat.nl/protocol/chat/2" room="a@b"/></iq>')), null);
        assert.equal(parseClaimed(xml('<iq type="result"><claimed room="a@b"/></iq>')), null);
        assert.equal(parseClaimed(xml('<iq type="result"/>')), null);
    });
});

describe('parseStatus (§2)', () => {
    test('reads the example of the protocol', () => {
        const queued = (el) => el.getAttribute('state') === 'queued';
        assert.deepEqual(parseStatus(example('status', 'message', COMPONENT, queued)), {
            chat: 'k7f…', state: 'queued', position: 1, wait: 90, agent: undefined,
            by: undefined, interrupted: false, transferred: false, alternatives: {},
        });
    });

    test('every state of the table in §2', () => {
        assert.equal(parseStatus(status({ state: 'queued', position: '3', interrupted: 'true' })).interrupted, true);
        assert.equal(parseStatus(status({ state: 'assigned', agent: 'Romeo' })).agent, 'Romeo');
        for (const by of ['agent', 'citizen', 'timeout', 'system']) {
            assert.deepEqual([parseStatus(status({ state: 'ended', by })).state, parseStatus(status({ state: 'ended', by })).by],
                ['ended', by]);
        }
        const none = parseStatus(status({ state: 'no-agent' },
            `<alternative xml:lang="nl"> Bel 14 020. </alternative><alternative xml:lang="en-GB">Call 14 020.</alternative>`));
        assert.equal(none.state, 'no-agent');
        assert.deepEqual(none.alternatives, { nl: 'Bel 14 020.', en: 'Call 14 020.' });
    });

    test('an alternative without xml:lang is Dutch; one in another namespace is ignored', () => {
        const none = parseStatus(status({ state: 'no-agent' },
            '<alternative>Bel ons.</alternative><alternative xmlns="urn:other" xml:lang="en">Ignore me</alternative>'));
        assert.deepEqual(none.alternatives, { nl: 'Bel ons.' });
    });

    test('is null for a message without our status element', () => {
        assert.equal(parseStatus(xml('<message type="headline"><body>hallo</body></message>')), null);
        assert.equal(parseStatus(xml('<message><status xmlns="jabber:client" state="ended"/></message>')), null);
        assert.equal(parseStatus(xml('<message><status state="ended"/></message>')), null);
    });

    test('an unknown state reads as queued; an ended chat without a known "by" as system', () => {
        assert.equal(parseStatus(status({ state: 'hacked' })).state, 'queued');
        assert.equal(parseStatus(status({})).state, 'queued');
        assert.equal(parseStatus(status({ state: 'ended' })).by, 'system');
        assert.equal(parseStatus(status({ state: 'ended', by: 'admin' })).by, 'system');
        assert.equal(parseStatus(status({ state: 'queued', by: 'admin' })).by, undefined);
        assert.equal(parseStatus(status({ state: 'queued', interrupted: 'yes' })).interrupted, false);
    });

    test('numbers: missing, malformed, negative or huge give undefined, never NaN or Infinity', () => {
        for (const raw of ['', '-1', '1.5', '1e3', '0x10', ' 2', '2 ', 'NaN', 'Infinity', '٣',
            '9999999999', '99999999999999999999999999999999']) {
            const parsed = parseStatus(status({ state: 'queued', position: raw, wait: raw }));
            assert.equal(parsed.position, undefined, `position="${raw}"`);
            assert.equal(parsed.wait, undefined, `wait="${raw}"`);
        }
        assert.equal(parseStatus(status({ state: 'queued', position: '999999999' })).position, 999999999);
        assert.equal(parseStatus(status({ state: 'queued', position: '0' })).position, 0);
        assert.equal(parseStatus(status({ state: 'queued' })).position, undefined);
    });

    test('script-like values stay plain strings', () => {
        const markup = '<img src=x onerror="window.pwned=1">';
        const escaped = markup.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('"', '&quot;');
        const parsed = parseStatus(status({ state: 'assigned', agent: escaped, chat: escaped },
            `<alternative xml:lang="nl">${escaped}</alternative>`));
        assert.equal(parsed.agent, markup);
        assert.equal(parsed.chat, markup);
        assert.equal(parsed.alternatives.nl, markup);
        for (const value of [parsed.agent, parsed.chat, parsed.alternatives.nl]) assert.equal(typeof value, 'string');
    });

    test('markup inside an alternative becomes its text, and odd languages stay harmless keys', () => {
        const parsed = parseStatus(status({ state: 'no-agent' },
            '<alternative xml:lang="__proto__">a<b>bold</b></alternative><alternative xml:lang="constructor">c</alternative>'));
        assert.deepEqual(Object.entries(parsed.alternatives), [['__', 'abold'], ['co', 'c']]);
        assert.equal({}.polluted, undefined);
    });
});
