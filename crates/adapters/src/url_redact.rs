//! URLs as they may appear in messages and logs: without the `user:password@` part. Every adapter
//! that names its server in an error (Redis, Bolt, Prometheus, Alertmanager, error logs) uses this
//! one function, so no message anywhere can leak a credential typed into a URL.

/// `scheme://user:pw@host:port/path` → `scheme://host:port/path`. Only the authority (before the
/// first `/` after the scheme) is searched for `@`, so an `@` in a path survives.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_are_removed_and_the_rest_kept() {
        assert_eq!(
            redact_url("redis://:s3cret@10.0.0.1:6380/2"),
            "redis://10.0.0.1:6380/2"
        );
        assert_eq!(redact_url("redis://user:pw@host:1"), "redis://host:1");
        assert_eq!(redact_url("http://u:p@h:9090"), "http://h:9090");
        assert_eq!(redact_url("http://h:9090"), "http://h:9090");
        assert_eq!(
            redact_url("http://h/errors?by=a@b"),
            "http://h/errors?by=a@b"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
