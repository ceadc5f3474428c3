//! The certificate as a person and a machine read it: text extracted by poppler's `pdftotext`,
//! pages rendered by `pdftoppm` (Debian package poppler-utils; CI installs it).

use std::path::PathBuf;
use std::process::Command;

use keiryoku_pdf::certificate::{Issuer, render, sample};

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, bytes) {
        panic!("write {}: {e}", path.display());
    }
    path
}

fn pdftotext(path: &PathBuf) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("pdftotext (apt-get install poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Renders the first page as a PNG with poppler's `pdftoppm` and returns its path.
fn pdftoppm(pdf: &PathBuf, dpi: u32, name: &str) -> PathBuf {
    let prefix = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap_or_else(|e| panic!("pdftoppm (apt-get install poppler-utils): {e}"));
    assert!(status.success(), "pdftoppm failed");
    prefix.with_extension("png")
}

#[test]
fn certificate_text_carries_company_number_and_wareki_date() {
    let data = sample();
    let Ok(rendered) = render(&data) else {
        panic!("render")
    };
    let path = write("certificate.pdf", &rendered.pdf);
    let text = pdftotext(&path);
    for expected in [
        "認定書",
        "株式会社霞が関精機",
        "20261126関東第0001号",
        "令和8年11月26日",
        "令和8年11月10日付けで申請のあった経営力向上計画",
        "関東経済産業局長",
        "令和9年1月～令和11年12月（36か月）",
        "東京都千代田区霞が関一丁目3番1号",
        "/verify/0193a5d2-7c1e-7a4b-9f00-1234567890ab",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn a_joint_certificate_names_every_authority() {
    let mut data = sample();
    data.issuers.push(Issuer {
        office_id: "mlit-dev-kanto".into(),
        ministry_id: "mlit".into(),
        title: "関東地方整備局長".into(),
    });
    let Ok(rendered) = render(&data) else {
        panic!("render")
    };
    let text = pdftotext(&write("joint.pdf", &rendered.pdf));
    assert!(
        text.contains("関東経済産業局長") && text.contains("関東地方整備局長"),
        "{text}"
    );
}

#[test]
fn certificate_renders_as_an_image() {
    let Ok(rendered) = render(&sample()) else {
        panic!("render")
    };
    let png = std::fs::read(pdftoppm(
        &write("render.pdf", &rendered.pdf),
        50,
        "certificate-page",
    ))
    .unwrap_or_default();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 2_000,
        "a rendered page"
    );
}

#[test]
fn the_qr_code_decodes_to_the_verification_url() {
    let data = sample();
    let Ok(rendered) = render(&data) else {
        panic!("render")
    };
    let path = write("qr.pdf", &rendered.pdf);
    let prefix = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("qr-page");
    let status = Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-singlefile"])
        .arg(&path)
        .arg(&prefix)
        .status();
    assert!(status.is_ok_and(|s| s.success()), "pdftoppm");
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(prefix.with_extension("png"))
        .output()
        .unwrap_or_else(|e| panic!("zbarimg (apt-get install zbar-tools): {e}"));
    let decoded = String::from_utf8_lossy(&out.stdout);
    assert_eq!(decoded.trim(), data.verify_url);
}
