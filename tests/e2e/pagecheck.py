"""Measurements in the browser for the keyboard, reflow and language tests: what a page
shows (visible text and labels), where it overflows or clips, where a word breaks in
the middle, and where the focus goes on Tab and whether its ring can be seen.

Each check returns the problems it found (empty: none); tests assert on that list and
prove with a positive control that the check sees what it looks for.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page

# WCAG 2.1 SC 1.4.12 Text Spacing: the values a user style sheet may impose.
TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""

_LAYOUT = r"""(scope) => {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      [...el.classList].slice(0, 2).map((c) => '.' + c).join('') +
      (el.textContent.trim() ? ' "' + el.textContent.trim().slice(0, 30) + '"' : '');
  // Visually hidden by the usual pattern (an absolute box clipped to nothing), whatever its class.
  const clipped = (el) => {
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).clip === 'rect(0px, 0px, 0px, 0px)') return true;
    }
    return false;
  };
  const hidden = (el) => el.closest('.idchat-visually-hidden, .visually-hidden, .skip-link, [hidden]')
      || el.getClientRects().length === 0 || clipped(el);
  if (document.documentElement.scrollWidth > vw + 1) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px in a ${vw} px window`);
  }
  const roots = [...document.querySelectorAll(scope)];
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (hidden(el)) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      if (r.left < -1 || r.right > vw + 1) {
        problems.push(`${name(el)} sticks out of the window (${Math.round(r.left)}–${Math.round(r.right)} of ${vw} px)`);
        continue;
      }
      const cs = getComputedStyle(el);
      const clips = ['hidden', 'clip'].includes(cs.overflowX) || ['hidden', 'clip'].includes(cs.overflow);
      if (clips && el.scrollWidth > el.clientWidth + 1 && el.textContent.trim()) {
        problems.push(`${name(el)} cuts off its content (${el.scrollWidth} px in ${el.clientWidth} px)`);
      }
      // Cut off by an ancestor that hides what does not fit (sideways only: vertical
      // scrolling areas hide what is scrolled away, which is not a loss).
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const acs = getComputedStyle(a);
        if (acs.display === 'contents' || !['hidden', 'clip'].includes(acs.overflowX)) continue;
        const ar = a.getBoundingClientRect();
        if (r.left < ar.left - 1 || r.right > ar.right + 1) {
          problems.push(`${name(el)} is cut off by ${name(a).slice(0, 40)}`);
        }
        break;
      }
    }
    // Words broken across lines: allowed only for long unbroken strings (addresses, links)
    // and at a soft hyphen or a hyphen.
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || hidden(parent) || parent.closest('script, style, textarea, select, option')) continue;
      for (const m of node.data.matchAll(/\S+/g)) {
        const word = m[0];
        if (/[@\/\u00ad-]/.test(word) || word.length >= 25) continue;
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + word.length);
        const tops = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top / 4)));
        if (tops.size > 1) problems.push(`the word "${word}" breaks across lines`);
      }
    }
  }
  return problems;
}"""

_SHOWN = r"""(everything) => {
  const out = [];
  const shown = (el) => everything || (el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.nodeType === Node.TEXT_NODE) {
      const p = n.parentElement;
      if (!p || p.closest('script, style, noscript, template, .chat-msg__text, .idchat-transcript__text, textarea')) continue;
      if (!shown(p) && !p.closest('.idchat-visually-hidden')) continue;
      if (n.data.trim()) out.push(n.data.trim());
    } else {
      if (n.closest('.chat-msg__text, .idchat-transcript__text')) continue;
      for (const attr of ['title', 'aria-label', 'placeholder', 'alt', 'aria-description']) {
        const v = n.getAttribute(attr);
        if (v && v.trim()) out.push(v.trim());
      }
    }
  }
  return out;
}"""

_FOCUS = r"""() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  let ring = 0, drawn = false;
  if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) {
    drawn = true;  // how far the ring reaches outside the box (an inset ring: not at all)
    ring = Math.max(0, parseFloat(cs.outlineWidth) + (parseFloat(cs.outlineOffset) || 0));
  }
  let shadow = cs.boxShadow !== 'none';
  // A switch draws its ring on the track next to the (transparent) input.
  const track = el.matches('input[role=switch]') ? el.nextElementSibling : null;
  if (track) {
    const ts = getComputedStyle(track);
    if (ts.outlineStyle !== 'none' && parseFloat(ts.outlineWidth) >= 2) { drawn = true; ring = Math.max(ring, 2); }
  }
  const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  const box = { left: r.left - ring, right: r.right + ring, top: r.top - ring, bottom: r.bottom + ring };
  const problems = [];
  if (!drawn && !shadow) problems.push('no visible focus indicator');
  if (box.left < -1 || box.right > vw + 1 || box.top < -1 || box.bottom > vh + 1) {
    problems.push('focus ring not fully inside the window');
  }
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const acs = getComputedStyle(a);
    if (acs.display === 'contents' || (acs.overflowX === 'visible' && acs.overflowY === 'visible')) continue;
    const ar = a.getBoundingClientRect();
    const inside = box.left >= ar.left - 1 && box.right <= ar.right + 1 && box.top >= ar.top - 1 && box.bottom <= ar.bottom + 1;
    if (!inside && !(a.scrollHeight > a.clientHeight && box.top >= ar.top - 1 && box.bottom <= ar.bottom + 1)) {
      problems.push('focus ring cut off by ' + a.tagName.toLowerCase() + '.' + [...a.classList].slice(0, 2).join('.'));
      break;
    }
  }
  const label = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || el.name || '').trim();
  return { tag: el.tagName.toLowerCase(), id: el.id, cls: [...el.classList].join(' '),
           action: el.dataset.action || '', label: label.slice(0, 60), problems };
}"""


_SESSIONS: dict[Page, Any] = {}


async def set_text_size(page: Page, percent: int) -> None:
    """The browser's own text size setting (Chromium's font size preference, through the
    DevTools protocol): rem, em and em-based media queries follow it, px does not."""
    cdp = _SESSIONS.get(page) or await page.context.new_cdp_session(page)
    _SESSIONS[page] = cdp  # the setting lasts as long as the session: keep it open
    await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 16 * percent // 100,
                                                       "fixed": 13 * percent // 100}})
    await page.wait_for_timeout(150)
    size = await page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size == 16 * percent // 100, f"the text size setting did not take: {size} px"


_BREAKS = r"""(selector) => {
  const el = document.querySelector(selector);
  const text = el.textContent;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const tops = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (let i = 0; i < n.data.length; i++) {
      const range = document.createRange();
      range.setStart(n, i); range.setEnd(n, i + 1);
      const r = range.getClientRects()[0];
      if (r) tops.push([n.data[i], Math.round(r.top)]);
    }
  }
  const breaks = [];
  for (let i = 1; i < tops.length; i++) {
    if (tops[i][1] > tops[i - 1][1] + 2) breaks.push(tops[i - 1][0] + tops[i][0]);
  }
  return breaks;
}"""


async def line_breaks(page: Page, selector: str) -> list[str]:
    """Where the text of the first element matching `selector` wraps: the two characters
    on either side of each line break."""
    return list(await page.evaluate(_BREAKS, selector))


async def layout_problems(page: Page, scope: str = "body") -> list[str]:
    """Sideways scrolling, things outside the window or cut off, words broken mid-way."""
    problems: list[str] = await page.evaluate(_LAYOUT, scope)
    return sorted(set(problems))


async def shown_strings(page: Page, *, everything: bool = False) -> list[str]:
    """Every string the page shows or gives assistive technology (text, title, aria-label,
    placeholder, alt), except what people wrote in messages; with `everything`, also what
    the page holds hidden (a feature that is off must not be in the page at all)."""
    return list(await page.evaluate(_SHOWN, everything))


def leftovers(strings: list[str], patterns: list[str]) -> list[str]:
    """The strings that match one of the (regular expression) patterns."""
    found = []
    for text in strings:
        for pattern in patterns:
            if re.search(pattern, text):
                found.append(f"{pattern!r} in {text[:80]!r}")
    return found


async def tab_walk(page: Page, stops: int) -> list[dict[str, Any]]:
    """Press Tab `stops` times; where the focus went each time, and what is wrong with its ring."""
    walk = []
    for _ in range(stops):
        await page.keyboard.press("Tab")
        await page.wait_for_timeout(30)
        walk.append(await page.evaluate(_FOCUS) or {"tag": "body", "id": "", "cls": "", "action": "",
                                                     "label": "", "problems": []})
    return walk
