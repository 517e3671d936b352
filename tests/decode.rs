//! Tolerant decoding of reply variants beyond the shared vectors.

use till::ecr::{BizData, Reply};

#[test]
fn biz_data_variants_never_fail() {
    for biz in [r#""""#, r#""not json""#, "null", "[1]", "42", r#""[1,2]""#] {
        let frame =
            format!(r#"{{"topic":"ecrhub.pay.order","response_code":"110","biz_data":{biz}}}"#);
        let reply = Reply::decode(&frame).unwrap();
        assert_eq!(reply.biz, BizData::default(), "{biz}");
    }
}

#[test]
fn numbers_keep_their_literal() {
    let reply = Reply::decode(
        r#"{"response_code":0,"biz_data":{"order_amount":12.34,"trans_no":202611231200001234,"tip_amount":0.1}}"#,
    )
    .unwrap();
    assert_eq!(reply.response_code.as_deref(), Some("0"));
    assert_eq!(reply.biz.amount(2).unwrap().unwrap().minor(), 1234);
    assert_eq!(reply.biz.trans_no.as_deref(), Some("202611231200001234"));
    assert_eq!(reply.biz.tip_amount.as_deref(), Some("0.1"));
}

#[test]
fn success_flag_spellings() {
    for (raw, want) in [
        ("true", Some(true)),
        (r#""true""#, Some(true)),
        ("1", Some(true)),
        (r#""1""#, Some(true)),
        ("false", Some(false)),
        (r#""0""#, Some(false)),
        (r#""maybe""#, None),
    ] {
        let reply = Reply::decode(&format!(r#"{{"success":{raw}}}"#)).unwrap();
        assert_eq!(reply.success, want, "{raw}");
    }
}

#[test]
fn full_pans_are_masked_everywhere() {
    let reply = Reply::decode(
        r#"{"response_code":"0","biz_data":{"card_no":"4563311234563919","note":{"x":"pan 4111111111111111"}}}"#,
    )
    .unwrap();
    assert_eq!(reply.biz.card_no.as_deref(), Some("456331******3919"));
    let debug = format!("{reply:?}");
    assert!(!debug.contains("4563311234563919") && !debug.contains("4111111111111111"));
}
