//! The shared reply vectors: every frame variant a terminal (or an older SDK) sends,
//! with what till must make of it. They are the floor of the decoder's tests.

use serde_json::Value;
use till::ecr::{QueryVerdict, Reply, outcome, query_verdict};
use till::mask::{mask_frame, mask_pans};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/vectors/replies.jsonl"
);

fn field<'a>(expect: &'a Value, key: &str) -> Option<&'a Value> {
    expect.as_object().and_then(|o| o.get(key))
}

fn opt_str(v: &Value) -> Option<&str> {
    v.as_str()
}

#[test]
fn every_vector_decodes_as_expected() {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("{VECTORS}: {e} (shared/ must sit beside the repo)"));
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("vector line is JSON");
        let name = case["name"].as_str().unwrap_or("?");
        let frame = case["frame"].as_str().expect("frame is a string");
        let expect = &case["expect"];

        let decoded = Reply::decode(frame);
        if let Some(err) = field(expect, "error") {
            assert_eq!(err, "malformed", "{name}");
            assert!(decoded.is_err(), "{name}: malformed frame decoded");
            checked += 1;
            continue;
        }
        let reply = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));

        if let Some(want) = field(expect, "outcome") {
            assert_eq!(
                outcome(&reply).word().to_lowercase(),
                want.as_str().unwrap(),
                "{name}"
            );
        }
        if let Some(want) = field(expect, "request_id") {
            assert_eq!(reply.request_id.as_deref(), opt_str(want), "{name}");
        }
        if let Some(want) = field(expect, "merchant_order_no") {
            assert_eq!(
                reply.biz.merchant_order_no.as_deref(),
                opt_str(want),
                "{name}"
            );
        }
        if let Some(want) = field(expect, "amount_minor") {
            let amount = reply
                .biz
                .amount(2)
                .expect("amount present")
                .expect("amount parses");
            assert_eq!(amount.minor(), want.as_i64().unwrap(), "{name}");
        }
        if let Some(want) = field(expect, "brand") {
            assert_eq!(reply.biz.brand(), opt_str(want), "{name}");
        }
        if let Some(want) = field(expect, "card") {
            assert_eq!(reply.biz.card_no.as_deref(), opt_str(want), "{name}");
            // Nothing the decoder keeps may hold the full number.
            assert!(!format!("{reply:?}").contains("4563311234563919"), "{name}");
        }
        if let Some(want) = field(expect, "trans_status") {
            assert_eq!(reply.biz.trans_status.as_deref(), opt_str(want), "{name}");
        }
        if let Some(want) = field(expect, "money_moved") {
            let moved = match query_verdict(&reply) {
                QueryVerdict::Moved => true,
                QueryVerdict::NotMoved => false,
                QueryVerdict::Undetermined(why) => panic!("{name}: undetermined: {why}"),
            };
            assert_eq!(moved, want.as_bool().unwrap(), "{name}");
        }
        if let Some(words) = field(expect, "message_must_not_contain") {
            assert_never_survives(name, frame, &reply, words);
        }
        if let Some(want) = field(expect, "device_sn") {
            assert_eq!(
                reply.biz.device.device_sn.as_deref(),
                opt_str(want),
                "{name}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 21, "only {checked} vectors checked");
}

/// Nothing made of the frame holds any of `words` (card numbers in their spellings):
/// not the decoded reply, its message or Debug output, nor the frame masked for the
/// wire log, the journal and the log file.
fn assert_never_survives(name: &str, frame: &str, reply: &Reply, words: &Value) {
    let words = words
        .as_array()
        .unwrap_or_else(|| panic!("{name}: message_must_not_contain is a list"));
    assert!(!words.is_empty(), "{name}: nothing to check");
    let debug = format!("{reply:?}");
    let masked_frame = mask_frame(frame);
    let masked_text = mask_pans(frame);
    for word in words {
        let word = word.as_str().expect("a string");
        for (what, text) in [
            ("message", reply.message()),
            ("Debug", debug.as_str()),
            ("masked frame", masked_frame.as_str()),
            ("masked text", &masked_text),
        ] {
            assert!(!text.contains(word), "{name}: {word} in the {what}: {text}");
        }
    }
    assert!(
        !reply.message().is_empty(),
        "{name}: the message is masked, not dropped"
    );
}

/// Apart from the walk above, so a failing expectation elsewhere cannot hide these.
#[test]
fn card_numbers_named_by_vectors_never_survive() {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("{VECTORS}: {e}"));
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("vector line is JSON");
        let Some(words) = field(&case["expect"], "message_must_not_contain") else {
            continue;
        };
        let name = case["name"].as_str().unwrap_or("?");
        let frame = case["frame"].as_str().expect("frame is a string");
        let reply = Reply::decode(frame).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_never_survives(name, frame, &reply, words);
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no vector names card numbers that must not survive (spaced_pan_in_message)"
    );
}

mod fuzz {
    use proptest::prelude::*;
    use till::ecr::{Reply, outcome, query_verdict};

    /// JSON-ish values shaped like replies, so the fuzzer reaches past the parser.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            "\\PC{0,20}".prop_map(serde_json::Value::String),
            Just(serde_json::json!("4111111111111111")),
            Just(serde_json::json!("{\"trans_status\":2}")),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            let keys = prop_oneof![
                Just("topic".to_string()),
                Just("request_id".to_string()),
                Just("msg_id".to_string()),
                Just("response_code".to_string()),
                Just("success".to_string()),
                Just("biz_data".to_string()),
                Just("trans_status".to_string()),
                Just("order_amount".to_string()),
                Just("card_no".to_string()),
                "[a-z_]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_text_never_panics(text in "\\PC{0,200}") {
            if let Ok(reply) = Reply::decode(&text) {
                let _ = (outcome(&reply), query_verdict(&reply), reply.biz.amount(2));
            }
        }

        #[test]
        fn random_replies_never_panic(value in json_value()) {
            let reply = Reply::decode(&value.to_string());
            if let Ok(reply) = reply {
                let _ = (outcome(&reply), query_verdict(&reply), reply.biz.amount(2));
                let debug = format!("{reply:?}");
                prop_assert!(!debug.contains("4111111111111111"));
            }
        }
    }
}
