//! The applicants' web pages, driven as a browser without JavaScript would: links, form posts
//! with the CSRF token as a field, redirects. The same journey runs in Chromium (with and
//! without JavaScript, with axe-core) in tests/browser.

use keiryoku_e2e::{
    Browser, Sent, api_url, complete_plan, json, logged_in, staff_logged_in, submitted, unique_key,
};
use serde_json::Value;

/// Every leaf of a plan as the form field its page posts (`/funds/0/purpose` → value).
fn form_fields(plan: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, pointer: String, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{pointer}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{pointer}/{i}"), out);
                }
            }
            Value::String(s) => out.push((pointer, s.clone())),
            Value::Null => {}
            other => out.push((pointer, other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk(plan, String::new(), &mut out);
    out
}

async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap_or_default()
}

/// The value of `name="…" value="…"` in a page (hidden fields).
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    page.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// Logs in from a page: `/auth/login?return_to=…` brings the person back there.
async fn logged_in_at(account: &str, return_to: &str) -> (Browser, reqwest::Response) {
    let browser = Browser::new();
    let response = browser
        .get(&format!(
            "/auth/login?login_hint={account}&return_to={}",
            return_to.replace('/', "%2F")
        ))
        .sent()
        .await;
    (browser, response)
}

/// Posts a page's form with its CSRF token as a field (no header, as a plain HTML form).
async fn post_form(
    browser: &Browser,
    path: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let mut fields = fields.to_vec();
    fields.push(("csrf_token".into(), browser.csrf()));
    browser
        .http
        .post(format!("{}{path}", api_url()))
        .form(&fields)
        .sent()
        .await
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

const SECTIONS: [&str; 14] = [
    "applicant",
    "business-fields",
    "guideline",
    "period",
    "current-state",
    "indicators",
    "measures",
    "funds",
    "equipment",
    "licences",
    "due-diligence",
    "contact",
    "support",
    "consents",
];

/// A new plan made on the pages: its id (the redirect after 「この内容で計画を作成する」).
async fn new_plan(browser: &Browser) -> String {
    let response = post_form(browser, "/plans", &[]).await;
    assert_eq!(response.status(), 200);
    let url = response.url().path().to_string();
    let id = url.trim_start_matches("/plans/").to_string();
    assert_eq!(id.len(), 36, "landed on {url}");
    id
}

/// Fills every section from the complete plan, each with its page's version.
async fn fill_every_section(browser: &Browser, id: &str) {
    let fields = form_fields(&complete_plan());
    for slug in SECTIONS {
        let page = text(
            browser
                .get(&format!("/plans/{id}/sections/{slug}"))
                .sent()
                .await,
        )
        .await;
        let mut posted = fields.clone();
        posted.push(pair("version", &hidden(&page, "version")));
        posted.push(pair("action", "save"));
        let response = post_form(browser, &format!("/plans/{id}/sections/{slug}"), &posted).await;
        assert_eq!(response.status(), 200, "{slug}");
        assert_eq!(response.url().path(), format!("/plans/{id}"), "{slug}");
    }
}

#[tokio::test]
async fn the_start_page_explains_and_links_to_login_and_policies() {
    let response = Browser::new().get("/").sent().await;
    assert_eq!(response.status(), 200);
    let csp = keiryoku_e2e::header(&response, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(keiryoku_e2e::header(&response, "content-type").starts_with("text/html"));
    let page = text(response).await;
    for needed in [
        "<html lang=\"ja\">",
        "GビズIDプライム",
        "href=\"/auth/login?return_to=%2Fmypage\"",
        "href=\"/privacy\"",
        "href=\"/accessibility\"",
        "href=\"/help\"",
    ] {
        assert!(page.contains(needed), "start page lacks {needed}");
    }
    let help = text(Browser::new().get("/help").sent().await).await;
    assert!(
        help.contains("中小企業税制サポートセンター（03-6281-9821）"),
        "the call centre"
    );
    for path in ["/privacy", "/accessibility", "/help", "/login/refused"] {
        let response = Browser::new().get(path).sent().await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(text(response).await.contains("<h1>"), "{path}");
    }
}

#[tokio::test]
async fn assets_are_served_under_their_content_hash_for_a_year() {
    let page = text(Browser::new().get("/").sent().await).await;
    let href = page
        .split("href=\"/assets/site-")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|rest| format!("/assets/site-{rest}"))
        .unwrap_or_default();
    let response = Browser::new().get(&href).sent().await;
    assert_eq!(response.status(), 200, "{href}");
    assert_eq!(
        keiryoku_e2e::header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let response = Browser::new()
        .get("/assets/site-0000000000.css")
        .sent()
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_page_without_login_offers_login_and_comes_back() {
    let response = Browser::new().get("/mypage").sent().await;
    assert_eq!(response.status(), 401);
    assert!(keiryoku_e2e::header(&response, "content-type").starts_with("text/html"));
    let page = text(response).await;
    assert!(
        page.contains("href=\"/auth/login?return_to=%2Fmypage\""),
        "{page}"
    );

    let (_, response) = logged_in_at("applicant-tokyo", "/mypage").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/mypage");
    let page = text(response).await;
    assert!(page.contains("株式会社霞が関精機"));

    // Only paths on the platform are a way back.
    let response = Browser::new()
        .get("/auth/login?login_hint=applicant-tokyo&return_to=https%3A%2F%2Fevil.example%2F")
        .sent()
        .await;
    assert_eq!(response.status(), 400);
    let response = Browser::new()
        .get("/auth/login?login_hint=applicant-tokyo&return_to=%2F%2Fevil.example%2F")
        .sent()
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_entry_account_gets_the_page_that_explains_why() {
    let (_, response) = logged_in_at("entry-user", "/mypage").await;
    assert_eq!(response.url().path(), "/login/refused");
    assert!(
        text(response)
            .await
            .contains("GビズIDエントリーでは申請できません")
    );
}

#[tokio::test]
async fn a_plan_is_filed_on_the_pages_from_prefill_to_confirmation() {
    let (browser, _) = logged_in_at("applicant-tokyo", "/mypage").await;

    // Prefill shows each value with where it came from.
    let page = text(browser.get("/plans/new").sent().await).await;
    assert!(page.contains("株式会社霞が関精機") && page.contains("Gビズインフォ"));

    let id = new_plan(&browser).await;
    let page = text(browser.get(&format!("/plans/{id}")).sent().await).await;
    assert!(page.contains("1. 名称等") && page.contains("14. 公表及びデータ利活用"));
    assert!(page.contains("未着手"));

    // A wrong value is kept and shown at its field, linked from the error summary.
    let form = text(
        browser
            .get(&format!("/plans/{id}/sections/applicant"))
            .sent()
            .await,
    )
    .await;
    assert!(form.contains("readonly"), "identity fields are read-only");
    let response = post_form(
        &browser,
        &format!("/plans/{id}/sections/applicant"),
        &[
            pair("version", &hidden(&form, "version")),
            pair("/applicant/employees", "四十二人くらい"),
            pair("/applicant/name", "他社の名前"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let page = text(response).await;
    assert!(page.contains("<title>エラー："), "title says error");
    assert!(
        page.contains("href=\"#f-applicant-employees\""),
        "summary links the field"
    );
    assert!(
        page.contains("value=\"四十二人くらい\""),
        "the input is kept"
    );
    assert!(page.contains("aria-describedby=\"f-applicant-employees-error\""));
    assert!(page.contains("株式会社霞が関精機") && !page.contains("他社の名前"));

    fill_every_section(&browser, &id).await;
    let page = text(browser.get(&format!("/plans/{id}")).sent().await).await;
    assert!(
        !page.contains("エラーあり") && !page.contains(">入力中<"),
        "{page}"
    );

    // Check your answers: every section, 変更 links, the routing in words.
    let check = text(browser.get(&format!("/plans/{id}/check")).sent().await).await;
    assert!(!check.contains("error-summary"), "no problems left");
    assert!(check.contains("関東経済産業局") && check.contains("標準処理期間"));
    assert!(check.contains(&format!(
        "href=\"/plans/{id}/sections/period#f-period-start\""
    )));

    // The declaration is required; the page says so and nothing is submitted.
    let submit = |declaration: bool| {
        let mut fields = vec![
            pair("version", &hidden(&check, "version")),
            pair("key", &hidden(&check, "key")),
        ];
        if declaration {
            fields.push(pair("declaration", "yes"));
        }
        fields
    };
    let response = post_form(&browser, &format!("/plans/{id}/submit"), &submit(false)).await;
    assert_eq!(response.status(), 422);
    assert!(text(response).await.contains("href=\"#declaration\""));

    let response = post_form(&browser, &format!("/plans/{id}/submit"), &submit(true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), format!("/plans/{id}/submitted"));
    let page = text(response).await;
    assert!(page.contains("申請を受け付けました") && page.contains("令和"));
    let receipt = page
        .split("受付番号<strong>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_default()
        .to_string();
    assert!(receipt.starts_with('R'), "{receipt}");

    // A double click (the same key) submits once and lands on the same confirmation.
    let again = post_form(&browser, &format!("/plans/{id}/submit"), &submit(true)).await;
    assert_eq!(again.url().path(), format!("/plans/{id}/submitted"));
    assert!(text(again).await.contains(&receipt));

    let mypage = text(browser.get("/mypage").sent().await).await;
    assert!(mypage.contains(&receipt) && mypage.contains("申請中"));
    // Filtered by status: submitted ones only; drafts are not listed there.
    let submitted_only = text(browser.get("/mypage?status=submitted").sent().await).await;
    assert!(
        submitted_only.contains(&receipt)
            && !submitted_only.contains("data-state=\"progress\">作成中")
    );
    let response = browser.get("/mypage?status=bogus").sent().await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_conflicting_save_shows_both_versions_and_loses_neither() {
    let (browser, _) = logged_in_at("applicant-osaka", "/mypage").await;
    let id = new_plan(&browser).await;
    let form = text(
        browser
            .get(&format!("/plans/{id}/sections/contact"))
            .sent()
            .await,
    )
    .await;
    let version = hidden(&form, "version");
    let save = |name: &str| {
        vec![
            pair("version", &version),
            pair("/contact/name", name),
            pair("action", "save"),
        ]
    };
    let first = post_form(
        &browser,
        &format!("/plans/{id}/sections/contact"),
        &save("浪速 太郎"),
    )
    .await;
    assert_eq!(first.status(), 200);
    let second = post_form(
        &browser,
        &format!("/plans/{id}/sections/contact"),
        &save("浪速 花子"),
    )
    .await;
    assert_eq!(second.status(), 409);
    let page = text(second).await;
    assert!(page.contains("別の画面で更新されています"));
    assert!(
        page.contains("浪速 太郎") && page.contains("浪速 花子"),
        "both versions shown"
    );
    // Nothing was overwritten: the stored plan still has the first save.
    let stored = json(browser.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(stored["plan"]["contact"]["name"], "浪速 太郎");
    // Saving again from the conflict page (its version) keeps the second person's input.
    let response = post_form(
        &browser,
        &format!("/plans/{id}/sections/contact"),
        &[
            pair("version", &hidden(&page, "version")),
            pair("/contact/name", "浪速 花子"),
            pair("action", "save"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let stored = json(browser.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(stored["plan"]["contact"]["name"], "浪速 花子");
}

#[tokio::test]
async fn a_returned_plan_is_fixed_at_the_commented_field_resubmitted_and_certified() {
    let (browser, _) = logged_in_at("applicant-tokyo", "/mypage").await;
    let id = new_plan(&browser).await;
    fill_every_section(&browser, &id).await;
    let check = text(browser.get(&format!("/plans/{id}/check")).sent().await).await;
    let submit = |page: &str| {
        vec![
            pair("version", &hidden(page, "version")),
            pair("key", &hidden(page, "key")),
            pair("declaration", "yes"),
        ]
    };
    let response = post_form(&browser, &format!("/plans/{id}/submit"), &submit(&check)).await;
    assert_eq!(response.url().path(), format!("/plans/{id}/submitted"));

    // The reviewer returns it with a comment at 現状認識④.
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let case = reviewer.get(&format!("/review/cases/{id}")).sent().await;
    let etag = keiryoku_e2e::header(&case, "etag");
    let response = reviewer
        .post(&format!("/review/cases/{id}/return"))
        .header("if-match", &etag)
        .json(&serde_json::json!({
            "message": "経営課題を具体的に記載してください。",
            "comments": [{"path": "/plan/current_state/challenges", "message": "課題の原因も記載してください。"}]
        }))
        .sent()
        .await;
    assert_eq!(response.status(), 200);

    // The mail's link opens the application page, which links the comment to its field.
    let mail_link = browser
        .http
        .get(format!("{}/applications/{id}", api_url()))
        .header("accept", "text/html,application/xhtml+xml")
        .sent()
        .await;
    assert_eq!(mail_link.url().path(), format!("/plans/{id}"));
    let page = text(mail_link).await;
    assert!(
        page.contains("修正を求められています") && page.contains("課題の原因も記載してください。")
    );
    let field_link = format!("/plans/{id}/sections/current-state#f-current_state-challenges");
    assert!(page.contains(&field_link), "{page}");
    assert!(page.contains("提出") && page.contains("差戻し"), "timeline");

    // Fix the field, resubmit.
    let form = text(
        browser
            .get(&format!("/plans/{id}/sections/current-state"))
            .sent()
            .await,
    )
    .await;
    assert!(form.contains("課題の原因も記載してください。"));
    let mut fields = form_fields(&complete_plan());
    fields.retain(|(k, _)| k.starts_with("/current_state"));
    fields.retain(|(k, _)| k != "/current_state/challenges");
    fields.push(pair(
        "/current_state/challenges",
        "熟練工の高齢化（平均58歳）で技能継承が遅れ、段取り時間が長い。",
    ));
    fields.push(pair("version", &hidden(&form, "version")));
    fields.push(pair("action", "save"));
    let response = post_form(
        &browser,
        &format!("/plans/{id}/sections/current-state"),
        &fields,
    )
    .await;
    assert_eq!(response.status(), 200);
    let check = text(browser.get(&format!("/plans/{id}/check")).sent().await).await;
    let response = post_form(&browser, &format!("/plans/{id}/submit"), &submit(&check)).await;
    assert_eq!(response.url().path(), format!("/plans/{id}/submitted"));

    // Approved: the page offers the certificate and a change application.
    let case = reviewer.get(&format!("/review/cases/{id}")).sent().await;
    let etag = keiryoku_e2e::header(&case, "etag");
    let approved = reviewer
        .post(&format!("/review/cases/{id}/approve"))
        .header("if-match", &etag)
        .sent()
        .await;
    assert_eq!(approved.status(), 200);
    let page = text(browser.get(&format!("/plans/{id}")).sent().await).await;
    assert!(page.contains("認定されました"));
    assert!(page.contains(&format!("href=\"/applications/{id}/certificate\"")));
    assert!(page.contains("/verify/"), "the verification URL is shown");
    assert!(
        page.contains("aria-label=\"確認用URLのQRコード\"><svg"),
        "and its QR code"
    );
    assert!(page.contains("まだダウンロードされていません"));
    assert!(
        page.contains("再提出"),
        "the timeline names the resubmission"
    );
    let change = post_form(
        &browser,
        &format!("/plans/{id}/change"),
        &[pair("key", &hidden(&page, "key"))],
    )
    .await;
    assert_eq!(change.status(), 200);
    let page = text(change).await;
    assert!(page.contains("変更申請") && page.contains("作成中"));
}

#[tokio::test]
async fn another_companys_plan_is_not_found_as_a_page() {
    let (tokyo, _) = logged_in_at("applicant-tokyo", "/mypage").await;
    let id = new_plan(&tokyo).await;
    let (osaka, _) = logged_in_at("applicant-osaka", "/mypage").await;
    for path in [
        format!("/plans/{id}"),
        format!("/plans/{id}/sections/applicant"),
        format!("/plans/{id}/check"),
        "/plans/not-an-id".to_string(),
        format!("/plans/{id}/sections/no-such-section"),
    ] {
        let response = osaka.get(&path).sent().await;
        assert_eq!(response.status(), 404, "{path}");
        let page = text(response).await;
        assert!(
            page.contains("<h1>見つかりません</h1>"),
            "{path}: an HTML page"
        );
    }
}

/// Saves `fields` on a section page as the page's form does (with its version).
async fn save_section(
    browser: &Browser,
    id: &str,
    slug: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let path = format!("/plans/{id}/sections/{slug}");
    let page = text(browser.get(&path).sent().await).await;
    let mut posted = fields.to_vec();
    posted.push(pair("version", &hidden(&page, "version")));
    posted.push(pair("action", "save"));
    post_form(browser, &path, &posted).await
}

/// A plan across two fields cites both guidelines: the guideline page adds the second one, each
/// indicator says which guideline it answers, check your answers says what is missing, and the
/// 該当箇所 are offered in each guideline's own order (a drop-down for the 基本方針's complete
/// list, suggestions under a text field where the list is partial).
#[tokio::test]
async fn a_plan_across_fields_cites_several_guidelines_on_the_pages() {
    let (browser, _) = logged_in_at("applicant-tokyo", "/mypage").await;
    let id = new_plan(&browser).await;
    fill_every_section(&browser, &id).await;
    let page = async |path: String| text(browser.get(&path).sent().await).await;

    // 基本方針: its four items as a drop-down, in its order.
    let basic_policy = [pair("/guideline_id", "basic_policy")];
    let saved = save_section(&browser, &id, "guideline", &basic_policy).await;
    assert_eq!(saved.status(), 200);
    let measures = page(format!("/plans/{id}/sections/measures")).await;
    let basic = measures
        .split("id=\"f-measures-items-0-guideline_reference\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .unwrap_or_default();
    let first = basic.find("人材の育成").unwrap_or(usize::MAX);
    let last = basic
        .find("経営能率の向上のための情報システムの構築")
        .unwrap_or(0);
    assert!(first < last, "the 基本方針's items in its order: {basic}");

    // 製造業 + 学習塾業: the second guideline is added as a row of the guideline page.
    let guideline_page = page(format!("/plans/{id}/sections/guideline")).await;
    assert!(guideline_page.contains("name=\"/additional_guidelines/0/guideline_id\""));
    let joint = [
        pair("/guideline_id", "manufacturing"),
        pair("/additional_guidelines/0/guideline_id", "cram_schools"),
    ];
    assert_eq!(
        save_section(&browser, &id, "guideline", &joint)
            .await
            .status(),
        200
    );

    // 該当箇所: partial lists, so a text field with both guidelines' items suggested.
    let measures = page(format!("/plans/{id}/sections/measures")).await;
    assert!(measures.contains("list=\"f-measures-items-0-guideline_reference-list\""));
    let suggested = measures
        .split("<datalist id=\"f-measures-items-0-guideline_reference-list\">")
        .nth(1)
        .and_then(|rest| rest.split("</datalist>").next())
        .unwrap_or_default();
    assert!(
        suggested.contains("製造業：イ 従業員等に関する事項"),
        "{suggested}"
    );
    assert!(suggested.contains("学習塾業：③ 人材"), "{suggested}");

    // Each indicator says its guideline; without one for 学習塾業 the plan cannot be submitted.
    let indicators = page(format!("/plans/{id}/sections/indicators")).await;
    assert!(indicators.contains("name=\"/indicators/0/guideline_id\""));
    assert!(indicators.contains("<option value=\"cram_schools\">学習塾業</option>"));
    let check = page(format!("/plans/{id}/check")).await;
    assert!(
        check.contains("学習塾業の指標を1つ以上入力してください"),
        "check your answers names the guideline without an indicator"
    );

    // The equipment page says what each 類型 needs, from the rules table.
    let equipment = page(format!("/plans/{id}/sections/equipment")).await;
    assert!(equipment.contains("投資利益率が年平均7%以上"));
    assert!(equipment.contains("C類型（デジタル化設備）：2025年3月31日で廃止されました。"));
    assert!(
        !equipment.contains("<option value=\"C\""),
        "C is no longer offered"
    );
}

// ---------------------------------------------------------------- the staff's pages

/// Logs a reviewer in from a staff page: the staff login brings them back to `return_to`.
async fn staff_at(account: &str, return_to: &str) -> (Browser, reqwest::Response) {
    let browser = Browser::new();
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    let response = browser
        .get(&format!(
            "/staff/login?login_hint={account}&return_to={encoded}"
        ))
        .sent()
        .await;
    (browser, response)
}

#[tokio::test]
async fn a_reviewer_returns_and_certifies_a_case_in_the_pages() {
    let applicant = logged_in("applicant-tokyo").await;
    let record = submitted(&applicant, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let receipt = record["submission"]["receipt_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // Logging in from the case's link comes back to the case.
    let (staff, response) = staff_at("reviewer-kanto-meti", &format!("/staff/cases/{id}")).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .url()
            .path()
            .ends_with(&format!("/staff/cases/{id}"))
    );
    let case = text(response).await;
    assert!(case.contains(&receipt), "the case shows its 受付番号");
    assert!(case.contains("計画の内容（様式第1）"));
    assert!(case.contains("申請者の本人確認（GビズID）"));
    assert!(case.contains("関東経済産業局"), "the routing is explained");
    assert!(case.contains(&format!("href=\"/staff/cases/{id}/approve\"")));

    // The queue lists it, earliest due date first, with a link to the case.
    let queue = text(staff.get("/staff?limit=200").sent().await).await;
    assert!(queue.contains("審査待ち"), "the counts per state");
    assert!(
        queue.contains("href=\"/staff/cases?status=returned\""),
        "each count leads to the search of its state"
    );
    assert!(queue.contains(&format!("href=\"/staff/cases/{id}\"")));
    let filtered = text(staff.get("/staff?resubmission=true&limit=200").sent().await).await;
    assert!(
        !filtered.contains(&format!("href=\"/staff/cases/{id}\"")),
        "a first submission is not a resubmission"
    );

    // The return form has a comment box at every field; an empty message is refused at its field.
    let form = text(staff.get(&format!("/staff/cases/{id}/return")).sent().await).await;
    assert!(form.contains("name=\"comment:/plan/period/start\""));
    let version = hidden(&form, "version");
    let refused = post_form(
        &staff,
        &format!("/staff/cases/{id}/return"),
        &[
            pair("version", &version),
            pair("message", " "),
            pair("action", "preview"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let refused = text(refused).await;
    assert!(
        refused.contains("href=\"#message\""),
        "the error summary links the field"
    );

    // The preview shows what the applicant will see, and returns nothing yet.
    let words = [
        pair("version", &version),
        pair("message", "実施時期を見直してください。"),
        pair(
            "comment:/plan/period/start",
            "開始月が設備の取得より後です。",
        ),
        pair("comment:/plan/company/capital_yen", ""),
    ];
    let mut preview_fields = words.to_vec();
    preview_fields.push(pair("action", "preview"));
    let preview = post_form(
        &staff,
        &format!("/staff/cases/{id}/return"),
        &preview_fields,
    )
    .await;
    assert_eq!(preview.status(), 200);
    let preview = text(preview).await;
    assert!(preview.contains("修正を求められています"));
    assert!(preview.contains("実施時期：開始月が設備の取得より後です。"));
    assert!(preview.contains(&format!("/plans/{id}/sections/period#f-period-start")));
    let status = json(applicant.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(status["status"], "submitted", "a preview returns nothing");

    // Confirming returns it with exactly the previewed words.
    let mut confirm = words.to_vec();
    confirm.push(pair("action", "confirm"));
    let done = post_form(&staff, &format!("/staff/cases/{id}/return"), &confirm).await;
    assert_eq!(done.status(), 200);
    assert!(text(done).await.contains("差し戻しました"));
    let returned = json(applicant.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(
        returned["returned"]["comments"][0]["path"],
        "/plan/period/start"
    );
    assert_eq!(
        returned["returned"]["comments"].as_array().map(Vec::len),
        Some(1)
    );

    // The applicant resubmits; the case shows the difference against the returned version.
    let response = applicant
        .http
        .patch(format!("{}/applications/{id}", api_url()))
        .header("x-csrf-token", applicant.csrf())
        .header("if-match", format!("\"{}\"", returned["version"]))
        .json(
            &serde_json::json!({"current_state": {"challenges": "熟練工の高齢化による技能継承。"}}),
        )
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let response = applicant
        .post(&format!("/applications/{id}/submit"))
        .header("idempotency-key", unique_key("resubmit"))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let case = text(staff.get(&format!("/staff/cases/{id}")).sent().await).await;
    assert!(
        case.contains("差し戻した版"),
        "the comparison with the returned version"
    );
    assert!(
        case.contains("data-changed=\"true\""),
        "changed fields are highlighted"
    );
    let resubmissions = text(staff.get("/staff?resubmission=true&limit=200").sent().await).await;
    assert!(resubmissions.contains(&format!("href=\"/staff/cases/{id}\"")));

    // Approval shows the 認定番号 it will issue, then issues one.
    let confirm = text(
        staff
            .get(&format!("/staff/cases/{id}/approve"))
            .sent()
            .await,
    )
    .await;
    assert!(confirm.contains("発行される認定番号"));
    let version = hidden(&confirm, "version");
    let done = post_form(
        &staff,
        &format!("/staff/cases/{id}/approve"),
        &[pair("version", &version)],
    )
    .await;
    assert_eq!(done.status(), 200);
    assert!(text(done).await.contains("認定しました"));
    let certified = json(applicant.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(certified["status"], "certified");

    // A second decision from a page read before is told the case moved on, and changes nothing.
    let stale = post_form(
        &staff,
        &format!("/staff/cases/{id}/reject"),
        &[pair("version", &version), pair("reason", "理由")],
    )
    .await;
    assert_eq!(stale.status(), 409);
    assert!(text(stale).await.contains("この案件は更新されています"));
    let after = json(applicant.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(after["status"], "certified");
    assert_eq!(after["version"], certified["version"]);
}

#[tokio::test]
async fn staff_pages_bring_people_to_the_staff_login_and_back() {
    // Nobody signed in: /staff is the staff login, other pages say how to log in and come back.
    let anonymous = Browser::new();
    let start = anonymous.get("/staff").sent().await;
    assert_eq!(start.status(), 200);
    assert!(text(start).await.contains("職員用アカウントでログインする"));
    let search = anonymous.get("/staff/cases?company=%E9%9C%9E").sent().await;
    assert_eq!(search.status(), 401);
    assert!(
        text(search)
            .await
            .contains("/staff/login?return_to=%2Fstaff%2Fcases%3Fcompany%3D%25E9%259C%259E")
    );

    // An applicant is told the pages are for staff.
    let applicant = logged_in("applicant-tokyo").await;
    assert_eq!(applicant.get("/staff/cases").sent().await.status(), 403);

    // Search: a bad condition is named at its field; the conditions are the URL; CSV of the same.
    let staff = staff_logged_in("reviewer-kanto-meti").await;
    let bad = staff
        .get("/staff/cases?received_from=2026%2F01%2F01&company=")
        .sent()
        .await;
    assert_eq!(bad.status(), 422);
    assert!(text(bad).await.contains("href=\"#received_from\""));
    let record = submitted(&applicant, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default();
    let corporate = record["plan"]["applicant"]["corporate_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let found = text(
        staff
            .get(&format!(
                "/staff/cases?corporate_number={corporate}&status=submitted&limit=200"
            ))
            .sent()
            .await,
    )
    .await;
    assert!(found.contains(&format!("href=\"/staff/cases/{id}\"")));
    let found = found.replace("&#38;", "&").replace("&amp;", "&");
    assert!(found.contains(&format!(
        "/review/cases.csv?corporate_number={corporate}&status=submitted&limit=200"
    )));

    // Another authority's reviewer does not see the case (404, as if it did not exist).
    let kinki = staff_logged_in("reviewer-kinki-meti").await;
    assert_eq!(
        kinki
            .get(&format!("/staff/cases/{id}"))
            .sent()
            .await
            .status(),
        404
    );

    // Logging out of a staff page ends the identity provider's session too: the provider's
    // end-session page (RP-Initiated Logout, with the login's ID token as the hint) asks once,
    // then the browser is back at the staff login.
    let out = post_form(&staff, "/auth/logout", &[]).await;
    assert_eq!(out.status(), 200);
    assert!(out.url().path().ends_with("/oauth/logout"), "{}", out.url());
    let query: std::collections::HashMap<String, String> =
        out.url().query_pairs().into_owned().collect();
    assert!(query.contains_key("id_token_hint"), "{query:?}");
    assert!(query["post_logout_redirect_uri"].ends_with("/staff?logged_out=1"));
    let confirm = text(out).await;
    let action = confirm
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let idp = std::env::var("KEIRYOKU_IDP_URL").unwrap_or_default();
    let action = match action.starts_with("http") {
        true => action,
        false => format!("{idp}{action}"),
    };
    let back = staff
        .http
        .post(&action)
        .form(&[("xsrf", hidden(&confirm, "xsrf")), ("logout", "yes".into())])
        .sent()
        .await;
    assert!(
        back.url().as_str().ends_with("/staff?logged_out=1"),
        "{}",
        back.url()
    );
    assert!(text(back).await.contains("ログアウトしました"));
    // The provider no longer knows this browser: logging in asks who it is.
    let again = staff.get("/staff/login").sent().await;
    assert!(again.url().as_str().starts_with(&idp), "{}", again.url());
    assert!(text(again).await.contains("開発用ログイン"));
}

#[tokio::test]
async fn a_head_office_reader_searches_and_reads_across_its_ministry_but_cannot_decide() {
    let applicant = logged_in("applicant-tokyo").await;
    let record = submitted(&applicant, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();

    // The staff start page sends a reader to the search, which covers 経済産業省.
    let (reader, response) = staff_at("reader-meti", "/staff").await;
    assert_eq!(response.status(), 200);
    assert!(response.url().path().ends_with("/staff/cases"));
    let start = text(response).await;
    assert!(start.contains("検索の範囲：経済産業省"));
    assert!(!start.contains("href=\"/staff\""), "no queue in the menu");

    // The case of 関東経済産業局 is found, the row naming its authority.
    let found = text(
        reader
            .get("/staff/cases?corporate_number=9010401234567&limit=200")
            .sent()
            .await,
    )
    .await;
    assert!(found.contains(&format!("href=\"/staff/cases/{id}\"")));
    assert!(found.contains("<th scope=\"col\">行政庁</th>"));
    assert!(found.contains("関東経済産業局"));

    // The case reads in full, without the decision buttons; the decision pages are refused.
    let case = text(reader.get(&format!("/staff/cases/{id}")).sent().await).await;
    assert!(case.contains("計画の内容（様式第1）"));
    assert!(!case.contains(&format!("href=\"/staff/cases/{id}/approve\"")));
    for action in ["approve", "return", "reject"] {
        let refused = reader
            .get(&format!("/staff/cases/{id}/{action}"))
            .sent()
            .await;
        assert_eq!(refused.status(), 403, "{action}");
        assert!(text(refused).await.contains("審査担当のみ"));
    }

    // A reader of another ministry's network does not find it.
    let (other, _) = staff_at("reader-transport", "/staff").await;
    let missing = other.get(&format!("/staff/cases/{id}")).sent().await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn an_administrator_manages_the_directory_and_every_change_is_recorded() {
    let (admin, response) = staff_at("admin-staff", "/staff").await;
    assert_eq!(response.status(), 200);
    assert!(response.url().path().ends_with("/staff/directory"));
    let list = text(response).await;
    assert!(
        list.contains("関東 審査一"),
        "the seeded reviewer is listed"
    );

    // An incomplete entry is refused with the problems linked to their fields.
    let sub = format!("e2e{}", unique_key("s").replace(['-', ':'], ""));
    let sub = &sub[..sub.len().min(40)];
    let refused = post_form(
        &admin,
        "/staff/directory/new",
        &[
            pair("sub", sub),
            pair("name", ""),
            pair("role", "reviewer"),
            pair("place", "ministry:meti"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let refused = text(refused).await;
    assert!(refused.contains("href=\"#name\""));
    assert!(refused.contains("href=\"#place\""));

    // Added as a reviewer of 関東経済産業局.
    let added = post_form(
        &admin,
        "/staff/directory/new",
        &[
            pair("sub", sub),
            pair("name", "試験 追加"),
            pair("email", "tsuika@example.go.jp"),
            pair("role", "reviewer"),
            pair("place", "office:meti-kanto"),
        ],
    )
    .await;
    assert_eq!(added.status(), 200, "followed to the entry");
    let page = text(added).await;
    assert!(page.contains("追加しました。"));
    let version = hidden(&page, "version");

    // Changed to a reader of the 経済産業局 network.
    let entry = format!("/staff/directory/{sub}");
    let changed = post_form(
        &admin,
        &entry,
        &[
            pair("version", &version),
            pair("name", "試験 追加"),
            pair("email", "tsuika@example.go.jp"),
            pair("role", "reader"),
            pair("place", "network:meti-bureaus"),
            pair("action", "save"),
        ],
    )
    .await;
    let page = text(changed).await;
    assert!(page.contains("変更しました。"));

    // A form read before the change is stale: told, not applied.
    let stale = post_form(
        &admin,
        &entry,
        &[pair("version", &version), pair("action", "deactivate")],
    )
    .await;
    assert_eq!(stale.status(), 409);

    // Deactivated on the current version.
    let current = text(admin.get(&entry).sent().await).await;
    let deactivated = post_form(
        &admin,
        &entry,
        &[
            pair("version", &hidden(&current, "version")),
            pair("action", "deactivate"),
        ],
    )
    .await;
    let page = text(deactivated).await;
    assert!(page.contains("無効にしました。"));

    // The change log shows the three changes, newest first, with who made them.
    let log = &page[page.find("変更の記録").unwrap_or(0)..];
    let actions: Vec<&str> = ["無効化", "変更", "追加"]
        .into_iter()
        .filter(|a| log.contains(&format!(">{a}</td>")))
        .collect();
    assert_eq!(actions, ["無効化", "変更", "追加"]);
    assert!(
        log.contains("審査担当（関東経済産業局）"),
        "the entry before"
    );
    assert!(
        log.contains("局・本省 閲覧（経済産業局 全局）"),
        "and after"
    );
    assert!(log.contains("名簿 管理三（900031）"), "who changed it");
    let newest = log.find(">無効化</td>").unwrap_or(usize::MAX);
    let oldest = log.find(">追加</td>").unwrap_or(0);
    assert!(newest < oldest, "newest first");

    // The administrator's own entry is shown, not changeable.
    let own = text(admin.get("/staff/directory/900031").sent().await).await;
    assert!(own.contains("自分の登録は変更できません。"));
    let refused = post_form(
        &admin,
        "/staff/directory/900031",
        &[pair("version", "1"), pair("action", "deactivate")],
    )
    .await;
    assert_eq!(refused.status(), 403);
}

/// A lost laptop: an administrator sees a staff member's sessions on the entry page and ends
/// them all; the member must log in again, and the change log says who did it.
#[tokio::test]
async fn an_administrator_ends_every_session_of_a_staff_member() {
    // 東京国税 審査五, logged in on two machines.
    let (first, _) = staff_at("reviewer-tokyo-nta", "/staff").await;
    let (second, _) = staff_at("reviewer-tokyo-nta", "/staff").await;
    for machine in [&first, &second] {
        assert_eq!(machine.get("/review/queue").sent().await.status(), 200);
    }
    let (admin, _) = staff_at("admin-staff", "/staff").await;
    let entry = "/staff/directory/900005";
    let page = text(admin.get(entry).sent().await).await;
    let listed = page
        .split("ログイン中のセッション")
        .nth(1)
        .unwrap_or_default()
        .matches("<tr><td>")
        .count();
    assert!(listed >= 2, "both sessions are listed: {page}");

    let ended = post_form(
        &admin,
        entry,
        &[
            pair("version", &hidden(&page, "version")),
            pair("action", "end_sessions"),
        ],
    )
    .await;
    let page = text(ended).await;
    assert!(page.contains("セッションをすべて終了しました。"), "{page}");
    assert!(
        page.contains("ログイン中のセッションはありません。"),
        "{page}"
    );
    assert!(page.contains(">セッションを終了</td>"), "in the change log");
    // Neither machine is signed in any more (the provider's own session is another matter:
    // it ends with GビズID's logout or timeout).
    for machine in [&first, &second] {
        let queue = machine.get("/review/queue").sent().await;
        assert_eq!(queue.status(), 401);
    }
}

#[tokio::test]
async fn every_staff_read_is_recorded_for_the_auditors_and_not_shown_to_the_applicant() {
    let applicant = logged_in("applicant-tokyo").await;
    let record = submitted(&applicant, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let history = |browser: &Browser| {
        let url = format!("/applications/{id}/history?limit=200");
        let browser = browser.clone();
        async move { json(browser.get(&url).sent().await).await["items"].clone() }
    };
    let trail_before = history(&applicant).await;

    // A reviewer reads the case as a page (twice), as JSON, its trail and its PDF; the 企画課
    // reads the page and takes a CSV.
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    for path in [
        format!("/staff/cases/{id}"),
        format!("/review/cases/{id}"),
        format!("/review/cases/{id}/history"),
    ] {
        assert_eq!(reviewer.get(&path).sent().await.status(), 200, "{path}");
    }
    // The application PDF, linked from the case page.
    let case_page = text(reviewer.get(&format!("/staff/cases/{id}")).sent().await).await;
    let pdf_link = format!("/review/cases/{id}/application.pdf");
    assert!(case_page.contains(&format!("href=\"{pdf_link}\"")));
    let pdf = reviewer.get(&pdf_link).sent().await;
    assert_eq!(pdf.status(), 200);
    assert!(pdf.bytes().await.unwrap_or_default().starts_with(b"%PDF"));
    let planning = staff_logged_in("planning-chusho").await;
    assert_eq!(
        planning
            .get(&format!("/staff/cases/{id}"))
            .sent()
            .await
            .status(),
        200
    );
    let marker = unique_key("csv").replace('-', "");
    let extract = planning
        .get(&format!("/review/cases.csv?company={marker}"))
        .sent()
        .await;
    assert!(extract.status().is_success() || extract.status().is_redirection());

    // The applicant's history is what it was: staff reads are not the applicant's business.
    assert_eq!(history(&applicant).await, trail_before);

    // The auditors find every read of the case, newest first, with role and kind.
    let (admin, _) = staff_at("admin-staff", "/staff").await;
    let page = text(
        admin
            .get(&format!("/staff/audit?application={id}"))
            .sent()
            .await,
    )
    .await;
    let rows = page.matches(&format!("：{id}</td>")).count();
    assert_eq!(rows, 6, "six reads of the case listed");
    assert!(page.contains(&format!("申請書のPDF：{id}")));
    assert!(page.contains("関東 審査一（900001）"));
    assert!(page.contains("審査担当（関東経済産業局）"));
    assert!(page.contains("企画課 計画二（900021）"));
    assert!(page.contains(&format!("監査記録：{id}")));
    let newest = page.find("企画課 計画二（900021）").unwrap_or(usize::MAX);
    let oldest = page.rfind("関東 審査一（900001）").unwrap_or(0);
    assert!(newest < oldest, "newest first");

    // By staff member, and the extracts with their conditions.
    let by_reader = text(planning.get("/staff/audit?sub=900021").sent().await).await;
    assert!(by_reader.contains(&format!("案件：{id}")));
    let extracts = text(planning.get("/staff/audit").sent().await).await;
    assert!(
        extracts.contains(&format!("company={marker}")),
        "the extract's conditions"
    );

    // A reviewer may not search the reads.
    assert_eq!(reviewer.get("/staff/audit").sent().await.status(), 403);
}

#[tokio::test]
async fn an_entry_written_before_versions_existed_can_still_be_changed() {
    // An entry as the directory held it before entries carried a version.
    let sub = format!("legacy{}", &unique_key("l")[2..14]);
    let body = serde_json::json!({
        "sub": sub, "name": "旧 登録", "office_id": "meti-kanto", "role": "reviewer"
    });
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_string());
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_dynamodb::Client::new(&config)
        .put_item()
        .table_name(keiryoku_e2e::table_name())
        .item("pk", s(&format!("STAFF#{sub}")))
        .item("sk", s("STAFF"))
        .item("kind", s("staff"))
        .item("body", s(&body.to_string()))
        .item("gsi1pk", s("STAFF"))
        .item("gsi1sk", s(&format!("meti-kanto#{sub}")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));

    // The administrator deactivates it (a compromised account must be stoppable).
    let (admin, _) = staff_at("admin-staff", "/staff").await;
    let entry = format!("/staff/directory/{sub}");
    let page = text(admin.get(&entry).sent().await).await;
    assert_eq!(hidden(&page, "version"), "0");
    let done = post_form(
        &admin,
        &entry,
        &[pair("version", "0"), pair("action", "deactivate")],
    )
    .await;
    assert_eq!(done.status(), 200);
    assert!(text(done).await.contains("無効にしました。"));
}

#[tokio::test]
async fn an_applicant_withdraws_the_data_use_consent_from_the_plan_page() {
    let tokyo = logged_in("applicant-tokyo").await;
    let record = submitted(&tokyo, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let page = text(tokyo.get(&format!("/plans/{id}")).sent().await).await;
    assert!(
        page.contains("データの利活用への同意"),
        "the consent is shown"
    );
    assert!(page.contains(&format!("/plans/{id}/consent/withdraw")));

    let confirm = text(
        tokyo
            .get(&format!("/plans/{id}/consent/withdraw"))
            .sent()
            .await,
    )
    .await;
    assert!(confirm.contains("撤回は元に戻せません"));
    let done = post_form(
        &tokyo,
        &format!("/plans/{id}/consent/withdraw"),
        &[pair("version", &hidden(&confirm, "version"))],
    )
    .await;
    assert_eq!(done.url().path(), format!("/plans/{id}"));
    let page = text(done).await;
    assert!(
        page.contains("に撤回しました"),
        "the page says it is withdrawn"
    );
    assert!(!page.contains(&format!("/plans/{id}/consent/withdraw")));
    let stored = json(tokyo.get(&format!("/applications/{id}")).sent().await).await;
    assert!(
        stored["consent"]["data_use_withdrawn_at"].is_string(),
        "{stored}"
    );
    // Posting the same form again (an old page) changes nothing and is refused as a page.
    let again = post_form(
        &tokyo,
        &format!("/plans/{id}/consent/withdraw"),
        &[pair("version", &hidden(&confirm, "version"))],
    )
    .await;
    assert!(again.status().is_client_error(), "{}", again.status());
}
