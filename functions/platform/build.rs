//! Generates the platform's route table from template.yaml, so the `$default` handler knows
//! which paths exist (for 405 versus 404) without a second list to keep in step.

use std::fmt::Write;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let template_path = format!("{manifest}/../../template.yaml");
    println!("cargo:rerun-if-changed={template_path}");
    let template = match keiryoku_template::Template::load(&template_path) {
        Ok(t) => t,
        Err(e) => panic!("cannot read {template_path}: {e}"),
    };
    let mut code = String::from(
        "/// Every route of template.yaml but `$default`, as (method, path).\npub const ROUTES: &[keiryoku_http::fallback::RouteEntry] = &[\n",
    );
    for (_, route) in template.routes().filter(|(_, r)| !r.is_default()) {
        let _ = writeln!(code, "    ({:?}, {:?}),", route.method, route.path);
    }
    code.push_str("];\n");
    // The web pages answer HTML for people: their templates document them, not the API document.
    code.push_str(
        "/// The routes of the web pages (WebFunction, StaffFunction, and the staff pages ReviewFunction\n/// serves under `/staff`), answered with HTML.\npub const PAGE_ROUTES: &[keiryoku_http::fallback::RouteEntry] = &[\n",
    );
    let is_page = |function: &str, path: &str| {
        function == "WebFunction"
            || function == "StaffFunction"
            || (function == "ReviewFunction" && (path == "/staff" || path.starts_with("/staff/")))
    };
    for (_, route) in template
        .routes()
        .filter(|(f, r)| is_page(&f.logical_id, &r.path) && !r.is_default())
    {
        let _ = writeln!(code, "    ({:?}, {:?}),", route.method, route.path);
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(e) = std::fs::write(format!("{out}/routes.rs"), code) {
        panic!("cannot write routes.rs: {e}");
    }
}
