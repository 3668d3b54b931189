//! The loopback container credentials endpoint ("Container credential provider", AWS
//! SDKs and Tools Reference Guide; the answer is the one ECS task metadata shows): GET of
//! one path, the `Authorization` header must equal a currently valid token when tokens
//! are set, JSON answer, every request recorded.

use std::sync::{Arc, Mutex};

use time::Duration;
use time::format_description::well_known::Rfc3339;

use super::http::{self, Handler, Request, Response};
use super::{Issued, KeyRing, TestClock, whole_seconds};

/// What the loopback container endpoint serves.
struct ContainerState {
    path: String,
    clock: TestClock,
    lifetime: Duration,
    /// Valid `Authorization` values; empty means none is required.
    tokens: Mutex<Vec<String>>,
    issued: Mutex<Vec<Issued>>,
    requests: Mutex<Vec<Request>>,
    /// Where to also register issued keys.
    ring: Mutex<Option<KeyRing>>,
}

/// A running loopback container credentials endpoint.
pub struct ContainerServer {
    /// `http://127.0.0.1:PORT` (without the path).
    pub base: String,
    state: Arc<ContainerState>,
}

impl ContainerServer {
    /// Serves credentials at `path`, valid for `lifetime` from `clock`'s now.
    pub fn start(path: &str, clock: TestClock, lifetime: Duration) -> ContainerServer {
        let state = Arc::new(ContainerState {
            path: path.to_string(),
            clock,
            lifetime,
            tokens: Mutex::new(Vec::new()),
            issued: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            ring: Mutex::new(None),
        });
        let s = Arc::clone(&state);
        let handler: Handler = Arc::new(move |req| container_answer(&s, req));
        ContainerServer {
            base: http::serve(handler),
            state,
        }
    }

    /// The full URI of the credentials path.
    pub fn uri(&self) -> String {
        format!("{}{}", self.base, self.state.path)
    }

    /// Replaces the valid authorization tokens.
    pub fn set_tokens(&self, tokens: &[&str]) {
        *self.state.tokens.lock().expect("tokens") = tokens.iter().map(|t| t.to_string()).collect();
    }

    /// Registers every key issued from now on in `ring` too.
    pub fn share_keys(&self, ring: KeyRing) {
        *self.state.ring.lock().expect("ring") = Some(ring);
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().expect("requests").clone()
    }

    /// The credentials issued so far.
    pub fn issued(&self) -> Vec<Issued> {
        self.state.issued.lock().expect("issued").clone()
    }
}

fn container_answer(state: &ContainerState, req: &Request) -> Response {
    state.requests.lock().expect("requests").push(req.clone());
    let json = |status, body: String| Response {
        status,
        content_type: "application/json",
        body,
    };
    if req.method != "GET" || req.target != state.path {
        return json(
            404,
            "{\"code\":\"NotFound\",\"message\":\"no such path\"}".into(),
        );
    }
    let tokens = state.tokens.lock().expect("tokens");
    if !tokens.is_empty()
        && !tokens
            .iter()
            .any(|t| Some(t.as_str()) == req.header("authorization"))
    {
        return json(
            401,
            "{\"code\":\"AccessDeniedException\",\"message\":\"invalid token\"}".into(),
        );
    }
    let mut issued = state.issued.lock().expect("issued");
    let n = issued.len() + 1;
    let new = Issued {
        access_key_id: format!("ASIACONTAINER{n:04}"),
        secret: format!("container/secret/{n:04}/bPxRfiCYEXAMPLEKEY"),
        token: format!("IQoJb3JpZ2luX2VjEXAMPLE-container-token-{n:04}"),
        expiration: whole_seconds((state.clock)() + state.lifetime),
    };
    issued.push(new.clone());
    if let Some(ring) = state.ring.lock().expect("ring").as_ref() {
        ring.lock().expect("keyring").push((
            new.access_key_id.clone(),
            new.secret.clone(),
            new.token.clone(),
        ));
    }
    json(
        200,
        serde_json::json!({
            "AccessKeyId": new.access_key_id,
            "Expiration": new.expiration.format(&Rfc3339).expect("format expiration"),
            "RoleArn": "arn:aws:iam::111122223333:role/task-role",
            "SecretAccessKey": new.secret,
            "Token": new.token,
        })
        .to_string(),
    )
}
