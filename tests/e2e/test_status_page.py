"""The status page in a real browser: Debian's headless Chromium against the real server, signing in."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.commands import REQUEST, issue_comment, origin
from tests.e2e.harness import ServerProcess
from tests.fakegithub.server import FakeGitHub

pytestmark = pytest.mark.slow
TOKEN = "browser-status-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]
README_SCREENSHOT = ROOT / "docs" / "status-page.png"  # rewritten with UPGRADE_DEPS_UPDATE_GOLDEN=1


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Chromium as Debian ships it, with its own driver: nothing is downloaded, no profile is shared."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "scripts/services installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--window-size=1400,900")  # fmt: skip
    for flag in (*flags, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    service = Service(executable_path=driver, log_output=str(tmp_path / "chromedriver.log"))
    chrome = webdriver.Chrome(options=options, service=service)
    chrome.set_page_load_timeout(60)
    try:
        yield chrome
    finally:
        chrome.quit()


WAIT = 60  # seconds: a bound for a busy machine, never a pause (each wait ends when its page is there)


def sign_in(chrome: webdriver.Chrome, url: str, token: str) -> None:
    """Submit the form and wait for the page the POST answers with: a click returns before the
    browser has navigated, so reading the page at once may read the form again."""
    chrome.get(f"{url}/status")
    field = chrome.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    chrome.find_element(By.ID, "sign-in").click()
    WebDriverWait(chrome, WAIT).until(EC.staleness_of(field))
    WebDriverWait(chrome, WAIT).until(lambda c: c.execute_script("return document.readyState") == "complete")


async def test_the_status_page_in_chromium(
    fake: FakeGitHub, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    server = ServerProcess(api_url=fake.url, tmp=tmp_path)
    server.env["UPGRADE_DEPS_STATUS_TOKEN"] = TOKEN
    await server.start()
    try:
        repo = origin(fake, tmp_path)
        fake.roles["Codertocat"] = "write"
        await server.deliver("issue_comment", issue_comment(repo, f"/upgrade-deps {REQUEST}"))
        await server.deliver("issue_comment", issue_comment(repo, "/upgrade-deps help"))
        await server.idle()
        shot = await asyncio.to_thread(_browse, browser, server.url, tmp_path)
    finally:
        await server.stop()
    print(f"status page screenshot: {shot}")
    if os.environ.get("UPGRADE_DEPS_UPDATE_GOLDEN") == "1":
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, README_SCREENSHOT)


def _browse(chrome: webdriver.Chrome, url: str, tmp: Path) -> Path:
    # Without the token: the login form, and nothing about any repository.
    chrome.get(f"{url}/status")
    assert chrome.title == "upgrade-deps status: sign in"
    assert "Codertocat" not in chrome.page_source
    sign_in(chrome, url, "not-the-token-at-all")
    WebDriverWait(chrome, WAIT).until(EC.presence_of_element_located((By.ID, "wrong")))
    assert chrome.find_element(By.ID, "wrong").text == "That is not the status token."
    assert "Codertocat" not in chrome.page_source
    # With it: the page, kept signed in by its cookie.
    sign_in(chrome, url, TOKEN)
    assert chrome.title == "upgrade-deps status"
    chrome.get(f"{url}/status")
    rows = chrome.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")
    cells = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    assert [(c[0], c[1], c[2], c[3], c[4], c[5]) for c in cells] == [
        ("2", "Codertocat/Hello-World", "#1", "help", "done", "—"),
        ("1", "Codertocat/Hello-World", "#1", REQUEST, "done", "failure"),
    ]
    assert cells[1][7] == "check run" and cells[1][6].endswith(" s")
    link = rows[1].find_element(By.LINK_TEXT, "#1")
    assert link.get_attribute("href") == "https://127.0.0.1/Codertocat/Hello-World/issues/1"
    health = chrome.find_element(By.ID, "health").text
    assert "Workers\nrunning" in health and "upgrade-deps[bot]" in health
    queue = chrome.find_element(By.ID, "queue").text
    assert "Queued\n0" in queue and "Done\n2" in queue
    shot = tmp / "status-page.png"
    # The whole page, not only the first screen: the viewport is made as tall as the page.
    height = int(chrome.execute_script("return document.documentElement.scrollHeight"))
    metrics = {"width": 1400, "height": height, "deviceScaleFactor": 1, "mobile": False}
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    assert chrome.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    return shot
