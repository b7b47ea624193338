"""The console in Debian's Chromium against the service as a real process: two officers of two
parties in two browser contexts; one draws a notice over the other's, the other sees the conflict
arrive live; the record verifies in the browser and exports what the Python ledger reads back;
a cut connection is shown and resumed without losing an entry. No console errors anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deconfliction.ledger import loads_lines, verify

from .browser_support import ARTIFACTS, START, Server, notice

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import ConsoleMessage, Page, expect

DOCS_SCREENSHOT = Path(__file__).parents[2] / "docs" / "console.png"
VIEWPORT = {"width": 1366, "height": 768}
EXTRA_NOTICES = (  # clear of R-77 and of each other's party
    ("russia", "R-78", 37.4, 35.6),
    ("russia", "R-79", 37.6, 34.6),
    ("coalition", "C-0143", 38.7, 35.7),
    ("coalition", "C-0144", 38.8, 34.7),
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def minute(at: Any) -> str:
    """The value of a datetime-local input holding UTC."""
    return str(at.strftime("%Y-%m-%dT%H:%M"))


@contextmanager
def officer_page(browser: Any, server: Server, token: str) -> Iterator[tuple[Page, list[str]]]:
    """A logged-in console in its own browser context, and the errors its console reports."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.goto(server.url)
    page.get_by_label("Officer token").fill(token)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    try:
        yield page, errors
    finally:
        context.close()


def draw_square(page: Page, half_px: int = 60) -> None:
    """Draw a polygon round the middle of the map (where the other party's notice is)."""
    page.get_by_role("tab", name="File").click()
    page.get_by_role("button", name="Draw polygon").click()
    box = page.locator("#map").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        page.mouse.click(x + dx * half_px, y + dy * half_px)
    page.get_by_role("button", name="Finish polygon").click()


def test_a_notice_drawn_by_one_party_shows_its_conflict_live_to_the_other(
    tokens_and_server: tuple[dict[str, str], Server], browser: Any
) -> None:
    tokens, server = tokens_and_server
    filed = httpx.post(
        f"{server.url}/v1/notices",
        json=notice("R-77", lon=38.0, lat=35.2),
        headers=bearer(tokens["russia"]),
    )
    assert filed.status_code == 201, filed.text
    with (
        officer_page(browser, server, tokens["coalition"]) as (coalition, coalition_errors),
        officer_page(browser, server, tokens["russia"]) as (russia, russia_errors),
    ):
        expect(coalition.locator("#who")).to_have_text("officer of coalition")
        expect(coalition.locator(".notice[data-ref='R-77']")).to_be_visible()
        expect(russia.locator("#conflict-count")).to_have_text("")

        draw_square(coalition)
        form = coalition.locator(".file-form")
        form.get_by_label("Reference").fill("C-0142")
        form.get_by_label("Altitude unit").select_option("m")
        form.get_by_label("Lower").fill("3000")
        form.get_by_label("Upper").fill("6000")
        form.get_by_label("Start (UTC)").fill(minute(START + timedelta(minutes=30)))
        form.get_by_label("End (UTC)").fill(minute(START + timedelta(hours=3)))
        expect(coalition.locator(".readback")).to_contain_text("Polygon of 4 vertices")
        expect(coalition.locator(".readback")).to_contain_text("3,000–6,000 m")
        coalition.get_by_role("button", name="File notice").click()
        expect(coalition.locator(".result .filed")).to_contain_text("Filed C-0142 v1: 1 conflict")
        expect(coalition.locator(".result-conflicts")).to_contain_text("R-77")

        # the other party's page: the conflict arrives over the feed, without a reload
        expect(russia.locator("#conflict-count")).to_have_text("1")
        russia.get_by_role("tab", name="Conflicts").click()
        conflict = russia.locator(".conflict", has_text="C-0142")
        expect(conflict).to_contain_text("R-77")
        expect(russia.locator(".notice[data-ref='C-0142']")).to_have_count(1)
        russia.screenshot(path=ARTIFACTS / "russia-sees-the-conflict.png")

        # acknowledging shows on the first page live too
        conflict.get_by_role("button", name="Acknowledge").click()
        coalition.get_by_role("tab", name="Conflicts").click()
        expect(coalition.locator(".conflict", has_text="R-77")).to_contain_text("russia ✓")
        coalition.get_by_role("tab", name="Notices").click()
        coalition.locator(".notice[data-ref='C-0142']").click()
        expect(coalition.locator(".notice-detail")).to_contain_text("3,000–6,000 m")
        coalition.screenshot(path=ARTIFACTS / "coalition-after-filing.png")

        # keyboard: arrows move between the panes' tabs; the time bar has a "now" mode
        coalition.get_by_role("tab", name="Notices").focus()
        coalition.keyboard.press("ArrowRight")
        expect(coalition.get_by_role("tab", name="File")).to_have_attribute("aria-selected", "true")
        coalition.get_by_role("tab", name="Conflicts").click()
        coalition.get_by_role("button", name="Now", exact=True).click()
        expect(coalition.locator("#time-label")).to_contain_text("(now)")
        coalition.get_by_role("button", name="All times").click()

        # for the README: a few more notices nearby, zoomed out, the band shown on hover
        for party, ref, lon, lat in EXTRA_NOTICES:
            more = notice(ref, lon=lon, lat=lat, radius_m=15_000)
            answer = httpx.post(
                f"{server.url}/v1/notices", json=more, headers=bearer(tokens[party])
            )
            assert answer.status_code == 201, answer.text
        expect(coalition.locator(".notice-list .notice")).to_have_count(2 + len(EXTRA_NOTICES))
        for _ in range(2):
            coalition.get_by_role("button", name="Zoom out").click()
            expect(coalition.locator("#map")).not_to_have_class(re.compile("leaflet-zoom-anim"))
        box = coalition.locator("#map").bounding_box()
        assert box is not None
        coalition.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(coalition.locator(".volume-tip")).to_contain_text("3,000–6,000 m")
        coalition.screenshot(path=DOCS_SCREENSHOT)

        # the record verifies in the browser, and its export is what the Python ledger reads
        russia.get_by_role("tab", name="Record").click()
        expect(russia.locator(".verdict")).to_have_attribute("data-state", "ok")
        expect(russia.locator(".verdict")).to_contain_text("chain verifies")
        russia.screenshot(path=ARTIFACTS / "russia-record.png")
        with russia.expect_download() as download:
            russia.get_by_role("button", name="Export ledger (JSON lines)").click()
        items = loads_lines(Path(download.value.path()).read_bytes())
        assert verify(items).ok
        assert any(getattr(i, "kind", "") == "conflict.acknowledged" for i in items)

        assert coalition_errors == []
        assert russia_errors == []


def test_a_lost_connection_is_shown_and_resumes_without_losing_an_entry(
    tokens_and_server: tuple[dict[str, str], Server], browser: Any
) -> None:
    tokens, server = tokens_and_server
    with officer_page(browser, server, tokens["coalition"]) as (page, errors):
        server.stop()
        expect(page.locator("#connection")).to_have_attribute("data-state", "lost")
        expect(page.locator("#connection")).to_contain_text("connection lost")
        page.screenshot(path=ARTIFACTS / "connection-lost.png")
        server.start()
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        filed = httpx.post(
            f"{server.url}/v1/notices",
            json=notice("R-1", lon=38.0, lat=35.2),
            headers=bearer(tokens["russia"]),
        )
        assert filed.status_code == 201, filed.text
        expect(page.locator(".notice[data-ref='R-1']")).to_be_visible()
        events = httpx.get(f"{server.url}/v1/events", headers=bearer(tokens["coalition"])).json()
        verdict = page.locator(".verdict")
        expect(verdict).to_have_attribute("data-state", "ok")
        expect(verdict).to_contain_text(f"{len(events)} entries")
        expect(verdict).to_contain_text(f"up to #{events[-1]['seq']}")
        # the only errors are the browser's own reports of the cut and refused connections
        assert [e for e in errors if "net::ERR_" not in e] == []


def test_an_own_notice_is_amended_and_cancelled_from_the_page(
    tokens_and_server: tuple[dict[str, str], Server], browser: Any
) -> None:
    tokens, server = tokens_and_server
    filed = httpx.post(
        f"{server.url}/v1/notices",
        json=notice("C-9", lon=38.0, lat=35.2),
        headers=bearer(tokens["coalition"]),
    )
    assert filed.status_code == 201, filed.text
    with officer_page(browser, server, tokens["coalition"]) as (page, errors):
        page.locator(".notice[data-ref='C-9']").click()
        page.get_by_role("button", name="Amend").click()
        form = page.locator(".file-form")
        expect(form.get_by_label("Reference")).to_have_value("C-9")
        expect(page.locator(".readback")).to_contain_text("Circle of radius 20.0 km")
        form.get_by_label("Upper").fill("7000")
        page.get_by_role("button", name="File amendment").click()
        expect(page.locator(".result .filed")).to_contain_text("Filed C-9 v2: no conflict")
        page.get_by_role("tab", name="Notices").click()
        expect(page.locator(".notice-detail")).to_contain_text("3,000–7,000 m")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Cancel notice").click()
        expect(page.locator(".notice-list .notice[data-ref='C-9']")).to_have_count(0)
        expect(page.locator(".inactive-list .notice[data-ref='C-9']")).to_have_count(2)
        page.get_by_role("tab", name="Record").click()
        expect(page.locator(".timeline li").first).to_contain_text("notice.cancelled")
        expect(page.locator(".verdict")).to_have_attribute("data-state", "ok")
        assert errors == []
