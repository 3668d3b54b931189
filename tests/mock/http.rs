//! The HTTP/1.1 wire format, as much as the mock needs: request heads, `Content-Length`
//! bodies read as a stream, and responses whose body is bytes or a file range. It knows
//! nothing about Glacier.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::PathBuf;

/// The largest request head accepted (request line plus headers).
const MAX_HEAD: usize = 64 * 1024;

/// A parsed request line and headers.
#[derive(Debug, Clone)]
pub struct Head {
    pub method: String,
    /// Path as on the wire, without the query string.
    pub path: String,
    /// Decoded query pairs in wire order.
    pub query: Vec<(String, String)>,
    /// Headers, names as received, in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How many headers of that name.
    pub fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count()
    }

    /// The first query parameter of that name.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a head could not be read.
pub enum HeadError {
    /// The peer closed the connection between requests.
    Closed,
    /// Malformed; answer 400 and close.
    Bad(String),
    Io(io::Error),
}

/// Reads one request head. Header values are taken as Latin-1 would show them only when
/// they are ASCII; other bytes become U+FFFD, which every later check rejects.
pub fn read_head(r: &mut BufReader<TcpStream>) -> Result<Head, HeadError> {
    let mut lines: Vec<String> = Vec::new();
    let mut total = 0;
    loop {
        let mut raw = Vec::new();
        let n = r
            .by_ref()
            .take((MAX_HEAD - total + 1) as u64)
            .read_until(b'\n', &mut raw)
            .map_err(HeadError::Io)?;
        if n == 0 {
            return if lines.is_empty() && total == 0 {
                Err(HeadError::Closed)
            } else {
                Err(HeadError::Bad(
                    "connection closed inside the request head".into(),
                ))
            };
        }
        total += n;
        if total > MAX_HEAD {
            return Err(HeadError::Bad("request head too large".into()));
        }
        if raw.last() != Some(&b'\n') {
            return Err(HeadError::Bad(
                "connection closed inside the request head".into(),
            ));
        }
        raw.pop();
        if raw.last() == Some(&b'\r') {
            raw.pop();
        }
        if raw.is_empty() {
            if lines.is_empty() {
                // Tolerate stray blank lines between requests (RFC 9112 section 2.2).
                continue;
            }
            break;
        }
        lines.push(String::from_utf8_lossy(&raw).into_owned());
    }
    let mut parts = lines[0].split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m, t, v),
        _ => return Err(HeadError::Bad(format!("bad request line: {}", lines[0]))),
    };
    if version != "HTTP/1.1" {
        return Err(HeadError::Bad(format!("unsupported version {version}")));
    }
    let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let mut query = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (percent_decode(k), percent_decode(v)) {
            (Some(k), Some(v)) => query.push((k, v)),
            _ => return Err(HeadError::Bad(format!("bad query string: {raw_query}"))),
        }
    }
    let mut headers = Vec::new();
    for line in &lines[1..] {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HeadError::Bad(format!("bad header line: {line}")));
        };
        if name.is_empty() || name.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(HeadError::Bad(format!("bad header name: {name}")));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Head {
        method: method.to_string(),
        path: path.to_string(),
        query,
        headers,
    })
}

/// A request body of known length, read from the connection.
pub struct Body<'a> {
    pub inner: &'a mut BufReader<TcpStream>,
    pub remaining: u64,
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside the request body",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

impl Body<'_> {
    /// Reads and discards what is left, so the connection can carry the next request.
    pub fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }
}

/// A response body.
#[derive(Debug, Clone)]
pub enum RespBody {
    Empty,
    Bytes(Vec<u8>),
    /// `len` bytes of a file from `start`.
    File {
        path: PathBuf,
        start: u64,
        len: u64,
    },
}

impl RespBody {
    pub fn len(&self) -> u64 {
        match self {
            RespBody::Empty => 0,
            RespBody::Bytes(b) => b.len() as u64,
            RespBody::File { len, .. } => *len,
        }
    }
}

/// What to do wrong while sending a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFault {
    /// Send about half, then close.
    Truncate,
    /// Flip the byte in the middle.
    Corrupt,
    /// Send the body in `pieces` pieces, flushed, with `gap` of silence between them.
    Paced {
        pieces: u32,
        gap: std::time::Duration,
    },
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: RespBody,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: RespBody::Empty,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: RespBody::Bytes(value.to_string().into_bytes()),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Writes a response; with a body fault the connection must be closed afterwards.
pub fn write_response(
    w: &mut TcpStream,
    resp: &Response,
    close: bool,
    fault: Option<BodyFault>,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let len = resp.body.len();
    // Truncation stops after about half the body (at least one byte short).
    let send = match fault {
        Some(BodyFault::Truncate) => len / 2,
        _ => len,
    };
    let flip_at = match fault {
        Some(BodyFault::Corrupt) if len > 0 => Some(len / 2),
        _ => None,
    };
    if let Some(BodyFault::Paced { pieces, gap }) = fault {
        let body = match &resp.body {
            RespBody::Empty => Vec::new(),
            RespBody::Bytes(b) => b.to_vec(),
            RespBody::File { path, start, .. } => {
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(*start))?;
                let mut v = Vec::new();
                f.take(len).read_to_end(&mut v)?;
                v
            }
        };
        w.write_all(head.as_bytes())?;
        let piece = body.len().div_ceil(pieces.max(1) as usize).max(1);
        for (i, part) in body.chunks(piece).enumerate() {
            if i > 0 {
                // The silence is the fault a test asked for, not a wait for something.
                std::thread::sleep(gap);
            }
            w.write_all(part)?;
            w.flush()?;
        }
        return Ok(());
    }
    match &resp.body {
        RespBody::Empty => w.write_all(head.as_bytes())?,
        RespBody::Bytes(b) => {
            let mut out = head.into_bytes();
            let mut body = b[..send as usize].to_vec();
            if let Some(i) = flip_at {
                body[i as usize] ^= 0xff;
            }
            out.extend_from_slice(&body);
            w.write_all(&out)?;
        }
        RespBody::File { path, start, .. } => {
            w.write_all(head.as_bytes())?;
            let mut f = File::open(path)?;
            f.seek(SeekFrom::Start(*start))?;
            match flip_at {
                None => {
                    // std::io::copy uses sendfile/splice here on Linux: fast downloads.
                    let copied = io::copy(&mut f.take(send), w)?;
                    if copied != send {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file short"));
                    }
                }
                Some(at) => copy_flipping(&mut f, w, send, at)?,
            }
        }
    }
    w.flush()
}

fn copy_flipping(f: &mut File, w: &mut TcpStream, len: u64, flip_at: u64) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(buf.len() as u64) as usize;
        f.read_exact(&mut buf[..want])?;
        if (done..done + want as u64).contains(&flip_at) {
            buf[(flip_at - done) as usize] ^= 0xff;
        }
        w.write_all(&buf[..want])?;
        done += want as u64;
    }
    Ok(())
}

/// Decodes `%XX` escapes (query strings); `None` when malformed or not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
