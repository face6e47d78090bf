//! One rustls crypto provider for the whole process. reqwest is built without a default provider
//! (so only one TLS stack and one crypto library end up in the binary); every HTTP client in
//! `ccp` calls [`ensure_crypto_provider`] first, so library users and tests need no setup.

use std::sync::Once;

/// Install the `ring` provider as the process default, once. A provider installed earlier by
/// someone else is kept: the call then does nothing.
pub fn ensure_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The blocking HTTP client every outbound adapter uses: crypto provider installed, a whole-request
/// `timeout`, and a connect timeout of at most 3 s so an unreachable server fails fast.
pub fn blocking_client(
    timeout: std::time::Duration,
) -> Result<reqwest::blocking::Client, reqwest::Error> {
    ensure_crypto_provider();
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(3)))
        .build()
}
