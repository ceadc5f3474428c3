"""A reviewer's day in a real browser, with JavaScript on and off (then with the keyboard alone).

Run by `make test` inside the local stack. An applicant files plans through the JSON API; the
reviewer of 関東経済産業局 logs in at the staff login, finds the case in the queue, reads it,
returns it with a comment at a field after previewing what the applicant will see, reads the
resubmission's differences, approves with the 認定番号 shown before confirming, searches, and
is refused a reason-less rejection. Every page is checked as the applicant pages are (axe-core
with JavaScript on, reflow at 320 px, no other origins) and photographed into docs/screenshots/.
"""

import datetime
import json
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from kit import (  # noqa: F401  (browser is a fixture)
    Api,
    BASE,
    Pages,
    browser,
    click_button,
    click_link,
    complete_plan,
    fill,
    go,
    reviewer_decides,
)


def filed() -> tuple[Api, dict]:
    """A plan of 株式会社霞が関精機 submitted through the API (routed to 関東経済産業局)."""
    applicant = Api("/auth/login?login_hint=applicant-tokyo")
    _, created = applicant.call("POST", "/applications", {"plan": complete_plan()})
    _, record = applicant.call(
        "POST", f"/applications/{created['id']}/submit", None, {"idempotency-key": str(uuid.uuid4())}
    )
    assert record["status"] == "submitted", json.dumps(record, ensure_ascii=False)[:300]
    return applicant, record


def open_comment(driver, field: str):
    """Opens the comment box of a field, as a person would (Enter from the keyboard)."""
    summary = driver.find_element(
        By.XPATH, f"//textarea[@name='comment:{field}']/ancestor::details/summary"
    )
    if driver.keyboard:
        summary.send_keys(Keys.ENTER)
    else:
        summary.click()


def test_a_reviewer_returns_and_certifies_a_case_in_the_browser(browser):
    driver = browser
    pages = Pages(driver)
    applicant, record = filed()
    case_id = record["id"]
    receipt = record["submission"]["receipt_number"]

    # Not signed in: /staff is the staff login.
    go(driver, "/staff")
    assert "職員用アカウントでログインする" in driver.page_source
    pages.check("staff-01-login")

    # The dev provider completes the login for the hint; the queue lists the case.
    go(driver, "/staff/login?login_hint=reviewer-kanto-meti&return_to=%2Fstaff%3Flimit%3D200")
    assert driver.current_url.startswith(BASE + "/staff"), driver.current_url
    assert "審査キュー" in driver.title
    pages.check("staff-02-queue")
    click_link(driver, By.LINK_TEXT, receipt)
    assert driver.current_url == f"{BASE}/staff/cases/{case_id}"
    assert "計画の内容（様式第1）" in driver.page_source
    pages.check("staff-03-case")

    # Return: an empty message is refused at its field, nothing is returned.
    click_link(driver, By.LINK_TEXT, "差し戻す")
    pages.check("staff-04-return")
    click_button(driver, "申請者への表示を確認する")
    assert driver.title.startswith("エラー："), driver.title
    summary = driver.find_element(By.CSS_SELECTOR, ".error-summary")
    assert driver.switch_to.active_element == summary, "focus starts on the error summary"
    pages.check("staff-05-return-error")

    # A message and a comment at 実施時期 (開始), previewed as the applicant will see it.
    fill(driver, "message", "実施時期を見直してください。")
    open_comment(driver, "/plan/period/start")
    fill(driver, "comment:/plan/period/start", "開始月が設備の取得より後です。")
    click_button(driver, "申請者への表示を確認する")
    preview = driver.find_element(By.CSS_SELECTOR, ".preview").text
    assert "修正を求められています" in preview
    assert "実施時期：開始月が設備の取得より後です。" in preview
    pages.check("staff-06-return-preview")
    _, still = applicant.call("GET", f"/applications/{case_id}")
    assert still["status"] == "submitted", "a preview returns nothing"
    click_button(driver, "差し戻す")
    assert "差し戻しました" in driver.page_source
    pages.check("staff-07-returned")
    _, returned = applicant.call("GET", f"/applications/{case_id}")
    assert returned["status"] == "returned"
    assert returned["returned"]["comments"] == [
        {"path": "/plan/period/start", "message": "開始月が設備の取得より後です。"}
    ]

    # The applicant fixes and resubmits; the case shows what changed since the return.
    applicant.call(
        "PATCH",
        f"/applications/{case_id}",
        {"current_state": {"challenges": "熟練工の高齢化（平均58歳）で技能継承が遅れている。"}},
        {"if-match": f"\"{returned['version']}\""},
    )
    applicant.call("POST", f"/applications/{case_id}/submit", None, {"idempotency-key": str(uuid.uuid4())})
    go(driver, f"/staff/cases/{case_id}")
    assert "差し戻した版" in driver.page_source
    assert driver.find_elements(By.CSS_SELECTOR, "[data-changed='true']")
    pages.check("staff-08-resubmitted")

    # Approve: the confirmation shows the 認定番号 to be issued.
    click_link(driver, By.LINK_TEXT, "認定する")
    number = driver.find_element(By.CSS_SELECTOR, ".summary-list__row dd").text
    assert number, "the number to be issued is shown"
    pages.check("staff-09-approve")
    click_button(driver, "認定を確定する")
    assert "認定しました" in driver.page_source
    _, certified = applicant.call("GET", f"/applications/{case_id}")
    assert certified["status"] == "certified"

    # Search by 法人番号 finds it; the URL carries the conditions.
    corporate = certified["plan"]["applicant"]["corporate_number"]
    go(driver, "/staff/cases")
    fill(driver, "corporate_number", corporate)
    click_button(driver, "検索する")
    assert f"corporate_number={corporate}" in driver.current_url
    # A resubmission is received anew: the case goes by its latest 受付番号.
    assert certified["submission"]["receipt_number"] in driver.page_source
    pages.check("staff-10-search")
    # Conditions with mistakes: the error summary names each field, in the search and the queue.
    fill(driver, "corporate_number", "123")
    click_button(driver, "検索する")
    assert driver.title.startswith("エラー："), driver.title
    pages.check("staff-28-search-error")
    go(driver, "/staff?received_from=2026%2F01%2F01")
    assert driver.title.startswith("エラー："), driver.title
    pages.check("staff-29-queue-error")

    # Reject: a reason is required; the error names the field.
    _, other = filed()
    go(driver, f"/staff/cases/{other['id']}/reject")
    pages.check("staff-11-reject")
    click_button(driver, "不認定を確定する")
    assert driver.title.startswith("エラー：")
    pages.check("staff-12-reject-error")
    _, unchanged = applicant.call("GET", f"/applications/{other['id']}")
    assert unchanged["status"] == "submitted"

    # A stale page: someone else returns the case while this approval is being confirmed; the
    # confirmation is told, never applied.
    go(driver, f"/staff/cases/{other['id']}/approve")
    reviewer_decides(other["id"], "return", {"message": "別の担当者が差し戻しました。"})
    click_button(driver, "認定を確定する")
    assert "この案件は更新されています" in driver.page_source
    pages.check("staff-25-stale")
    _, returned = applicant.call("GET", f"/applications/{other['id']}")
    assert returned["status"] == "returned", "the other decision stands"

    if driver.javascript:
        assert len(pages.checked) == 15, pages.checked


def test_a_reviewer_records_a_paper_certification_in_the_browser(browser):
    """東京国税局 takes applications on paper only: its reviewer records the certification it
    issued on paper (認定日 and 認定番号), after a mistake is named at its field."""
    driver = browser
    pages = Pages(driver)
    applicant = Api("/auth/login?login_hint=applicant-tokyo")
    plan = complete_plan()
    plan["business_fields"] = [{"middle_code": "72", "detail_code": "7242"}]
    plan["guideline_id"] = "basic_policy"
    _, created = applicant.call("POST", "/applications", {"plan": plan})
    case_id = created["id"]
    _, finalised = applicant.call(
        "POST", f"/applications/{case_id}/finalise", None, {"if-match": f"\"{created['version']}\""}
    )
    assert finalised["status"] == "finalised_for_paper", json.dumps(finalised, ensure_ascii=False)[:300]

    go(driver, f"/staff/login?login_hint=reviewer-tokyo-nta&return_to=%2Fstaff%2Fcases%2F{case_id}")
    assert driver.current_url == f"{BASE}/staff/cases/{case_id}", driver.current_url
    assert "紙申請（申請書を郵送）" in driver.page_source
    assert not driver.find_elements(By.LINK_TEXT, "認定する"), "a paper filing is not approved online"
    pages.check("staff-40-paper-case")

    click_link(driver, By.LINK_TEXT, "紙申請の認定を登録する")
    pages.check("staff-41-paper-form")
    # A date in the future and no number: both named, nothing recorded.
    fill(driver, "certified_on", "2099-01-01")
    click_button(driver, "認定を登録する")
    assert driver.title.startswith("エラー："), driver.title
    summary = driver.find_element(By.CSS_SELECTOR, ".error-summary")
    assert driver.switch_to.active_element == summary, "focus starts on the error summary"
    links = [a.get_attribute("href").split("#")[-1] for a in summary.find_elements(By.TAG_NAME, "a")]
    assert sorted(links) == ["certification_number", "certified_on"], links
    pages.check("staff-42-paper-error")
    _, still = applicant.call("GET", f"/applications/{case_id}")
    assert still["status"] == "finalised_for_paper"

    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=9)).date().isoformat()
    number = f"東局第{uuid.uuid4().hex[:6]}号"
    fill(driver, "certified_on", today)
    fill(driver, "certification_number", number)
    click_button(driver, "認定を登録する")
    assert "紙申請の認定を登録しました" in driver.page_source
    assert number in driver.page_source
    pages.check("staff-43-paper-recorded")
    _, certified = applicant.call("GET", f"/applications/{case_id}")
    assert certified["status"] == "certified"
    assert certified["certification"]["number"] == number
