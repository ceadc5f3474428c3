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

import re
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from kit import (  # noqa: F401  (browser is a fixture)
    BASE,
    Pages,
    browser,
    certificate_bytes,
    click_button,
    click_link,
    complete_plan,
    fill,
    fill_section,
    go,
    leaves,
    make_driver,
    navigating,
    press_button,
    reviewer_decides,
)


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

    # Anyone can also check it by what the 認定書 prints: 法人番号, 認定番号, 認定日 (a form
    # that works without JavaScript, its errors linked to the fields).
    source = driver.page_source
    number = re.search(r"<dt>認定番号</dt><dd>(.*?)</dd>", source).group(1)
    certified_on = re.search(r"（(\d{4}-\d{2}-\d{2})）", source).group(1)
    click_link(driver, By.PARTIAL_LINK_TEXT, "法人番号・認定番号・認定日で")
    click_button(driver, "確認する")
    summary = driver.find_element(By.CSS_SELECTOR, ".error-summary")
    assert len(summary.find_elements(By.TAG_NAME, "a")) == 3
    pages.check("13-verify-form-errors")
    driver.find_element(By.ID, "corporate_number").send_keys("9010401234567")
    driver.find_element(By.ID, "certification_number").send_keys(number)
    driver.find_element(By.ID, "certified_on").send_keys(certified_on.replace("-", "/"))
    click_button(driver, "確認する")
    assert "この認定は有効です" in driver.page_source
    assert number in driver.page_source
    pages.check("14-verify-by-facts")
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
