/**
 * web/idchat/shared/opening.js and the citizen's parser of §1 `<closed/>`: when a closed
 * topic opens again, on Amsterdam's wall clock (also across daylight saving time).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { openingParts } from '../../web/idchat/shared/opening.js';
import { parseClosed } from '../../web/idchat/citizen/parsers.js';
import { NS, example, xml } from './stanza.mjs';

describe('openingParts', () => {
    const now = new Date('2026-12-01T12:00:00Z'); // Tuesday 1 December, 13:00 in Amsterdam

    test('today and tomorrow in words, the time in Amsterdam', () => {
        assert.deepEqual(openingParts('2026-12-01T15:30:00Z', 'nl', now), { day: 'today', time: '16:30' });
        assert.deepEqual(openingParts('2026-12-02T07:00:00Z', 'nl', now), { day: 'tomorrow', time: '08:00' });
        // 23:30 UTC on the 1st is already the 2nd in Amsterdam.
        assert.deepEqual(openingParts('2026-12-01T23:30:00Z', 'en', now), { day: 'tomorrow', time: '00:30' });
    });

    test('a later day written out, in the page language', () => {
        assert.deepEqual(openingParts('2026-12-07T07:30:00Z', 'nl', now), { day: 'maandag 7 december', time: '08:30' });
        assert.deepEqual(openingParts('2026-12-07T07:30:00Z', 'en', now), { day: 'Monday 7 December', time: '08:30' });
    });

    test('summer time: 08:00 local is 06:00 UTC after the switch', () => {
        const friday = new Date('2026-03-27T18:00:00Z');
        assert.deepEqual(openingParts('2026-03-30T06:00:00Z', 'nl', friday), { day: 'maandag 30 maart', time: '08:00' });
        const saturday = new Date('2026-03-28T22:30:00Z'); // 23:30 CET; Sunday is the switch day
        assert.deepEqual(openingParts('2026-03-29T01:00:00Z', 'nl', saturday), { day: 'tomorrow', time: '03:00' });
    });

    test('no instant, or a broken one: nothing to say', () => {
        assert.equal(openingParts(undefined, 'nl', now), null);
        assert.equal(openingParts('not a date', 'nl', now), null);
    });
});

describe('parseClosed (§1)', () => {
    test('reads the example of the protocol', () => {
        assert.deepEqual(parseClosed(example('closed', 'iq', 'component.idchat.localhost')), {
            state: 'closed', purpose: 'report_move', opens: '2026-12-01T07:30:00Z',
            alternatives: {
                nl: 'Bel ons op 14 020, op werkdagen van 8.00 tot 17.00 uur.',
                en: 'Call us on 14 020, on weekdays from 8:00 to 17:00.',
            },
        });
    });

    test('without opens, or with a broken one, and not for a claimed answer', () => {
        const closed = parseClosed(xml(`<iq type="result"><closed xmlns="${NS}" purpose="x" opens="soon"/></iq>`));
        assert.equal(closed.opens, undefined);
        assert.deepEqual(closed.alternatives, {});
        assert.equal(parseClosed(xml(`<iq type="result"><claimed xmlns="${NS}" room="a@b"/></iq>`)), null);
    });
});
