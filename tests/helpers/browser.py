"""A real browser for the webmail tests: Debian's Chromium, driven by Selenium.

What a civil servant's browser does, with nothing switched off:

- **Verified TLS.** Chromium on Linux trusts the certificates of the NSS database
  in `$HOME/.pki/nssdb`. Each browser gets a throwaway HOME whose database
  (`certutil`, Debian's libnss3-tools) trusts the lab CA and nothing else of ours,
  so a page loads only if its certificate is valid for the name in the address
  bar. There is no `--ignore-certificate-errors`: a wrong certificate shows
  Chromium's interstitial and the test fails on it.
- **The real name.** `--host-resolver-rules` maps the mail host's name to the
  container's address, the way the lab's DNS would; every other name resolves to
  nothing, so the browser reaches only the test hosts (no update checks, no
  telemetry leave the machine).
- **Explicit waits.** Every step waits (bounded, `WebDriverWait`) for what the
  page must show; nothing sleeps a guessed time.

The browser and its driver are Debian's packages `chromium` and `chromium-driver`
(scripts/setup.sh installs them, with libnss3-tools); Selenium is pinned in
requirements.txt. Selenium Manager is never asked for a driver (the driver's
path is given), so nothing is downloaded at test time.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CERTUTIL = "certutil"

# Seconds a step waits for the page. The page answers in well under a second on a quiet
# machine; the bound is for the loaded 2-core CI box (converges of other scenarios beside
# it). A wait returns as soon as the page shows what it waits for.
WAIT = 45

# Switches that keep the browser to the page under test: no first-run, sync, update,
# translation, safe-browsing or metrics traffic, no GPU (there is none), /dev/shm small in
# containers. None of them touches TLS verification.
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-pings",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--password-store=basic",
    "--lang=vi",
)


class BrowserUnavailable(RuntimeError):
    """Chromium, its driver or certutil is missing (scripts/setup.sh installs them)."""


def _check_installed() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if not shutil.which(CERTUTIL):
        missing.append(CERTUTIL)
    if missing:
        raise BrowserUnavailable(
            f"not installed: {', '.join(missing)} (Debian packages chromium, chromium-driver, libnss3-tools;"
            " scripts/setup.sh installs them)")


def trusting_home(home: pathlib.Path, cafile: str, nickname: str = "mail lab CA") -> pathlib.Path:
    """Make `home`/.pki/nssdb, an NSS database that trusts `cafile` to identify web sites."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    db = f"sql:{nssdb}"
    for args in (["-N", "-d", db, "--empty-password"],
                 ["-A", "-d", db, "-n", nickname, "-t", "C,,", "-i", cafile]):
        done = subprocess.run([CERTUTIL, *args], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"certutil {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return nssdb


def resolver_rules(hosts: dict[str, str]) -> str:
    """Chromium's --host-resolver-rules: each name to its address, every other name to nothing."""
    rules = [f"MAP {name} {address}" for name, address in hosts.items()]
    return ", ".join([*rules, "MAP * ~NOTFOUND"])


@contextlib.contextmanager
def chromium(hosts: dict[str, str], cafile: str, *, size: tuple[int, int] = (1400, 900)) -> Iterator[WebDriver]:
    """A headless Chromium that trusts `cafile` and resolves `hosts` ({name: address}) only.

    Yields the Selenium driver; quits the browser and removes its profile on exit.
    """
    _check_installed()
    with tempfile.TemporaryDirectory(prefix="mail-browser-") as tmp:
        home = pathlib.Path(tmp)
        trusting_home(home, cafile)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={home / 'profile'}")
        options.add_argument(f"--window-size={size[0]},{size[1]}")
        options.add_argument(f"--host-resolver-rules={resolver_rules(hosts)}")
        # Chromium (started by the driver) reads the NSS database of $HOME.
        env = dict(os.environ, HOME=str(home))
        service = Service(CHROMEDRIVER, env=env, log_output=str(home / "chromedriver.log"))
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(WAIT)
        try:
            yield driver
        finally:
            driver.quit()


def wait(driver: WebDriver, seconds: float = WAIT) -> WebDriverWait:
    """A bounded wait polled five times a second. An element the page replaced while it was
    read (a list re-rendered) is read again at the next poll, not an error."""
    return WebDriverWait(driver, seconds, poll_frequency=0.2,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def until(driver: WebDriver, condition: Callable, what: str, seconds: float = WAIT):
    """wait(driver).until(condition), failing with `what` and the page's address and title."""
    try:
        return wait(driver, seconds).until(condition)
    except TimeoutException:
        raise AssertionError(f"{what}: not so within {seconds} s (page {driver.current_url!r}, "
                             f"title {driver.title!r})") from None


def visible(driver: WebDriver, css: str, seconds: float = WAIT) -> WebElement:
    """The first element matching `css` once it is displayed."""
    return until(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), f"{css} visible", seconds)


def present(driver: WebDriver, css: str, seconds: float = WAIT) -> WebElement:
    """The first element matching `css` once it is in the page (shown or not)."""
    return until(driver, EC.presence_of_element_located((By.CSS_SELECTOR, css)), f"{css} in the page", seconds)


def clickable(driver: WebDriver, css: str, seconds: float = WAIT) -> WebElement:
    return until(driver, EC.element_to_be_clickable((By.CSS_SELECTOR, css)), f"{css} clickable", seconds)


def page_text(driver: WebDriver) -> str:
    """What the page shows (the body's rendered text)."""
    return driver.find_element(By.TAG_NAME, "body").text


def tls_error_shown(driver: WebDriver) -> bool:
    """Whether Chromium shows its certificate interstitial instead of the page."""
    return driver.execute_script(
        "return !!document.querySelector('#main-frame-error, .interstitial-wrapper')"
        " || document.title.indexOf('Privacy error') >= 0") is True
