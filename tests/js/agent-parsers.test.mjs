/**
 * web/idchat/agent/parsers.js: the examples of docs/protocol.md §3–§6 as the agent's
 * console reads them, and what a broken or hostile component stanza turns into.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
    parseAccepted, parseAgentPresence, parseAttributes, parseColleagues, parseEnded, parseOffer, parseRevoke,
    parseTransferred,
} from '../../web/idchat/agent/parsers.js';
import { NS, example, xml } from './stanza.mjs';

const COMPONENT = 'component.idchat.localhost';
const AGENT = 'romeo@agents.idchat.localhost/console';
const XDATA = 'jabber:x:data';
const FORM_TYPE = 'https://idchat.nl/protocol/attributes/1';

function headline (name, attrs, children = '', ns = NS) {
    const list = Object.entries(attrs).map(([k, v]) => ` ${k}="${v}"`).join('');
    return xml(`<message type="headline"><${name} xmlns="${ns}"${list}>${children}</${name}></message>`);
}

function field (name, values, label = '') {
    const labelled = label ? ` label="${label}"` : '';
    return `<field var="${name}"${labelled}>${[].concat(values).map((v) => `<value>${v}</value>`).join('')}</field>`;
}

function attributes (fields, { chat = 'k7f', type = 'result', ns = XDATA } = {}) {
    return headline('attributes', { chat }, `<x xmlns="${ns}" type="${type}">${fields.join('')}</x>`);
}

describe('parseAgentPresence (§3)', () => {
    test("reads the component's example: load, availability and open chats", () => {
        assert.deepEqual(parseAgentPresence(example('agent', 'presence', COMPONENT)), {
            max_chats: 3, active: 1, available: true,
            chats: [{ chat: 'k7f…', room: 'k7f…@rooms.idchat.localhost', purpose: 'report_move',
                since: '2026-11-29T10:00:00Z' }],
        });
    });

    test("the agent's own presence of the example reads as not available, nothing open", () => {
        assert.deepEqual(parseAgentPresence(example('agent', 'presence', AGENT)),
            { max_chats: 3, active: 0, available: false, chats: [] });
    });

    test('chats without an id or in another namespace are left out; active counts them when absent', () => {
        const parsed = parseAgentPresence(xml(`<presence><agent xmlns="${NS}" max-chats="2" available="yes">
            <chat room="a@rooms"/><chat xmlns="urn:other" id="x" room="x@rooms"/><chat id="b" room="b@rooms"/>
            </agent></presence>`));
        assert.deepEqual(parsed.chats.map((c) => c.chat), ['b']);
        assert.equal(parsed.active, 1);
        assert.equal(parsed.available, false); // only the literal "true"
        assert.equal(parsed.chats[0].purpose, '');
        assert.equal(parsed.chats[0].since, undefined);
    });

    test('malformed or huge numbers are not numbers', () => {
        const parsed = parseAgentPresence(xml(`<presence><agent xmlns="${NS}" max-chats="1e9" active="99999999999"/></presence>`));
        assert.equal(parsed.max_chats, undefined);
        assert.equal(parsed.active, 0);
    });

    test('is null without our agent element', () => {
        assert.equal(parseAgentPresence(xml('<presence><agent max-chats="3"/></presence>')), null);
        assert.equal(parseAgentPresence(xml('<presence/>')), null);
    });
});

describe('parseOffer, parseRevoke, parseAccepted, parseEnded (§4, §6)', () => {
    test('read the examples and the inline forms of the protocol', () => {
        assert.deepEqual(parseOffer(example('offer', 'message', COMPONENT)),
            { id: 'of-19c…', chat: 'k7f…', purpose: 'report_move', waiting: 35, timeout: 30, from_agent: '' });
        assert.deepEqual(parseRevoke(example('revoke', 'message', COMPONENT)), { id: 'of-19c…', reason: 'timeout' });
        assert.deepEqual(parseAccepted(xml(`<iq type="result"><accepted xmlns="${NS}" room="k7f@rooms.idchat.localhost" chat="k7f"/></iq>`)),
            { room: 'k7f@rooms.idchat.localhost', chat: 'k7f' });
        assert.deepEqual(parseEnded(headline('ended', { chat: 'k7f', by: 'citizen' })), { chat: 'k7f', by: 'citizen' });
    });

    test('fill in what may be left out', () => {
        assert.deepEqual(parseOffer(headline('offer', { id: 'of-1', chat: 'c1' })),
            { id: 'of-1', chat: 'c1', purpose: '', waiting: 0, timeout: 30, from_agent: '' });
        assert.deepEqual(parseRevoke(headline('revoke', { offer: 'of-1' })), { id: 'of-1', reason: '' });
        assert.deepEqual(parseAccepted(xml(`<iq><accepted xmlns="${NS}" room="c1@rooms.example"/></iq>`)),
            { room: 'c1@rooms.example', chat: 'c1' });
        assert.deepEqual(parseEnded(headline('ended', { chat: 'c1' })), { chat: 'c1', by: 'system' });
    });

    test('are null when a required attribute is missing or empty', () => {
        assert.equal(parseOffer(headline('offer', { chat: 'c1' })), null);
        assert.equal(parseOffer(headline('offer', { id: 'of-1' })), null);
        assert.equal(parseOffer(headline('offer', { id: '', chat: 'c1' })), null);
        assert.equal(parseRevoke(headline('revoke', { reason: 'timeout' })), null);
        assert.equal(parseAccepted(xml(`<iq><accepted xmlns="${NS}" chat="c1"/></iq>`)), null);
        assert.equal(parseEnded(headline('ended', { by: 'agent' })), null);
    });

    test('are null for our names in another namespace', () => {
        const other = 'https://idchat.nl/protocol/chat/2';
        assert.equal(parseOffer(headline('offer', { id: 'of-1', chat: 'c1' }, '', other)), null);
        assert.equal(parseRevoke(headline('revoke', { offer: 'of-1' }, '', 'jabber:client')), null);
        assert.equal(parseEnded(headline('ended', { chat: 'c1' }, '', other)), null);
        assert.equal(parseAccepted(xml('<iq><accepted room="c1@rooms.example"/></iq>')), null);
    });

    test('an offer with malformed or huge numbers falls back to the defaults', () => {
        for (const raw of ['-5', '3.5', '1e2', '99999999999999999999', 'soon']) {
            const offer = parseOffer(headline('offer', { id: 'of-1', chat: 'c1', waiting: raw, timeout: raw }));
            assert.equal(offer.waiting, 0, `waiting="${raw}"`);
            assert.equal(offer.timeout, 30, `timeout="${raw}"`);
        }
    });

    test('script-like values stay plain strings', () => {
        const markup = '"><script>window.pwned=1</script>';
        const escaped = markup.replaceAll('<', '&lt;').replaceAll('"', '&quot;');
        const offer = parseOffer(headline('offer', { id: escaped, chat: escaped, purpose: escaped }));
        assert.deepEqual(offer, { id: markup, chat: markup, purpose: markup, waiting: 0, timeout: 30, from_agent: '' });
        assert.equal(parseEnded(headline('ended', { chat: 'c1', by: escaped })).by, markup);
    });
});

describe('parseAttributes (§5)', () => {
    test('reads the example of the protocol', () => {
        assert.deepEqual(parseAttributes(example('attributes', 'message', COMPONENT)), {
            chat: 'k7f…', purpose: 'report_move', purpose_label: 'Verhuizing doorgeven',
            status: 'verified', source: 'attr_url', verified_at: '2026-11-29T09:58:12Z',
            attributes: [
                { name: 'fullname', label: 'Naam', value: 'Juliet Capulet' },
                { name: 'bsn', label: 'BSN', value: '999990019' },
            ],
            transferred_by: '', transfer_note: '',
        });
    });

    test('a chat handed on: who handed it on, and the note line by line (§12)', () => {
        const parsed = parseAttributes(attributes([field('FORM_TYPE', FORM_TYPE), field('status', 'pending'),
            field('transferred_by', 'Romeo'), field('transfer_note', ['Eerste regel', '<b>tweede</b>'.replaceAll('<', '&lt;')])]));
        assert.equal(parsed.transferred_by, 'Romeo');
        assert.equal(parsed.transfer_note, 'Eerste regel\n<b>tweede</b>');
        assert.deepEqual(parsed.attributes, []);
    });

    test("the agent's request of the example (no form) reads as nothing", () => {
        assert.equal(parseAttributes(example('attributes', 'iq', AGENT)), null);
    });

    test('pending: no attribute fields; unknown or differently written status is not verified', () => {
        const base = [field('FORM_TYPE', FORM_TYPE)];
        const pending = parseAttributes(attributes([...base, field('status', 'pending')]));
        assert.equal(pending.status, 'pending');
        assert.deepEqual(pending.attributes, []);
        for (const status of ['Verified', 'verified ', 'ok', '']) {
            assert.equal(parseAttributes(attributes([...base, field('status', status)])).status, 'not_verified', status);
        }
        assert.equal(parseAttributes(attributes(base)).status, 'not_verified');
    });

    test('several values are joined; a missing label is empty; fields in another namespace are ignored', () => {
        const parsed = parseAttributes(attributes([
            field('FORM_TYPE', FORM_TYPE), field('attr:email', ['a@capulet.lit', 'b@capulet.lit'], 'E-mail'),
            field('attr:city', 'Verona'),
            `<field xmlns="urn:other" var="attr:bsn"><value>999990019</value></field>`,
            `<field var="attr:fullname"><value xmlns="urn:other">Juliet</value></field>`,
        ]));
        assert.deepEqual(parsed.attributes, [
            { name: 'email', label: 'E-mail', value: 'a@capulet.lit, b@capulet.lit' },
            { name: 'city', label: '', value: 'Verona' },
            { name: 'fullname', label: '', value: '' },
        ]);
    });

    test('is null without chat, without a result form, or with another FORM_TYPE', () => {
        const fields = [field('FORM_TYPE', FORM_TYPE), field('attr:bsn', '999990019')];
        assert.ok(parseAttributes(attributes(fields)), 'the well-formed control parses');
        assert.equal(parseAttributes(attributes(fields, { chat: '' })), null);
        assert.equal(parseAttributes(attributes(fields, { type: 'form' })), null);
        assert.equal(parseAttributes(attributes(fields, { ns: 'urn:other' })), null);
        assert.equal(parseAttributes(attributes([field('attr:bsn', '999990019')])), null);
        assert.equal(parseAttributes(attributes([field('FORM_TYPE', FORM_TYPE + '-evil'), field('attr:bsn', '1')])), null);
        assert.equal(parseAttributes(headline('attributes', { chat: 'c1' })), null);
        assert.equal(parseAttributes(headline('attributes', { chat: 'c1' }, '', 'urn:other')), null);
    });

    test('script-like values stay plain strings; markup inside a value becomes its text', () => {
        const markup = '<img src=x onerror="window.pwned=1">';
        const escaped = markup.replaceAll('<', '&lt;').replaceAll('"', '&quot;');
        const parsed = parseAttributes(attributes([
            field('FORM_TYPE', FORM_TYPE), field('purpose_label', escaped),
            field(`attr:${escaped}`, escaped, escaped), field('attr:city', '<b>Verona</b>'),
        ]));
        assert.equal(parsed.purpose_label, markup);
        assert.deepEqual(parsed.attributes[0], { name: markup, label: markup, value: markup });
        assert.deepEqual(parsed.attributes[1], { name: 'city', label: '', value: 'Verona' });
        for (const a of parsed.attributes) for (const v of Object.values(a)) assert.equal(typeof v, 'string');
    });
});

describe('parseTransferred, parseColleagues, an offer of a transfer (§12)', () => {
    test('read the examples of the protocol', () => {
        assert.deepEqual(parseTransferred(example('transferred', 'message', COMPONENT)),
            { chat: 'k7f…', outcome: 'accepted', agent: 'Mercutio', purpose: '' });
        assert.deepEqual(parseColleagues(example('colleagues', 'iq', COMPONENT)),
            [{ jid: 'mercutio@agents.idchat.localhost', nick: 'Mercutio', free: 1 }]);
        assert.deepEqual(parseColleagues(example('colleagues', 'iq', AGENT)), []);
    });

    test('an offer says who hands the chat on; incomplete headlines read as nothing', () => {
        assert.equal(parseOffer(headline('offer', { id: 'of-1', chat: 'c1', 'from-agent': 'Romeo' })).from_agent, 'Romeo');
        assert.equal(parseTransferred(headline('transferred', { chat: 'c1' })), null);
        assert.deepEqual(parseTransferred(headline('transferred', { chat: 'c1', outcome: 'queued', purpose: 'report_move' })),
            { chat: 'c1', outcome: 'queued', agent: '', purpose: 'report_move' });
        const listed = parseColleagues(xml(`<iq><colleagues xmlns="${NS}"><colleague jid="a@b" free="x"/><colleague nick="no jid"/></colleagues></iq>`));
        assert.deepEqual(listed, [{ jid: 'a@b', nick: 'a', free: 0 }]);
    });
});
