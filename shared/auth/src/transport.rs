//! Where tokens and secrets may travel: only over TLS, except to the local stack on loopback.

/// Refuses an endpoint that is not `https://`, unless it is `http://` on a loopback host (the
/// local stack's dev identity provider and gBizINFO stand-in). A production stack pointed at an
/// `http://` issuer by mistake would otherwise send client secrets and API tokens in clear
/// text, or take logins from a dev provider.
///
/// ```
/// use keiryoku_auth::require_tls;
/// assert!(require_tls("https://gbiz-id.go.jp/oauth/").is_ok());
/// assert!(require_tls("http://127.0.0.1:4000").is_ok());
/// assert!(require_tls("http://gbiz-id.go.jp/oauth/").is_err());
/// assert!(require_tls("ftp://example.jp").is_err());
/// ```
pub fn require_tls(endpoint: &str) -> Result<(), String> {
    let url = url::Url::parse(endpoint).map_err(|e| format!("{endpoint}: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        other => Err(format!(
            "{endpoint}: must be https ({other} is allowed only on loopback, for the local stack)"
        )),
    }
}

/// Whether a deployment whose public origin is `public_base_url` is the local stack (plain
/// http on loopback): only there does the dev identity provider's `login_hint` shortcut apply.
pub fn is_local(public_base_url: &str) -> bool {
    require_tls(public_base_url).is_ok() && public_base_url.starts_with("http://")
}
