/**
 * web/idchat/{citizen,agent}/texts.js: both languages say the same things, every text is a
 * plain string, and every value a parser can return has its sentence.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { texts as agentTexts, purposeLabel } from '../../web/idchat/agent/texts.js';
import { texts as citizenTexts } from '../../web/idchat/citizen/texts.js';
import { parseStatus } from '../../web/idchat/citizen/parsers.js';
import { parseAttributes } from '../../web/idchat/agent/parsers.js';
import { NS, xml } from './stanza.mjs';

/** The shape of a text table: a string, a function (with its arity), or a table. */
function shape (value) {
    if (typeof value === 'function') return `function/${value.length}`;
    if (typeof value === 'string') return 'string';
    if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
    }
    return typeof value;
}

/** Every text of a table, functions called with a number for each argument: [key path, text]. */
function* everyText (table, path = '') {
    for (const [key, value] of Object.entries(table)) {
        const here = path ? `${path}.${key}` : key;
        if (typeof value === 'function') yield [here, value(...Array(value.length).fill(75))];
        else if (typeof value === 'object') yield* everyText(value, here);
        else yield [here, value];
    }
}

for (const [who, texts] of [['citizen', citizenTexts], ['agent', agentTexts]]) {
    describe(`${who} texts`, () => {
        test('Dutch first: an unknown or missing language gets Dutch', () => {
            assert.equal(texts('nl'), texts(undefined));
            assert.equal(texts('fr'), texts('nl'));
            assert.notEqual(texts('en'), texts('nl'));
        });

        test('English says everything Dutch says, in the same form', () => {
            const nl = shape(texts('nl'));
            assert.ok(Object.keys(nl).length > 10);
            assert.deepEqual(shape(texts('en')), nl);
        });

        test('every text is a non-empty string, and no two languages share a sentence by mistake', () => {
            for (const lang of ['nl', 'en']) {
                for (const [key, text] of everyText(texts(lang))) {
                    assert.equal(typeof text, 'string', `${lang} ${key}`);
                    assert.ok(text.trim().length > 0, `${lang} ${key} is empty`);
                    assert.ok(!/undefined|NaN|\[object /.test(text), `${lang} ${key}: ${text}`);
                }
            }
            const nl = new Map(everyText(texts('nl')));
            const same = [...everyText(texts('en'))].filter(([key, text]) => nl.get(key) === text && text.length > 12);
            assert.deepEqual(same, [], 'English texts still in Dutch');
        });
    });
}

describe('citizen sentences', () => {
    const [nl, en] = [citizenTexts('nl'), citizenTexts('en')];
    test('queue position: "next" for 1, the number otherwise', () => {
        assert.equal(nl.queued(1), 'U bent de volgende in de wachtrij.');
        assert.match(nl.queued(4), /\b4\b/);
        assert.match(en.queued(4), /\b4\b/);
    });
    test('expected wait in whole minutes, singular and plural', () => {
        assert.match(nl.wait(59), /minder dan een minuut/);
        assert.match(nl.wait(60), /ongeveer 1 minuut\./);
        assert.match(nl.wait(150), /ongeveer 3 minuten\./);
        assert.match(en.wait(60), /about 1 minute\./);
        assert.match(en.wait(600), /about 10 minutes\./);
    });
    test('every way a chat can end that the parser returns has a sentence', () => {
        for (const by of ['agent', 'citizen', 'timeout', 'system', 'admin', '']) {
            const parsed = parseStatus(xml(`<message><status xmlns="${NS}" state="ended" by="${by}"/></message>`));
            for (const t of [nl, en]) assert.equal(typeof t.ended[parsed.by], 'string', `by="${by}" → ${parsed.by}`);
        }
    });
});

describe('agent sentences', () => {
    const [nl, en] = [agentTexts('nl'), agentTexts('en')];
    test('every status the attributes parser returns has a badge and an explanation', () => {
        for (const status of ['verified', 'not_verified', 'pending', 'bogus']) {
            const parsed = parseAttributes(xml(`<message><attributes xmlns="${NS}" chat="c"><x xmlns="jabber:x:data" type="result">
                <field var="FORM_TYPE"><value>https://idchat.nl/protocol/attributes/1</value></field>
                <field var="status"><value>${status}</value></field></x></attributes></message>`));
            for (const t of [nl, en]) {
                assert.equal(typeof t.status[parsed.status], 'string', parsed.status);
                assert.equal(typeof t.status_explain[parsed.status], 'string', parsed.status);
            }
        }
    });
    test('an ended chat names who ended it, and says nothing odd for an unknown party', () => {
        assert.equal(nl.ended('Verhuizing', 'citizen'), 'Chat "Verhuizing" is beëindigd door de inwoner.');
        assert.equal(en.ended('Moving', 'timeout'), 'Chat "Moving" was ended for inactivity.');
        assert.equal(nl.ended('Verhuizing', 'someone'), 'Chat "Verhuizing" is beëindigd.');
        assert.equal(en.ended('Moving', undefined), 'Chat "Moving" was ended.');
    });
    test('waiting time in seconds, then minutes', () => {
        assert.equal(nl.waiting(35), 'Wacht al 35 s');
        assert.equal(nl.waiting(130), 'Wacht al 2 min');
        assert.equal(en.waiting(130), 'Waiting for 2 min');
    });
    test('a purpose tag shows its configured label, else the tag itself', () => {
        const purposes = { report_move: 'Verhuizing doorgeven' };
        assert.equal(purposeLabel(purposes, 'report_move'), 'Verhuizing doorgeven');
        assert.equal(purposeLabel(purposes, 'unknown_tag'), 'unknown_tag');
        assert.equal(purposeLabel(undefined, 'report_move'), 'report_move');
        assert.equal(purposeLabel({ report_move: '' }, 'report_move'), 'report_move');
    });
});
