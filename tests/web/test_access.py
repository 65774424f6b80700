"""Who may see what: pages need a session, a session needs a live dashboard token, a
partner sees its own record and not another's, forms without the CSRF token are refused,
and the bearer-token API is unchanged beside the pages."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE

import httpx

from tests.conftest import ROOT
from tests.web.a11y import check_page
from tests.web.conftest import Visit


async def test_pages_send_a_stranger_to_sign_in_and_the_api_still_wants_a_token(
    visit: Visit,
) -> None:
    for path in ("/", "/pledges", "/partners/nrc", "/log", "/audit"):
        await visit.open(path)
        assert visit.page.url == visit.site.url + "/sign-in"
    await check_page(visit.page, "fa")
    async with httpx.AsyncClient() as client:
        api = await client.get(visit.site.url + "/v1/reports/pledges")
    assert api.status_code == 401
    await visit.screenshot("fa-sign-in")


async def test_a_partner_sees_its_own_record_and_not_another_partners(visit: Visit) -> None:
    await visit.sign_in("demo-nrc")
    await visit.language("en")
    nav = await visit.page.locator("nav.sections a").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert "/partners/nrc" in nav and "/log" not in nav
    own = await visit.open("/partners/nrc")
    assert own.status == 200
    await visit.screenshot("en-partner-own-record")
    other = await visit.open("/partners/ayandeh")
    assert other.status == 403
    await check_page(visit.page, "en")
    assert "Your role may not see this page." in await visit.page.locator("main").inner_text()
    await visit.screenshot("en-partner-forbidden")
    assert (await visit.open("/log")).status == 403
    assert (await visit.open("/log/5")).status == 403
    await visit.open("/partners")
    assert visit.page.url == visit.site.url + "/partners/nrc"
    # reports everyone reads, as in the API
    for path in ("/", "/who-what-where", "/pledges", "/commitments", "/audit"):
        assert (await visit.open(path)).status == 200, path


async def test_a_form_without_the_csrf_token_is_refused(visit: Visit) -> None:
    await visit.sign_in("demo-coordinator")
    url = visit.site.url
    # the browser's own cookies (session and CSRF), a forged form body
    for body in ({}, {"_csrf_token": "forged"}):
        signed_out = await visit.context.request.post(url + "/sign-out", form=body, max_redirects=0)
        assert signed_out.status == 403
        switched = await visit.context.request.post(
            url + "/language", form={**body, "lang": "en", "next": "/"}, max_redirects=0
        )
        assert switched.status == 403
    # nothing happened: still signed in, still in Persian
    await visit.open("/pledges")
    assert visit.page.url == url + "/pledges"
    assert await visit.page.locator("html").get_attribute("lang") == "fa"
    # the real form, with its token, works
    await visit.page.locator("form.signout button").click()
    await visit.page.wait_for_url(url + "/sign-in")
    await visit.open("/")
    assert visit.page.url == url + "/sign-in"


async def test_sign_in_refuses_unknown_and_admin_tokens(visit: Visit) -> None:
    for token, message in (
        ("hmk_not-a-token", "Unknown or revoked token."),
        (visit.site.tokens["demo-admin"], "Admin tokens are for the API, not the dashboard."),
    ):
        await visit.open("/sign-in")
        await visit.language("en")
        await visit.page.get_by_label("Token").fill(token)
        async with visit.page.expect_response(lambda r: r.request.method == "POST") as answer:
            await visit.page.get_by_role("button", name="Sign in").click()
        assert (await answer.value).status == 401
        assert message in await visit.page.locator("[role=alert]").inner_text()
        await visit.open("/")
        assert visit.page.url == visit.site.url + "/sign-in"


async def test_the_session_cookie_is_httponly_samesite_and_holds_no_token(visit: Visit) -> None:
    await visit.sign_in("demo-auditor")
    cookies = {c["name"]: c for c in await visit.context.cookies()}
    session = cookies["hamkari_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Lax"
    csrf = cookies["hamkari_csrf"]
    assert csrf["httpOnly"] and csrf["sameSite"] == "Strict"
    assert visit.site.tokens["demo-auditor"] not in session["value"]
    # scripts on the page cannot read either
    assert "hamkari_" not in await visit.page.evaluate("document.cookie")


async def test_revoking_the_token_ends_its_sessions(visit: Visit) -> None:
    env = visit.site.server.env

    async def hamkari(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", *args, cwd=ROOT, env=env, stdout=PIPE
        )
        out, _ = await process.communicate()
        assert process.returncode == 0
        return out.decode().strip()

    token = await hamkari("token", "issue", "--role", "coordinator", "--name", "web-revoked")
    visit.site.tokens["web-revoked"] = token
    await visit.sign_in("web-revoked")
    assert (await visit.open("/pledges")).status == 200
    await hamkari("token", "revoke", "web-revoked")
    await visit.open("/pledges")
    assert visit.page.url == visit.site.url + "/sign-in"
