/**
 * Names of the ID Chat protocol, version 1 (docs/protocol.md), shared by both plugins.
 */
export const NS = 'https://idchat.nl/protocol/chat/1';
// §10: an agent's credential renewal, to the agent's own XMPP server (agents.mode = "oidc").
export const CREDENTIAL_NS = 'https://idchat.nl/protocol/credential/1';
export const ATTRIBUTES_FORM_TYPE = 'https://idchat.nl/protocol/attributes/1';
export const NS_HINTS = 'urn:xmpp:hints'; // XEP-0334
export const NS_XDATA = 'jabber:x:data'; // XEP-0004

/** The defined condition of an IQ error reply (RFC 6120 §8.3), e.g. 'item-not-found'. */
export function errorCondition (stanza) {
    const error = stanza?.getElementsByTagName?.('error')[0];
    const condition = error && Array.from(error.children).find(
        (el) => el.namespaceURI === 'urn:ietf:params:xml:ns:xmpp-stanzas' && el.localName !== 'text');
    return condition?.localName ?? (stanza === null ? 'timeout' : 'undefined-condition');
}

/** The first child element of `stanza` with our namespace and `name`, or undefined. */
export function child (stanza, name) {
    return Array.from(stanza.children).find((el) => el.namespaceURI === NS && el.localName === name);
}

/** A non-negative integer attribute, or undefined when absent or malformed. */
export function intAttr (el, name) {
    const raw = el.getAttribute(name);
    if (raw === null || !/^\d{1,9}$/.test(raw)) return undefined;
    return Number(raw);
}
