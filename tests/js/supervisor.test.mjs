/**
 * A supervisor's overview in the console (docs/protocol.md §9): parseOverview and
 * parseWatch on the protocol's own examples and on broken or hostile stanzas, and how the
 * figures are written (durations, shares, the time of day) in Dutch and English.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseOverview, parseWatch } from '../../web/idchat/agent/parsers.js';
import { clock, percent, span, texts } from '../../web/idchat/agent/texts.js';
import { NS, example, xml } from './stanza.mjs';

const COMPONENT = 'component.idchat.localhost';

function overview (children, attrs = 'at="2026-11-30T09:41:07Z" service-level-seconds="60"', ns = NS) {
    return xml(`<message type="headline"><overview xmlns="${ns}" ${attrs}>${children}</overview></message>`);
}

describe('parseOverview (§9)', () => {
    test("reads the answer of the protocol's example: queues, agents, today", () => {
        assert.deepEqual(parseOverview(example('overview', 'iq', COMPONENT)), {
            at: '2026-11-30T09:41:07Z',
            service_level_seconds: 60,
            queues: [{ purpose: 'report_move', label: 'Verhuizing doorgeven', waiting: 3, longest: 95, expected: 240 }],
            members: [
                { jid: 'romeo@agents.idchat.localhost', nick: 'Romeo', available: true, chats: 2, offers: 0,
                  capacity: 3, idle: 310 },
                { jid: 'mercutio@agents.idchat.localhost', nick: 'Mercutio', available: false, chats: 0, offers: 0,
                  capacity: 2, idle: undefined },
            ],
            today: { answered: 41, abandoned: 3, median_wait: 52, service_level: 0.78 },
        });
    });

    test("reads the push of the example: what may be left out is unknown, not zero", () => {
        const pushed = parseOverview(example('overview', 'message', COMPONENT));
        assert.deepEqual(pushed.queues, [{ purpose: 'report_move', label: 'Verhuizing doorgeven', waiting: 2,
                                           longest: 12, expected: undefined }]);
        assert.deepEqual(pushed.members, []);
        assert.equal(pushed.today.service_level, 0.79);
    });

    test("the supervisor's own request (no figures) and other stanzas read as nothing", () => {
        assert.equal(parseOverview(xml(`<iq type="get"><watch xmlns="${NS}"/></iq>`)), null);
        assert.equal(parseOverview(overview('', '', 'urn:example:other')), null);
        const asked = parseOverview(xml(`<iq type="get"><overview xmlns="${NS}"/></iq>`));
        assert.deepEqual(asked.queues, []);
        assert.deepEqual(asked.today, { answered: 0, abandoned: 0, median_wait: undefined, service_level: undefined });
    });

    test('before the first answer of the day: no median, no service level', () => {
        const f = parseOverview(overview(`<today xmlns="${NS}" answered="0" abandoned="2"/>`));
        assert.deepEqual(f.today, { answered: 0, abandoned: 2, median_wait: undefined, service_level: undefined });
    });

    test('rows without their key, or in another namespace, are left out', () => {
        const f = parseOverview(overview(`<queue xmlns="${NS}" waiting="4"/><queue xmlns="urn:x" purpose="a" waiting="1"/>
            <member xmlns="${NS}" nick="Nobody" chats="1"/><member xmlns="${NS}" jid="tybalt@agents.idchat.localhost"/>`));
        assert.deepEqual(f.queues, []);
        assert.deepEqual(f.members, [{ jid: 'tybalt@agents.idchat.localhost', nick: 'tybalt', available: false,
                                       chats: 0, offers: 0, capacity: 0, idle: undefined }]);
    });

    test('malformed, negative or huge figures are not figures; a share must lie between 0 and 1', () => {
        const f = parseOverview(overview(`<queue xmlns="${NS}" purpose="p" waiting="-1" longest="1e3" expected="9999999999"/>
            <member xmlns="${NS}" jid="a@b" available="yes" chats="two" idle=" 5"/>
            <today xmlns="${NS}" answered="x" median-wait="" service-level="1.5"/>`));
        assert.deepEqual(f.queues[0], { purpose: 'p', label: '', waiting: 0, longest: undefined, expected: undefined });
        assert.equal(f.members[0].available, false);
        assert.equal(f.members[0].chats, 0);
        assert.equal(f.members[0].idle, undefined);
        assert.deepEqual(f.today, { answered: 0, abandoned: 0, median_wait: undefined, service_level: undefined });
        for (const [raw, read] of [['0', 0], ['1', 1], ['1.00', 1], ['0.5', 0.5], ['', undefined], ['-0.1', undefined],
                                   ['NaN', undefined], ['.5', undefined], ['1.01', undefined]]) {
            const t = parseOverview(overview(`<today xmlns="${NS}" service-level="${raw}"/>`)).today;
            assert.equal(t.service_level, read, `service-level="${raw}"`);
        }
    });

    test('at most the protocol bounds: 50 purposes, 500 agents', () => {
        const queues = Array.from({ length: 60 }, (_, i) => `<queue xmlns="${NS}" purpose="p${i}" waiting="1"/>`).join('');
        const members = Array.from({ length: 600 }, (_, i) => `<member xmlns="${NS}" jid="a${i}@b"/>`).join('');
        const f = parseOverview(overview(queues + members));
        assert.equal(f.queues.length, 50);
        assert.equal(f.members.length, 500);
    });

    test('script-like names stay plain strings', () => {
        const f = parseOverview(overview(`<member xmlns="${NS}" jid="x@y" nick="&lt;img src=x onerror=alert(1)&gt;"/>`));
        assert.equal(f.members[0].nick, '<img src=x onerror=alert(1)>');
    });
});

describe('parseWatch (§9)', () => {
    test("reads the protocol's answer; nothing without a watch element", () => {
        assert.equal(parseWatch(example('watch', 'iq', COMPONENT)), 600);
        assert.equal(parseWatch(xml(`<iq type="result"><watch xmlns="${NS}" seconds="soon"/></iq>`)), 0);
        assert.equal(parseWatch(xml('<iq type="result"/>')), null);
    });
});

describe('how the overview writes its figures', () => {
    test('spans of time: seconds, minutes and seconds, hours and minutes; never negative', () => {
        const cases = [[0, '0 s'], [45, '45 s'], [59.6, '1 min'], [60, '1 min'], [125, '2 min 5 s'],
                       [3600, '1 u'], [4210, '1 u 10 min'], [-5, '0 s'], [undefined, '0 s']];
        for (const [seconds, nl] of cases) assert.equal(span(seconds, 'nl'), nl, `${seconds}`);
        assert.equal(span(4210, 'en'), '1 h 10 min');
        assert.equal(span(125, 'en'), '2 min 5 s');
    });

    test('a service level as a whole percentage', () => {
        assert.equal(percent(0.78, 'nl'), '78%');
        assert.equal(percent(0.785, 'en'), '79%');
        assert.equal(percent(1, 'nl'), '100%');
    });

    test('the time of day of the figures; nothing for an unreadable time', () => {
        assert.match(clock('2026-11-30T09:41:07Z', 'nl'), /^\d\d:41:07$/);
        assert.match(clock('2026-11-30T09:41:07Z', 'en'), /^\d\d:41:07$/);
        assert.equal(clock('', 'nl'), '');
        assert.equal(clock('gisteren', 'nl'), '');
    });

    test('the sentences read the figures in each language', () => {
        const [nl, en] = [texts('nl'), texts('en')];
        assert.equal(nl.ov_summary(3, 0), 'Wachtend: 3. Medewerkers beschikbaar: 0.');
        assert.equal(en.ov_summary(3, 0), 'Waiting: 3. Agents available: 0.');
        assert.equal(nl.chats_of(1, 2), '1 van 2');
        assert.equal(en.chats_of(1, 2), '1 of 2');
        assert.equal(nl.ago(span(75, 'nl')), '1 min 15 s geleden');
        assert.equal(en.ago(span(75, 'en')), '1 min 15 s ago');
        assert.match(nl.today_level(60), /binnen 60 s/);
        assert.match(en.today_level(60), /within 60 s/);
    });
});
