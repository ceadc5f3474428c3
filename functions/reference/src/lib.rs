//! The reference function: the public reference data an applicant fills the form with — industries
//! (JSIC), guidelines with their indicators and 該当箇所, authorities — and the routing preview
//! that says where a plan would go and why. Pure domain data: no AWS, no login.

#![forbid(unsafe_code)]

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keiryoku_domain::routing::{RoutingError, RoutingRequest, route};
use keiryoku_domain::tables::tables;
use keiryoku_http::{ApiError, FieldError, QueryParams, Site};
use serde::Deserialize;
use serde_json::json;

pub fn app(site: Site) -> Router {
    site.protect(
        Router::new()
            .route("/reference/industries", get(industries))
            .route("/reference/guidelines", get(guidelines))
            .route("/reference/authorities", get(authorities))
            .route("/routing/preview", get(preview)),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct IndustryQuery {
    /// Part of a name, or a code prefix.
    q: Option<String>,
    limit: Option<usize>,
}

/// 日本標準産業分類: codes and names, searchable by name or code prefix.
/// The reference routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(paths(industries, guidelines, authorities, preview))]
pub struct Api;

#[utoipa::path(get, path = "/reference/industries", tag = "reference", summary = "日本標準産業分類の検索", params(IndustryQuery), responses((status = 200, description = "分類コードと名称", body = Object)))]
async fn industries(QueryParams(query): QueryParams<IndustryQuery>) -> Result<Response, ApiError> {
    let text = query.q.unwrap_or_default();
    if text.chars().count() > 50 {
        return Err(ApiError::BadRequest(
            "q は50文字以内で指定してください。".into(),
        ));
    }
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let mut found: Vec<(&str, &str)> = tables().jsic.search(text.trim()).collect();
    found.sort_unstable();
    let total = found.len();
    let items: Vec<_> = found
        .into_iter()
        .take(limit)
        .map(|(code, name)| {
            let level = match code.len() {
                1 => "大分類",
                2 => "中分類",
                3 => "小分類",
                _ => "細分類",
            };
            json!({ "code": code, "name": name, "level": level })
        })
        .collect();
    Ok(Json(json!({ "total": total, "items": items, "classification": "日本標準産業分類（第14回改定）" })).into_response())
}

/// The 基本方針 and the 21 事業分野別指針, each with its indicators (direction, thresholds) and
/// its 該当箇所 items in the guideline's own order where known.
#[utoipa::path(get, path = "/reference/guidelines", tag = "reference", summary = "基本方針と事業分野別指針（指標・基準値・該当箇所）", responses((status = 200, description = "指針の一覧", body = Object)))]
async fn guidelines() -> Response {
    let t = tables();
    let items: Vec<_> = t
        .guidelines
        .guidelines
        .iter()
        .map(|g| {
            json!({
                "id": g.id, "label": g.label, "name": g.name, "owners": g.owners,
                "indicators": g.indicators.iter().map(|i| json!({
                    "id": i.id, "name": i.name,
                    "direction": i.direction,
                    "rate_label": keiryoku_domain::indicators::rate_label(i.direction),
                    "thresholds_percent": i.thresholds, "verified": i.verified, "source": i.source,
                })).collect::<Vec<_>>(),
                "indicators_known": g.indicators_known,
                "custom_indicator_allowed": g.custom_indicator_allowed,
                "items": g.items.as_ref().map(|items| items.iter().map(|i| json!({"reference": i.reference, "text": i.text, "citation": i.citation()})).collect::<Vec<_>>()),
                "items_known": g.items_known, "items_verified": g.items_verified, "items_source": g.items_source, "items_note": g.items_note,
                "notice": g.notice, "source": g.source,
            })
        })
        .collect();
    Json(json!({ "version": t.guidelines.version, "guidelines": items })).into_response()
}

/// Ministries (and whether they take e-filing), their offices and the prefectures they cover.
#[utoipa::path(get, path = "/reference/authorities", tag = "reference", summary = "省庁・地方支分部局・都道府県", responses((status = 200, description = "提出先の一覧", body = Object)))]
async fn authorities() -> Response {
    let t = tables();
    let networks: Vec<_> = t
        .authorities
        .networks
        .iter()
        .map(|n| {
            json!({
                "id": n.id, "ministry": n.ministry, "name": n.name,
                "offices": n.offices.iter().map(|o| json!({
                    "id": o.id, "name": o.name, "title": o.title, "prefectures": o.prefectures,
                    "verified": o.verified, "source": o.source,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let ministries: Vec<_> = t
        .authorities
        .ministries
        .iter()
        .map(|m| json!({"id": m.id, "name": m.name, "e_filing": m.e_filing, "verified": m.verified, "source": m.source}))
        .collect();
    Json(json!({
        "version": t.authorities.version,
        "ministries": ministries,
        "prefectures": t.authorities.prefectures.iter().map(|p| json!({"code": p.code, "name": p.name})).collect::<Vec<_>>(),
        "networks": networks,
    }))
    .into_response()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PreviewQuery {
    /// Comma-separated JSIC codes (細分類, or 中分類/小分類).
    fields: Option<String>,
    /// 本店所在地の都道府県 (JIS code).
    prefecture: Option<String>,
    /// 事業分野別指針 id; absent for the 基本方針.
    guideline: Option<String>,
}

/// Where a plan with these business fields and head office would go, with the explanation.
#[utoipa::path(get, path = "/routing/preview", tag = "reference", summary = "提出先のプレビュー（判定理由付き）", params(PreviewQuery), responses((status = 200, description = "提出先と判定理由、またはコールセンターへの案内", body = Object)))]
async fn preview(QueryParams(query): QueryParams<PreviewQuery>) -> Result<Response, ApiError> {
    let fields: Vec<String> = query
        .fields
        .unwrap_or_default()
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    let prefecture = query.prefecture.unwrap_or_default();
    let mut errors = Vec::new();
    if fields.is_empty() || fields.len() > 20 {
        errors.push(field_error(
            "fields",
            "事業分野の産業分類コードを1つ以上（20個まで）、カンマ区切りで指定してください。",
        ));
    }
    if prefecture.is_empty() {
        errors.push(field_error(
            "prefecture",
            "本店所在地の都道府県コード（例: 13）を指定してください。",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let codes: Vec<&str> = fields.iter().map(String::as_str).collect();
    let guidelines: Vec<&str> = query.guideline.as_deref().into_iter().collect();
    let request = RoutingRequest {
        fields: &codes,
        guidelines: &guidelines,
        prefecture: &prefecture,
    };
    match route(&request) {
        Ok(outcome) => Ok(Json(outcome).into_response()),
        Err(RoutingError::UnknownField(code)) => Err(ApiError::Validation(vec![field_error(
            "fields",
            &format!("産業分類コード「{code}」は日本標準産業分類にありません。"),
        )])),
        Err(RoutingError::UnknownPrefecture(_)) => Err(ApiError::Validation(vec![field_error(
            "prefecture",
            "都道府県コードは01〜47で指定してください。",
        )])),
        Err(RoutingError::NoField) => Err(ApiError::Validation(vec![field_error(
            "fields",
            "事業分野を指定してください。",
        )])),
        Err(RoutingError::Table(cause)) => Err(ApiError::Internal(cause)),
    }
}

fn field_error(parameter: &str, message: &str) -> FieldError {
    FieldError {
        path: format!("/{parameter}"),
        code: "invalid".into(),
        message: message.into(),
    }
}
