"""The public page in a real browser: Debian's chromium, driven through chromedriver by
selenium, reading the site `mailflow publish` wrote, served by http.server on 127.0.0.1.

It renders (title, headings), the chart is an SVG with a size and bars, the lookup finds a
ticket by its number (typed as a resident might: lower case, without the zeros), a ticket's
own page works without the lookup, nothing overflows sideways on a 375x667 phone screen,
and no identity string of the 108 fixture complaints is in any text the browser shows.

Chromium comes from scripts/install-test-deps.sh (apt, as root). Without it the test is
skipped with the reason, except when MAILFLOW_TEST_IMAP=dovecot (how CI marks itself):
there a missing browser fails the test, so a broken install cannot hide it.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mailflow.runners.publish import publish
from tests.e2e.leaks import Secrets
from tests.fixtures.identity_complaints import complaints
from tests.harness.publish_db import NOW, PUBLIC_NOTE, publish_db
from tests.unit.plan_support import config

pytestmark = [pytest.mark.e2e, pytest.mark.no_test_database]  # publish_db is a SQLite file

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")
PHONE = {"width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": True}


def _browser_paths() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if os.access("/usr/bin/chromedriver", os.X_OK) else None)
    return (chromium, driver) if chromium and driver else None


def _require_browser() -> tuple[str, str]:
    found = _browser_paths()
    if found is not None:
        return found
    why = ("chromium and chromedriver are not installed (Debian packages chromium and "
           "chromium-driver; scripts/install-test-deps.sh installs them as root)")
    if os.environ.get("MAILFLOW_TEST_IMAP", "").strip().lower() == "dovecot":
        pytest.fail(f"MAILFLOW_TEST_IMAP=dovecot (CI), but {why}", pytrace=False)
    pytest.skip(why)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    where = tmp_path_factory.mktemp("browser")
    engine = publish_db(where)
    publish(config(), engine, where / "site", NOW)
    engine.dispose()
    handler = functools.partial(_Quiet, directory=str(where / "site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, driver_path = _require_browser()
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium look for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1024,768")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _text(browser: Any) -> str:
    return str(browser.execute_script("return document.body.innerText"))


def test_the_page_renders_with_its_chart(browser: Any, served: str) -> None:
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.get(served)
    assert browser.title == "Layanan Pengaduan Masyarakat – Desa Klero"
    headings = browser.execute_script(
        "return Array.from(document.querySelectorAll('h1, h2')).map(h => h.innerText)")
    assert headings[0] == "Layanan Pengaduan Masyarakat Desa Klero"
    assert {"Janji layanan kami", "Cek status pengaduan", "Seberapa baik janji ditepati",
            "Jumlah pengaduan"} <= set(headings)
    assert "paling lambat 7 hari kerja sejak pengaduan diterima" in _text(browser)
    size = browser.execute_script(
        "const r = document.querySelector('svg#grafik').getBoundingClientRect();"
        "return [r.width, r.height]")
    assert size[0] > 100 and size[1] > 50
    bars = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg#grafik rect.batang'))"
        ".map(b => b.getBoundingClientRect().height)")
    assert len(bars) == 7 and all(h > 0 for h in bars)  # June to December


def test_the_lookup_finds_a_ticket_by_its_number(browser: Any, served: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served)
    field = browser.find_element(By.ID, "nomor")
    field.send_keys("adu-2026-1")
    browser.find_element(By.CSS_SELECTOR, "#cari button").click()
    found = WebDriverWait(browser, 5).until(
        lambda b: b.find_elements(By.ID, "hasil-tiket"))[0]
    assert "ADU-2026-00001" in found.text and "Selesai" in found.text
    assert PUBLIC_NOTE in found.text
    assert Secrets(complaints()).leaks("lookup", found.text) == []
    field.clear()
    field.send_keys("ADU-2026-99999")
    browser.find_element(By.CSS_SELECTOR, "#cari button").click()
    WebDriverWait(browser, 5).until(lambda b: "tidak ditemukan" in b.find_element(
        By.ID, "hasil").text)
    browser.get(served + "t/ADU-2026-00002.html")  # the page a resident may open directly
    assert "Tiket ADU-2026-00002" in _text(browser)


def test_nothing_overflows_on_a_phone_and_no_identity_is_shown(browser: Any, served: str) -> None:
    secrets = Secrets(complaints())
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        texts = []
        for page in ("", "daftar.html", "t/ADU-2026-00001.html", "t/ADU-2026-00108.html"):
            browser.get(served + page)
            widths = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]")
            # Wider content also widens a mobile layout viewport (innerWidth): check both.
            assert widths[0] <= widths[1] == PHONE["width"], (
                f"{page or 'index.html'} overflows: [scrollWidth, innerWidth] = {widths}")
            texts.append((page or "index.html", _text(browser)))
        assert [leak for where, text in texts for leak in secrets.leaks(where, text)] == []
        assert PUBLIC_NOTE in texts[1][1]  # the list shows the #publik notes, scrubbed
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
