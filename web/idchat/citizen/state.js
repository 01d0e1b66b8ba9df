/**
 * The citizen's view of their chat: one Model the plugin updates and the elements render.
 * It lives in page memory only (the transcript too): nothing here is ever stored.
 *
 * phase:      connecting → claiming → queued | offered | no-agent | assigned → ended; or error
 * connection: online | lost (Converse is reconnecting) | back | offline (gave up)
 * details:    pending | verified | not_verified (the citizen's attributes, not their values)
 * auth:       null, or the agent's request to log in during the chat (docs/protocol.md §11):
 *             { state: requested | verified | failed | declined | cancelled | expired,
 *               method, url } (url only while requested)
 */
import { Model } from '../converse.js';

export const chat = new Model({
    phase: 'connecting',
    connection: 'online',
    position: undefined,
    wait: undefined,
    agent: undefined,
    by: undefined,
    interrupted: false,
    transferred: false,
    alternatives: {},
    error: undefined,
    stopping: false,
    retrying: false,
    announcement: '',
    details: 'pending',
    auth: null,
    transcript: null,
    saved: false,
});

/**
 * Apply a parsed §2 status (or §1 claimed) to the model. Each state replaces what the
 * page says: an offer out is never "no agent available", nobody on duty is never "you are
 * next", and a queued status after either brings the queue back.
 */
export function applyStatus (status) {
    if (chat.get('phase') === 'ended') return;
    const { state, position, wait, agent, by, interrupted, alternatives, transferred = false } = status;
    if (state === 'no-agent') {
        // `interrupted` stays: a citizen whose agent went away hears that too.
        chat.set({ phase: 'no-agent', alternatives, wait: undefined, agent: undefined });
    } else if (state === 'offered') {
        chat.set({ phase: 'offered', interrupted: false, agent: undefined });
    } else if (state === 'queued') {
        chat.set({ phase: 'queued', position, wait, interrupted, agent: undefined,
                   transferred: transferred || (chat.get('phase') === 'queued' && chat.get('transferred')) });
    } else if (state === 'assigned') {
        chat.set({ phase: 'assigned', agent: agent ?? chat.get('agent'), interrupted: false, transferred });
    } else if (state === 'ended') {
        chat.set({ phase: 'ended', by });
    }
}

/** Apply a parsed §11 `<auth/>`: the request (with its link), or how it ended. */
export function applyAuth (auth) {
    if (['ended', 'error'].includes(chat.get('phase'))) return;
    const { state, method, url } = auth;
    const details = chat.get('details');
    chat.set({
        auth: { state, method, url: state === 'requested' ? url : '' },
        details: state === 'verified' ? 'verified' : (state === 'failed' && details === 'pending' ? 'not_verified' : details),
    });
}
