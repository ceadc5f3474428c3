//! Median time and size of one certificate. Run: `cargo bench -p keiryoku-pdf`.
//!
//! The font is parsed once per process (as in a warm Lambda); its first parse is reported apart.
//! When `chromium` is installed (Debian package), the same certificate written as HTML with the
//! same font is printed to PDF by headless Chromium in the same run, for comparison.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use keiryoku_domain::dates::wareki;
use keiryoku_pdf::application::{self, ApplicationMeta};
use keiryoku_pdf::certificate::{CertificateData, period_text, render, sample};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The certificate's content as an HTML page with the same font and layout intent.
fn html(data: &CertificateData, font: &Path) -> String {
    let date = |d| wareki(d).unwrap_or_default();
    let issuers: String = data
        .issuers
        .iter()
        .map(|i| format!("<p class=r>{}</p>", i.title))
        .collect();
    let rows = [
        ("認定番号", data.certification_number.clone()),
        ("認定日", date(data.certified_on)),
        ("事業者の名称", data.company_name.clone()),
        ("本店所在地", data.address.clone()),
        (
            "計画の実施期間",
            period_text(&data.period).unwrap_or_default(),
        ),
        ("事業分野", data.business_fields.join("、")),
    ]
    .iter()
    .map(|(k, v)| format!("<tr><th>{k}</th><td>{v}</td></tr>"))
    .collect::<String>();
    format!(
        r#"<!doctype html><html lang=ja><meta charset=utf-8><title>認定書</title>
<style>
@font-face {{ font-family: IPAexMincho; src: url("file://{font}"); }}
@page {{ size: A4; margin: 25mm; }}
body {{ font-family: IPAexMincho; font-size: 11.5pt; }}
.r {{ text-align: right; margin: 0; }} h1 {{ text-align: center; font-size: 24pt; font-weight: normal; margin: 14mm 0; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ border: 0.6pt solid #000; padding: 2mm 3mm; text-align: left; font-weight: normal; }}
th {{ width: 38mm; }} .qr {{ position: fixed; bottom: 0; font-size: 8.5pt; }}
</style>
<p class=r>{number}</p><p class=r>{certified}</p>
<p>{address}<br><span style="font-size:13.5pt">{company}</span><br>{representative}　殿</p>
{issuers}
<h1>認定書</h1>
<p>{applied}付けで申請のあった経営力向上計画については、中小企業等経営強化法第17条第1項の規定に基づき、下記のとおり認定します。</p>
<p style="text-align:center">記</p>
<table>{rows}</table>
<p class=qr>この認定書の内容は、次のURLで確認できます。<br>{url}<br>証明書ID: {id}</p>
</html>"#,
        font = font.display(),
        number = data.certification_number,
        certified = date(data.certified_on),
        address = data.address,
        company = data.company_name,
        representative = data.representative,
        applied = date(data.applied_on),
        url = data.verify_url,
        id = data.certificate_id,
    )
}

fn chromium_comparison(data: &CertificateData, printpdf_median: Duration, printpdf_size: usize) {
    let Some(chromium) = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok())
    else {
        println!("(chromium not installed: apt-get install chromium for the HTML comparison)");
        return;
    };
    let dir = std::env::temp_dir().join("keiryoku-cert-bench");
    let _ = std::fs::create_dir_all(&dir);
    let font = Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/ipaexm.ttf");
    let page = dir.join("certificate.html");
    if std::fs::write(&page, html(data, &font)).is_err() {
        return;
    }
    let out = dir.join("certificate-chromium.pdf");
    let profile = dir.join("profile");
    let mut samples = Vec::new();
    for _ in 0..10 {
        let _ = std::fs::remove_file(&out);
        let start = Instant::now();
        let status = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-pdf-header-footer",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--print-to-pdf={}", out.display()))
            .arg(format!("file://{}", page.display()))
            .output();
        samples.push(start.elapsed());
        if !status.is_ok_and(|s| s.status.success()) {
            println!("chromium failed to print");
            return;
        }
    }
    let size = std::fs::metadata(&out)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let chromium_median = median(samples);
    println!(
        "chromium HTML → PDF, median of 10 (process per print) {:>8.2} ms, {:.1} KB",
        chromium_median.as_secs_f64() * 1e3,
        size as f64 / 1024.0
    );
    println!(
        "ratio chromium / printpdf                   time {:>6.0}x   size {:>5.2}x",
        chromium_median.as_secs_f64() / printpdf_median.as_secs_f64(),
        size as f64 / printpdf_size as f64
    );
}

fn main() {
    let data = sample();
    let first = Instant::now();
    let size = match render(&data) {
        Ok(r) => r.pdf.len(),
        Err(e) => panic!("render: {e}"),
    };
    println!(
        "first render (parses the font)             {:>8.2} ms",
        first.elapsed().as_secs_f64() * 1e3
    );
    let samples: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            black_box(render(black_box(&data)).map(|r| r.pdf.len()).unwrap_or(0));
            start.elapsed()
        })
        .collect();
    let printpdf_median = median(samples);
    println!(
        "certificate render, median of 200           {:>8.2} ms",
        printpdf_median.as_secs_f64() * 1e3
    );
    println!(
        "certificate size                            {:>8.1} KB",
        size as f64 / 1024.0
    );
    application();
    chromium_comparison(&data, printpdf_median, size);
}

/// The application as submitted (申請書), which the effects function renders on every
/// submission: the complete plan of the domain's test fixture.
fn application() {
    let plan: serde_json::Value = serde_json::from_str(include_str!(
        "../../domain/tests/fixtures/complete_plan.json"
    ))
    .unwrap_or_default();
    let Ok(plan) = keiryoku_domain::plan::Plan::from_json(plan) else {
        panic!("plan")
    };
    let meta = ApplicationMeta {
        applied_on: time::macros::date!(2026 - 11 - 26),
        addressees: vec!["関東経済産業局長".into()],
        receipt_number: Some("R2026-000123".into()),
    };
    let size = application::render(&plan, &meta).map_or(0, |pdf| pdf.len());
    let samples: Vec<Duration> = (0..100)
        .map(|_| {
            let start = Instant::now();
            black_box(application::render(black_box(&plan), &meta).map_or(0, |pdf| pdf.len()));
            start.elapsed()
        })
        .collect();
    println!(
        "application render, median of 100          {:>8.2} ms",
        median(samples).as_secs_f64() * 1e3
    );
    println!(
        "application size                            {:>8.1} KB",
        size as f64 / 1024.0
    );
}
