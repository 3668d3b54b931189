//! Where S3 requests go: the endpoint (from a flag, the environment, the profile or AWS's
//! default) and, for one bucket and key, the URL, `Host` and signed path.
//!
//! Pure functions over values: the environment comes in through [`Env`], nothing here
//! opens a connection. The addressing rule (virtual-hosted for AWS, path-style for a
//! custom endpoint) follows "Virtual hosting of buckets" in the Amazon S3 User Guide:
//! a custom endpoint (a test server, MinIO, a VPC endpoint by IP) seldom has wildcard DNS
//! for `BUCKET.host`, while AWS is deprecating path-style for its own endpoints.

use crate::aws::Location;
use crate::config::{Endpoint, Env, Profile, env_var};
use crate::error::{Error, Result, Setting};
use crate::sigv4;

/// The S3 endpoint a client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    /// `scheme://host[:port]`, no trailing slash.
    pub url: String,
    /// `host[:port]` as the `Host` header carries it.
    pub host: String,
    /// True when the user named the endpoint (flag, variable or profile): requests then use
    /// path-style addressing.
    pub custom: bool,
}

impl S3Endpoint {
    /// AWS's public S3 endpoint for `region` (`s3.REGION.amazonaws.com`; see
    /// [`Endpoint::regional`]).
    pub fn for_region(region: &str) -> S3Endpoint {
        let e = Endpoint::regional("s3", region);
        S3Endpoint {
            url: e.url,
            host: e.host,
            custom: false,
        }
    }

    /// A user-named endpoint, checked like Glacier's (`http` only for loopback unless
    /// `allow_http`); `source` names the flag or variable for errors.
    pub fn custom(url: &str, source: &str, allow_http: bool) -> Result<S3Endpoint> {
        let e = Endpoint::parse(url.trim(), source, allow_http)?;
        Ok(S3Endpoint {
            url: e.url,
            host: e.host,
            custom: true,
        })
    }
}

/// Settles the S3 endpoint, first that is set wins: `flag` (`--s3-endpoint-url`),
/// `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else AWS's
/// endpoint for `region` ("Service-specific endpoints" in the AWS SDKs and Tools
/// Reference Guide gives this order).
pub fn resolve_endpoint(
    flag: Option<&str>,
    env: &dyn Env,
    profile: &Profile,
    region: &str,
    allow_http: bool,
) -> Result<S3Endpoint> {
    let sources = [
        (flag.map(str::to_string), Setting::S3EndpointUrl.to_string()),
        (
            env_var(env, "AWS_ENDPOINT_URL_S3"),
            "AWS_ENDPOINT_URL_S3".to_string(),
        ),
        (
            env_var(env, "AWS_ENDPOINT_URL"),
            "AWS_ENDPOINT_URL".to_string(),
        ),
        (
            profile.get("endpoint_url").map(str::to_string),
            format!("endpoint_url in profile '{}'", profile.name),
        ),
    ];
    match sources.into_iter().find_map(|(v, s)| v.map(|v| (v, s))) {
        Some((url, source)) => S3Endpoint::custom(&url, &source, allow_http),
        None => Ok(S3Endpoint::for_region(region)),
    }
}

/// Checks a bucket name against S3's rules ("Bucket naming rules", S3 User Guide):
/// 3 to 63 characters of lowercase letters, digits, `.` and `-`, starting and ending with
/// a letter or digit, no `..`.
pub fn check_bucket_name(bucket: &str) -> Result<()> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "invalid S3 bucket name '{bucket}': 3 to 63 lowercase letters, digits, '.' and \
             '-', starting and ending with a letter or digit"
        )))
    }
}

/// Checks an object key: 1 to 1024 bytes (S3's limit, "Naming Amazon S3 objects"), no
/// control characters (XML 1.0 cannot carry most of them, so S3's own list and error
/// answers could not name the key), and no `.` or `..` path segment: HTTP libraries
/// resolve those before sending (RFC 3986 section 5.2.4), so the request would name
/// another key than the one signed.
pub fn check_key(key: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::Input(format!(
            "invalid S3 object key '{key}': {why}"
        )))
    };
    if key.is_empty() || key.len() > 1024 {
        return bad("a key is 1 to 1024 bytes");
    }
    if key.chars().any(char::is_control) {
        return bad("control characters are not supported");
    }
    if key.split('/').any(|s| s == "." || s == "..") {
        return bad("'.' and '..' path segments are not supported");
    }
    Ok(())
}

/// The URL, host and signed path for `bucket` and `key` (`None` for a bucket-level
/// request). The path is the key URI-encoded once, `/` kept; S3 signs it as sent, without
/// the second encoding or the normalization other services do
/// ([`SigningSettings::S3`](crate::sigv4::SigningSettings::S3)). Path-style (`/BUCKET/KEY`) for a custom endpoint and for bucket names with a
/// `.` (they do not match AWS's wildcard TLS certificate); virtual-hosted
/// (`BUCKET.s3.REGION.amazonaws.com/KEY`) otherwise.
pub fn location(endpoint: &S3Endpoint, bucket: &str, key: Option<&str>) -> Location {
    let key_path = key.map_or(String::new(), |k| sigv4::uri_encode(k, false));
    let (host, path) = if endpoint.custom || bucket.contains('.') {
        // A bucket-level request is `/BUCKET`, as the AWS SDKs send it.
        let path = match key {
            Some(_) => format!("/{bucket}/{key_path}"),
            None => format!("/{bucket}"),
        };
        (endpoint.host.clone(), path)
    } else {
        (
            format!("{bucket}.{}", endpoint.host),
            format!("/{key_path}"),
        )
    };
    let scheme = endpoint.url.split("://").next().unwrap_or("https");
    Location {
        url: format!("{scheme}://{host}{path}"),
        host,
        path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;

    fn custom(url: &str) -> S3Endpoint {
        S3Endpoint::custom(url, "test", false).expect("endpoint")
    }

    #[test]
    fn custom_endpoints_use_path_style() {
        let l = location(&custom("http://127.0.0.1:9000"), "bkt", Some("a/b c+d.txt"));
        assert_eq!(l.host, "127.0.0.1:9000");
        assert_eq!(l.path, "/bkt/a/b%20c%2Bd.txt");
        assert_eq!(l.url, "http://127.0.0.1:9000/bkt/a/b%20c%2Bd.txt");
        let b = location(&custom("http://localhost:9000"), "bkt", None);
        assert_eq!(b.path, "/bkt");
        assert_eq!(b.url, "http://localhost:9000/bkt");
        let v = location(&S3Endpoint::for_region("us-east-1"), "bkt", None);
        assert_eq!(
            (v.path.as_str(), v.host.as_str()),
            ("/", "bkt.s3.us-east-1.amazonaws.com")
        );
    }

    #[test]
    fn aws_uses_virtual_hosted_style_except_for_dotted_buckets() {
        let aws = S3Endpoint::for_region("eu-west-1");
        let l = location(&aws, "my-bucket", Some("x/%y"));
        assert_eq!(l.host, "my-bucket.s3.eu-west-1.amazonaws.com");
        assert_eq!(l.path, "/x/%25y");
        assert_eq!(l.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/x/%25y");
        let d = location(&aws, "my.bucket", Some("k"));
        assert_eq!(d.host, "s3.eu-west-1.amazonaws.com");
        assert_eq!(d.path, "/my.bucket/k");
        assert_eq!(
            S3Endpoint::for_region("cn-north-1").host,
            "s3.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn endpoint_precedence_flag_then_s3_variable_then_general_then_default() {
        let p = Profile::new("default", false);
        let env = MapEnv::new()
            .with("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
            .with("AWS_ENDPOINT_URL", "http://127.0.0.1:2");
        let r = |flag, env: &MapEnv| resolve_endpoint(flag, env, &p, "us-east-1", false);
        assert_eq!(
            r(Some("http://127.0.0.1:3"), &env).expect("flag").host,
            "127.0.0.1:3"
        );
        assert_eq!(r(None, &env).expect("s3 var").host, "127.0.0.1:1");
        let general = MapEnv::new().with("AWS_ENDPOINT_URL", "http://127.0.0.1:2");
        assert_eq!(r(None, &general).expect("general").host, "127.0.0.1:2");
        let none = r(None, &MapEnv::new()).expect("default");
        assert_eq!(none, S3Endpoint::for_region("us-east-1"));
        assert!(!none.custom);
        let err = r(Some("http://example.com"), &MapEnv::new()).expect_err("plain http");
        assert!(
            err.to_string()
                .contains(&Setting::S3EndpointUrl.to_string()),
            "{err}"
        );
    }

    #[test]
    fn bucket_and_key_rules() {
        for ok in ["abc", "my-bucket.2026", "a1b"] {
            check_bucket_name(ok).expect(ok);
        }
        for bad in ["ab", "Caps", "-a-", "a..b", "under_score", &"a".repeat(64)] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
        for ok in ["a", "dir/file.txt", "...", "a/.b/c", "spaces and %"] {
            check_key(ok).expect(ok);
        }
        for bad in ["", "a/../b", "./a", "a/.", "tab\there", &"k".repeat(1025)] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}
