/**
 * The page's configuration: the JSON the server put in <script type="application/json"
 * id="idchat-config"> (no inline script runs; CSP script-src 'self').
 */
export function readConfig (id = 'idchat-config') {
    const el = document.getElementById(id);
    if (!el) throw new Error(`ID Chat: #${id} is missing from the page`);
    return JSON.parse(el.textContent);
}
