"""The other staff roles in a real browser, with JavaScript on and off (then the keyboard alone).

A read-only user of 経済産業省 (局・本省 閲覧) lands on the search, finds a case of 関東経済産業局,
reads it without any decision button and reads the statistics of the ministry's bureaus; the
SME Agency's 企画課 reads the national statistics and who read the case; an administrator adds a staff member,
changes the role and deactivates the entry, each change appearing in the entry's record, and
publishes a notice the staff pages show, then ends it. Every
page is checked as the other pages are (axe-core, reflow at 320 px, no other origins) and
photographed into docs/screenshots/.
"""

import time
import urllib.parse
import urllib.request
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from kit import (  # noqa: F401  (browser is a fixture)
    BASE,
    Pages,
    browser,
    click_button,
    click_link,
    fill,
    go,
)
from test_staff_journey import filed


def changed_elsewhere(driver, sub: str):
    """Changes the entry's name with the browser's own session, as a second tab would."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    form = urllib.parse.urlencode(
        {
            "csrf_token": cookies["csrf_token"],
            "version": "1",
            "name": "試験 画面（別の変更）",
            "role": "reviewer",
            "place": "office:meti-shikoku",
            "action": "save",
        }
    ).encode()
    request = urllib.request.Request(f"{BASE}/staff/directory/{sub}", data=form, method="POST")
    request.add_header("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    request.add_header("content-type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def test_a_head_office_reader_and_the_planning_division_oversee_in_the_browser(browser):
    driver = browser
    pages = Pages(driver)
    _, record = filed()
    case_id = record["id"]
    corporate = record["plan"]["applicant"]["corporate_number"]

    # The reader's start is the search over 経済産業省; no queue in the menu.
    go(driver, "/staff/login?login_hint=reader-meti&return_to=%2Fstaff")
    assert driver.current_url.endswith("/staff/cases"), driver.current_url
    assert "検索の範囲：経済産業省" in driver.page_source
    assert not driver.find_elements(By.LINK_TEXT, "審査キュー")
    fill(driver, "corporate_number", corporate)
    click_button(driver, "検索する")
    assert "関東経済産業局" in driver.page_source, "the row names the authority"
    pages.check("staff-13-reader-search")

    # The case reads in full; there is nothing to decide with.
    click_link(driver, By.CSS_SELECTOR, f"a[href='/staff/cases/{case_id}']")
    assert "計画の内容（様式第1）" in driver.page_source
    assert not driver.find_elements(By.LINK_TEXT, "認定する")
    pages.check("staff-14-reader-case")
    # A decision page is refused with a page that says why.
    go(driver, f"/staff/cases/{case_id}/approve")
    assert "審査担当のみ" in driver.page_source
    pages.check("staff-26-forbidden")
    go(driver, f"/staff/cases/{case_id}")

    # The statistics of the ministry: a chart with the same numbers in tables.
    click_link(driver, By.LINK_TEXT, "審査の統計")
    assert driver.find_elements(By.CSS_SELECTOR, "svg[role='img']")
    assert "月別（受付月ごと）" in driver.page_source
    assert "関東経済産業局" in driver.find_element(By.XPATH, "//caption[contains(., '行政庁別')]/..").text
    pages.check("staff-15-statistics")
    fill(driver, "from", "2026/04")
    click_button(driver, "集計する")
    assert driver.title.startswith("エラー："), driver.title
    assert driver.find_element(By.CSS_SELECTOR, ".error-summary a").get_attribute("href").endswith("#from")
    pages.check("staff-16-statistics-error")

    # The 企画課 counts every authority.
    go(driver, "/staff/login?login_hint=planning-chusho&return_to=%2Fstaff%2Fstatistics")
    # The provider already knows this browser: it posts its answer back with a script, or,
    # without JavaScript, with the button a person presses.
    if driver.title == "Submitting Callback" and not driver.javascript:
        click_button(driver, "Continue")
    WebDriverWait(driver, 15).until(lambda d: d.title.startswith("審査の統計"))
    assert "範囲：全国" in driver.page_source
    pages.check("staff-17-planning-statistics")

    # The 企画課 audits: who read the case (the reader, just now).
    click_link(driver, By.LINK_TEXT, "閲覧・変更の記録")
    fill(driver, "application", case_id)
    click_button(driver, "表示する")
    assert "本省 閲覧一（900011）" in driver.page_source
    pages.check("staff-22-audit")
    fill(driver, "application", "not-an-id")
    click_button(driver, "表示する")
    assert driver.title.startswith("エラー："), driver.title
    pages.check("staff-30-audit-error")

    if driver.javascript:
        assert len(pages.checked) == 8, pages.checked


def test_an_administrator_manages_the_directory_in_the_browser(browser):
    driver = browser
    pages = Pages(driver)

    go(driver, "/staff/login?login_hint=admin-staff&return_to=%2Fstaff")
    assert driver.current_url.endswith("/staff/directory"), driver.current_url
    assert "関東 審査一" in driver.page_source
    pages.check("staff-18-directory")

    # Adding with nothing filled in: every problem in the summary, linked to its field.
    click_link(driver, By.LINK_TEXT, "職員を追加する")
    pages.check("staff-19-directory-new")
    click_button(driver, "追加する")
    assert driver.title.startswith("エラー："), driver.title
    links = [a.get_attribute("href").split("#")[1] for a in driver.find_elements(By.CSS_SELECTOR, ".error-summary a")]
    assert links == ["sub", "name", "role"], links
    pages.check("staff-20-directory-error")

    # A reviewer of 四国経済産業局, then a reader of every 経済産業局, then deactivated.
    sub = f"e2e-{uuid.uuid4().hex[:12]}"
    fill(driver, "sub", sub)
    fill(driver, "name", "試験 画面")
    fill(driver, "role", "reviewer")
    fill(driver, "place", "office:meti-shikoku")
    click_button(driver, "追加する")
    assert "追加しました。" in driver.page_source

    # Another administrator changes the entry meanwhile: this page's change is told, not applied.
    changed_elsewhere(driver, sub)
    fill(driver, "role", "reader")
    fill(driver, "place", "ministry:meti")
    click_button(driver, "変更を保存する")
    assert "この登録は更新されています" in driver.page_source
    pages.check("staff-31-directory-stale")
    click_link(driver, By.LINK_TEXT, "最新の登録を表示する")
    fill(driver, "role", "reader")
    fill(driver, "place", "network:meti-bureaus")
    click_button(driver, "変更を保存する")
    assert "変更しました。" in driver.page_source
    click_button(driver, "この職員を無効にする")
    assert "無効にしました。" in driver.page_source
    record = driver.find_element(By.XPATH, "//caption[contains(., 'この登録の変更')]/..").text
    assert "審査担当（四国経済産業局）" in record
    assert "局・本省 閲覧（経済産業局 全局）" in record
    assert [a for a in ("無効化", "変更", "追加") if a in record] == ["無効化", "変更", "追加"]
    pages.check("staff-21-directory-entry")

    # A notice for the staff, shown on the staff pages, then ended.
    click_link(driver, By.LINK_TEXT, "お知らせ")
    pages.check("staff-23-notices")
    click_button(driver, "掲載する")
    assert driver.title.startswith("エラー："), driver.title
    pages.check("staff-27-notices-error")
    title = f"締切のお知らせ {uuid.uuid4().hex[:6]}"
    fill(driver, "kind", "deadline")
    fill(driver, "audience", "staff")
    fill(driver, "title", title)
    fill(driver, "body", "今月の審査分は月末までに判断してください。")
    fill(driver, "from", time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() + 9 * 3600 - 120)))
    fill(driver, "until", time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() + 9 * 3600 + 3600)))
    click_button(driver, "掲載する")
    assert "掲載しました" in driver.page_source
    time.sleep(1.5)
    go(driver, "/staff/notices")
    assert title in driver.find_element(By.CSS_SELECTOR, "section.notices").text
    pages.check("staff-24-notice-shown")
    click_button(driver, f"「{title}」の掲載を終了する")
    assert "掲載を終了しました" in driver.page_source

    if driver.javascript:
        assert len(pages.checked) == 8, pages.checked
