"""Headless Chromium from Debian's packages (`apt-get install chromium chromium-driver`), driven by Selenium
through /usr/bin/chromedriver: never Selenium Manager, never a downloaded browser. Used by the browser tests
and by bench/dashboard_page.py (page weight, load time, screenshot)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def find_chromium() -> tuple[Path, Path] | None:
    """(chromium, chromedriver) when both are installed, else None."""
    browser = next((Path(p) for p in CHROMIUM_CANDIDATES if Path(p).is_file()), None)
    driver = next((Path(p) for p in CHROMEDRIVER_CANDIDATES if Path(p).is_file()), None)
    return (browser, driver) if browser and driver else None


MISSING = ("headless Chromium not installed (need /usr/bin/chromium and /usr/bin/chromedriver: "
           "apt-get install -y chromium chromium-driver)")


@contextmanager
def headless_chromium(user_data_dir: Path | None = None) -> Iterator:
    """A Selenium Chrome WebDriver on Debian's chromium with a fresh profile directory."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise RuntimeError(MISSING)
    browser, driver_path = found
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch anything
    own_profile = user_data_dir is None
    profile = Path(tempfile.mkdtemp(prefix="ml-chromium-")) if own_profile else Path(user_data_dir)
    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=str(driver_path)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        if own_profile:
            shutil.rmtree(profile, ignore_errors=True)


def load_time_ms(driver) -> float:
    """Navigation start to the load event of the current page (Navigation Timing Level 2)."""
    return float(driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;"))
