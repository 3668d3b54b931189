//! Endpoint URLs: parsing and checking a URL the user gave, and the default endpoint of
//! a region.

use std::net::{IpAddr, Ipv6Addr};

use crate::error::{Error, Result, Setting};

/// The endpoint to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port]`: no trailing slash, no path; the port only when not the
    /// scheme's default.
    pub url: String,
    /// The `Host` header value: `host[:port]` (the port only when not the default).
    pub host: String,
}

impl Endpoint {
    /// Parses and checks an endpoint URL; `source` names where it came from (a flag or a
    /// variable) for errors.
    ///
    /// Accepts `http` or `https`, a host name, IPv4 address or bracketed IPv6 address, an
    /// optional port, and at most a `/` path. Plain `http` is allowed only for loopback
    /// hosts unless `allow_http`: requests carry signed credentials and data.
    pub fn parse(url: &str, source: &str, allow_http: bool) -> Result<Endpoint> {
        let bad =
            |why: &str| Error::Config(format!("invalid endpoint URL '{url}' ({source}): {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected http://HOST[:PORT] or https://HOST[:PORT]"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(bad("the scheme must be http or https")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if !(tail.is_empty() || tail == "/") {
            return Err(bad("an endpoint cannot have a path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(bad("an endpoint cannot contain a user name or password"));
        }
        let (host, port_text, ip) = if let Some(inner) = authority.strip_prefix('[') {
            let (addr, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("IPv6 address without a closing ']'"))?;
            let v6: Ipv6Addr = addr.parse().map_err(|_| bad("invalid IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (format!("[{v6}]"), port, Some(IpAddr::V6(v6)))
        } else {
            let (h, p) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            if h.is_empty() {
                return Err(bad("no host"));
            }
            if !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
            {
                return Err(bad("invalid character in the host name"));
            }
            let h = h.to_ascii_lowercase();
            let ip = h.parse::<IpAddr>().ok();
            (h, p, ip)
        };
        let port = match port_text {
            None => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&n| n != 0 && p.chars().all(|c| c.is_ascii_digit()))
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
        };
        let loopback = host == "localhost" || ip.is_some_and(|ip| ip.is_loopback());
        if scheme == "http" && !loopback && !allow_http {
            return Err(Error::Config(format!(
                "refusing plain-HTTP endpoint '{url}' ({source}): requests would travel \
                 unencrypted; use https://, or pass {} if that is really wanted",
                Setting::AllowHttp
            )));
        }
        let host = if port == default_port {
            host
        } else {
            format!("{host}:{port}")
        };
        Ok(Endpoint {
            url: format!("{scheme}://{host}"),
            host,
        })
    }

    /// The public Glacier endpoint for `region`; see [`Endpoint::regional`].
    pub fn for_region(region: &str) -> Endpoint {
        Endpoint::regional("glacier", region)
    }

    /// The public endpoint of `service` (`glacier`, `s3`, `sts`) for `region`:
    /// `https://SERVICE.REGION.amazonaws.com`, China regions under `amazonaws.com.cn`, as
    /// botocore's endpoint partitions say.
    pub fn regional(service: &str, region: &str) -> Endpoint {
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let host = format!("{service}.{region}.{suffix}");
        Endpoint {
            url: format!("https://{host}"),
            host,
        }
    }
}
