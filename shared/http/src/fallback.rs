//! The answer for requests that no route takes: 405 with `Allow` when the path exists with other
//! methods, 404 otherwise. API Gateway sends such requests to the `$default` route, whose function
//! uses this with the route table generated from template.yaml at build time.

use axum::http::Method;

use crate::ApiError;

/// A route as `(METHOD, /path/{param})`.
pub type RouteEntry = (&'static str, &'static str);

/// The error to answer for `method path` given the platform's routes.
pub fn unmatched(routes: &[RouteEntry], method: &Method, path: &str) -> ApiError {
    let mut allow: Vec<String> = routes
        .iter()
        .filter(|(_, template)| keiryoku_template::match_path(template, path).is_some())
        .map(|(m, _)| m.to_string())
        .collect();
    allow.sort();
    allow.dedup();
    if allow.is_empty() || allow.iter().any(|m| m == method.as_str()) {
        ApiError::NotFound
    } else {
        ApiError::MethodNotAllowed { allow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &[RouteEntry] = &[
        ("GET", "/applications"),
        ("POST", "/applications"),
        ("GET", "/applications/{id}"),
    ];

    #[test]
    fn known_path_with_other_method_is_405() {
        match unmatched(ROUTES, &Method::DELETE, "/applications") {
            ApiError::MethodNotAllowed { allow } => assert_eq!(allow, vec!["GET", "POST"]),
            other => panic!("expected 405, got {other:?}"),
        }
        assert!(matches!(
            unmatched(ROUTES, &Method::PUT, "/applications/x"),
            ApiError::MethodNotAllowed { .. }
        ));
    }

    #[test]
    fn unknown_path_is_404() {
        assert!(matches!(
            unmatched(ROUTES, &Method::GET, "/nope"),
            ApiError::NotFound
        ));
        assert!(matches!(
            unmatched(ROUTES, &Method::GET, "/applications/x/y"),
            ApiError::NotFound
        ));
    }
}
