//! The stylesheets and the script, embedded in the binary and served under names that carry a
//! hash of their content, so that a browser may keep them for a year and a new release is
//! fetched at once.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One served file.
pub struct Asset {
    /// The name in `assets/` (`site.css`).
    pub name: &'static str,
    /// The name it is served under (`site-0123456789.css`).
    pub hashed: String,
    /// The path of its URL (`/assets/site-0123456789.css`).
    pub href: String,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

const FILES: [(&str, &str, &[u8]); 3] = [
    (
        "tokens.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/tokens.css"),
    ),
    (
        "site.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/site.css"),
    ),
    (
        "site.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/site.js"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, content_type, bytes)| {
            let digest = hex::encode(Sha256::digest(bytes));
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}-{}.{ext}", &digest[..10]),
                None => format!("{name}-{}", &digest[..10]),
            };
            Asset {
                name,
                href: format!("/assets/{hashed}"),
                hashed,
                content_type,
                bytes,
            }
        })
        .collect()
});

/// Every asset.
pub fn all() -> &'static [Asset] {
    &ASSETS
}

/// The URL path of an asset by its plain name (`site.css` → `/assets/site-0123456789.css`).
pub fn href(name: &str) -> &'static str {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map_or("/assets/missing", |a| a.href.as_str())
}

/// The answer for `/assets/{file}`: the file, cacheable for a year, or 404.
pub fn serve(file: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.hashed == file) else {
        return crate::PageError::NotFound.into_response();
    };
    let mut response = (StatusCode::OK, asset.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let site = href("site.css");
        assert!(
            site.starts_with("/assets/site-") && site.ends_with(".css"),
            "{site}"
        );
        assert_eq!(site.len(), "/assets/site-0123456789.css".len());
        let file = site.trim_start_matches("/assets/");
        let response = serve(file);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(serve("site.css").status(), StatusCode::NOT_FOUND);
    }
}
