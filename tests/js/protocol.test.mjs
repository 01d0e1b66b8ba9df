/**
 * web/idchat/shared/protocol.js: the helpers both plugins build on — finding our element,
 * reading a number, naming the condition of an IQ error (RFC 6120 §8.3).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CREDENTIAL_NS, NS as PRODUCT_NS, child, errorCondition, intAttr } from '../../web/idchat/shared/protocol.js';
import { NS, protocolExamples, xml } from './stanza.mjs';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

describe('names', () => {
    test('the namespace is the one docs/protocol.md uses in every example', () => {
        assert.equal(PRODUCT_NS, NS);
        // Every stanza with a payload (an empty IQ result has none to check).
        const examples = protocolExamples().filter((el) => el.children.length > 0);
        assert.ok(examples.length >= 10, `only ${examples.length} examples found in docs/protocol.md`);
        // §10's credential renewal goes to the agent's own server, in a namespace of its own.
        const credential = examples.filter((el) => el.children[0].localName === 'credential');
        assert.equal(credential.length, 1, 'docs/protocol.md §10 shows the credential renewal once');
        for (const el of examples) {
            const expected = el.children[0].localName === 'credential' ? CREDENTIAL_NS : PRODUCT_NS;
            assert.equal(el.children[0].namespaceURI, expected, el.children[0].localName);
        }
    });
});

describe('child', () => {
    test('finds the first element of our namespace by name, and nothing else', () => {
        const msg = xml(`<message><offer xmlns="urn:other" id="1"/><body>offer</body><offer xmlns="${NS}" id="2"/><offer xmlns="${NS}" id="3"/></message>`);
        assert.equal(child(msg, 'offer').getAttribute('id'), '2');
        assert.equal(child(msg, 'body'), undefined);
        assert.equal(child(msg, 'revoke'), undefined);
        // Only direct children: our element nested in a foreign one is not the stanza's payload.
        assert.equal(child(xml(`<message><x xmlns="urn:other"><offer xmlns="${NS}" id="4"/></x></message>`), 'offer'), undefined);
    });
});

describe('intAttr', () => {
    const el = (value) => xml(`<x n="${value}"/>`);
    test('reads non-negative integers of up to nine digits', () => {
        assert.equal(intAttr(el('0'), 'n'), 0);
        assert.equal(intAttr(el('42'), 'n'), 42);
        assert.equal(intAttr(el('007'), 'n'), 7);
        assert.equal(intAttr(el('999999999'), 'n'), 999999999);
    });
    test('anything else is undefined', () => {
        assert.equal(intAttr(xml('<x/>'), 'n'), undefined);
        for (const raw of ['', ' ', '-1', '+1', '1.0', '1e3', '0x1f', '1_000', 'Infinity', 'NaN', '12 ',
            '1000000000', '123456789012345678901234567890']) {
            assert.equal(intAttr(el(raw), 'n'), undefined, `"${raw}"`);
        }
    });
});

describe('errorCondition', () => {
    const error = (inner) => xml(`<iq type="error"><claim xmlns="${NS}"/><error type="cancel">${inner}</error></iq>`);
    test('names the defined condition, whatever text comes with it', () => {
        assert.equal(errorCondition(error(`<text xmlns="${STANZAS}">no</text><item-not-found xmlns="${STANZAS}"/>`)), 'item-not-found');
        assert.equal(errorCondition(error(`<not-authorized xmlns="${STANZAS}"/>`)), 'not-authorized');
    });
    test('a missing answer is a timeout; an error without a defined condition is undefined-condition', () => {
        assert.equal(errorCondition(null), 'timeout');
        assert.equal(errorCondition(error(`<text xmlns="${STANZAS}">only text</text>`)), 'undefined-condition');
        assert.equal(errorCondition(error('<item-not-found xmlns="urn:other"/>')), 'undefined-condition');
        assert.equal(errorCondition(error('<item-not-found/>')), 'undefined-condition');
        assert.equal(errorCondition(xml('<iq type="result"/>')), 'undefined-condition');
        assert.equal(errorCondition(undefined), 'undefined-condition');
    });
});
