//! Masking keeps references: over 100,000 generated references of the shapes processors
//! use, the fraction masked in a reply's reference field (target < 0.1%), in a frame that
//! names the transaction's day as replies do and in one that names no day, beside the
//! fraction the PCI rule alone would mask, per shape; then the time to mask a frame.
//! `cargo bench --bench mask` (`MASK_BENCH_REFS` changes the count).

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use serde_json::json;

use till::mask::{mask_frame, mask_line, mask_pans};

/// How processors number transactions (12 to 19 digits), with the share of each in
/// the mix. Chosen before measuring, from the numbers seen in processors' replies and
/// the ISO 8583 retrieval reference number.
const SHAPES: [(&str, u32); 5] = [
    ("YYYYMMDD + random, 12-19", 40),
    ("YYMMDD + random, 12-19", 20),
    ("YYYYMMDDhhmmss + random, 14-19", 15),
    ("zero-padded counter, 12-19", 15),
    ("RRN YDDDhh + 6-digit count, 12", 10),
];

fn digits(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.u8(..10))).collect()
}

/// A recent date: 2024 to 2027.
fn date(rng: &mut fastrand::Rng) -> (u32, u32, u32) {
    (rng.u32(2024..=2027), rng.u32(1..=12), rng.u32(1..=28))
}

/// A reference and the day of its transaction.
fn reference(rng: &mut fastrand::Rng, shape: usize) -> (String, (u32, u32, u32)) {
    let len = rng.usize(12..=19);
    let (y, m, d) = date(rng);
    let text = match shape {
        0 => format!("{y:04}{m:02}{d:02}{}", digits(rng, len - 8)),
        1 => format!("{:02}{m:02}{d:02}{}", y % 100, digits(rng, len - 6)),
        2 => {
            let len = rng.usize(14..=19);
            let (h, min, s) = (rng.u32(..24), rng.u32(..60), rng.u32(..60));
            format!(
                "{y:04}{m:02}{d:02}{h:02}{min:02}{s:02}{}",
                digits(rng, len - 14)
            )
        }
        3 => {
            let count = rng.u64(1..1_000_000_000);
            format!("{count:0len$}")
        }
        _ => format!(
            "{}{:03}{:02}{:06}",
            y % 10,
            rng.u32(1..=366),
            rng.u32(..24),
            rng.u32(..1_000_000)
        ),
    };
    (text, (y, m, d))
}

fn pick_shape(rng: &mut fastrand::Rng) -> usize {
    let total: u32 = SHAPES.iter().map(|s| s.1).sum();
    let mut at = rng.u32(..total);
    for (i, (_, weight)) in SHAPES.iter().enumerate() {
        if at < *weight {
            return i;
        }
        at -= weight;
    }
    0
}

/// Whether `reference` came out of a reply's `trans_no` changed; the reply names the
/// transaction's day in `trans_end_time` when `day` is given.
fn masked_as_reference(reference: &str, day: Option<(u32, u32, u32)>) -> bool {
    let mut biz = json!({"trans_no": reference, "trans_status": "2"});
    if let Some((y, m, d)) = day {
        biz["trans_end_time"] = format!("{y:04}-{m:02}-{d:02} 12:00:00").into();
    }
    let frame = json!({"topic": "ecrhub.pay.order", "biz_data": biz});
    let masked = mask_frame(&frame.to_string());
    !masked.contains(&format!(r#""trans_no":"{reference}""#))
}

fn pct(n: usize, of: usize) -> String {
    format!("{:.3}%", n as f64 * 100.0 / of.max(1) as f64)
}

fn fractions() {
    let count: usize = std::env::var("MASK_BENCH_REFS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rng = fastrand::Rng::with_seed(20261203);
    // Per shape: generated; masked in a reply naming its day; in one naming no day;
    // by the PCI rule alone.
    let mut tally = [[0usize; 4]; SHAPES.len()];
    let mut random = [0usize; 4];
    let count_one = |t: &mut [usize; 4], r: &str, day| {
        t[0] += 1;
        t[1] += usize::from(masked_as_reference(r, Some(day)));
        t[2] += usize::from(masked_as_reference(r, None));
        t[3] += usize::from(mask_pans(r) != r);
    };
    for _ in 0..count {
        let shape = pick_shape(&mut rng);
        let (r, day) = reference(&mut rng, shape);
        count_one(&mut tally[shape], &r, day);
    }
    // Outside the mix: numbers with no structure at all, to show what the issuer table
    // costs when nothing in front says "reference".
    for _ in 0..count / 10 {
        let len = rng.usize(12..=19);
        let r = format!("{}{}", rng.u8(1..10), digits(&mut rng, len - 1));
        count_one(&mut random, &r, date(&mut rng));
    }
    let mut all = [0usize; 4];
    for t in &tally {
        for (a, n) in all.iter_mut().zip(t) {
            *a += n;
        }
    }
    println!("references in a reply's reference field (trans_no), {count} generated");
    let row = |name: &str, t: &[usize; 4]| {
        println!(
            "{name:<34} {:>7} {:>14} {:>14} {:>14}",
            t[0],
            pct(t[1], t[0]),
            pct(t[2], t[0]),
            pct(t[3], t[0])
        );
    };
    println!(
        "{:<34} {:>7} {:>14} {:>14} {:>14}",
        "shape", "count", "day named", "no day", "PCI rule alone"
    );
    for ((name, _), t) in SHAPES.iter().zip(&tally) {
        row(name, t);
    }
    row("the mix", &all);
    row("(no structure, not in the mix)", &random);
}

fn bench(c: &mut Criterion) {
    let approved = json!({
        "topic": "ecrhub.pay.order", "app_id": "wz6012822ca2f1as78",
        "request_id": "c0a8f1e2-1796-3012-3432-600000000000", "timestamp": "1764000000000",
        "response_code": "0", "response_msg": "SUCCESS",
        "biz_data": {
            "merchant_order_no": "L01-20261203-000042", "trans_no": "2026120300000108",
            "trans_type": "1", "trans_status": "2", "order_amount": "12.34",
            "total_amount": "12.34", "price_currency": "EUR", "pay_method_id": "Visa",
            "card_brand": "Visa", "card_type": "CREDIT", "card_no": "456331******3919",
            "auth_code": "123456", "ref_no": "332712000123", "entry_mode": "CONTACTLESS",
            "terminal_sn": "P2SN000000000001", "trans_end_time": "2026/12/03 12:00:01"
        }
    })
    .to_string();
    let biz_string = json!({
        "topic": "ecrhub.pay.order", "request_id": "r1", "response_code": "0",
        "response_msg": "Declined card 4111 1111 1111 1111",
        "biz_data": json!({"trans_no": "2026120300000108", "card_no": "4111111111111111",
                           "msg": "４１１１　１１１１　１１１１　１１１１"}).to_string(),
    })
    .to_string();
    let log_line = format!("2026-12-03T12:00:01Z DEBUG till::link: frame in frame={approved}");
    let mut group = c.benchmark_group("mask");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("approved reply frame", |b| {
        b.iter(|| mask_frame(black_box(&approved)))
    });
    group.bench_function("biz_data as a string, cards spelled", |b| {
        b.iter(|| mask_frame(black_box(&biz_string)))
    });
    group.bench_function("log line holding a frame", |b| {
        b.iter(|| mask_line(black_box(&log_line)).into_owned())
    });
    group.bench_function("free text, no digits", |b| {
        b.iter(|| mask_pans(black_box("receipt printer not found")).into_owned())
    });
    group.finish();
}

fn main() {
    fractions();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
