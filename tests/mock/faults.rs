//! Fault injection: which rule, if any, fires on a request. Rules are tried in the order
//! they were added; the first that matches and fires wins. Deterministic: a rule with a
//! rate draws from its own seeded xorshift generator.

use std::sync::{Arc, Condvar, Mutex};
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
    /// Perform the operation (the upload, job or archive now exists), then hold the
    /// answer until the test opens the gate. The request is in the log before the hold,
    /// so a test can poll for it and act "while Glacier is working".
    Hold(Gate),
    /// Perform the operation, then close the connection without answering: the answer
    /// was lost after Glacier acted on the request.
    DropAfter,
    /// Perform the operation, then answer 500 ServiceUnavailableException: a server
    /// error after Glacier acted. The API Reference ("Error Responses") gives 500 for
    /// ServiceUnavailableException, "the service cannot complete the request", which
    /// says nothing of whether the operation already took effect.
    FailAfter,
    /// GetJobOutput only: the right body in `pieces` equal pieces with `gap` of silence
    /// before each piece after the first: a slow link that keeps making progress (gap
    /// under the client's timeout) or one that stalls mid-body (gap over it).
    Paced { pieces: u32, gap: Duration },
    /// 404 ResourceNotFoundException without performing the operation. GetJobOutput
    /// answers this when the job's output is gone (API Reference, "Get Job Output
    /// (GET output)", Errors: ResourceNotFoundException, 404, "the specified resource
    /// ... does not exist"), while ListJobs may still list the job as Succeeded.
    NotFound,
    /// 400 PolicyEnforcedException without performing the operation: the account's data
    /// retrieval policy refuses the job (API Reference, "Initiate Job (POST jobs)",
    /// Errors: "Returned if a retrieval job would exceed the current data policy's
    /// retrieval rate limit"). Only InitiateJob answers it.
    PolicyEnforced,
}

/// A gate a held answer waits behind; the test opens it. Clones share the gate.
#[derive(Debug, Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl PartialEq for Gate {
    fn eq(&self, other: &Gate) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Lets every held answer (and every later one) through.
    pub fn open(&self) {
        let (lock, cvar) = &*self.0;
        *lock.lock().expect("gate lock") = true;
        cvar.notify_all();
    }

    /// Waits until the gate is open. A test that forgets to open it must not hang the
    /// server's shutdown for ever: after `limit` the answer goes out anyway.
    pub(super) fn wait(&self, limit: Duration) {
        let (lock, cvar) = &*self.0;
        let open = lock.lock().expect("gate lock");
        let _ = cvar
            .wait_timeout_while(open, limit, |open| !*open)
            .expect("gate lock");
    }
}

impl Fault {
    /// Faults that spoil a body only make sense where there is one worth spoiling.
    fn applies_to(&self, operation: &str) -> bool {
        match self {
            Fault::Truncate | Fault::Corrupt | Fault::Paced { .. } => operation == "GetJobOutput",
            Fault::PolicyEnforced => operation == "InitiateJob",
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
