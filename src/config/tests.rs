//! Unit tests of configuration: INI parsing, profile choice, precedence, endpoints.

use super::test_support::TempDir;
use super::*;
use std::path::Path;

fn parse(text: &str) -> Result<IniFile> {
    IniFile::parse(text, Path::new("/x/config"))
}

fn line_of(e: Error) -> (usize, String) {
    match e {
        Error::ConfigFile { line, message, .. } => (line, message),
        other => panic!("expected ConfigFile, got {other:?}"),
    }
}

/// A home directory holding `~/.aws/config` and `~/.aws/credentials`.
fn home(config: &str, credentials: &str) -> (TempDir, MapEnv) {
    let dir = TempDir::new("config");
    dir.write(".aws/config", config);
    dir.write(".aws/credentials", credentials);
    let env = MapEnv::new().with_home(dir.path());
    (dir, env)
}

fn err_text(r: Result<Resolved>) -> String {
    match r {
        Ok(r) => panic!("expected an error, got {r:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn ini_sections_keys_comments_and_continuations() {
    let f = parse(
        "# comment\n; another\n\n[default]\nregion = eu-west-1\r\nKey=Value = x\n\
         s3 =\n  max_concurrent_requests = 20\n\tsignature_version = s3v4\n\
         [profile work]  # trailing comment\n  \nregion=us-east-1\n[default]\nout = json\n",
    )
    .unwrap();
    let d = f.section("default").unwrap();
    assert_eq!(d.get("region"), Some("eu-west-1"));
    // Keys are case-sensitive and the value keeps later '=' signs.
    assert_eq!(d.get("Key"), Some("Value = x"));
    assert_eq!(d.get("key"), None);
    assert_eq!(
        d.get("s3"),
        Some("\nmax_concurrent_requests = 20\nsignature_version = s3v4")
    );
    // The repeated [default] merged into the first.
    assert_eq!(d.get("out"), Some("json"));
    assert_eq!(
        f.section_names().collect::<Vec<_>>(),
        ["default", "profile work"]
    );
    assert_eq!(
        f.section("profile work").unwrap().get("region"),
        Some("us-east-1")
    );
    assert!(f.section("work").is_none());
}

#[test]
fn ini_errors_name_the_line_and_never_quote_it() {
    let (line, msg) = line_of(parse("[default]\nregion = x\nAKIASECRETLINE\n").unwrap_err());
    assert_eq!(line, 3);
    assert!(!msg.contains("AKIASECRETLINE"), "{msg}");
    assert_eq!(line_of(parse("region = x\n").unwrap_err()).0, 1);
    assert_eq!(line_of(parse("\n\n[default\n").unwrap_err()).0, 3);
    assert_eq!(line_of(parse("[]\n").unwrap_err()).0, 1);
    assert_eq!(line_of(parse("[a]\n = v\n").unwrap_err()).0, 2);
    assert_eq!(line_of(parse("[a] junk\n").unwrap_err()).0, 1);
    assert_eq!(line_of(parse("  indented = first\n").unwrap_err()).0, 1);
    // Indented lines with no setting above them are ordinary lines.
    let f = parse("  [a]\n  k = v\n    more\n").unwrap();
    assert_eq!(f.section("a").unwrap().get("k"), Some("v\nmore"));
    assert_eq!(line_of(parse("[a]\n  indented\n").unwrap_err()).0, 2);
    let e = parse("[a]\nb = c\nbroken\n").unwrap_err().to_string();
    assert!(e.starts_with("/x/config:3: "), "{e}");
}

#[test]
fn malformed_file_on_disk_is_an_error_with_its_path_and_line() {
    let (dir, env) = home("[default]\nregion = us-east-1\n\nnot a setting\n", "");
    let e = resolve(&Settings::default(), &env).unwrap_err();
    match e {
        Error::ConfigFile { path, line, .. } => {
            assert_eq!(path, dir.path().join(".aws/config"));
            assert_eq!(line, 4);
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(
        dir.path().join(".aws/config"),
        b"[default]\nregion = \xff\n",
    )
    .unwrap();
    assert_eq!(
        line_of(resolve(&Settings::default(), &env).unwrap_err()).0,
        2
    );
}

#[test]
fn missing_files_and_no_home_are_fine() {
    let env = MapEnv::new().with("AWS_REGION", "us-west-2");
    let r = resolve(&Settings::default(), &env).unwrap();
    assert_eq!(r.profile.name, "default");
    assert!(!r.profile.explicit);
    assert!(!r.profile.exists());
    let dir = TempDir::new("config-empty");
    let env = env.with_home(dir.path());
    assert_eq!(
        resolve(&Settings::default(), &env).unwrap().region,
        "us-west-2"
    );
}

#[test]
fn profile_selection_flag_then_env_then_default() {
    let (_d, env) = home(
        "[default]\nregion = eu-west-1\n[profile a]\nregion = eu-west-2\n\
         [profile b]\nregion = eu-west-3\n",
        "",
    );
    let flag = Settings {
        profile: Some("a".into()),
        ..Settings::default()
    };
    let r = resolve(&flag, &env).unwrap();
    assert_eq!((r.profile.name.as_str(), r.profile.explicit), ("a", true));
    assert_eq!(r.region, "eu-west-2");
    let env_b = env.clone().with("AWS_PROFILE", "b");
    assert_eq!(resolve(&flag, &env_b).unwrap().region, "eu-west-2");
    let r = resolve(&Settings::default(), &env_b).unwrap();
    assert_eq!((r.profile.name.as_str(), r.profile.explicit), ("b", true));
    assert_eq!(r.region, "eu-west-3");
    let r = resolve(&Settings::default(), &env).unwrap();
    assert_eq!(
        (r.profile.name.as_str(), r.profile.explicit),
        ("default", false)
    );
    assert_eq!(r.region, "eu-west-1");
}

#[test]
fn files_from_env_vars_and_credentials_file_wins() {
    let dir = TempDir::new("config-vars");
    let config = dir.write(
        "cfg",
        "[profile p]\nregion = ap-south-1\naws_access_key_id = FROMCONFIG\n",
    );
    let creds = dir.write(
        "creds",
        "[p]\naws_access_key_id = FROMCREDS\n[profile p]\nregion = x\n",
    );
    let env = MapEnv::new()
        .with("AWS_CONFIG_FILE", config.to_str().unwrap())
        .with("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap())
        .with("AWS_PROFILE", "p");
    let r = resolve(&Settings::default(), &env).unwrap();
    assert_eq!(r.region, "ap-south-1");
    assert_eq!(r.profile.get("aws_access_key_id"), Some("FROMCREDS"));
    assert_eq!(r.profile.origin("aws_access_key_id"), Some(creds.as_path()));
    assert_eq!(r.profile.origin("region"), Some(config.as_path()));
    // Debug shows keys, never values.
    let dbg = format!("{:?}", r.profile);
    assert!(
        dbg.contains("aws_access_key_id") && !dbg.contains("FROMCREDS"),
        "{dbg}"
    );
}

#[test]
fn profile_default_section_forms() {
    let (_d, env) = home(
        "[profile default]\nregion = sa-east-1\n[default]\nregion = x\n",
        "",
    );
    assert_eq!(
        resolve(&Settings::default(), &env).unwrap().region,
        "sa-east-1"
    );
    // In the config file a section without the `profile` prefix is not a profile.
    let (_d, env) = home("[work]\nregion = sa-east-1\n", "");
    let named = Settings {
        profile: Some("work".into()),
        ..Settings::default()
    };
    assert!(err_text(resolve(&named, &env)).contains("profile 'work'"));
}

#[test]
fn explicit_unknown_profile_is_an_error_naming_it() {
    let (_d, env) = home("[default]\nregion = us-east-1\n", "[default]\n");
    let s = Settings {
        profile: Some("nosuch".into()),
        ..Settings::default()
    };
    let msg = err_text(resolve(&s, &env));
    assert!(
        msg.contains("profile 'nosuch'") && msg.contains(&Setting::Profile.to_string()),
        "{msg}"
    );
    assert!(msg.contains("[profile nosuch]"), "{msg}");
    let msg = err_text(resolve(
        &Settings::default(),
        &env.with("AWS_PROFILE", "other"),
    ));
    assert!(
        msg.contains("profile 'other'") && msg.contains("AWS_PROFILE"),
        "{msg}"
    );
    // A profile only in the credentials file exists.
    let (_d, env) = home("", "[k]\naws_access_key_id = A\n");
    let s = Settings {
        profile: Some("k".into()),
        region: Some("us-east-1".into()),
        ..Settings::default()
    };
    assert!(resolve(&s, &env).is_ok());
}

#[test]
fn region_precedence() {
    let (_d, env) = home("[default]\nregion = eu-central-1\n", "");
    let flag = Settings {
        region: Some("us-east-2".into()),
        ..Settings::default()
    };
    let both = env
        .clone()
        .with("AWS_REGION", "us-west-1")
        .with("AWS_DEFAULT_REGION", "us-west-2");
    assert_eq!(resolve(&flag, &both).unwrap().region, "us-east-2");
    assert_eq!(
        resolve(&Settings::default(), &both).unwrap().region,
        "us-west-1"
    );
    let dflt = env.clone().with("AWS_DEFAULT_REGION", "us-west-2");
    assert_eq!(
        resolve(&Settings::default(), &dflt).unwrap().region,
        "us-west-2"
    );
    // An empty variable counts as unset.
    let empty = env.clone().with("AWS_REGION", "");
    assert_eq!(
        resolve(&Settings::default(), &empty).unwrap().region,
        "eu-central-1"
    );
}

#[test]
fn no_region_says_how_to_fix_it() {
    let (_d, env) = home("[profile w]\noutput = json\n", "");
    let s = Settings {
        profile: Some("w".into()),
        ..Settings::default()
    };
    let msg = err_text(resolve(&s, &env));
    assert!(msg.starts_with("no region"), "{msg}");
    for needle in [
        &*Setting::Region.to_string(),
        "AWS_REGION",
        "[profile w]",
        ".aws/config",
    ] {
        assert!(msg.contains(needle), "{needle} missing from: {msg}");
    }
}

#[test]
fn region_shape_is_checked() {
    for bad in [
        "US-EAST-1",
        "us east 1",
        "-us",
        "us-",
        "us_east_1",
        "us.east",
    ] {
        let s = Settings {
            region: Some(bad.into()),
            ..Settings::default()
        };
        let msg = err_text(resolve(&s, &MapEnv::new()));
        assert!(
            msg.contains("invalid region") && msg.contains(&Setting::Region.to_string()),
            "{msg}"
        );
    }
    let msg = err_text(resolve(
        &Settings::default(),
        &MapEnv::new().with("AWS_REGION", "Bad"),
    ));
    assert!(msg.contains("AWS_REGION"), "{msg}");
}

#[test]
fn endpoint_precedence_and_default() {
    let (_d, env) = home(
        "[default]\nregion = us-east-1\nendpoint_url = https://profile.example\n",
        "",
    );
    let r = resolve(&Settings::default(), &env).unwrap();
    assert_eq!(r.endpoint.url, "https://profile.example");
    let env2 = env
        .clone()
        .with("AWS_ENDPOINT_URL", "https://general.example/");
    assert_eq!(
        resolve(&Settings::default(), &env2).unwrap().endpoint.url,
        "https://general.example"
    );
    let env3 = env2.with("AWS_ENDPOINT_URL_GLACIER", "https://glacier.example:8443");
    let r = resolve(&Settings::default(), &env3).unwrap();
    assert_eq!(r.endpoint.url, "https://glacier.example:8443");
    assert_eq!(r.endpoint.host, "glacier.example:8443");
    let flag = Settings {
        endpoint_url: Some("http://127.0.0.1:9000".into()),
        ..Settings::default()
    };
    let r = resolve(&flag, &env3).unwrap();
    assert_eq!(r.endpoint.url, "http://127.0.0.1:9000");
    // No endpoint anywhere: the public one for the region.
    let s = Settings {
        region: Some("eu-west-1".into()),
        ..Settings::default()
    };
    let r = resolve(&s, &MapEnv::new()).unwrap();
    assert_eq!(r.endpoint.url, "https://glacier.eu-west-1.amazonaws.com");
    assert_eq!(r.endpoint.host, "glacier.eu-west-1.amazonaws.com");
    assert_eq!(r.account_id, "-");
    assert_eq!(r.ca_bundle, None);
    assert_eq!(
        Endpoint::for_region("cn-north-1").host,
        "glacier.cn-north-1.amazonaws.com.cn"
    );
}

#[test]
fn endpoint_parsing() {
    let ok = |u: &str| Endpoint::parse(u, "--endpoint-url", false).unwrap();
    let e = ok("HTTPS://Glacier.Example.COM:443/");
    assert_eq!(e.url, "https://glacier.example.com");
    assert_eq!(e.host, "glacier.example.com");
    let e = ok("https://[2001:db8::1]:8443");
    assert_eq!(
        (e.url.as_str(), e.host.as_str()),
        ("https://[2001:db8::1]:8443", "[2001:db8::1]:8443")
    );
    assert_eq!(ok("http://localhost:80").host, "localhost");
    for bad in [
        "glacier.example.com",
        "ftp://x",
        "https://",
        "https://x/path",
        "https://x?q=1",
        "https://user:pw@x",
        "https://x:0",
        "https://x:99999",
        "https://x:8a",
        "https://[::1",
        "https://[zz]",
        "https://a b",
        "https://[::1]x",
    ] {
        let msg = Endpoint::parse(bad, "--endpoint-url", false)
            .unwrap_err()
            .to_string();
        assert!(msg.contains(bad) && msg.contains("--endpoint-url"), "{msg}");
    }
}

#[test]
fn plain_http_only_for_loopback_unless_allowed() {
    for ok in [
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        assert!(Endpoint::parse(ok, "--endpoint-url", false).is_ok(), "{ok}");
    }
    for remote in [
        "http://10.0.0.1",
        "http://glacier.example.com",
        "http://[2001:db8::1]",
    ] {
        let msg = Endpoint::parse(remote, "AWS_ENDPOINT_URL", false)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(remote) && msg.contains(&Setting::AllowHttp.to_string()),
            "{msg}"
        );
        assert!(Endpoint::parse(remote, "AWS_ENDPOINT_URL", true).is_ok());
    }
    let s = Settings {
        region: Some("us-east-1".into()),
        endpoint_url: Some("http://192.0.2.7:8080".into()),
        ..Settings::default()
    };
    assert!(err_text(resolve(&s, &MapEnv::new())).contains(&Setting::AllowHttp.to_string()));
    let s = Settings {
        allow_http: true,
        ..s
    };
    assert_eq!(
        resolve(&s, &MapEnv::new()).unwrap().endpoint.host,
        "192.0.2.7:8080"
    );
}

#[test]
fn account_id_and_ca_bundle() {
    let (_d, env) = home(
        "[default]\nregion = us-east-1\nca_bundle = /etc/profile-ca.pem\n",
        "",
    );
    let s = Settings {
        account_id: Some("123456789012".into()),
        ..Settings::default()
    };
    let r = resolve(&s, &env).unwrap();
    assert_eq!(r.account_id, "123456789012");
    assert_eq!(r.ca_bundle, Some(PathBuf::from("/etc/profile-ca.pem")));
    let env2 = env.clone().with("AWS_CA_BUNDLE", "/etc/env-ca.pem");
    assert_eq!(
        resolve(&s, &env2).unwrap().ca_bundle,
        Some(PathBuf::from("/etc/env-ca.pem"))
    );
    let bad = Settings {
        account_id: Some("1234-5678-9012".into()),
        ..Settings::default()
    };
    assert!(err_text(resolve(&bad, &env)).contains(&Setting::AccountId.to_string()));
}
