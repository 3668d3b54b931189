//! Fault injection: which rule, if any, fires on a request. Rules are tried in the order
//! they were added; the first that matches and fires wins. Deterministic: a rule with a
//! rate draws from its own seeded xorshift generator.

use std::sync::Mutex;
use std::time::Duration;

/// Something to do wrong on a matching request. The request (with its body) is always
/// read first.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 400 ThrottlingException.
    Throttle,
    /// 503 ServiceUnavailableException.
    Unavailable,
    /// 500 with an empty body.
    InternalEmpty,
    /// 408 RequestTimeoutException.
    RequestTimeout,
    /// Close the connection without any response.
    Drop,
    /// Delay the response by this long, then answer normally.
    Slow(Duration),
    /// GetJobOutput only: headers with the full `Content-Length`, about half the body,
    /// then close.
    Truncate,
    /// GetJobOutput only: flip one byte of the body; headers (tree hash included) are
    /// those of the right data.
    Corrupt,
    /// GetJobOutput only: the right body in `pieces` equal pieces with `gap` of silence
    /// before each piece after the first: a slow link that keeps making progress (gap
    /// under the client's timeout) or one that stalls mid-body (gap over it).
    Paced { pieces: u32, gap: Duration },
}

impl Fault {
    /// Faults that spoil a body only make sense where there is one worth spoiling.
    fn applies_to(&self, operation: &str) -> bool {
        match self {
            Fault::Truncate | Fault::Corrupt | Fault::Paced { .. } => operation == "GetJobOutput",
            _ => true,
        }
    }
}

/// When a fault fires.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// What to do.
    pub fault: Fault,
    /// Only requests for this operation (`"UploadMultipartPart"`...); `None` = any.
    pub operation: Option<&'static str>,
    /// Fire on the next N matching requests only; `None` = no limit.
    pub times: Option<u32>,
    /// Fire on this fraction of matching requests, drawn from a PRNG with this seed;
    /// `None` = every matching request.
    pub rate: Option<(f64, u64)>,
}

impl FaultRule {
    /// `fault` on every request for `operation`, forever.
    pub fn always(fault: Fault, operation: Option<&'static str>) -> FaultRule {
        FaultRule {
            fault,
            operation,
            times: None,
            rate: None,
        }
    }

    /// `fault` on the next `n` requests for `operation`.
    pub fn times(fault: Fault, operation: Option<&'static str>, n: u32) -> FaultRule {
        FaultRule {
            fault,
            operation,
            times: Some(n),
            rate: None,
        }
    }
}

struct Active {
    rule: FaultRule,
    rng: u64,
}

/// The rules of one server.
#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<Active>>,
}

impl Faults {
    pub fn add(&self, rule: FaultRule) {
        let seed = rule.rate.map(|(_, s)| s).unwrap_or(0);
        // xorshift must not start at zero.
        let rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        self.rules
            .lock()
            .expect("fault rules lock")
            .push(Active { rule, rng });
    }

    pub fn clear(&self) {
        self.rules.lock().expect("fault rules lock").clear();
    }

    /// The fault to apply to a request for `operation`, if any; consumes one use.
    pub fn pick(&self, operation: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().expect("fault rules lock");
        for a in rules.iter_mut() {
            let r = &a.rule;
            if r.operation.is_some_and(|op| op != operation) || !r.fault.applies_to(operation) {
                continue;
            }
            if r.times == Some(0) {
                continue;
            }
            if let Some((fraction, _)) = r.rate {
                a.rng ^= a.rng << 13;
                a.rng ^= a.rng >> 7;
                a.rng ^= a.rng << 17;
                let draw = (a.rng >> 11) as f64 / (1u64 << 53) as f64;
                if draw >= fraction {
                    continue;
                }
            }
            if let Some(n) = a.rule.times.as_mut() {
                *n -= 1;
            }
            return Some(a.rule.fault.clone());
        }
        None
    }
}
