"""A report as a reader sees it: rendered by headless Chromium, every figure loads, the
console stays clean, the tables are there; a screenshot is kept as a test artefact.

Needs Debian's ``chromium`` and ``chromium-driver`` packages (``.ci/run`` installs them) and
selenium (test extra). Without them the test is skipped, saying which one is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from kit import SCENARIOS

from sim.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra: "
                                "pip install -e '.[test]'")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("headless Chromium not found: apt-get install chromium chromium-driver "
                    "(.ci/run installs them)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $GOVSIM_TEST_ARTEFACTS (CI keeps it), else a pytest temp folder."""
    given = os.environ.get("GOVSIM_TEST_ARTEFACTS")
    folder = Path(given) if given else tmp_path_factory.mktemp("artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_compare_report_in_chromium(browser, tmp_path: Path,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path / "compare"
    assert main(["compare", str(SCENARIOS / "demo-legacy.yaml"), str(SCENARIOS / "demo.yaml"), "--out",
                 str(out), "--set", "horizon_days=80", "--set", "warmup_days=10", "--set", "cooldown_days=10",
                 "--replications", "3", "--jobs", "1", "--quiet"]) == 0
    assert main(["report", str(out)]) == 0
    browser.get((out / "report.html").resolve().as_uri())
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]);")
    assert len(images) == 3
    assert all(done and width > 300 and height > 200 for done, width, height in images), images
    tables = browser.execute_script("return document.querySelectorAll('table.data').length;")
    assert tables >= 5
    rows = browser.execute_script("return document.querySelector('table.data').rows.length;")
    assert rows > 5
    assert browser.execute_script("return document.scripts.length;") == 0
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    height = browser.execute_script("return document.documentElement.scrollHeight;")
    browser.set_window_size(1200, min(int(height), 12000))
    shot = artefacts(tmp_path_factory) / "report-compare-demo.png"
    assert browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 50_000
