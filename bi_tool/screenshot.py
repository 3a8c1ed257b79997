"""A headless Chromium screenshot of the dashboard, logged in as a user; fails when any chart shows an error.

Runs inside .venv-superset (selenium) against a running Superset: `python bi_tool/screenshot.py DASHBOARD_URL
OUT.png`, logged in as admin with the password in SHAREWHY_SUPERSET_ADMIN_PASSWORD, or as another user with
SHAREWHY_SCREENSHOT_USER and SHAREWHY_SCREENSHOT_PASSWORD (the tests render the dashboard as the viewer too).
Uses Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`); selenium is given both
paths, so it never downloads a browser. `python -m bi_tool.provision screenshot` (`make bi-screenshot`)
provisions, serves and calls this.

What it checks on the way, as a person would see it: the login works (retried a few times while Superset warms
up), every chart of the dashboard renders (no chart left loading, no error alert), then it saves the full-height
page, downscaled to keep the PNG small. `make bi-screenshot` shoots the admin's and the viewer's view.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH = 1600
#: The PNG kept in the repository is scaled to this width.
OUTPUT_WIDTH = 1100

_CHART = ".dashboard-component-chart-holder"  # charts and markdown
_CHART_ONLY = "[data-test='chart-grid-component']"
_LOADING = ".loading, .ant-skeleton-active"
_ERRORS = ".alert-danger, .ant-alert-error, [data-test='error-message'], .error-alert"


def _driver() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WIDTH},1000",
        "--force-device-scale-factor=1",
        "--disable-extensions",
        "--no-first-run",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


#: Login attempts before giving up: a freshly started Superset may still be warming up (slow first page, a login
#: form that re-renders under the typing, a CSRF token from a session not yet there).
LOGIN_ATTEMPTS = 4


def _login_once(driver: webdriver.Chrome, base: str, username: str, password: str) -> None:
    driver.get(f"{base}/login/")
    wait = WebDriverWait(driver, 60)
    secret = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "input[type='password']")))
    user = driver.find_element(By.CSS_SELECTOR, "input#username, input[name='username']")
    user.clear()
    user.send_keys(username)
    secret.clear()
    secret.send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type='submit'], [data-test='login-button']").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in urlsplit(d.current_url).path)


def _login(driver: webdriver.Chrome, base: str, username: str, password: str) -> None:
    """Log in through the form, retrying (with a pause) when the form or the redirect after it does not come."""
    for attempt in range(1, LOGIN_ATTEMPTS + 1):
        try:
            _login_once(driver, base, username, password)
            return
        except WebDriverException as exc:  # TimeoutException, a stale element, a page that did not load
            if attempt == LOGIN_ATTEMPTS:
                raise RuntimeError(
                    f"could not log in to {base} as {username!r} after {attempt} attempts "
                    f"(still on {urlsplit(driver.current_url).path}): {exc.msg}"
                ) from exc
            print(f"login as {username!r} failed (attempt {attempt}: {type(exc).__name__}), retrying", file=sys.stderr)
            driver.delete_all_cookies()
            time.sleep(2 * attempt)


def _wait_for_charts(driver: webdriver.Chrome, timeout: float = 120) -> int:
    wait = WebDriverWait(driver, timeout)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, _CHART)))
    # the dashboard renders lazily: scroll through it so every chart gets drawn
    height = driver.execute_script("return document.body.scrollHeight")
    for y in range(0, height + 1000, 500):
        driver.execute_script(f"window.scrollTo(0, {y})")
        time.sleep(0.2)
    driver.execute_script("window.scrollTo(0, 0)")
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"{_CHART} {_LOADING}"))
    time.sleep(2)  # chart animations
    return len(driver.find_elements(By.CSS_SELECTOR, _CHART_ONLY))


def main(dashboard_url: str, out: str) -> int:
    username = os.environ.get("SHAREWHY_SCREENSHOT_USER") or "admin"
    password = os.environ.get("SHAREWHY_SCREENSHOT_PASSWORD") or os.environ["SHAREWHY_SUPERSET_ADMIN_PASSWORD"]
    parts = urlsplit(dashboard_url)
    base = f"{parts.scheme}://{parts.netloc}"
    started = time.monotonic()
    driver = _driver()
    try:
        _login(driver, base, username, password)
        driver.get(dashboard_url)
        charts = _wait_for_charts(driver)
        errors = [e.text.strip()[:200] for e in driver.find_elements(By.CSS_SELECTOR, f"{_CHART} {_ERRORS}")]
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(WIDTH, height + 100)
        time.sleep(2)
        png = driver.get_screenshot_as_png()
    finally:
        driver.quit()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_shrink(png))
    print(
        f"screenshot of {charts} charts: {path} ({path.stat().st_size // 1024} KiB, {time.monotonic() - started:.1f} s)"
    )
    if errors:
        print("charts showing an error:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    return 0


def _shrink(png: bytes) -> bytes:
    """Scale to OUTPUT_WIDTH and quantise to a palette (Pillow comes with Superset): a small PNG to commit."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    if image.width > OUTPUT_WIDTH:
        image = image.resize((OUTPUT_WIDTH, round(image.height * OUTPUT_WIDTH / image.width)), Image.LANCZOS)
    buffer = BytesIO()
    image.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
