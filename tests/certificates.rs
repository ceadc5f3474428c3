//! Certificates and mail, end to end: approval → the 認定書 in S3 within seconds, readable by
//! pdftotext and pdftoppm, its SHA-256 confirmed by public verification; the mail in moto's
//! outbox to the address on record; downloads recorded and refused to others; an SES outage
//! parks the mail and an operator's replay sends it exactly once.

use std::time::Duration;

use keiryoku_e2e::{
    Browser, Sent, api_url, complete_plan, json, logged_in, problem, s3, staff_logged_in,
    submitted, table_name, unique_key,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The tests of this file run one at a time: one of them takes SES down, and every approval or
/// submission of the others sends mail.
static SES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const APPLICANT_EMAIL: &str = "ichiro.keizai@kasumigaseki-seiki.example.jp";

use keiryoku_e2e::certified;

/// The certificate PDF through the owner's download (303 to a short-lived link, followed).
async fn download_when_ready(owner: &Browser, id: &str) -> Vec<u8> {
    for _ in 0..300 {
        let response = owner
            .get(&format!("/applications/{id}/certificate"))
            .sent()
            .await;
        if response.status() == 200 {
            return response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default();
        }
        assert_eq!(response.status(), 409, "not ready yet, or an error");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no certificate for {id} within 30 seconds");
}

/// Every mail moto's SES has sent.
async fn outbox() -> Vec<Value> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let data = json(
        reqwest::get(format!("{endpoint}/moto-api/data.json"))
            .await
            .unwrap_or_else(|e| panic!("moto: {e}")),
    )
    .await;
    data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn mail_about<'a>(outbox: &'a [Value], needle: &str) -> Vec<&'a Value> {
    outbox
        .iter()
        .filter(|m| m["body"].as_str().unwrap_or_default().contains(needle))
        .collect()
}

/// The mail whose body contains `needle`, once at least one has arrived (30 s at most).
async fn mail_arriving(needle: &str) -> Vec<Value> {
    for _ in 0..300 {
        let found: Vec<Value> = mail_about(&outbox().await, needle)
            .into_iter()
            .cloned()
            .collect();
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}

fn run(program: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (make setup installs poppler-utils)"));
    assert!(output.status.success(), "{program} {args:?} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn approval_issues_a_verifiable_certificate_and_mails_the_applicant() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    let record = certified(&owner).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let number = record["certification"]["number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let pdf = download_when_ready(&owner, &id).await;
    assert!(pdf.starts_with(b"%PDF"), "a PDF");

    // Read as people and machines read it.
    let dir = std::env::temp_dir().join(format!("keiryoku-cert-{id}"));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let path = dir.join("certificate.pdf");
    std::fs::write(&path, &pdf).unwrap_or_default();
    let text = run("pdftotext", &[&path.display().to_string(), "-"]);
    assert!(text.contains("株式会社霞が関精機"), "{text}");
    assert!(text.contains(&number), "{text}");
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    let wareki = format!(
        "令和{}年{}月{}日",
        if today.year() == 2019 {
            "元".to_string()
        } else {
            (today.year() - 2018).to_string()
        },
        u8::from(today.month()),
        today.day()
    );
    assert!(text.contains(&wareki), "{wareki} in {text}");
    let image = dir.join("page");
    run(
        "pdftoppm",
        &[
            "-r",
            "40",
            "-png",
            "-singlefile",
            &path.display().to_string(),
            &image.display().to_string(),
        ],
    );
    assert!(std::fs::metadata(dir.join("page.png")).is_ok_and(|m| m.len() > 1000));

    // Public verification, without login: valid, and the SHA-256 of the downloaded bytes.
    let certificate_id = printed_certificate_id(&pdf, "approval");
    let anyone = Browser::new();
    let verified = json(
        anyone
            .get(&format!("/verify/{certificate_id}"))
            .sent()
            .await,
    )
    .await;
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["certification_number"], number);
    let sha: String = Sha256::digest(&pdf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(verified["sha256"], sha);
    let unknown = problem(
        anyone
            .get("/verify/00000000-0000-0000-0000-000000000000")
            .sent()
            .await,
        404,
    )
    .await;
    assert_eq!(unknown["type"], "urn:keiryoku:problem:unknown-certificate");
    // The check is recorded, and kept a year (docs/retention.md): DynamoDB's TTL removes it.
    let checks = keiryoku_e2e::dynamodb()
        .await
        .query()
        .table_name(table_name())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CHECKS#{certificate_id}")),
        )
        .send()
        .await
        .map(|o| o.items().to_vec())
        .unwrap_or_default();
    assert_eq!(checks.len(), 1);
    let expires: i64 = match checks[0].get("ttl") {
        Some(aws_sdk_dynamodb::types::AttributeValue::N(n)) => n.parse().unwrap_or_default(),
        other => panic!("no ttl: {other:?}"),
    };
    let in_days = (expires - time::OffsetDateTime::now_utc().unix_timestamp()) / 86_400;
    assert!((365..=366).contains(&in_days), "kept {in_days} days");

    // The mail went to the address on record, with the fixed subject, once.
    let mails = mail_arriving(&number).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(
        mails[0]["destinations"]["ToAddresses"],
        json!([APPLICANT_EMAIL])
    );
    assert!(
        mails[0]["subject"]
            .as_str()
            .unwrap_or_default()
            .starts_with("【経営力向上計画】計画が認定されました")
    );

    // Every download is listed, to the owner and to the reviewers; nobody else downloads.
    let other = logged_in("applicant-osaka").await;
    problem(
        other
            .get(&format!("/applications/{id}/certificate"))
            .sent()
            .await,
        404,
    )
    .await;
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    problem(
        reviewer
            .get(&format!("/applications/{id}/certificate"))
            .sent()
            .await,
        403,
    )
    .await;
    download_when_ready(&owner, &id).await;
    let listed = json(
        owner
            .get(&format!("/applications/{id}/certificate/downloads"))
            .sent()
            .await,
    )
    .await;
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["sub"], "100001");
    assert_eq!(items[0]["source_ip"], "127.0.0.1");
    let seen_by_reviewer = json(
        reviewer
            .get(&format!("/review/cases/{id}/downloads"))
            .sent()
            .await,
    )
    .await;
    assert_eq!(seen_by_reviewer["items"], listed["items"]);
    let other_authority = staff_logged_in("reviewer-kinki-meti").await;
    problem(
        other_authority
            .get(&format!("/review/cases/{id}/downloads"))
            .sent()
            .await,
        404,
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

fn admin(args: &[&str]) -> std::process::Output {
    let binary = keiryoku_e2e::admin_binary();
    std::process::Command::new(&binary)
        .args(args)
        .env("TABLE_NAME", table_name())
        .env(
            "DOCUMENTS_BUCKET",
            std::env::var("KEIRYOKU_BUCKET").unwrap_or_default(),
        )
        .env(
            "MAIL_FROM",
            std::env::var("KEIRYOKU_MAIL_FROM").unwrap_or_default(),
        )
        .env("PUBLIC_BASE_URL", api_url())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()))
}

#[tokio::test]
async fn an_ses_outage_parks_the_mail_and_a_replay_sends_it_exactly_once() {
    let _ses = SES.lock().await;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let ses = aws_sdk_sesv2::Client::new(&config);
    let domain = std::env::var("KEIRYOKU_MAIL_FROM")
        .unwrap_or_default()
        .split('@')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    // SES refuses to send from an unverified identity: the outage.
    ses.delete_email_identity()
        .email_identity(&domain)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let owner = logged_in("applicant-tokyo").await;
    let record = certified(&owner).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let number = record["certification"]["number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The certificate does not need SES: it is issued anyway.
    download_when_ready(&owner, &id).await;

    // The mail is retried, then parked for an operator.
    let key = format!("{id}#{}#mail:certified", record["version"]);
    let mut parked = false;
    for _ in 0..300 {
        let listed = String::from_utf8_lossy(&admin(&["effects", "list"]).stdout).into_owned();
        if listed.contains(&key) {
            assert!(
                listed.contains("Email address not verified") || listed.contains("not verified"),
                "{listed}"
            );
            parked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Restore SES before asserting, so that a failure here does not break later tests.
    ses.create_email_identity()
        .email_identity(&domain)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(parked, "{key} parked");
    assert!(
        mail_about(&outbox().await, &number).is_empty(),
        "no mail while SES is down"
    );

    // The operator replays it: one mail. A second replay is refused: still one.
    let replay = admin(&["effects", "replay", "--key", &key]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let again = admin(&["effects", "replay", "--key", &key]);
    assert!(!again.status.success(), "a done effect is not parked");
    let mails = mail_about(&outbox().await, &number).len();
    assert_eq!(mails, 1);

    // And exactly one certificate: one S3 version, one record.
    let s3 = s3().await;
    let versions = s3
        .list_object_versions()
        .bucket(std::env::var("KEIRYOKU_BUCKET").unwrap_or_default())
        .prefix(format!("certificates/{id}/"))
        .send()
        .await
        .map(|o| o.versions().len())
        .unwrap_or_default();
    assert_eq!(versions, 1);
}

#[tokio::test]
async fn a_message_with_crlf_and_bcc_makes_one_well_formed_mail_to_one_recipient() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    let marker = unique_key("inject");
    // The company name comes from GビズID (the plan's is replaced at submission), so the text a
    // client controls that reaches a mail is the reviewer's: a return message with CR/LF.
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default();
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let returned = json(
        reviewer
            .post(&format!("/review/cases/{id}/return"))
            .header("if-match", format!("\"{}\"", record["version"]))
            .json(&json!({
                "message": format!("差戻し{marker}\r\nBcc: victim@example.com\r\nSubject: 当選")
            }))
            .sent()
            .await,
    )
    .await;
    assert_eq!(returned["status"], "returned", "{returned}");
    let mails = mail_arriving(&marker).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(
        mail["destinations"]["ToAddresses"],
        json!([APPLICANT_EMAIL])
    );
    assert!(
        mail["destinations"]
            .get("BccAddresses")
            .is_none_or(|b| b.as_array().is_none_or(Vec::is_empty))
    );
    let subject = mail["subject"].as_str().unwrap_or_default();
    assert!(
        subject.starts_with("【経営力向上計画】") && !subject.contains("当選"),
        "{subject}"
    );
    let body = mail["body"].as_str().unwrap_or_default();
    assert!(body.contains(&format!("差戻し{marker}")), "{body}");
}

#[tokio::test]
async fn the_application_pdf_is_the_plan_as_filed() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default();
    let response = owner
        .get(&format!("/applications/{id}/application.pdf"))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let pdf = response.bytes().await.unwrap_or_default();
    let text = pdf_text(&pdf, "application");
    assert!(text.contains("経営力向上計画に係る認定申請書"), "{text}");
    assert!(text.contains("株式会社霞が関精機"));
    assert!(
        text.contains(
            record["submission"]["receipt_number"]
                .as_str()
                .unwrap_or("?")
        )
    );
    // The record of the submission is kept in the documents bucket as well.
    let s3 = s3().await;
    let key = format!("applications/{id}/{}.pdf", record["submission"]["revision"]);
    let mut stored = None;
    for _ in 0..300 {
        if let Ok(head) = s3
            .head_object()
            .bucket(std::env::var("KEIRYOKU_BUCKET").unwrap_or_default())
            .key(&key)
            .send()
            .await
        {
            stored = head.metadata().and_then(|m| m.get("sha256").cloned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        stored.is_some_and(|sha| sha.len() == 64),
        "{key} stored with its hash"
    );
    // Another company cannot have it.
    let other = logged_in("applicant-osaka").await;
    problem(
        other
            .get(&format!("/applications/{id}/application.pdf"))
            .sent()
            .await,
        404,
    )
    .await;
}

/// The text of a PDF, as pdftotext reads it.
fn pdf_text(pdf: &[u8], label: &str) -> String {
    let path = std::env::temp_dir().join(format!("keiryoku-{label}-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap_or_default();
    let text = run("pdftotext", &[&path.display().to_string(), "-"]);
    let _ = std::fs::remove_file(&path);
    text
}

/// The certificate id printed on a certificate (from its verification URL).
fn printed_certificate_id(pdf: &[u8], label: &str) -> String {
    let text = pdf_text(pdf, label);
    text.split(char::is_whitespace)
        .find_map(|w| w.split("/verify/").nth(1).map(str::to_string))
        .unwrap_or_else(|| panic!("verify URL printed on the certificate: {text}"))
}

#[tokio::test]
async fn a_certified_change_supersedes_the_certificate_and_a_rerender_keeps_the_first() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    let record = certified(&owner).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let first = download_when_ready(&owner, &id).await;
    let certificate = printed_certificate_id(&first, "first");
    let anyone = Browser::new();

    // Re-rendered after a template fix: a second document; the first is kept and still checks.
    let rerendered = admin(&["certificates", "rerender", "--id", &certificate]);
    assert!(
        rerendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rerendered.stderr)
    );
    // The operator sees that it prints unverified facts: a provisional rendering.
    let document: Value = serde_json::from_slice(&rerendered.stdout).unwrap_or_default();
    let printed: Vec<&str> = document["unverified_facts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        printed.contains(&"rules.json#certification_number"),
        "{document}"
    );
    assert!(
        printed.contains(&"templates/certificates.json#standard@1"),
        "{document}"
    );
    let shown = admin(&["certificates", "show", "--id", &certificate]);
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap_or_default();
    assert_eq!(shown["provisional"], true, "{shown}");
    assert_eq!(
        shown["certificate"]["documents"][0]["unverified_facts"], document["unverified_facts"],
        "the first rendering recorded the same"
    );
    let verified = json(anyone.get(&format!("/verify/{certificate}")).sent().await).await;
    let documents = verified["documents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(documents.len(), 2);
    let first_sha: String = Sha256::digest(&first)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(documents[0]["sha256"], first_sha);
    assert_eq!(verified["sha256"], documents[1]["sha256"]);

    // A change application, certified, supersedes the certificate it changes.
    let change = json(
        owner
            .post(&format!("/applications/{id}/change"))
            .header("idempotency-key", unique_key("change"))
            .sent()
            .await,
    )
    .await;
    let change_id = change["id"].as_str().unwrap_or_default().to_string();
    let submitted_change = json(
        owner
            .post(&format!("/applications/{change_id}/submit"))
            .header("idempotency-key", unique_key("submit-change"))
            .sent()
            .await,
    )
    .await;
    assert_eq!(
        submitted_change["status"], "submitted",
        "{submitted_change}"
    );
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let approved = json(
        reviewer
            .post(&format!("/review/cases/{change_id}/approve"))
            .header("if-match", format!("\"{}\"", submitted_change["version"]))
            .sent()
            .await,
    )
    .await;
    assert_eq!(approved["status"], "certified");
    // Superseded from the change's certification on, before any effect has run.
    let old = json(anyone.get(&format!("/verify/{certificate}")).sent().await).await;
    assert_eq!(old["status"], "superseded", "{old}");
    assert_eq!(old["valid"], false);
    let new_certificate =
        printed_certificate_id(&download_when_ready(&owner, &change_id).await, "change");
    let new = json(
        anyone
            .get(&format!("/verify/{new_certificate}"))
            .sent()
            .await,
    )
    .await;
    assert_eq!(new["valid"], true);
}

/// The company on a plan is the GビズID account's: another company's 法人番号 never reaches
/// submission, and another company's name is replaced at submission, so neither the 認定書 nor
/// /verify can name a company the applicant is not.
#[tokio::test]
async fn another_company_s_identity_cannot_reach_submission_or_a_certificate() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    // 浪速金属工業's 法人番号 on 霞が関精機's plan: refused at the field, nothing changed.
    let mut plan = complete_plan();
    plan["applicant"]["corporate_number"] = json!("7120001234561");
    let created = json(
        owner
            .post("/applications")
            .json(&json!({ "plan": plan }))
            .sent()
            .await,
    )
    .await;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let refused = problem(
        owner
            .post(&format!("/applications/{id}/submit"))
            .header("idempotency-key", unique_key("other-number"))
            .sent()
            .await,
        422,
    )
    .await;
    let error = &refused["errors"][0];
    assert_eq!(
        error["path"], "/plan/applicant/corporate_number",
        "{refused}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("9010401234567"),
        "{refused}"
    );
    let after = json(owner.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(after["status"], "draft");
    assert_eq!(after["version"], created["version"]);

    // Another company's name and representative: replaced by the account's at submission.
    let mut plan = complete_plan();
    plan["applicant"]["name"] = json!("浪速金属工業株式会社");
    plan["applicant"]["representative_name"] = json!("他人 次郎");
    let record = submitted(&owner, plan).await;
    assert_eq!(record["plan"]["applicant"]["name"], "株式会社霞が関精機");
    assert_eq!(
        record["plan"]["applicant"]["representative_name"],
        "経済 一郎"
    );
    assert_eq!(record["identity"]["corporate_number"], "9010401234567");
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let case = json(reviewer.get(&format!("/review/cases/{id}")).sent().await).await;
    assert_eq!(
        case["application"]["identity"]["name"],
        "株式会社霞が関精機"
    );
    let approved = json(
        reviewer
            .post(&format!("/review/cases/{id}/approve"))
            .header("if-match", format!("\"{}\"", record["version"]))
            .sent()
            .await,
    )
    .await;
    assert_eq!(approved["status"], "certified", "{approved}");
    let pdf = download_when_ready(&owner, &id).await;
    let text = pdf_text(&pdf, "identity");
    assert!(text.contains("株式会社霞が関精機"), "{text}");
    assert!(!text.contains("浪速金属工業"), "{text}");
    let certificate = printed_certificate_id(&pdf, "identity");
    let verified = json(
        Browser::new()
            .get(&format!("/verify/{certificate}"))
            .sent()
            .await,
    )
    .await;
    assert_eq!(verified["company_name"], "株式会社霞が関精機", "{verified}");
}

/// The kind (新規・変更) is the record's: a patch to `/kind` is refused and changes nothing.
#[tokio::test]
async fn a_patch_to_the_kind_is_refused() {
    let owner = logged_in("applicant-tokyo").await;
    let created = json(
        owner
            .post("/applications")
            .json(&json!({ "plan": complete_plan() }))
            .sent()
            .await,
    )
    .await;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let refused = problem(
        owner
            .patch(&format!("/applications/{id}"))
            .header("if-match", format!("\"{}\"", created["version"]))
            .body(
                json!({"kind": {"type": "change", "certification": {"number": "関東経産第2020-00001号"}}})
                    .to_string(),
            )
            .sent()
            .await,
        422,
    )
    .await;
    assert_eq!(refused["errors"][0]["path"], "/kind", "{refused}");
    let after = json(owner.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(after["version"], created["version"]);
    assert_eq!(after["kind"], "new");
    assert_eq!(after["plan"]["kind"], json!({"type": "new"}));
}

/// The application PDF is the revision that was filed, even after a return and an edit.
#[tokio::test]
async fn the_application_pdf_of_a_returned_and_edited_application_is_the_filed_revision() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let returned = json(
        reviewer
            .post(&format!("/review/cases/{id}/return"))
            .header("if-match", format!("\"{}\"", record["version"]))
            .json(&json!({"message": "課題を具体的に記載してください。"}))
            .sent()
            .await,
    )
    .await;
    assert_eq!(returned["status"], "returned", "{returned}");
    let edited = json(
        owner
            .patch(&format!("/applications/{id}"))
            .header("if-match", format!("\"{}\"", returned["version"]))
            .body(
                json!({"current_state": {"challenges": "差戻し後に書き直した課題の文章"}})
                    .to_string(),
            )
            .sent()
            .await,
    )
    .await;
    assert_eq!(
        edited["plan"]["current_state"]["challenges"],
        "差戻し後に書き直した課題の文章"
    );
    let response = owner
        .get(&format!("/applications/{id}/application.pdf"))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let pdf = response.bytes().await.unwrap_or_default();
    let text = pdf_text(&pdf, "filed");
    let filed = complete_plan()["current_state"]["challenges"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(8)
        .collect::<String>();
    assert!(text.contains(&filed), "the filed text {filed}: {text}");
    assert!(!text.contains("差戻し後に書き直した"), "{text}");
}

/// The mails to reviewers about a case (its 受付番号 in the subject).
async fn staff_mails_arriving(receipt: &str, what: &str) -> Vec<Value> {
    let subject = format!("【経営力向上計画・審査】{what}（受付番号 {receipt}）");
    for _ in 0..300 {
        let found: Vec<Value> = outbox()
            .await
            .into_iter()
            .filter(|m| m["subject"].as_str() == Some(subject.as_str()))
            .collect();
        if !found.is_empty() {
            // A little longer: a second copy would show now.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return outbox()
                .await
                .into_iter()
                .filter(|m| m["subject"].as_str() == Some(subject.as_str()))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}

#[tokio::test]
async fn reviewers_are_mailed_once_about_new_cases_resubmissions_and_withdrawals() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let receipt = record["submission"]["receipt_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The reviewers of 関東経済産業局 (from the staff directory), and no one else.
    let mails = staff_mails_arriving(&receipt, "新しい申請").await;
    assert_eq!(mails.len(), 1, "exactly once: {mails:?}");
    assert_eq!(
        mails[0]["destinations"]["ToAddresses"],
        json!(["shinsa1@kanto-meti.example.go.jp"])
    );
    let body = mails[0]["body"].as_str().unwrap_or_default();
    assert!(body.contains(&format!("/staff/cases/{id}")), "{body}");

    // Returned and resubmitted: the reviewers hear of the resubmission.
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let returned = reviewer
        .post(&format!("/review/cases/{id}/return"))
        .header("if-match", format!("\"{}\"", record["version"]))
        .json(&json!({"message": "確認してください。"}))
        .sent()
        .await;
    assert_eq!(returned.status(), 200);
    let returned = json(returned).await;
    let again = owner
        .post(&format!("/applications/{id}/submit"))
        .header("idempotency-key", unique_key("resubmit"))
        .header("if-match", format!("\"{}\"", returned["version"]))
        .sent()
        .await;
    assert_eq!(again.status(), 200);
    let again = json(again).await;
    let receipt = again["submission"]["receipt_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mails = staff_mails_arriving(&receipt, "再提出").await;
    assert_eq!(mails.len(), 1, "exactly once: {mails:?}");

    // Withdrawn: the reviewers need not review it.
    let withdrawn = owner
        .post(&format!("/applications/{id}/withdraw"))
        .header("if-match", format!("\"{}\"", again["version"]))
        .sent()
        .await;
    assert_eq!(withdrawn.status(), 200);
    let mails = staff_mails_arriving(&receipt, "取下げ").await;
    assert_eq!(mails.len(), 1, "exactly once: {mails:?}");
    assert!(
        mails[0]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("審査は不要です")
    );
}

/// Fires the template's DailyDigest schedule as EventBridge would at `time` (RFC 3339).
async fn fire_digest(time: &str) -> Value {
    let scheduler = std::env::var("KEIRYOKU_SCHEDULER_URL").unwrap_or_default();
    let response = reqwest::Client::new()
        .post(format!("{scheduler}/schedules/DailyDigest?time={time}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("scheduler: {e}"));
    assert_eq!(response.status(), 200, "the digest ran");
    json(response).await
}

#[tokio::test]
async fn each_business_morning_reviewers_get_one_digest_of_the_cases_due_soon() {
    let _ses = SES.lock().await;
    let owner = logged_in("applicant-tokyo").await;
    let record = submitted(&owner, complete_plan()).await;
    let receipt = record["submission"]["receipt_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let due = record["submission"]["due_on"].as_str().unwrap_or_default();
    let due = time::Date::parse(due, &time::format_description::well_known::Iso8601::DATE)
        .unwrap_or_else(|e| panic!("due_on {due}: {e}"));

    // The morning of the due date (08:00 in Japan is 23:00 UTC the evening before): the case
    // is due within 3 business days, so 関東経済産業局's reviewers hear of it.
    let evening = due.previous_day().unwrap_or(due);
    let time = format!("{evening}T23:00:00Z");
    let sent = fire_digest(&time).await;
    assert!(sent["meti-kanto"]["cases"].as_u64() >= Some(1), "{sent}");
    let subject_start = "【経営力向上計画・審査】期限が近い案件";
    let digests = |outbox: Vec<Value>| -> Vec<Value> {
        outbox
            .into_iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(subject_start)
                    && m["destinations"]["ToAddresses"]
                        == json!(["shinsa1@kanto-meti.example.go.jp"])
                    && m["body"].as_str().unwrap_or_default().contains(&receipt)
            })
            .collect()
    };
    let mails = digests(outbox().await);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let body = mails[0]["body"].as_str().unwrap_or_default();
    assert!(body.contains("関東経済産業局"), "{body}");

    // The schedule firing twice that morning (EventBridge delivers at least once) mails once.
    let again = fire_digest(&time).await;
    assert!(again.get("meti-kanto").is_none(), "{again}");
    assert_eq!(digests(outbox().await).len(), 1);
}
