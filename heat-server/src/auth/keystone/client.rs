//! The two Keystone calls heat makes: issue a token for the service user (password auth) and
//! validate a caller's token with it. Plain HTTP; no caching or retrying here.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};

use super::config::{KeystoneConfigError, Secret, ServiceCredentials};
use super::token::{self, TokenInfo};

/// The header carrying the token a request authenticates with.
const AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");
/// The header carrying the token a request is about (validation) or that Keystone issued.
const SUBJECT_TOKEN: HeaderName = HeaderName::from_static("x-subject-token");
/// More than any token response (without the catalog) can hold: a larger body is refused.
const MAX_BODY: usize = 1 << 20;

/// A token Keystone issued, with what it says about it.
#[derive(Clone, Debug)]
pub(crate) struct IssuedToken {
    /// The token itself.
    pub token: Secret,
    /// Its user, scope, roles and expiry.
    pub info: TokenInfo,
}

/// Why a Keystone call did not give an answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeystoneError {
    /// 401: the credentials or the service token were not accepted.
    #[error("Keystone answered 401 Unauthorized")]
    Unauthorized,
    /// 403: the service user may not make this call.
    #[error("Keystone answered 403 Forbidden")]
    Forbidden,
    /// 404: for a validation, the token is unknown, expired or revoked.
    #[error("Keystone answered 404 Not Found")]
    NotFound,
    /// No connection, or no answer in time.
    #[error("Keystone at {url} could not be reached: {reason}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Any other status (5xx included).
    #[error("Keystone answered {0}")]
    Status(StatusCode),
    /// A token that no HTTP header can carry (control characters, non-ASCII): not sent.
    #[error("the token holds characters an HTTP header cannot carry")]
    UnsendableToken,
    /// A success whose content is not what Keystone sends.
    #[error("Keystone's answer could not be read: {0}")]
    BadResponse(String),
}

/// A client of one Keystone's `/v3/auth/tokens`.
#[derive(Clone, Debug)]
pub(crate) struct KeystoneClient {
    http: reqwest::Client,
    tokens: Url,
}

impl KeystoneClient {
    /// A client of the identity API at `base` (ending with `/v3/`), whose requests give up
    /// after `timeout`.
    pub fn new(base: &Url, timeout: Duration) -> Result<Self, KeystoneConfigError> {
        let mut tokens = base
            .join("auth/tokens")
            .map_err(|e| KeystoneConfigError::Client(e.to_string()))?;
        // Heat needs no service catalog: leaving it out keeps responses small.
        tokens.set_query(Some("nocatalog"));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Tokens travel in custom headers that redirects would carry along: never follow.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("heat-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KeystoneConfigError::Client(e.to_string()))?;
        Ok(KeystoneClient { http, tokens })
    }

    /// The URL tokens are issued and validated at.
    pub fn tokens_url(&self) -> &Url {
        &self.tokens
    }

    /// `POST /v3/auth/tokens`: a project-scoped token for `credentials`.
    pub async fn issue(
        &self,
        credentials: &ServiceCredentials,
    ) -> Result<IssuedToken, KeystoneError> {
        let body = serde_json::json!({
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {
                        "name": credentials.username,
                        "domain": {"name": credentials.user_domain_name},
                        "password": credentials.password.expose(),
                    }},
                },
                "scope": {"project": {
                    "name": credentials.project_name,
                    "domain": {"name": credentials.project_domain_name},
                }},
            }
        });
        let request = self
            .http
            .post(self.tokens.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let response = self.send(request).await?;
        let status = response.status();
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(error_status(status));
        }
        let token = response
            .headers()
            .get(SUBJECT_TOKEN)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                KeystoneError::BadResponse("the issued token has no X-Subject-Token".to_string())
            })?;
        let info = self.read_token(response).await?;
        Ok(IssuedToken { token, info })
    }

    /// `GET /v3/auth/tokens`: what Keystone says about `subject`, asked with `service_token`.
    pub async fn validate(
        &self,
        service_token: &Secret,
        subject: &str,
    ) -> Result<TokenInfo, KeystoneError> {
        let request = self
            .http
            .get(self.tokens.clone())
            .header(AUTH_TOKEN, sensitive(service_token.expose())?)
            .header(SUBJECT_TOKEN, sensitive(subject)?);
        let response = self.send(request).await?;
        match response.status() {
            StatusCode::OK => self.read_token(response).await,
            status => Err(error_status(status)),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, KeystoneError> {
        request.send().await.map_err(|e| self.unreachable(&e))
    }

    async fn read_token(
        &self,
        mut response: reqwest::Response,
    ) -> Result<TokenInfo, KeystoneError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(&e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(KeystoneError::BadResponse(format!(
                    "the body is larger than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        token::parse_body(&body).map_err(|e| KeystoneError::BadResponse(e.to_string()))
    }

    fn unreachable(&self, error: &reqwest::Error) -> KeystoneError {
        let reason = if error.is_timeout() {
            "no answer in time".to_string()
        } else {
            // The innermost cause says most ("Connection refused"); reqwest's own message
            // only says that sending failed.
            let mut cause: &dyn std::error::Error = error;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            cause.to_string()
        };
        KeystoneError::Unreachable {
            url: self.tokens.as_str().to_string(),
            reason,
        }
    }
}

fn error_status(status: StatusCode) -> KeystoneError {
    match status {
        StatusCode::UNAUTHORIZED => KeystoneError::Unauthorized,
        StatusCode::FORBIDDEN => KeystoneError::Forbidden,
        StatusCode::NOT_FOUND => KeystoneError::NotFound,
        other => KeystoneError::Status(other),
    }
}

/// A header value that `Debug` output of the request never shows.
fn sensitive(token: &str) -> Result<HeaderValue, KeystoneError> {
    let mut value = HeaderValue::from_str(token).map_err(|_| KeystoneError::UnsendableToken)?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-connection HTTP server on loopback that answers every request with `response`
    /// (or never, for `None`); returns its identity base URL.
    async fn serve(response: Option<&'static str>) -> Url {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            match response {
                Some(text) => {
                    let _ = socket.write_all(text.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
                // Hold the connection open without answering until the client gives up.
                None => {
                    let _ = socket.read(&mut buf).await;
                }
            }
        });
        Url::parse(&format!("http://127.0.0.1:{port}/v3/")).unwrap()
    }

    fn client(base: &Url, timeout: Duration) -> KeystoneClient {
        KeystoneClient::new(base, timeout).unwrap()
    }

    #[test]
    fn requests_go_to_auth_tokens_without_the_catalog() {
        let base = Url::parse("http://127.0.0.1:5000/v3/").unwrap();
        let c = client(&base, Duration::from_secs(1));
        assert_eq!(
            c.tokens_url().as_str(),
            "http://127.0.0.1:5000/v3/auth/tokens?nocatalog"
        );
    }

    #[tokio::test]
    async fn a_server_error_is_a_status_error() {
        let base = serve(Some(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        ))
        .await;
        let err = client(&base, Duration::from_secs(30))
            .validate(&Secret::new("service"), "user")
            .await
            .unwrap_err();
        assert_eq!(err, KeystoneError::Status(StatusCode::SERVICE_UNAVAILABLE));
    }

    #[tokio::test]
    async fn an_answer_that_is_not_a_token_is_a_bad_response() {
        let base = serve(Some(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 6\r\nconnection: close\r\n\r\n<html>",
        ))
        .await;
        let err = client(&base, Duration::from_secs(30))
            .validate(&Secret::new("service"), "user")
            .await
            .unwrap_err();
        assert!(matches!(err, KeystoneError::BadResponse(_)), "{err:?}");
    }

    #[tokio::test]
    async fn an_issued_token_without_its_header_is_a_bad_response() {
        let base = serve(Some(
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        ))
        .await;
        let err = client(&base, Duration::from_secs(30))
            .issue(&ServiceCredentials::new("heat", "pw", "service"))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            KeystoneError::BadResponse("the issued token has no X-Subject-Token".to_string())
        );
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_unreachable_after_the_timeout() {
        let base = serve(None).await;
        let err = client(&base, Duration::from_millis(200))
            .validate(&Secret::new("service"), "user")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, KeystoneError::Unreachable { reason, .. } if reason == "no answer in time"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_token_that_cannot_be_a_header_is_refused_before_sending() {
        let base = Url::parse("http://127.0.0.1:9/v3/").unwrap();
        let err = client(&base, Duration::from_secs(1))
            .validate(&Secret::new("service"), "bad\ntoken")
            .await
            .unwrap_err();
        assert_eq!(err, KeystoneError::UnsendableToken);
    }
}
