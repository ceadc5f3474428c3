"""The applicant's journey in a real browser: Debian's chromium through its chromedriver.

Run by `make test` inside the local stack (KEIRYOKU_API_URL set). The journey runs twice, with
JavaScript on and off: log in, see the prefill, create the plan, fill every section of 様式第1
(hitting and fixing a validation error), check the answers, be refused without the declaration,
submit, see the confirmation; a reviewer returns it (API); the applicant follows the comment to
its field, fixes it, resubmits; the reviewer approves; the applicant downloads the 認定書.

With JavaScript on, every page visited is checked by axe-core (WCAG 2.0/2.1 A and AA: 0
violations), for reflow at 320 CSS px (no horizontal scrolling) and for requests to other origins
(none), and is photographed at 1280 and 375 px into docs/screenshots/ (JPEG, full page).
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


# ------------------------------------------------------------------ the journey

SECTIONS = [
    ("applicant", None),
    ("business-fields", "/business_fields"),
    ("guideline", None),
    ("period", None),
    ("current-state", None),
    ("indicators", "/indicators"),
    ("measures", "/measures/items"),
    ("funds", "/funds"),
    ("equipment", "/equipment"),
    ("licences", "/licence_successions"),
    ("due-diligence", None),
    ("contact", None),
    ("support", None),
    ("consents", None),
]


def test_a_plan_is_filed_fixed_and_certified_in_the_browser(browser):
    driver = browser
    pages = Pages(driver)
    suffix = "" if driver.javascript else "-nojs"
    go(driver, "/")
    pages.check("01-start")
    assert "GビズIDでログイン" in driver.page_source

    # Log in (the dev provider completes the flow for login_hint) and come back to my page.
    go(driver, "/auth/login?login_hint=applicant-tokyo&return_to=%2Fmypage")
    assert driver.current_url == BASE + "/mypage"
    pages.check("02-mypage")

    click_link(driver, By.LINK_TEXT, "新しい計画を作成する")
    assert "Gビズインフォ" in driver.page_source
    pages.check("03-new-plan")
    click_button(driver, "この内容で計画を作成する")
    application_id = driver.current_url.rsplit("/", 1)[-1]
    pages.check("04-task-list")

    # 名称等 with a wrong 従業員数: saved, then shown at the field and in the error summary.
    click_link(driver, By.PARTIAL_LINK_TEXT, "名称等")
    assert driver.find_element(By.ID, "f-applicant-name").get_attribute("readonly") is not None
    fill(driver, "/applicant/employees", "たくさん")
    click_button(driver, "保存して一覧へ戻る")
    assert "エラーあり" in driver.page_source
    click_link(driver, By.PARTIAL_LINK_TEXT, "名称等")
    assert driver.title.startswith("エラー：")
    summary = driver.find_element(By.CSS_SELECTOR, ".error-summary")
    assert driver.switch_to.active_element == summary, "focus starts on the error summary"
    pages.check("05-section-error")
    summary.find_element(By.TAG_NAME, "a").send_keys(Keys.ENTER)
    field = driver.find_element(By.ID, "f-applicant-employees")
    assert field.get_attribute("aria-invalid") == "true"
    assert "f-applicant-employees-error" in field.get_attribute("aria-describedby")

    # Every section in order, with 「保存して次へ」 (list sections row by row).
    plan = list(leaves(complete_plan()))
    for slug, list_prefix in SECTIONS:
        go(driver, f"/plans/{application_id}/sections/{slug}")
        rows = 0
        if list_prefix:
            rows = len({n.split("/")[len(list_prefix.split("/"))] for n, _ in plan if n.startswith(list_prefix + "/")})
        if slug == "business-fields":
            # Search by name: with JavaScript as one types, without it with the 「探す」 button.
            search = driver.find_element(By.ID, "jsic-q")
            search.send_keys("金属製品")
            if driver.javascript:
                WebDriverWait(driver, 10).until(
                    lambda d: "24" in d.find_element(By.ID, "jsic-results").text
                )
            else:
                navigating(driver, lambda: search.send_keys(Keys.ENTER))
                assert "24" in driver.find_element(By.ID, "jsic-results").text
        fill_section(driver, plan, list_prefix, rows)
        if slug == "indicators" and driver.javascript:
            live = driver.find_element(By.CSS_SELECTOR, "fieldset[data-row='0'] [data-live-result]")
            WebDriverWait(driver, 5).until(lambda _: "伸び率：1.00%" in live.text)
            assert "満たしています" in live.text, live.text
        if slug in ("applicant", "business-fields", "indicators", "equipment"):
            pages.check(f"06-section-{slug}")
        press_button(driver, "保存して次へ")
        assert "/sections/" in driver.current_url or driver.current_url.endswith("/check"), (
            slug,
            driver.current_url,
            driver.title,
        )
    assert driver.current_url.endswith(f"/plans/{application_id}/check"), (
        driver.current_url,
        driver.title,
    )
    problems = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".error-summary li")]
    assert problems == [], problems
    assert "関東経済産業局" in driver.page_source
    pages.check("07-check-answers")

    # Without the declaration: refused with an error summary, nothing submitted.
    click_button(driver, "提出する")
    assert driver.title.startswith("エラー：")
    pages.check("08-check-declaration-error")
    driver.find_element(By.ID, "declaration").send_keys(Keys.SPACE)
    assert driver.find_element(By.ID, "declaration").is_selected()
    press_button(driver, "提出する")
    assert driver.current_url.endswith(f"/plans/{application_id}/submitted"), (
        driver.title,
        driver.find_element(By.TAG_NAME, "main").text[:500],
    )
    receipt = driver.find_element(By.CSS_SELECTOR, ".panel__body strong").text
    assert re.fullmatch(r"R\d{4}-\d{6}", receipt), receipt
    assert "令和" in driver.page_source
    pages.check("09-submitted")

    # Returned with a comment at 現状認識④; the mail's link opens the page, the comment its field.
    reviewer_decides(
        application_id,
        "return",
        {
            "message": "経営課題を具体的に記載してください。",
            "comments": [{"path": "/plan/current_state/challenges", "message": "課題の原因も記載してください。"}],
        },
    )
    go(driver, f"/applications/{application_id}")
    assert driver.current_url == f"{BASE}/plans/{application_id}"
    pages.check("10-returned")
    click_link(driver, By.PARTIAL_LINK_TEXT, "課題の原因も記載してください。")
    assert driver.current_url.endswith("#f-current_state-challenges")
    field = driver.find_element(By.ID, "f-current_state-challenges")
    field.send_keys(Keys.CONTROL + "a", Keys.DELETE)
    field.send_keys("熟練工の高齢化（平均58歳）で技能継承が遅れ、段取り時間が長い。")
    click_button(driver, "保存して一覧へ戻る")
    click_link(driver, By.LINK_TEXT, "入力内容の確認へ進む")
    driver.find_element(By.ID, "declaration").send_keys(Keys.SPACE)
    click_button(driver, "提出する")
    assert driver.current_url.endswith(f"/plans/{application_id}/submitted")

    # Certified: the page offers the 認定書, which downloads as a PDF.
    reviewer_decides(application_id, "approve")
    go(driver, f"/plans/{application_id}")
    assert "認定されました" in driver.page_source
    assert "再提出" in driver.page_source
    assert "まだダウンロードされていません" in driver.page_source
    pages.check("11-certified")
    assert certificate_bytes(driver, application_id).startswith(b"%PDF")
    driver.refresh()
    history = driver.find_element(By.CSS_SELECTOR, ".dads-table tbody").text
    assert "あなた" in history, history

    # The verification URL printed on the 認定書 opens a page anyone can read.
    verify_url = driver.find_element(By.PARTIAL_LINK_TEXT, "/verify/").get_attribute("href")
    go(driver, urllib.parse.urlparse(verify_url).path)
    assert "この認定書は有効です" in driver.page_source
    pages.check("12-verify")
    go(driver, "/mypage")
    assert receipt in driver.page_source or "認定" in driver.page_source

    if driver.javascript:
        assert len(pages.checked) >= 12, pages.checked
    _ = suffix


def test_every_public_page_and_error_page_passes_axe():
    driver = make_driver(True)
    driver.javascript = True
    driver.keyboard = False
    pages = Pages(driver)
    try:
        for path, name in [
            ("/help", "20-help"),
            ("/privacy", "21-privacy"),
            ("/accessibility", "22-accessibility"),
            ("/login/refused", "23-entry-refused"),
            ("/mypage", "24-login-needed"),
            ("/no-such-page-at-all", "26-unknown-address"),
        ]:
            go(driver, path)
            if name:
                pages.check(name)
        go(driver, "/auth/login?login_hint=applicant-osaka&return_to=%2Fplans%2F00000000-0000-7000-8000-000000000000")
        pages.check("25-not-found")
        # Empty states: a filter that finds nothing, a search that finds nothing.
        go(driver, "/auth/login?login_hint=applicant-unavailable&return_to=%2Fmypage%3Fstatus%3Dsubmitted")
        assert "「申請中」の申請はありません。" in driver.page_source
        pages.check("27-mypage-empty")
        go(driver, "/plans/new")
        click_button(driver, "この内容で計画を作成する")
        application_id = driver.current_url.rsplit("/", 1)[-1]
        go(driver, f"/plans/{application_id}/sections/business-fields?q=%E8%A9%B2%E5%BD%93%E3%81%AA%E3%81%97zz")
        assert "に当たる分類はありません" in driver.page_source
        pages.check("28-search-no-results")
    finally:
        driver.quit()


def test_the_keyboard_reaches_every_control_in_order():
    """Tab walks the page in reading order and every stop is visibly focused."""
    driver = make_driver(True)
    driver.javascript = True
    driver.keyboard = True
    try:
        go(driver, "/auth/login?login_hint=applicant-osaka&return_to=%2Fmypage")
        link = driver.find_element(By.LINK_TEXT, "新しい計画を作成する")
        navigating(driver, lambda: link.send_keys(Keys.ENTER))
        press_button(driver, "この内容で計画を作成する")
        application_id = driver.current_url.rsplit("/", 1)[-1]
        go(driver, f"/plans/{application_id}/sections/contact")
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        first = driver.switch_to.active_element
        assert first.text == "本文へ移動", "the skip link comes first"
        stops = []
        for _ in range(40):
            element = driver.switch_to.active_element
            outline = driver.execute_script(
                "const s = getComputedStyle(arguments[0]); return s.outlineStyle + ' ' + s.outlineWidth", element
            )
            assert not outline.startswith("none"), f"{element.tag_name} {element.get_attribute('name')} has no focus outline"
            stops.append(element.get_attribute("name") or element.text)
            element.send_keys(Keys.TAB)
            if element.get_attribute("value") == "save":
                break
        names = [s for s in stops if s and s.startswith("/contact/")]
        assert names == ["/contact/name", "/contact/department", "/contact/phone", "/contact/email"], stops
        # Type and save with the keyboard alone.
        name = driver.find_element(By.NAME, "/contact/name")
        name.send_keys("浪速 次郎")
        navigating(driver, lambda: name.send_keys(Keys.ENTER))
        assert "/sections/support" in driver.current_url, "Enter saves and goes on (the first button)"
    finally:
        driver.quit()
