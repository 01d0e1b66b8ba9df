/**
 * IdchatElement: a small lit-rendered custom element without shadow DOM.
 *
 * Converse's own CustomElement is only reachable through the private _converse object
 * after initialize(); ours needs nothing but lit's `render` from converse.env, so the
 * element classes can be defined when their modules load. Templates are lit `html`,
 * which escapes every interpolated value: untrusted text is never parsed as markup.
 */
import { render } from '../converse.js';

export class IdchatElement extends HTMLElement {
    #queued = false;
    #listeners = [];
    #placeholderGone = false;

    connectedCallback () {
        if (!this.#placeholderGone) {
            this.replaceChildren(); // what the server put inside for browsers without scripts
            this.#placeholderGone = true;
        }
        this.initialize?.();
        this.requestUpdate();
    }

    disconnectedCallback () {
        this.#listeners.forEach(([target, name, fn]) => target.off?.(name, fn) ?? target.removeEventListener(name, fn));
        this.#listeners = [];
    }

    /** Re-render when `target` (a Converse Model or an EventTarget) fires `name`. */
    listenTo (target, name, fn = () => this.requestUpdate()) {
        if (target.on) target.on(name, fn); else target.addEventListener(name, fn);
        this.#listeners.push([target, name, fn]);
    }

    requestUpdate () {
        if (this.#queued) return;
        this.#queued = true;
        queueMicrotask(() => {
            this.#queued = false;
            if (this.isConnected) {
                render(this.render(), this);
                this.updated?.();
            }
        });
    }
}
