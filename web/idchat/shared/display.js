/**
 * How Converse shows dates and the citizen's nickname, in the page's language. The room
 * nick stays the protocol's "Inwoner" (docs/protocol.md §1); only what is shown changes.
 */

/** The protocol's room nick of the citizen. */
export const CITIZEN_NICK = 'Inwoner';

// Converse writes a day separator as 'dddd MMM Do YYYY' ("maandag nov 30ste 2026");
// written out it reads as a date: "maandag 30 november 2026", "Monday 30 November 2026".
const CONVERSE_DAY_FORMAT = 'dddd MMM Do YYYY';
const DAY_FORMAT = 'dddd D MMMM YYYY';

export function writeDatesOut (dayjs) {
    const proto = dayjs.prototype;
    if (proto.format.idchat) return;
    const format = proto.format;
    const written = function (pattern) {
        return format.call(this, pattern === CONVERSE_DAY_FORMAT ? DAY_FORMAT : pattern);
    };
    written.idchat = true;
    proto.format = written;
}

/**
 * Converse's room classes (`_converse.exports`) show `shown(nick)` wherever a name is
 * drawn (messages, "… is typing"), and `infoOnMembershipMove(nick)` instead of "… has been removed because of an
 * affiliation change" (XEP-0045 status 321: the citizen reloaded the page, so the
 * component moved the membership to the new guest JID). Return undefined to show nothing.
 */
export function showNicks (exports, { shown, infoOnMembershipMove }) {
    const { MUC, MUCMessage, MUCOccupant } = exports;
    const occupantName = MUCOccupant.prototype.getDisplayName;
    MUCOccupant.prototype.getDisplayName = function () { return shown(occupantName.call(this)); };
    const messageName = MUCMessage.prototype.getDisplayName;
    MUCMessage.prototype.getDisplayName = function () { return shown(messageName.call(this)); };

    const actionInfo = MUC.prototype.getActionInfoMessage;
    MUC.prototype.getActionInfoMessage = function (code, attrs) {
        if (code === '321') return infoOnMembershipMove(attrs?.nick);
        return actionInfo.call(this, code, attrs);
    };
}
