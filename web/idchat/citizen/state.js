/**
 * The citizen's view of their chat: one Model the plugin updates and the elements render.
 *
 * phase:      connecting → claiming → queued | assigned | no-agent → ended; or error
 * connection: online | lost (Converse is reconnecting) | back | offline (gave up)
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
    alternatives: {},
    error: undefined,
    stopping: false,
    retrying: false,
    announcement: '',
});

/** Apply a parsed §2 status (or §1 claimed) to the model. */
export function applyStatus (status) {
    if (chat.get('phase') === 'ended') return;
    const { state, position, wait, agent, by, interrupted, alternatives } = status;
    if (state === 'no-agent') {
        // The chat stays queued: keep the queue position, add the alternative.
        chat.set({ phase: 'no-agent', alternatives });
    } else if (state === 'queued') {
        chat.set({ phase: 'queued', position, wait, interrupted, agent: undefined });
    } else if (state === 'assigned') {
        chat.set({ phase: 'assigned', agent: agent ?? chat.get('agent'), interrupted: false });
    } else if (state === 'ended') {
        chat.set({ phase: 'ended', by });
    }
}
