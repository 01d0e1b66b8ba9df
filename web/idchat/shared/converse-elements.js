/**
 * Converse elements redrawn for WCAG 2.1 AA, used by both plugins. Call from a plugin's
 * initialize(), before Converse registers its elements with the browser.
 */
import { html } from '../converse.js';

/**
 * Avatars: Converse colours initials with a per-name hue as an inline !important style,
 * which fails contrast for some names. Ours are initials in one AA colour pair, hidden
 * from assistive technology (the name is always written next to them).
 */
export function redrawAvatars (api) {
    const Avatar = api.elements.registry['converse-avatar'];
    api.elements.define('converse-avatar', class extends Avatar {
        render () {
            const size = `width: ${this.width}px; height: ${this.height}px; line-height: ${this.height}px;
                          font-size: ${Math.round(this.width / 2)}px;`;
            return html`<div class="avatar-initials idchat-avatar" style="${size}" aria-hidden="true"
                >${this.getInitials(this.name)}</div>`;
        }
    });
}

/**
 * The occupants list puts its <li> inside a custom element inside the <ul>: the custom
 * element becomes the list item, the inner <li> only a box.
 */
export function repairOccupantList (api) {
    const Item = api.elements.registry['converse-muc-occupant-list-item'];
    if (!Item) return;
    api.elements.define('converse-muc-occupant-list-item', class extends Item {
        connectedCallback () {
            super.connectedCallback();
            this.setAttribute('role', 'listitem');
        }

        updated (changed) {
            super.updated?.(changed);
            this.querySelector(':scope > li')?.setAttribute('role', 'none');
        }
    });
}
