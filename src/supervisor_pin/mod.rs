//! The supervisor PIN: which requests need one, and checking one. The command line and
//! the screen both ask here, so they cannot disagree about what a cashier may do alone.
//!
//! The config holds only the PIN's Argon2id hash in PHC form
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`); a PIN is checked with argon2's own
//! verification, which compares in constant time. No PIN is ever stored or logged.

pub(crate) mod tries;

use std::fmt;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};

use crate::ecr::TransType;
use crate::journal::TxnKind;
use crate::lane::PayRequest;
use crate::money::Money;

/// The digits a supervisor PIN has, at least and at most.
pub(crate) const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=12;

/// Costs above these make every check a stall (or an out-of-memory stop): a hash asking
/// for them is refused when the config is read, not when a void is waiting.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_PASSES: u32 = 100;

/// A PIN's Argon2id hash in PHC string form, checked when it is read.
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash(String);

impl PinHash {
    /// An Argon2id PHC string with a salt, a hash and parameters argon2 accepts.
    pub fn parse(text: &str) -> Result<PinHash, String> {
        let text = text.trim();
        let hash = PasswordHash::new(text).map_err(|e| format!("not a PHC string ({e})"))?;
        if hash.algorithm != argon2::ARGON2ID_IDENT {
            return Err(format!(
                "the algorithm is {}, not argon2id",
                hash.algorithm.as_str()
            ));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err("it has no salt or no hash".into());
        }
        let params = Params::try_from(&hash).map_err(|e| format!("its parameters: {e}"))?;
        if params.m_cost() > MAX_MEMORY_KIB || params.t_cost() > MAX_PASSES {
            return Err(format!(
                "its cost (m={}, t={}) would stall every check: at most m={MAX_MEMORY_KIB}, t={MAX_PASSES}",
                params.m_cost(),
                params.t_cost()
            ));
        }
        Ok(PinHash(text.to_string()))
    }

    /// The PHC string, to be written into the config file.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never prints the hash: it is as good as the PIN to whoever can try every PIN.
impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinHash(..)")
    }
}

/// A PIN as typed, on its way to be checked: never printed, not even in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TypedPin(pub String);

impl fmt::Debug for TypedPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TypedPin(..)")
    }
}

/// What the config says about supervisor PINs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// None: no PIN is set, and nothing asks for one.
    pub pin: Option<PinHash>,
    /// A referenced refund of more than this needs the PIN too. None: only the
    /// unreferenced ones (and voids, cancels, overrides and batch closes).
    pub refund_above: Option<Money>,
    /// Where wrong PINs are counted: beside the file that holds the hash.
    pub(crate) tries: Option<tries::Tries>,
}

impl Policy {
    /// Checks and counts `pin` (see `tries`). A PIN with nowhere to count its wrong
    /// tries is never checked.
    pub(crate) fn check(
        &self,
        pin: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<tries::Checked, tries::TriesError> {
        match (&self.pin, &self.tries) {
            (Some(hash), Some(tries)) => tries.check(hash, pin, now),
            _ => Err(tries::TriesError {
                path: Default::default(),
                detail: "no config file holds the PIN".into(),
            }),
        }
    }

    /// Until when wrong PINs have locked PIN entry, if they have at `now`.
    pub(crate) fn locked(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, tries::TriesError> {
        match &self.tries {
            Some(tries) => tries.locked(now),
            None => Ok(None),
        }
    }
}

/// Something a cashier asks for, as far as the PIN is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    /// A money-moving request: its kind, its amount when it has one, and whether it
    /// names an original.
    Payment {
        kind: TxnKind,
        amount: Option<Money>,
        referenced: bool,
    },
    /// A supervisor settles an unresolved row by hand (`till resolve`).
    Override,
}

impl Act {
    pub(crate) fn of(req: &PayRequest) -> Act {
        let amount = match req {
            PayRequest::Sale { amount, .. }
            | PayRequest::Refund { amount, .. }
            | PayRequest::PreAuth { amount } => Some(*amount),
            PayRequest::FollowUp { amount, .. } => *amount,
            PayRequest::TipAdjust { tip, .. } => Some(*tip),
            PayRequest::Void { .. } | PayRequest::BatchClose => None,
        };
        Act::Payment {
            kind: req.kind(),
            amount,
            referenced: req.orig().is_some(),
        }
    }
}

/// Why an act needs the supervisor's PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    UnreferencedRefund,
    RefundAbove(Money),
    /// A void, a pre-auth cancel or a completion cancel.
    Cancel(TxnKind),
    BatchClose,
    Override,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::UnreferencedRefund => f.write_str("a refund without an original"),
            Why::RefundAbove(limit) => write!(f, "a refund above {limit}"),
            Why::Cancel(kind) => write!(f, "a {}", kind.name()),
            Why::BatchClose => f.write_str("a batch close"),
            Why::Override => f.write_str("a supervisor override"),
        }
    }
}

/// Whether `act` needs the supervisor PIN under `policy`, and why. Nothing does while
/// no PIN is set.
pub(crate) fn needs_pin(act: &Act, policy: &Policy) -> Option<Why> {
    policy.pin.as_ref()?;
    let (kind, amount, referenced) = match *act {
        Act::Override => return Some(Why::Override),
        Act::Payment {
            kind,
            amount,
            referenced,
        } => (kind, amount, referenced),
    };
    match kind {
        TxnKind::BatchClose => Some(Why::BatchClose),
        TxnKind::Trans(
            TransType::Void | TransType::PreAuthCancel | TransType::CompletionCancel,
        ) => Some(Why::Cancel(kind)),
        TxnKind::Trans(TransType::Refund | TransType::CompletionRefund) => {
            if !referenced {
                return Some(Why::UnreferencedRefund);
            }
            let limit = policy.refund_above?;
            // No amount: the terminal decides it, so it may be anything.
            match amount {
                Some(amount) if amount <= limit => None,
                _ => Some(Why::RefundAbove(limit)),
            }
        }
        TxnKind::Trans(
            TransType::Sale | TransType::CashbackSale | TransType::PreAuth | TransType::Completion,
        )
        | TxnKind::TipAdjust => None,
    }
}

/// Whether `pin` is the one `hash` was made from (constant-time comparison).
pub fn verify(hash: &PinHash, pin: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash.as_str()) else {
        return false;
    };
    Argon2::default()
        .verify_password(pin.trim().as_bytes(), &parsed)
        .is_ok()
}

/// A new PIN as a person typed it: 4 to 12 digits, nothing else.
pub(crate) fn check_new_pin(pin: &str) -> Result<&str, String> {
    let pin = pin.trim();
    let (min, max) = (PIN_DIGITS.start(), PIN_DIGITS.end());
    if !PIN_DIGITS.contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("a supervisor PIN is {min} to {max} digits"));
    }
    Ok(pin)
}

/// Hashes a new PIN with Argon2id (argon2's default costs) and a random salt.
pub fn hash_pin(pin: &str) -> Result<PinHash, String> {
    let pin = check_new_pin(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|e| format!("cannot hash the PIN: {e}"))?;
    PinHash::parse(&hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64) -> Money {
        Money::from_minor(minor, 2).unwrap()
    }

    fn pay(kind: TxnKind, amount: Option<i64>, referenced: bool) -> Act {
        Act::Payment {
            kind,
            amount: amount.map(m),
            referenced,
        }
    }

    #[test]
    fn which_acts_need_the_pin() {
        let hash = hash_pin("2468").unwrap();
        let plain = Policy {
            pin: Some(hash.clone()),
            refund_above: None,
            tries: None,
        };
        let above_50 = Policy {
            pin: Some(hash),
            refund_above: Some(m(5000)),
            tries: None,
        };
        let t = TxnKind::Trans;
        let refund = t(TransType::Refund);
        for policy in [&plain, &above_50] {
            assert_eq!(
                needs_pin(&pay(refund, Some(100), false), policy),
                Some(Why::UnreferencedRefund)
            );
            for cancel in [
                TransType::Void,
                TransType::PreAuthCancel,
                TransType::CompletionCancel,
            ] {
                assert_eq!(
                    needs_pin(&pay(t(cancel), None, true), policy),
                    Some(Why::Cancel(t(cancel)))
                );
            }
            assert_eq!(
                needs_pin(&pay(TxnKind::BatchClose, None, false), policy),
                Some(Why::BatchClose)
            );
            assert_eq!(needs_pin(&Act::Override, policy), Some(Why::Override));
            for free in [
                pay(t(TransType::Sale), Some(1_000_000), false),
                pay(t(TransType::CashbackSale), Some(1_000_000), false),
                pay(t(TransType::PreAuth), Some(1_000_000), false),
                pay(t(TransType::Completion), Some(1_000_000), true),
                pay(TxnKind::TipAdjust, Some(1_000_000), true),
            ] {
                assert_eq!(needs_pin(&free, policy), None, "{free:?}");
            }
        }
        // Referenced refunds: free without a threshold, and up to it.
        assert_eq!(needs_pin(&pay(refund, Some(900_000), true), &plain), None);
        assert_eq!(needs_pin(&pay(refund, Some(5000), true), &above_50), None);
        for kind in [refund, t(TransType::CompletionRefund)] {
            assert_eq!(
                needs_pin(&pay(kind, Some(5001), true), &above_50),
                Some(Why::RefundAbove(m(5000)))
            );
        }
        // No PIN set: nothing asks for one.
        let none = Policy {
            pin: None,
            refund_above: Some(m(0)),
            tries: None,
        };
        assert_eq!(needs_pin(&pay(refund, Some(100), false), &none), None);
        assert_eq!(needs_pin(&Act::Override, &none), None);
    }

    #[test]
    fn acts_of_requests() {
        let void = PayRequest::Void {
            orig: "L01-X".into(),
            options: Default::default(),
        };
        assert_eq!(
            Act::of(&void),
            pay(TxnKind::Trans(TransType::Void), None, true)
        );
        let refund = PayRequest::Refund {
            amount: m(700),
            orig: None,
            options: Default::default(),
        };
        assert_eq!(
            Act::of(&refund),
            pay(TxnKind::Trans(TransType::Refund), Some(700), false)
        );
    }

    #[test]
    fn pins_hash_and_verify() {
        let hash = hash_pin(" 0123456789 \n").unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$"));
        assert!(verify(&hash, "0123456789"));
        assert!(!verify(&hash, "0123456788"));
        assert!(!verify(&hash, ""));
        // Two hashes of one PIN differ by their salt.
        assert_ne!(hash_pin("0123456789").unwrap(), hash);
        assert_eq!(format!("{hash:?}"), "PinHash(..)");
        for bad in ["123", "1234567890123", "12a4", "12 34", ""] {
            assert!(hash_pin(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_sound_argon2id_hashes_are_taken() {
        let good = hash_pin("1357").unwrap();
        assert!(PinHash::parse(good.as_str()).is_ok());
        let argon2i = good.as_str().replacen("argon2id", "argon2i", 1);
        assert!(PinHash::parse(&argon2i).unwrap_err().contains("argon2i"));
        assert!(PinHash::parse("1357").is_err());
        assert!(PinHash::parse("$argon2id$v=19$m=19456,t=2,p=1").is_err());
        let costly = good.as_str().replacen("m=19456", "m=4194304", 1);
        assert!(PinHash::parse(&costly).unwrap_err().contains("stall"));
    }
}
