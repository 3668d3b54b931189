//! Connections and dispatch: accepts on the listener, serves each connection on its own
//! thread with keep-alive, parses a request's [`Operation`] once, runs the
//! authentication checks, applies injected faults, calls the operation and records the
//! exchange. Every response gets `x-amzn-RequestId` and `Date` (the mock's clock).

use std::io::{BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::dates::http_date;
use super::error::ApiError;
use super::faults::{Fault, Faults};
use super::http::{
    Body, BodyFault, Head, HeadError, RespBody, Response, read_head, write_response,
};
use super::operation::{Operation, check_account};
use super::store::Store;
use super::store::make_id;
use super::{MockConfig, RecordedRequest, archives, auth, jobs, multipart, vaults};

/// Largest body accepted by operations that take JSON or nothing.
const MAX_SMALL_BODY: u64 = 1 << 20;

/// What the server threads share.
pub struct Shared {
    pub cfg: MockConfig,
    pub dir: PathBuf,
    pub store: Store,
    pub faults: Faults,
    pub log: Mutex<Vec<RecordedRequest>>,
    /// See `MockGlacier::rewrite_json`.
    pub rewrite: Mutex<Option<JsonRewrite>>,
    stop: AtomicBool,
    conns: Mutex<Vec<(Option<TcpStream>, JoinHandle<()>)>>,
}

impl Shared {
    pub fn new(cfg: MockConfig, dir: PathBuf) -> Shared {
        Shared {
            store: Store::new(dir.clone(), cfg.job_completes_after_polls),
            cfg,
            dir,
            faults: Faults::default(),
            log: Mutex::new(Vec::new()),
            rewrite: Mutex::new(None),
            stop: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
        }
    }

    /// The mock's clock: real time plus the configured skew.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.cfg.clock_skew_secs)
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Unblocks every connection thread (shutting its socket) and waits for them.
    pub fn join_connections(&self) {
        let conns = std::mem::take(&mut *self.conns.lock().expect("connections lock"));
        for (stream, _) in &conns {
            if let Some(s) = stream {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        for (_, h) in conns {
            let _ = h.join();
        }
    }
}

pub fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = conn else { continue };
        let _ = stream.set_nodelay(true);
        let clone = stream.try_clone().ok();
        let sh = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("mock-glacier-conn".into())
            .spawn(move || serve(&sh, stream));
        if let Ok(h) = spawned {
            let mut conns = shared.conns.lock().expect("connections lock");
            conns.retain(|(_, h)| !h.is_finished());
            conns.push((clone, h));
        }
    }
}

/// A request ID unique in this process, shaped like Glacier's.
fn request_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    make_id("request", N.fetch_add(1, Ordering::Relaxed), 47, false)
}

/// What to send.
enum Outcome {
    Send(Response),
    /// Close without a response.
    Drop,
}

fn error_response(e: &ApiError) -> Response {
    Response {
        status: e.status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: RespBody::Bytes(e.body()),
    }
}

fn serve(shared: &Shared, stream: TcpStream) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(256 * 1024, read_half);
    let mut writer = stream;
    loop {
        let head = match read_head(&mut reader) {
            Ok(h) => h,
            Err(HeadError::Closed | HeadError::Io(_)) => return,
            Err(HeadError::Bad(msg)) => {
                let e = ApiError::new(400, "BadRequest", msg);
                let resp = finish_headers(shared, error_response(&e), &request_id());
                let _ = write_response(&mut writer, &resp, true, None);
                return;
            }
        };
        let rid = request_id();
        let mut close = head
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));

        // Framing: only Content-Length bodies (the client always sends one).
        let framing = if head.header("transfer-encoding").is_some() {
            Err(ApiError::new(
                411,
                "MissingContentLength",
                "Transfer-Encoding is not supported; send Content-Length",
            ))
        } else {
            match head.header("content-length").map(str::parse::<u64>) {
                None => Ok(0),
                Some(Ok(n)) if head.count("content-length") == 1 => Ok(n),
                Some(_) => Err(ApiError::new(400, "BadRequest", "Invalid Content-Length")),
            }
        };
        let len = match framing {
            Ok(n) => n,
            Err(e) => {
                let code = Some(e.code.to_string());
                record(shared, &head, "Unknown", &rid, e.status, code, None);
                let resp = finish_headers(shared, error_response(&e), &rid);
                let _ = write_response(&mut writer, &resp, true, None);
                return;
            }
        };
        if head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            use std::io::Write;
            if writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
                return;
            }
        }

        let mut body = Body {
            inner: &mut reader,
            remaining: len,
        };
        let (op, outcome, fault) = dispatch(shared, &head, len, &mut body);
        // Whatever the handler left unread is drained so the connection stays usable.
        if body.drain().is_err() {
            record(shared, &head, op, &rid, 0, None, fault);
            return;
        }
        let resp = match outcome {
            Outcome::Drop => {
                record(shared, &head, op, &rid, 0, None, fault);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Outcome::Send(r) => r,
        };
        let body_fault = match fault {
            Some(Fault::Truncate) if resp.status < 300 => Some(BodyFault::Truncate),
            Some(Fault::Corrupt) if resp.status < 300 => Some(BodyFault::Corrupt),
            Some(Fault::Paced { pieces, gap }) if resp.status < 300 => {
                Some(BodyFault::Paced { pieces, gap })
            }
            _ => None,
        };
        close |= body_fault == Some(BodyFault::Truncate);
        let code = (resp.status >= 400).then(|| error_code(&resp)).flatten();
        record(shared, &head, op, &rid, resp.status, code, fault.clone());
        if let Some(Fault::Slow(d)) = fault {
            // The delay a test asked for is the fault itself, not a wait for something.
            std::thread::sleep(d);
        }
        if let Some(Fault::Hold(gate)) = &fault {
            gate.wait(Duration::from_secs(60));
        }
        let resp = finish_headers(shared, resp, &rid);
        if write_response(&mut writer, &resp, close, body_fault).is_err() || close {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn error_code(resp: &Response) -> Option<String> {
    let RespBody::Bytes(b) = &resp.body else {
        return None;
    };
    let v: serde_json::Value = serde_json::from_slice(b).ok()?;
    Some(v.get("code")?.as_str()?.to_string())
}

fn finish_headers(shared: &Shared, mut resp: Response, rid: &str) -> Response {
    resp.headers
        .insert(0, ("x-amzn-RequestId".into(), rid.to_string()));
    resp.headers.push(("Date".into(), http_date(shared.now())));
    resp
}

fn record(
    shared: &Shared,
    head: &Head,
    op: &str,
    rid: &str,
    status: u16,
    code: Option<String>,
    fault: Option<Fault>,
) {
    shared
        .log
        .lock()
        .expect("request log lock")
        .push(RecordedRequest {
            method: head.method.clone(),
            path: head.path.clone(),
            query: head.query.clone(),
            operation: op.to_string(),
            status,
            request_id: rid.to_string(),
            headers: head.headers.clone(),
            error_code: code,
            fault,
        });
}

fn dispatch(
    shared: &Shared,
    head: &Head,
    len: u64,
    body: &mut Body,
) -> (&'static str, Outcome, Option<Fault>) {
    let now = shared.now();
    let parsed = Operation::parse(head);
    let op = parsed.as_ref().map_or("Unknown", Operation::name);
    // Every body but an upload's is small: read it first, so the signature can cover
    // its hash when the optional x-amz-content-sha256 is absent ("Common Request
    // Headers").
    let small = if parsed.as_ref().is_ok_and(Operation::streams_body) {
        None
    } else {
        match small_body(len, body) {
            Ok(data) => Some(data),
            Err(e) => return (op, Outcome::Send(error_response(&e)), None),
        }
    };
    let small_sha256 = small.as_ref().map(|d| hex::encode(Sha256::digest(d)));
    if let Err(e) = auth::check(head, &shared.cfg, now, small_sha256.as_deref()) {
        return (op, Outcome::Send(error_response(&e)), None);
    }
    let operation = match parsed {
        Ok(o) => o,
        Err(e) => return (op, Outcome::Send(error_response(&e)), None),
    };
    if let Err(e) = check_account(head) {
        return (op, Outcome::Send(error_response(&e)), None);
    }
    let fault = shared.faults.pick(op);
    let early = match &fault {
        Some(Fault::Throttle) => Some(ApiError::new(400, "ThrottlingException", "Rate exceeded")),
        Some(Fault::Unavailable) => Some(ApiError::new(
            503,
            "ServiceUnavailableException",
            "Service is temporarily unavailable. Please retry.",
        )),
        Some(Fault::RequestTimeout) => Some(ApiError::new(
            408,
            "RequestTimeoutException",
            "Request timed out while receiving the request body.",
        )),
        Some(Fault::NotFound) => Some(ApiError::not_found("The job ID was not found")),
        Some(Fault::PolicyEnforced) => Some(ApiError::new(
            400,
            "PolicyEnforcedException",
            "InitiateJob request denied by current data retrieval policy.",
        )),
        Some(Fault::InternalEmpty) => return (op, Outcome::Send(Response::new(500)), fault),
        Some(Fault::Drop) => return (op, Outcome::Drop, fault),
        _ => None,
    };
    if let Some(e) = early {
        return (op, Outcome::Send(error_response(&e)), fault);
    }
    let result = run(
        shared,
        head,
        &operation,
        len,
        body,
        small.unwrap_or_default(),
        now,
    );
    let resp = match result {
        Ok(resp) => rewritten(shared, op, resp),
        Err(e) => error_response(&e),
    };
    if fault == Some(Fault::FailAfter) {
        let e = ApiError::new(
            500,
            "ServiceUnavailableException",
            "Service is temporarily unavailable. Please retry.",
        );
        return (op, Outcome::Send(error_response(&e)), fault);
    }
    if fault == Some(Fault::DropAfter) {
        // The operation took effect; only its answer is lost.
        return (op, Outcome::Drop, fault);
    }
    (op, Outcome::Send(resp), fault)
}

/// A test's edit of successful JSON answers: given the operation and the body.
pub type JsonRewrite = std::sync::Arc<dyn Fn(&str, &mut serde_json::Value) + Send + Sync>;

/// Applies the test's JSON rewrite, if any, to a successful JSON answer of `op`.
fn rewritten(shared: &Shared, op: &str, mut resp: Response) -> Response {
    let hook = shared.rewrite.lock().expect("rewrite lock").clone();
    if let (Some(hook), RespBody::Bytes(b)) = (hook, &mut resp.body) {
        if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(b) {
            hook(op, &mut v);
            *b = v.to_string().into_bytes();
        }
    }
    resp
}

/// Reads a small body whole (its hash is checked with the signature).
fn small_body(len: u64, body: &mut Body) -> Result<Vec<u8>, ApiError> {
    if len > MAX_SMALL_BODY {
        return Err(ApiError::invalid(format!(
            "Request body too large for this operation: {len} bytes"
        )));
    }
    let mut buf = Vec::with_capacity(len as usize);
    body.read_to_end(&mut buf).map_err(|e| {
        ApiError::new(
            408,
            "RequestTimeoutException",
            format!("body not received: {e}"),
        )
    })?;
    Ok(buf)
}

/// Runs `operation`: the one place an operation is matched to its handler.
fn run(
    shared: &Shared,
    head: &Head,
    operation: &Operation,
    len: u64,
    body: &mut Body,
    data: Vec<u8>,
    now: OffsetDateTime,
) -> Result<Response, ApiError> {
    use Operation::*;
    let st = &shared.store;
    if operation.streams_body() {
        if head.header("content-length").is_none() {
            return Err(ApiError::missing(
                "Required parameter missing: Content-Length",
            ));
        }
    } else if !data.is_empty() && !matches!(operation, InitiateJob { .. }) {
        return Err(ApiError::invalid(format!(
            "{} takes no request body",
            operation.name()
        )));
    }
    match operation {
        ListVaults => vaults::list_vaults(st, head),
        CreateVault { vault } => vaults::create_vault(st, vault, now),
        DescribeVault { vault } => vaults::describe_vault(st, vault),
        DeleteVault { vault } => vaults::delete_vault(st, vault),
        UploadArchive { vault } => archives::upload_archive(st, vault, head, len, body, now),
        DeleteArchive { vault, archive } => archives::delete_archive(st, vault, archive),
        InitiateMultipartUpload { vault } => multipart::initiate(st, vault, head, now),
        ListMultipartUploads { vault } => multipart::list_uploads(st, vault, head),
        UploadMultipartPart { vault, upload } => {
            multipart::upload_part(st, vault, upload, head, len, body)
        }
        ListParts { vault, upload } => multipart::list_parts(st, vault, upload, head),
        CompleteMultipartUpload { vault, upload } => {
            multipart::complete(st, vault, upload, head, now)
        }
        AbortMultipartUpload { vault, upload } => multipart::abort(st, vault, upload),
        InitiateJob { vault } => jobs::initiate(st, vault, &data, now),
        ListJobs { vault } => jobs::list(st, vault, head),
        DescribeJob { vault, job } => jobs::describe(st, vault, job, now),
        GetJobOutput { vault, job } => jobs::output(st, vault, job, head),
    }
}
