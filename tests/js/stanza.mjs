/**
 * Stanzas for the parser tests: XML text parsed by @xmldom/xmldom (a devDependency in
 * web/package.json) into the same DOM interface the browser gives Converse, and the
 * examples of docs/protocol.md, read from the document itself so the tests follow it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const ROOT = new URL('../../', import.meta.url);
// The package lives in web/node_modules, not beside this file: resolve it from web/.
const { DOMParser } = createRequire(new URL('web/package.json', ROOT))('@xmldom/xmldom');

export const NS = 'https://idchat.nl/protocol/chat/1';

/** The root element of `text`; malformed XML throws, as it must never pass silently. */
export function xml (text) {
    const doc = new DOMParser({ onError: (level, message) => {
        throw new Error(`malformed test XML (${level}): ${message}`);
    } }).parseFromString(text, 'text/xml');
    return doc.documentElement;
}

/**
 * Every top-level element of the ```xml blocks in docs/protocol.md (a block may hold two,
 * e.g. accept and decline), in document order.
 */
export function protocolExamples () {
    const doc = readFileSync(new URL('docs/protocol.md', ROOT), 'utf8');
    const blocks = [...doc.matchAll(/```xml\n([\s\S]*?)```/g)].map((m) => m[1]);
    return blocks.flatMap((block) => Array.from(xml(`<examples>${block}</examples>`).children));
}

/**
 * The one example whose first payload is our element `name`, in a stanza of `kind`
 * (message, iq, presence) sent by `from` (e.g. 'component.idchat.localhost') when given,
 * and for which `pick(element)` holds (to tell apart examples of one element).
 */
export function example (name, kind, from, pick = () => true) {
    const found = protocolExamples().filter((el) => el.localName === kind
        && (!from || el.getAttribute('from') === from)
        && el.children[0]?.namespaceURI === NS && el.children[0]?.localName === name
        && pick(el.children[0]));
    if (found.length !== 1) {
        throw new Error(`docs/protocol.md has ${found.length} examples of <${kind}><${name}/>, expected 1`);
    }
    return found[0];
}
