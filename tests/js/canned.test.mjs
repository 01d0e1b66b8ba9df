/**
 * web/idchat/agent/canned.js: canned replies (docs/protocol.md §3a) as the console reads,
 * finds, fills in and inserts them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fillReply, insertReply, matchReplies, parseReplies, slashQuery } from '../../web/idchat/agent/canned.js';
import { NS, example, xml } from './stanza.mjs';

const REPLIES = [
    { key: 'welkom', lang: 'nl', purpose: '', text: 'Goedendag, u spreekt met {agent}.' },
    { key: 'welkom', lang: 'en', purpose: '', text: 'Hello, this is {agent}.' },
    { key: 'adres', lang: 'nl', purpose: 'report_move', text: 'Wat is uw nieuwe adres?' },
    { key: 'vergunning', lang: 'nl', purpose: 'request_permit', text: 'Welke vergunning?' },
    { key: 'tot-ziens', lang: 'nl', purpose: '', text: 'Tot ziens, namens {agent} ({topic}).' },
];

describe('parseReplies (§3a)', () => {
    test('reads the example of the protocol', () => {
        assert.deepEqual(parseReplies(example('replies', 'iq', 'component.idchat.localhost')), [
            { key: 'welkom', lang: 'nl', purpose: '', text: 'Goedendag, u spreekt met {agent}. Waarmee kan ik u helpen?' },
            { key: 'adres', lang: 'nl', purpose: 'report_move', text: 'Wat is uw nieuwe adres?' },
        ]);
    });

    test('skips replies without a key or a text, and foreign elements', () => {
        const iq = xml(`<iq type="result"><replies xmlns="${NS}"><reply xml:lang="nl">x</reply>
            <reply key="a" xml:lang="en"> </reply><other key="b">y</other><reply key="c">z</reply></replies></iq>`);
        assert.deepEqual(parseReplies(iq), [{ key: 'c', lang: 'nl', purpose: '', text: 'z' }]);
        assert.deepEqual(parseReplies(xml('<iq type="result"/>')), []);
    });
});

describe('slashQuery', () => {
    test('a /word at the start, after a space or a line break, up to the caret', () => {
        assert.deepEqual(slashQuery('/wel'), { start: 0, query: 'wel' });
        assert.deepEqual(slashQuery('Dag! /Ad'), { start: 5, query: 'ad' });
        assert.deepEqual(slashQuery('regel\n/'), { start: 6, query: '' });
        assert.deepEqual(slashQuery('/adres en meer', 4), { start: 0, query: 'adr' });
    });

    test('no /word: a path, a date, a finished word or nothing', () => {
        for (const text of ['https://example.nl/a', '1/2', '/welkom ', 'hallo', '']) {
            assert.equal(slashQuery(text), null, text);
        }
    });
});

describe('matchReplies', () => {
    test("the topic's own and those for every topic; other topics never", () => {
        const keys = matchReplies(REPLIES, { query: '', purpose: 'report_move', lang: 'nl' })
            .map((r) => `${r.key}/${r.lang}`);
        assert.deepEqual(keys, ['adres/nl', 'welkom/nl', 'tot-ziens/nl', 'welkom/en']);
    });

    test('prefix matches before matches inside a key; the console language first', () => {
        assert.deepEqual(matchReplies(REPLIES, { query: 'w', purpose: 'x', lang: 'en' })
            .map((r) => `${r.key}/${r.lang}`), ['welkom/en', 'welkom/nl']);
        assert.deepEqual(matchReplies(REPLIES, { query: 'z', purpose: 'x' }).map((r) => r.key), ['tot-ziens']);
        assert.deepEqual(matchReplies(REPLIES, { query: 'nope', purpose: 'x' }), []);
    });

    test('at most eight', () => {
        const many = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, lang: 'nl', purpose: '', text: 't' }));
        assert.equal(matchReplies(many, { query: 'k' }).length, 8);
    });
});

describe('fillReply and insertReply', () => {
    test('only {agent} and {topic} are filled in, every time they occur', () => {
        assert.equal(fillReply('{agent} hier, over {topic}. Groet, {agent} {other}', { agent: 'Romeo', topic: 'Verhuizen' }),
            'Romeo hier, over Verhuizen. Groet, Romeo {other}');
    });

    test('the /word is replaced and the caret lands after the reply', () => {
        assert.deepEqual(insertReply('Hoi /wel en verder', 4, 8, 'Goedendag.'),
            { value: 'Hoi Goedendag. en verder', caret: 14 });
    });
});
