"""Positive controls for the browser tier's absence checks: the Watch that every test asks
"did anything leave our origin, did a script fail, did a dialog open?" does catch each of
these when they happen. Server-independent, so on one server."""

from __future__ import annotations

import pytest

from webstack import new_page

pytestmark = [pytest.mark.e2e, pytest.mark.server("prosody")]

PLANT = """(foreign) => {
    new Image().src = foreign;                                  // a request off our origin
    setTimeout(() => { throw new Error('planted error'); });   // an uncaught script error
    alert('planted dialog');
}"""


@pytest.mark.timeout(30)
async def test_the_watch_catches_what_the_browser_tests_look_for(stack, browser) -> None:
    # bypass_csp: our pages' CSP would stop the planted request before it is made.
    context, page, watch = await new_page(browser, stack, bypass_csp=True)
    await page.goto(stack.base_url + "/agent")
    watch.assert_stayed_home()
    assert watch.requests[0].startswith(stack.base_url)
    assert not watch.errors and not watch.dialogs

    # Another origin on this machine's loopback (nothing leaves the machine).
    foreign = stack.base_url.replace("127.0.0.1", "localhost") + "/planted.png"
    await page.evaluate(PLANT, foreign)
    for _ in range(50):
        if watch.foreign and watch.errors:
            break
        await page.wait_for_timeout(100)
    assert watch.foreign == [foreign]
    assert any("planted error" in error for error in watch.errors)
    assert watch.dialogs == ["planted dialog"]
    with pytest.raises(AssertionError, match="left the origin"):
        watch.assert_stayed_home()
    await context.close()
