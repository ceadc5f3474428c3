"""What the browser tests share: Chromium through Debian's chromedriver, the checks every page
gets (axe-core, reflow at 320 px, no other origins, screenshots), keyboard-or-mouse actions, and
the JSON API as a second person (an applicant or a reviewer) uses it.
"""

import base64
import http.cookiejar
import json
import os
import pathlib
import re
import tempfile
import time
import urllib.parse
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get("KEIRYOKU_API_URL", "http://127.0.0.1:3000")
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
AXE = (HERE / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def make_driver(javascript: bool) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=ja",
        "--window-size=1280,900",
        f"--user-data-dir={tempfile.mkdtemp(prefix='keiryoku-chromium-')}",
    ]:
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    # The driver's path is given: Selenium Manager never downloads anything.
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture(params=[True, False], ids=["javascript-on", "javascript-off"])
def browser(request):
    driver = make_driver(request.param)
    driver.javascript = request.param
    # Without JavaScript the journey is also done with the keyboard alone: Tab-reachable
    # controls, Enter on links and buttons, Space on radios and checkboxes, arrows in drop-downs.
    driver.keyboard = not request.param
    yield driver
    driver.quit()


def complete_plan() -> dict:
    """The domain's complete plan with dates relative to today (as tests/support does)."""
    plan = json.loads(
        (ROOT / "shared/domain/tests/fixtures/complete_plan.json").read_text(encoding="utf-8")
    )
    today = time.gmtime(time.time() + 9 * 3600)

    def month(offset: int) -> str:
        index = today.tm_year * 12 + today.tm_mon - 1 + offset
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    plan["period"]["start"] = month(1)
    plan["equipment"][0]["acquisition_month"] = month(3)
    return plan


def leaves(value, pointer=""):
    """Every leaf of a plan as (JSON Pointer, text), as the pages name their fields."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{pointer}/{index}")
    elif isinstance(value, bool):
        yield pointer, "true" if value else "false"
    elif value is not None:
        yield pointer, str(value)


# ------------------------------------------------------------------ page checks


class Pages:
    """Visits pages and checks each one the same way."""

    def __init__(self, driver):
        self.driver = driver
        self.checked = []

    def check(self, name: str):
        """The checks every page gets; with JavaScript on also axe, reflow and screenshots."""
        driver = self.driver
        assert driver.title.endswith("経営力向上計画 電子申請"), driver.title
        assert driver.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "ja"
        assert len(driver.find_elements(By.TAG_NAME, "h1")) == 1, f"{name}: one h1"
        # Every visible form control has a label.
        for control in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
            control_id = control.get_attribute("id")
            labelled = control_id and driver.find_elements(By.CSS_SELECTOR, f"label[for='{control_id}']")
            wrapped = control.find_elements(By.XPATH, "ancestor::label")
            assert labelled or wrapped, f"{name}: unlabelled control {control.get_attribute('name')}"
        if not driver.javascript:
            return
        result = driver.execute_async_script(
            AXE
            + """
            const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' @ ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));
            """
        )
        assert result == [], f"{name}: axe violations {result}"
        origins = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)"
        )
        assert all(o == BASE for o in origins), f"{name}: requests to other origins {origins}"
        self.screenshot(name)
        self.checked.append(name)

    def screenshot(self, name: str):
        driver = self.driver
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width in (1280, 375, 320):
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 500},
            )
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways at {width} px by {overflow} px"
            if width == 320:
                continue
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": min(height, 6000), "deviceScaleFactor": 1, "mobile": width < 500},
            )
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "jpeg", "quality": 75})
            (SHOTS / f"{name}-{width}.jpg").write_bytes(base64.b64decode(shot["data"]))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def go(driver, path: str):
    driver.get(BASE + path)


def gone(element) -> bool:
    """Whether `element` belongs to a page that has been replaced."""
    try:
        element.tag_name
        return False
    except WebDriverException:
        return True


def navigating(driver, action):
    """Does `action` (a click, a key) and waits for the next page to replace this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    try:
        action()
    except WebDriverException as error:
        # chromedriver may report the key's element gone when the key itself navigated away.
        if "does not belong to the document" not in str(error):
            raise
    WebDriverWait(driver, 15).until(lambda _: gone(old))
    # The new page is parsed to its end (the footer comes last); no script is needed to tell.
    WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "footer.site-footer"))
    )


def click_button(driver, text: str):
    button = driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")
    if driver.keyboard:
        navigating(driver, lambda: button.send_keys(Keys.ENTER))
    else:
        navigating(driver, button.click)


def press_button(driver, text: str):
    """Activates a button from the keyboard: Enter on it."""
    button = driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")
    navigating(driver, lambda: button.send_keys(Keys.ENTER))


def click_link(driver, by, text: str):
    link = driver.find_element(by, text)
    if driver.keyboard:
        navigating(driver, lambda: link.send_keys(Keys.ENTER))
    else:
        navigating(driver, link.click)


def fill(driver, name: str, value: str) -> bool:
    """Types or chooses `value` in the field `name`, if the page has it (and it is editable)."""
    elements = driver.find_elements(By.NAME, name)
    if not elements:
        return False
    element = elements[0]
    if element.tag_name == "select" and driver.keyboard:
        # Home, then down to the option: how a keyboard chooses in a closed drop-down.
        values = [o.get_attribute("value") for o in Select(element).options]
        element.send_keys(Keys.HOME + Keys.ARROW_DOWN * values.index(value))
        assert Select(element).first_selected_option.get_attribute("value") == value
    elif element.tag_name == "select":
        Select(element).select_by_value(value)
    elif element.get_attribute("type") == "radio":
        radio = driver.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']")
        if driver.keyboard:
            radio.send_keys(Keys.SPACE)
        else:
            radio.click()
    elif element.get_attribute("readonly") is None:
        if driver.keyboard:
            element.send_keys(Keys.CONTROL + "a", Keys.DELETE)
        else:
            element.clear()
        element.send_keys(value)
    return True


def fill_section(driver, plan_leaves, list_prefix=None, rows=0):
    """Fills the current section page; a list section row by row with 「もう1件追加」."""
    if list_prefix is None or rows <= 1:
        for name, value in plan_leaves:
            fill(driver, name, value)
        return
    for row in range(rows):
        for name, value in plan_leaves:
            if not name.startswith(f"{list_prefix}/") or name.startswith(f"{list_prefix}/{row}/"):
                fill(driver, name, value)
        if row < rows - 1:
            button = driver.find_element(By.CSS_SELECTOR, "button[value=add]")
            if driver.keyboard:
                navigating(driver, lambda: button.send_keys(Keys.ENTER))
            else:
                navigating(driver, button.click)


# ------------------------------------------------------------------ reviewer (API)


class Api:
    """A staff member using the JSON API with cookies (urllib follows the OIDC redirects)."""

    def __init__(self, login_path: str):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(BASE + login_path).read()

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrf_token")

    def call(self, method: str, path: str, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(BASE + path, data=data, method=method)
        request.add_header("x-csrf-token", self.csrf())
        if data is not None:
            request.add_header("content-type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        with self.opener.open(request) as response:
            return response.headers, json.loads(response.read() or b"null")


def reviewer_decides(case_id: str, action: str, body=None):
    reviewer = Api("/staff/login?login_hint=reviewer-kanto-meti")
    headers, _ = reviewer.call("GET", f"/review/cases/{case_id}")
    reviewer.call("POST", f"/review/cases/{case_id}/{action}", body or {}, {"if-match": headers["etag"]})


def certificate_bytes(driver, application_id: str) -> bytes:
    """The 認定書 with the browser's session (its cookies), once the effect has made it."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    for _ in range(300):
        request = urllib.request.Request(f"{BASE}/applications/{application_id}/certificate")
        request.add_header("cookie", cookies)
        try:
            with urllib.request.urlopen(request) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code not in (404, 409, 503):
                raise
        time.sleep(0.1)
    raise AssertionError("the certificate was not made")


