/**
 * When a closed topic opens again (docs/protocol.md §1 `<closed opens/>`), in words, on the
 * wall clock of Europe/Amsterdam whatever the browser's own time zone. Pure: no DOM.
 */
const ZONE = 'Europe/Amsterdam';

/** The Amsterdam calendar date of an instant, as YYYY-MM-DD. */
function localDate (date) {
    return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
        .format(date);
}

/** The calendar day after a YYYY-MM-DD date. */
function dayAfter (ymd) {
    const [y, m, d] = ymd.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d + 1, 12)).toISOString().slice(0, 10);
}

/**
 * `{ day, time }` for an ISO instant: day is 'today', 'tomorrow' or a written-out date
 * ("maandag 7 december", "Monday 7 December"), time "08:30" (24 h); null without a valid
 * instant.
 */
export function openingParts (iso, lang = 'nl', now = new Date()) {
    const opens = iso ? new Date(iso) : null;
    if (!opens || Number.isNaN(opens.getTime())) return null;
    const locale = lang === 'en' ? 'en-GB' : 'nl-NL';
    const time = new Intl.DateTimeFormat(locale, { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
        .format(opens);
    const when = localDate(opens);
    if (when === localDate(now)) return { day: 'today', time };
    if (when === dayAfter(localDate(now))) return { day: 'tomorrow', time };
    const day = new Intl.DateTimeFormat(locale, { timeZone: ZONE, weekday: 'long', day: 'numeric', month: 'long' })
        .format(opens);
    return { day, time };
}
