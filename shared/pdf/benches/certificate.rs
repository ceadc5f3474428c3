//! Median time and size of one certificate. Run: `cargo bench -p keiryoku-pdf`.
//! The font is parsed once per process (as in a warm Lambda); its first parse is reported apart.

use std::hint::black_box;
use std::time::{Duration, Instant};

use keiryoku_pdf::certificate::{render, sample};

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
    let mut samples: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            black_box(render(black_box(&data)).map(|r| r.pdf.len()).unwrap_or(0));
            start.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "certificate render, median of 200           {:>8.2} ms",
        median.as_secs_f64() * 1e3
    );
    println!(
        "certificate size                            {:>8.1} KB",
        size as f64 / 1024.0
    );
}
