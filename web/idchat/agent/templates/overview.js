/**
 * Template of a supervisor's team overview (docs/protocol.md §9): who waits per topic,
 * each agent's availability and load, today's figures. Tables with row and column
 * headers; one polite status line that changes only when the number waiting or
 * available does (the tables themselves are not announced on every push). On a narrow
 * window (or with large text) each row is drawn as a block, its cells labelled in
 * words; the explicit roles keep it a table for assistive technology.
 */
import { html, nothing } from '../../converse.js';
import { clock, percent, span } from '../texts.js';

/** A cell with its column's name in front, seen only when rows are drawn as blocks. */
function cell (label, content, figure, number = true) {
    return html`<td role="cell" class="${number ? 'is-number' : ''}" data-figure="${figure}"><span class="idchat-table__label" aria-hidden="true">${label}: </span><span class="idchat-table__value">${content}</span></td>`;
}

export function tplOverview (t, lang, o) {
    const f = o.figures;
    const at = f ? clock(f.at, lang) : '';
    const waiting = f ? f.queues.reduce((sum, q) => sum + q.waiting, 0) : 0;
    const available = f ? f.members.filter((m) => m.available).length : 0;
    return html`
        <section class="idchat-overview" aria-labelledby="idchat-overview-title">
            <h2 id="idchat-overview-title" class="idchat-overview__title" tabindex="-1">${t.ov_title}</h2>
            <p class="idchat-overview__privacy">${t.ov_privacy}</p>
            ${f ? html`<p class="idchat-overview__updated">${t.ov_updated(at)}</p>` : nothing}
            <div class="idchat-overview__summary" role="status">
                ${f ? html`<p class="idchat-overview__totals">${t.ov_summary(waiting, available)}</p>` : nothing}
                ${f && waiting > 0 && available === 0 ? html`<p class="idchat-overview__problem">${t.ov_nobody}</p>` : nothing}
                ${f && o.stale ? html`<p class="idchat-overview__problem" data-state="stale">${t.ov_stale(at)}</p>` : nothing}
                ${!f ? html`<p>${o.failed ? t.ov_failed : t.ov_loading}</p>` : nothing}
            </div>
            ${f ? [tplQueues(t, lang, f), tplMembers(t, lang, f), tplToday(t, lang, f)] : nothing}
        </section>`;
}

function tplQueues (t, lang, f) {
    const queues = [...f.queues].sort((a, b) => a.label.localeCompare(b.label, lang));
    return html`
        <section class="idchat-overview__part" aria-labelledby="idchat-ov-queues">
            <h3 id="idchat-ov-queues">${t.ov_queues}</h3>
            ${queues.length ? html`
                <table role="table" class="idchat-table" aria-labelledby="idchat-ov-queues" data-table="queues">
                    <thead role="rowgroup"><tr role="row">
                        <th role="columnheader" scope="col">${t.col_purpose}</th>
                        <th role="columnheader" scope="col" class="is-number">${t.col_waiting}</th>
                        <th role="columnheader" scope="col" class="is-number">${t.col_longest}</th>
                        <th role="columnheader" scope="col" class="is-number">${t.col_expected}</th>
                    </tr></thead>
                    <tbody role="rowgroup">${queues.map((q) => html`
                        <tr role="row" data-purpose="${q.purpose}">
                            <th role="rowheader" scope="row">${q.label}</th>
                            ${cell(t.col_waiting, q.waiting, 'waiting')}
                            ${cell(t.col_longest, q.longest === undefined ? t.not_known : span(q.longest, lang), 'longest')}
                            ${cell(t.col_expected, q.expected === undefined ? t.not_known : span(q.expected, lang), 'expected')}
                        </tr>`)}
                    </tbody>
                </table>` : html`<p class="idchat-overview__none">${t.ov_no_queues}</p>`}
        </section>`;
}

function tplMembers (t, lang, f) {
    const members = [...f.members].sort((a, b) => a.nick.localeCompare(b.nick, lang) || a.jid.localeCompare(b.jid));
    return html`
        <section class="idchat-overview__part" aria-labelledby="idchat-ov-agents">
            <h3 id="idchat-ov-agents">${t.ov_agents}</h3>
            ${members.length ? html`
                <table role="table" class="idchat-table" aria-labelledby="idchat-ov-agents" data-table="agents">
                    <thead role="rowgroup"><tr role="row">
                        <th role="columnheader" scope="col">${t.col_agent}</th>
                        <th role="columnheader" scope="col">${t.col_availability}</th>
                        <th role="columnheader" scope="col" class="is-number">${t.col_chats}</th>
                        <th role="columnheader" scope="col" class="is-number">${t.col_idle}</th>
                    </tr></thead>
                    <tbody role="rowgroup">${members.map((m) => html`
                        <tr role="row" data-agent="${m.jid}">
                            <th role="rowheader" scope="row">${m.nick}</th>
                            ${cell(t.col_availability, html`<span class="idchat-availability ${m.available ? 'is-available' : 'is-away'}">${m.available ? t.is_available : t.not_available}</span>`, 'availability', false)}
                            ${cell(t.col_chats, html`${t.chats_of(m.chats, m.capacity)}${m.offers ? html` <span class="idchat-overview__offers">${t.offers_out(m.offers)}</span>` : nothing}`, 'chats')}
                            ${cell(t.col_idle, m.idle === undefined ? t.none_yet : t.ago(span(m.idle, lang)), 'idle')}
                        </tr>`)}
                    </tbody>
                </table>` : html`<p class="idchat-overview__none">${t.ov_no_agents}</p>`}
        </section>`;
}

function tplToday (t, lang, f) {
    const d = f.today;
    return html`
        <section class="idchat-overview__part" aria-labelledby="idchat-ov-today">
            <h3 id="idchat-ov-today">${t.ov_today}</h3>
            <dl class="idchat-today">
                <div data-figure="answered"><dt>${t.today_answered}</dt><dd>${d.answered}</dd></div>
                <div data-figure="abandoned"><dt>${t.today_abandoned}</dt><dd>${d.abandoned}</dd></div>
                <div data-figure="median-wait"><dt>${t.today_median}</dt>
                    <dd>${d.median_wait === undefined ? t.none_yet : span(d.median_wait, lang)}</dd></div>
                <div data-figure="service-level"><dt>${t.today_level(f.service_level_seconds ?? '?')}</dt>
                    <dd>${d.service_level === undefined ? t.none_yet : percent(d.service_level, lang)}</dd></div>
            </dl>
        </section>`;
}
