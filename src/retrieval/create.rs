//! The one policy for a call that creates something (InitiateJob, InitiateMultipartUpload):
//! when the outcome of a request is unknown (sent, then no answer or a 5xx), what it made
//! may exist, and may be billed. So look for it and adopt it; only when the look finds
//! nothing is the request sent again. Glacier has no idempotency token for these calls,
//! so "what it made" is recognised by what it must look like (the caller's `look`).

use crate::error::{Error, Result};

/// How many times a create call is sent while each answer is lost and nothing shows up
/// when looked for; then the last fault is returned.
pub const CREATE_ROUNDS: u32 = 4;

/// A call that creates something, and how to find what a lost attempt made.
pub struct Create<'a, T> {
    /// The operation, for notes: `InitiateJob`.
    pub operation: &'a str,
    /// What may have been made, for notes: `a job`, `an upload`.
    pub thing: &'a str,
    /// Sends the request once.
    pub send: &'a mut dyn FnMut() -> Result<T>,
    /// Looks for what an attempt made; errors are returned with a hint to look by hand.
    pub look: &'a mut dyn FnMut() -> Result<Option<T>>,
    /// What the user should do when looking fails: "check 'glacier jobs list v' before
    /// starting it again".
    pub advice: &'a str,
}

/// Runs the policy (see the module comment). Every transient error returned leaves it
/// safe to send the request again later: it was refused, or looked for and not found. A
/// failed look is returned as [`Error::Failed`], never transient, with advice.
pub fn create<T: std::fmt::Display>(c: Create<'_, T>, note: &mut dyn FnMut(&str)) -> Result<T> {
    let Create {
        operation,
        thing,
        send,
        look,
        advice,
    } = c;
    let mut round = 1;
    loop {
        let err = match send() {
            Ok(made) => return Ok(made),
            Err(e) if e.outcome_unknown() => e,
            Err(e) => return Err(e),
        };
        let chain = crate::error::chain(&err);
        // Not "transient": whoever retries transient faults must not send the request
        // again without a look at what the lost one made.
        let found = look().map_err(|e| Error::WithHint {
            error: Box::new(Error::Failed(format!(
                "looking for it failed: {}",
                crate::error::chain(&e)
            ))),
            hint: format!(
                "the answer to {operation} was lost ({chain}), so {thing} may have started: {advice}"
            ),
        })?;
        if let Some(made) = found {
            note(&format!(
                "the answer to {operation} was lost ({chain}), but Glacier lists what it started: continuing with {made}"
            ));
            return Ok(made);
        }
        if round >= CREATE_ROUNDS {
            return Err(err);
        }
        round += 1;
        note(&format!(
            "the answer to {operation} was lost ({chain}) and Glacier lists nothing it started: sending it again"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServiceError;

    fn svc(status: u16) -> Error {
        Error::Service(Box::new(ServiceError {
            context: "c".into(),
            status,
            code: String::new(),
            message: String::new(),
            request_id: None,
            hint: None,
        }))
    }

    #[test]
    fn a_lost_answer_is_looked_for_before_the_request_goes_again() {
        let mut sent = 0;
        let mut looked = 0;
        let made = std::cell::Cell::new(false);
        // The first attempt makes the thing and loses its answer: it is adopted.
        let got = create(
            Create {
                operation: "Op",
                thing: "a job",
                send: &mut || {
                    sent += 1;
                    made.set(true);
                    Err(svc(500))
                },
                look: &mut || {
                    looked += 1;
                    Ok(made.get().then(|| "J".to_string()))
                },
                advice: "x",
            },
            &mut |_| {},
        );
        assert_eq!(got.ok().as_deref(), Some("J"));
        assert_eq!((sent, looked), (1, 1));
        // Nothing made: sent again, at most CREATE_ROUNDS times, looking after each.
        let (mut sent, mut looked) = (0, 0);
        let got: Result<String> = create(
            Create {
                operation: "Op",
                thing: "a job",
                send: &mut || {
                    sent += 1;
                    Err(svc(503))
                },
                look: &mut || {
                    looked += 1;
                    Ok(None)
                },
                advice: "x",
            },
            &mut |_| {},
        );
        assert!(got.is_err());
        assert_eq!((sent, looked), (CREATE_ROUNDS, CREATE_ROUNDS));
        // A refusal (the request was not acted on) is returned at once, unlooked.
        let mut looked = 0;
        let got: Result<String> = create(
            Create {
                operation: "Op",
                thing: "a job",
                send: &mut || Err(svc(400)),
                look: &mut || {
                    looked += 1;
                    Ok(None)
                },
                advice: "x",
            },
            &mut |_| {},
        );
        assert!(got.is_err());
        assert_eq!(looked, 0);
    }
}
