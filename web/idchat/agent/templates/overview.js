/**
 * Template of a supervisor's team overview (docs/protocol.md §9): who waits per topic,
 * each agent's availability and load, today's figures. Tables with row and column
 * headers; one polite status line that changes only when the number waiting or
 * available does (the tables themselves are not announced on every push).
 */
import { html, nothing } from '../../converse.js';
import { clock, percent, span } from '../texts.js';

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
                <table class="idchat-table" aria-labelledby="idchat-ov-queues" data-table="queues">
                    <thead><tr>
                        <th scope="col">${t.col_purpose}</th>
                        <th scope="col" class="is-number">${t.col_waiting}</th>
                        <th scope="col" class="is-number">${t.col_longest}</th>
                        <th scope="col" class="is-number">${t.col_expected}</th>
                    </tr></thead>
                    <tbody>${queues.map((q) => html`
                        <tr data-purpose="${q.purpose}">
                            <th scope="row">${q.label}</th>
                            <td class="is-number" data-figure="waiting">${q.waiting}</td>
                            <td class="is-number" data-figure="longest">${q.longest === undefined ? t.not_known : span(q.longest, lang)}</td>
                            <td class="is-number" data-figure="expected">${q.expected === undefined ? t.not_known : span(q.expected, lang)}</td>
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
                <table class="idchat-table" aria-labelledby="idchat-ov-agents" data-table="agents">
                    <thead><tr>
                        <th scope="col">${t.col_agent}</th>
                        <th scope="col">${t.col_availability}</th>
                        <th scope="col" class="is-number">${t.col_chats}</th>
                        <th scope="col" class="is-number">${t.col_idle}</th>
                    </tr></thead>
                    <tbody>${members.map((m) => html`
                        <tr data-agent="${m.jid}">
                            <th scope="row">${m.nick}</th>
                            <td data-figure="availability"><span class="idchat-availability ${m.available ? 'is-available' : 'is-away'}">${m.available ? t.is_available : t.not_available}</span></td>
                            <td class="is-number" data-figure="chats">${t.chats_of(m.chats, m.capacity)}${m.offers ? html` <span class="idchat-overview__offers">${t.offers_out(m.offers)}</span>` : nothing}</td>
                            <td class="is-number" data-figure="idle">${m.idle === undefined ? t.none_yet : t.ago(span(m.idle, lang))}</td>
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
