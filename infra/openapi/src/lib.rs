//! The OpenAPI 3.1 document of every route, generated from the handlers' `#[utoipa::path]`
//! annotations and the types they take and answer (each function crate's `Api`).
//!
//! Two rules hold for every route and are added here once, as the code applies them once: every
//! error is RFC 9457 problem+json (`keiryoku_http::ApiError`), and every POST, PATCH and DELETE
//! carries `X-CSRF-Token` (`keiryoku_http::Site`'s guard). `functions/platform/openapi.json` is
//! this document, written by `make openapi`; the test below fails when it is not.

#![forbid(unsafe_code)]

use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, Ref, Required, ResponseBuilder, schema::Object,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "keiryoku — 経営力向上計画 電子申請プラットフォーム API",
        description = "エラーはすべて RFC 9457 application/problem+json（日本語の title/detail、項目ごとの errors）。状態を変える要求には X-CSRF-Token が必要。",
        version = "0.1.0"
    ),
    components(schemas(keiryoku_http::Problem))
)]
struct Base;

/// The token endpoint shown for the agencies' client-credentials flow: each deployment's
/// `AgencyTokenIssuer` has its own (a Cognito domain's `/oauth2/token`).
const AGENCY_TOKEN_URL: &str = "https://auth.keiryoku.example.jp/oauth2/token";

/// The whole document.
pub fn document() -> Document {
    let mut doc = Base::openapi();
    for part in [
        keiryoku_fn_auth::Api::openapi(),
        keiryoku_fn_applications::Api::openapi(),
        keiryoku_fn_documents::Api::openapi(),
        keiryoku_fn_review::Api::openapi(),
        keiryoku_fn_reference::Api::openapi(),
        keiryoku_fn_platform::Api::openapi(),
        keiryoku_fn_export::Api::openapi(),
    ] {
        doc.merge(part);
    }
    let components = doc.components.get_or_insert_with(Default::default);
    let cookie = |description: &str| {
        let mut key = ApiKeyValue::with_description("keiryoku_session", description);
        key.description = Some(description.to_string());
        SecurityScheme::ApiKey(ApiKey::Cookie(key))
    };
    components.security_schemes.insert(
        "session".into(),
        cookie("GビズIDでログインした申請者のセッション（/auth/login）"),
    );
    components.security_schemes.insert(
        "staff_session".into(),
        cookie("職員ログイン（/staff/login）のセッション。職員名簿で有効な職員のみ"),
    );
    components.security_schemes.insert(
        "agency".into(),
        SecurityScheme::OAuth2(OAuth2::with_description(
            [Flow::ClientCredentials(ClientCredentials::new(
                AGENCY_TOKEN_URL,
                Scopes::from_iter([
                    ("export/feed", "変更情報（状態の変化）の取得"),
                    ("export/extracts", "一括抽出"),
                    ("export/public", "公表可の認定事業者一覧"),
                ]),
            ))],
            "提供先（省庁・ミラサポCONNECT 等）の機械クライアント。OAuth 2.0 client credentials で得たアクセストークン（JWT）を Authorization: Bearer で送る。API Gateway の JWT オーソライザーが発行者・audience・有効期限・scope を確かめ、登録された提供先ごとに見える範囲が決まる。トークンの発行元は配備ごとの AgencyTokenIssuer（Cognito ユーザープールなど）",
        )),
    );
    components.responses.insert(
        "Problem".into(),
        ResponseBuilder::new()
            .description("RFC 9457 problem details（日本語の title と detail、項目ごとの errors）")
            .content(
                keiryoku_http::PROBLEM_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
            .into(),
    );
    for item in doc.paths.paths.values_mut() {
        for (method, operation) in [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ] {
            let Some(operation) = operation else { continue };
            operation
                .responses
                .responses
                .insert("default".into(), Ref::from_response_name("Problem").into());
            if method != HttpMethod::Get {
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .push(csrf_header());
            }
        }
    }
    doc
}

fn csrf_header() -> Parameter {
    ParameterBuilder::new()
        .name("X-CSRF-Token")
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some("ログイン時に設定される csrf_token クッキーの値"))
        .schema(Some(Object::with_type(utoipa::openapi::Type::String)))
        .build()
}

/// The document as written to `functions/platform/openapi.json`.
pub fn document_json() -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(document())?;
    serde_json::to_string_pretty(&value).map(|text| text + "\n")
}

#[cfg(test)]
mod tests {
    /// The committed document is the generated one: a handler changed without `make openapi`
    /// fails here (and the platform function's test checks it against template.yaml's routes).
    #[test]
    fn the_committed_document_is_generated_from_the_handlers() {
        let committed = include_str!("../../../functions/platform/openapi.json");
        let generated = super::document_json().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            committed == generated,
            "functions/platform/openapi.json is stale: run `make openapi`"
        );
    }
}
