//! A tiny Glacier client over a raw `TcpStream`, for tests that need raw requests: it
//! signs with `glacier_upload::sigv4::sign` and the mock's credentials, keeps one
//! keep-alive connection, and lets a test tamper with any part (secret, date, version
//! header, extra headers) to provoke the mock's refusals. Independent of the crate's own
//! HTTP client on purpose, so the mock is checked against something else.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use glacier_upload::sigv4;
use glacier_upload::treehash::tree_hash;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{ACCESS_KEY, MockGlacier, REGION, SECRET_KEY};

/// A request to build, sign and send.
pub struct Req {
    /// HTTP method.
    pub method: &'static str,
    /// Path as on the wire.
    pub path: String,
    /// Query pairs, unencoded.
    pub query: Vec<(String, String)>,
    /// Extra headers (Req) or all headers (Resp).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Secret key to sign with.
    pub secret: String,
    /// Access key ID to sign with.
    pub access: String,
    /// Send `x-amz-glacier-version`.
    pub version: bool,
    /// The signing time.
    pub date: OffsetDateTime,
    /// A session token to send and sign.
    pub token: Option<String>,
    /// Sign and send this `x-amz-content-sha256` instead of the body's.
    pub payload: Option<String>,
    /// Send `x-amz-content-sha256` (signed); when false the signature still covers
    /// the body's hash, as SigV4 does for a request without the header.
    pub payload_header: bool,
    /// Headers sent but left out of the signature.
    pub unsigned: Vec<(String, String)>,
    /// After signing, send this value for that (signed) header instead.
    pub tamper: Option<(String, String)>,
}

/// A request with the default (valid) credentials, date and version header.
pub fn req(method: &'static str, path: &str) -> Req {
    Req {
        method,
        path: path.to_string(),
        query: Vec::new(),
        headers: Vec::new(),
        body: Vec::new(),
        secret: SECRET_KEY.into(),
        access: ACCESS_KEY.into(),
        version: true,
        date: OffsetDateTime::now_utc(),
        token: None,
        payload: None,
        payload_header: true,
        unsigned: Vec::new(),
        tamper: None,
    }
}

impl Req {
    /// Adds a query parameter.
    pub fn q(mut self, k: &str, v: &str) -> Req {
        self.query.push((k.into(), v.into()));
        self
    }
    /// Adds a header (signed).
    pub fn h(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.into(), v.into()));
        self
    }
    /// Sets the body.
    pub fn body(mut self, b: &[u8]) -> Req {
        self.body = b.to_vec();
        self
    }
    /// Leaves `x-amz-content-sha256` out (the signature covers the body's hash).
    pub fn no_payload_header(mut self) -> Req {
        self.payload_header = false;
        self
    }
    /// Adds `x-amz-sha256-tree-hash` for the body.
    pub fn tree(self) -> Req {
        let h = tree_hash(&self.body).to_hex();
        self.h("x-amz-sha256-tree-hash", &h)
    }
}

/// A response, body read whole.
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (Req) or all headers (Resp).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header of that name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One keep-alive connection to the mock.
pub struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    /// A client for this mock (connects lazily).
    pub fn new(m: &MockGlacier) -> Client {
        Client {
            addr: m.addr(),
            conn: None,
        }
    }

    /// Signs and sends; an error when the connection ends without a (whole) response.
    pub fn send(&mut self, r: Req) -> std::io::Result<Resp> {
        let host = self.addr.to_string();
        let amz_date = sigv4::amz_date(r.date);
        let payload = r
            .payload
            .clone()
            .unwrap_or_else(|| hex::encode(Sha256::digest(&r.body)));
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        if r.payload_header {
            headers.push(("x-amz-content-sha256".into(), payload.clone()));
        }
        if r.version {
            headers.push(("x-amz-glacier-version".into(), "2012-06-01".into()));
        }
        if let Some(t) = &r.token {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
        headers.extend(r.headers.iter().cloned());
        let hs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let qs: Vec<(&str, &str)> = r
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let auth = sigv4::sign(
            &sigv4::Request {
                method: r.method,
                path: &r.path,
                query: &qs,
                headers: &hs,
                payload_sha256: &payload,
            },
            &r.access,
            &r.secret,
            &amz_date,
            REGION,
            "glacier",
        );
        let mut target = r.path.clone();
        if !r.query.is_empty() {
            target.push('?');
            let q: Vec<String> = r
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect();
            target.push_str(&q.join("&"));
        }
        let mut msg = format!("{} {} HTTP/1.1\r\n", r.method, target);
        if let Some((name, value)) = &r.tamper {
            for (_, v) in headers.iter_mut().filter(|(k, _)| k == name) {
                *v = value.clone();
            }
        }
        headers.extend(r.unsigned.iter().cloned());
        for (k, v) in &headers {
            msg.push_str(&format!("{k}: {v}\r\n"));
        }
        msg.push_str(&format!(
            "authorization: {auth}\r\ncontent-length: {}\r\n\r\n",
            r.body.len()
        ));
        if self.conn.is_none() {
            self.conn = Some(BufReader::new(TcpStream::connect(self.addr)?));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let result = (|| {
            let w = conn.get_mut();
            w.write_all(msg.as_bytes())?;
            w.write_all(&r.body)?;
            read_response(conn)
        })();
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    #[track_caller]
    /// Sends and asserts a 2xx.
    pub fn ok(&mut self, r: Req) -> Resp {
        let resp = self.send(r).expect("response");
        assert!(
            resp.status < 300,
            "status {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
        resp
    }

    #[track_caller]
    /// Sends and asserts an error with this status and code, JSON-shaped with a request ID.
    pub fn err(&mut self, r: Req, status: u16, code: &str) -> Resp {
        let resp = self.send(r).expect("response");
        assert_eq!(
            (resp.status, resp.code().as_str()),
            (status, code),
            "{}",
            String::from_utf8_lossy(&resp.body)
        );
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert!(resp.header("x-amzn-requestid").is_some());
        resp
    }
}

fn read_response(conn: &mut BufReader<TcpStream>) -> std::io::Result<Resp> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed without a response",
        ));
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        conn.read_line(&mut l)?;
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').expect("header line");
        headers.push((k.to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("content-length"))
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body)?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}
