/**
 * The one module that names the Converse.js distribution (served at /converse/ from
 * web/node_modules/converse.js/dist). Everything else imports Converse from here.
 */
import converse from '/converse/converse.min.js';

export default converse;
export const { html, nothing, render, stx, Strophe, sizzle, dayjs, Model, Collection, u } = converse.env;
