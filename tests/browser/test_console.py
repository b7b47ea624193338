"""The console in Debian's Chromium against the service as a real process: two officers of two
parties in two browser contexts; one draws a notice over the other's, reads the service's
read-back and the conflict before confirming, and the other sees the conflict and the service's
hotline message arrive live; a FLASH is shown with a running countdown, answered WILCO, and the
sender sees it acknowledged; objections, UNABLE, distress, channels and encounters work from the
page; the record verifies in the browser and exports what the Python ledger reads back; a cut
connection is shown and resumed without losing an entry. No console errors anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deconfliction.ledger import loads_lines, verify
from service_process import Server

from .browser_support import AGREEMENT, ARTIFACTS, START, notice

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import ConsoleMessage, Page, expect

DOCS_SCREENSHOT = Path(__file__).parents[2] / "docs" / "console.png"
VIEWPORT = {"width": 1366, "height": 768}
FLASH_TEXT = "Two aircraft crossing the line at FL200 in ten minutes, heading east"
FAST_AGREEMENT = f'{AGREEMENT}[precedence]\nPRIORITY = "PT4S"\n'
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


def report(track: str, *, lat: float, lon: float) -> dict[str, Any]:
    """A track report of now: still, at 5,000 m."""
    return {
        "track": track,
        "time": datetime.now(UTC).isoformat(),
        "lat": lat,
        "lon": lon,
        "altitude_m": 5000,
        "speed_mps": 0,
        "track_deg": 90,
        "vertical_rate_mps": 0,
    }


def post_tracks(server: Server, token: str, *reports: dict[str, Any]) -> None:
    answer = httpx.post(
        f"{server.url}/v1/tracks", json={"reports": list(reports)}, headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == len(reports), answer.text


def seconds_left(countdown: str) -> int:
    """The seconds a countdown such as "9:58 to answer" says."""
    minutes, seconds = countdown.split()[0].split(":")
    return int(minutes) * 60 + int(seconds)


def assert_nothing_filed(server: Server, token: str, ref: str) -> None:
    notices = httpx.get(f"{server.url}/v1/notices", headers=bearer(token)).json()
    assert [n for n in notices if n["ref"] == ref] == []


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
        expect(coalition.locator(".drawn")).to_contain_text("Polygon of 4 vertices")
        expect(coalition.locator(".drawn")).to_contain_text("3,000–6,000 m")

        # the service reads it back, with the conflict, before anything is filed
        coalition.get_by_role("button", name="Read back").click()
        readback = coalition.locator(".readback")
        expect(readback).to_contain_text("Read-back by the service")
        expect(readback.locator(".mgrs")).to_have_text(re.compile(r"^MGRS 37S [A-Z]{2} \d+ \d+$"))
        degrees_minutes = re.compile(r"^35°\d\d\.\d'N 03[78]°\d\d\.\d'E$")
        expect(readback.locator(".dm")).to_have_text(degrees_minutes)
        expect(readback.locator(".place")).to_have_text(re.compile(r"^\d+ km [NESW]{1,3} of \S"))
        expect(readback).to_contain_text("3,000–6,000 m")
        expect(readback).to_contain_text("GeoNames")
        expect(readback).to_contain_text("CC BY 4.0")
        expect(readback.locator(".rb-conflict-list")).to_contain_text("R-77")
        coalition.screenshot(path=ARTIFACTS / "coalition-read-back.png")
        assert_nothing_filed(server, tokens["coalition"], "C-0142")
        coalition.get_by_role("button", name="Confirm filing").click()
        expect(coalition.locator(".result .filed")).to_contain_text("Filed C-0142 v1: 1 conflict")
        expect(coalition.locator(".result-conflicts")).to_contain_text("R-77")

        # the other party's page: the conflict arrives over the feed, without a reload
        expect(russia.locator("#conflict-count")).to_have_text("1")
        russia.get_by_role("tab", name="Conflicts").click()
        conflict = russia.locator(".conflict", has_text="C-0142")
        expect(conflict).to_contain_text("R-77")
        expect(russia.locator(".notice[data-ref='C-0142']")).to_have_count(1)
        russia.screenshot(path=ARTIFACTS / "russia-sees-the-conflict.png")

        # and the service's hotline message about it, received and answered from the page
        expect(russia.locator("#hotline-count")).to_have_text("1")
        russia.get_by_role("tab", name="Hotline").click()
        told = russia.locator(".message[data-kind='conflict']")
        expect(told).to_contain_text("from the service to you")
        expect(told).to_contain_text("C-0142")
        expect(told).to_have_attribute("data-status", "received")  # the page posted the receipt
        told.get_by_role("button", name="ROGER").click()
        expect(told).to_have_attribute("data-status", "acknowledged")
        expect(russia.locator("#hotline-count")).to_have_text("")
        russia.get_by_role("tab", name="Conflicts").click()

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
        # ... and live traffic: a FLASH from the other party, two tracks in an encounter
        flash = {"to": "coalition", "precedence": "FLASH", "text": FLASH_TEXT}
        sent = httpx.post(f"{server.url}/v1/messages", json=flash, headers=bearer(tokens["russia"]))
        assert sent.status_code == 201, sent.text
        east, west = report("C-AIR-7", lat=34.95, lon=38.2), report("R-AIR-3", lat=34.95, lon=38.45)
        east.update(speed_mps=150, track_deg=90)  # 23 km apart, closing at 300 m/s: red
        west.update(speed_mps=150, track_deg=270)
        post_tracks(server, tokens["coalition"], east)
        post_tracks(server, tokens["russia"], west)
        coalition.get_by_role("tab", name="Hotline").click()
        expect(coalition.locator("#alarm")).to_contain_text("FLASH from russia")
        expect(coalition.locator("path.encounter-line.urgent")).to_have_count(1)
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
        server.kill()
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
        expect(page.locator(".drawn")).to_contain_text("Circle of radius 20.0 km")
        form.get_by_label("Upper").fill("7000")
        page.get_by_role("button", name="Read back amendment").click()
        expect(page.locator(".readback")).to_contain_text("3,000–7,000 m")
        expect(page.locator(".readback")).to_contain_text("circle of radius 20.0 km")
        form.get_by_label("Upper").fill("7500")  # a change after the read-back needs another
        expect(page.locator(".readback")).to_be_hidden()
        page.get_by_role("button", name="Read back amendment").click()
        expect(page.locator(".readback")).to_contain_text("3,000–7,500 m")
        page.get_by_role("button", name="Confirm filing").click()
        expect(page.locator(".result .filed")).to_contain_text("Filed C-9 v2: no conflict")
        page.get_by_role("tab", name="Notices").click()
        expect(page.locator(".notice-detail")).to_contain_text("3,000–7,500 m")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Cancel notice").click()
        expect(page.locator(".notice-list .notice[data-ref='C-9']")).to_have_count(0)
        expect(page.locator(".inactive-list .notice[data-ref='C-9']")).to_have_count(2)
        page.get_by_role("tab", name="Record").click()
        expect(page.locator(".timeline li").first).to_contain_text("notice.cancelled")
        expect(page.locator(".verdict")).to_have_attribute("data-state", "ok")
        assert errors == []


def compose(page: Page) -> Any:
    """The hotline's form to write a message, opened."""
    page.get_by_role("tab", name="Hotline").click()
    box = page.locator(".compose-box")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    return page.locator(".compose")


def test_a_flash_runs_its_countdown_on_the_other_page_and_is_seen_acknowledged(
    tokens_and_server: tuple[dict[str, str], Server], browser: Any
) -> None:
    tokens, server = tokens_and_server
    with (
        officer_page(browser, server, tokens["coalition"]) as (coalition, coalition_errors),
        officer_page(browser, server, tokens["russia"]) as (russia, russia_errors),
    ):
        expect(russia.locator("#alarm")).to_be_hidden()
        form = compose(coalition)
        expect(coalition.locator(".channel[data-with='russia']")).to_contain_text("open")
        form.get_by_label("To").select_option("russia")
        form.get_by_label("Precedence").select_option("FLASH")
        form.get_by_label("Text", exact=True).fill("Two aircraft entering the area at FL250")
        form.get_by_label("Translation (optional)").fill("Два самолёта входят в район на FL250")
        form.get_by_role("button", name="Send").click()
        sent = coalition.locator(".message", has_text="FL250")
        expect(sent).to_contain_text("from coalition to russia")
        expect(sent.locator(".countdown")).to_have_text(re.compile(r"^\d+:\d\d to answer$"))

        # the other page: the alarm, the message with its clock running, the receipt
        alarm = russia.locator("#alarm")
        expect(alarm).to_be_visible()
        expect(alarm).to_contain_text("FLASH from coalition: Two aircraft")
        # and it sounded: WebAudio was allowed by the click that logged in
        expect(alarm).to_have_attribute("data-sounded", "true")
        russia.screenshot(path=ARTIFACTS / "russia-flash-alarm.png")
        alarm.get_by_role("button", name="Answer").click()
        flash = russia.locator(".message[data-precedence='FLASH']", has_text="FL250")
        expect(flash).to_contain_text("from coalition to you")
        expect(flash.locator(".translation")).to_contain_text("Два самолёта")
        countdown = flash.locator(".countdown")
        expect(countdown).to_have_text(re.compile(r"^\d+:\d\d to answer$"))
        before = countdown.inner_text()
        expect(countdown).not_to_have_text(before)  # it runs: a second later it says less
        assert seconds_left(countdown.inner_text()) < seconds_left(before)
        expect(sent).to_have_attribute("data-status", "received")
        expect(sent.locator(".trail")).to_contain_text("received")

        # WILCO on the receiving page; the sender's page shows it acknowledged, the alarm ends
        flash.get_by_role("button", name="WILCO").click()
        expect(flash).to_have_attribute("data-status", "acknowledged")
        expect(alarm).to_be_hidden()
        expect(sent).to_have_attribute("data-status", "acknowledged")
        expect(sent.locator(".trail")).to_contain_text("WILCO (will comply)")
        expect(sent.locator(".countdown")).to_have_count(0)
        coalition.screenshot(path=ARTIFACTS / "coalition-flash-acknowledged.png")
        russia.screenshot(path=ARTIFACTS / "russia-hotline.png")

        assert coalition_errors == []
        assert russia_errors == []


def test_objection_unable_distress_channels_and_encounters_from_the_page(
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
        # an objection to the other party's notice, always FLASH
        coalition.locator(".notice[data-ref='R-77']").click()
        coalition.get_by_role("button", name="Object…").click()
        form = coalition.locator(".compose")
        expect(form.get_by_label("Kind")).to_have_value("objection")
        expect(form.get_by_label("Precedence")).to_be_disabled()
        expect(form.get_by_label("Precedence")).to_have_value("FLASH")
        expect(form.locator(".objection-about")).to_contain_text("Objection to R-77 (russia)")
        form.get_by_role("button", name="Send").click()
        objection = russia.locator(".message[data-kind='objection']")
        russia.get_by_role("tab", name="Hotline").click()
        expect(objection).to_contain_text("about notice R-77")

        # UNABLE asks for the reason
        objection.get_by_role("button", name="UNABLE…").click()
        objection.get_by_role("button", name="Send UNABLE").click()
        expect(objection.locator(".error")).to_have_text("UNABLE needs a reason.")
        objection.get_by_label("Reason for UNABLE").fill("Rescue flight airborne, cannot halt")
        objection.get_by_role("button", name="Send UNABLE").click()
        answered = coalition.locator(".message[data-kind='objection']")
        expect(answered).to_have_attribute("data-status", "acknowledged")
        expect(answered.locator(".trail")).to_contain_text("UNABLE (halt refused)")
        expect(answered.locator(".trail")).to_contain_text("Rescue flight airborne")

        # a distress call with a position picked on the map
        form = compose(russia)
        form.get_by_label("Kind").select_option("distress")
        expect(form.get_by_label("Precedence")).to_have_value("FLASH")
        form.get_by_role("button", name="Pick on map").click()
        box = russia.locator("#map").bounding_box()
        assert box is not None
        russia.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(form.get_by_label("Latitude")).not_to_have_value("")
        form.get_by_label("Text", exact=True).fill("Crew ejected, two parachutes")
        form.get_by_role("button", name="Send").click()
        distress = coalition.locator(".message[data-kind='distress']")
        coalition.get_by_role("tab", name="Hotline").click()
        expect(distress).to_contain_text("position 35.")
        expect(coalition.locator("#alarm")).to_contain_text("FLASH from russia: Crew ejected")
        distress.get_by_role("button", name="Show on map").click()

        # a channel suspended on one page shows suspended on the other, and resumes
        coalition.get_by_role("button", name="Suspend command with russia").click()
        channel = russia.locator(".channel[data-with='coalition']")
        expect(channel).to_have_attribute("data-state", "suspended")
        expect(channel).to_contain_text("suspended by coalition: FLASH and distress only")
        channel.get_by_role("button", name="Resume command with coalition").click()
        expect(coalition.locator(".channel[data-with='russia']")).to_have_attribute(
            "data-state", "open"
        )

        # live tracks of the two parties 5 km apart at one altitude: an encounter, red
        post_tracks(server, tokens["coalition"], report("C-AIR-1", lat=35.2, lon=38.0))
        post_tracks(server, tokens["russia"], report("R-AIR-1", lat=35.2, lon=38.055))
        for page in (coalition, russia):
            expect(page.locator("path.encounter-line.urgent")).to_have_count(1)
        expect(coalition.locator(".legend")).to_contain_text("encounter of live tracks")
        coalition.screenshot(path=ARTIFACTS / "coalition-encounter.png")

        assert coalition_errors == []
        assert russia_errors == []


@pytest.mark.parametrize("tokens_and_server", [FAST_AGREEMENT], indirect=True)
def test_an_unanswered_message_escalates_then_expires_live_on_both_pages(
    tokens_and_server: tuple[dict[str, str], Server], browser: Any
) -> None:
    tokens, server = tokens_and_server  # PRIORITY: 4 s to answer; russia has levels 1 and 2
    with (
        officer_page(browser, server, tokens["coalition"]) as (coalition, coalition_errors),
        officer_page(browser, server, tokens["russia"]) as (russia, russia_errors),
    ):
        form = compose(coalition)
        form.get_by_label("Kind").select_option("line_check")
        form.get_by_label("Precedence").select_option("PRIORITY")
        form.get_by_label("Text", exact=True).fill("Line check: answer if you hear this")
        form.get_by_role("button", name="Send").click()
        sent = coalition.locator(".message", has_text="Line check")
        russia.get_by_role("tab", name="Hotline").click()
        received = russia.locator(".message", has_text="Line check")
        expect(received).to_have_attribute("data-status", "received")

        # nobody answers: at its deadline it goes to the deputy, and both pages show it at once
        for card in (sent, received):
            expect(card).to_have_attribute("data-status", "escalated", timeout=15_000)
            expect(card.locator(".status")).to_have_text("escalated to level 2")
            expect(card.locator(".trail .escalation")).to_contain_text("escalated to level 2 at")
        expect(received).to_have_class(re.compile("escalated-now"))
        russia.screenshot(path=ARTIFACTS / "russia-escalated.png")

        # no level 3: it expires; an answer still closes it
        expect(sent).to_have_attribute("data-status", "expired", timeout=15_000)
        expect(received.locator(".trail")).to_contain_text("expired")
        received.get_by_role("button", name="ROGER").click()
        expect(sent).to_have_attribute("data-status", "acknowledged")
        expect(sent.locator(".trail")).to_contain_text("ROGER (understood)")

        assert coalition_errors == []
        assert russia_errors == []
