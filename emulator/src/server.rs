//! The HTTP side: accept loop, request reading, routing, fault application.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::faults::{self, Fault, HANG_LIMIT};
use super::log::LoggedRequest;
use super::nacos;
use super::reply::Reply;
use super::state::State;
use super::{cloud_sso, credentials_uri, imds, kms, oauth, sts, Endpoint, STS_HOST_ID};

/// Largest request body accepted (STS policies are at most a few KiB).
const MAX_BODY: usize = 64 * 1024;

const IMDS_TOKEN_PATH: &str = "/latest/api/token";
const IMDS_CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials";
const CREDENTIALS_URI_PATH: &str = "/credentials/";
const CLOUD_SSO_PATH: &str = "/cloud-credentials";
const OAUTH_TOKEN_PATH: &str = "/v1/token";
const OAUTH_EXCHANGE_PATH: &str = "/v1/exchange";

/// Returned by the service to make hyper drop the connection without writing a response.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("fault injected: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until the task is aborted; the connection tasks live in a `JoinSet` owned
/// by this task, so aborting it also ends every open connection.
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&state)));
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| handle(request, Arc::clone(&state)));
    // Errors here are client disconnects, malformed HTTP or an injected `Close`: nothing to do.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Where a request goes.
enum Route {
    Rpc(Option<Endpoint>, Vec<(String, String)>),
    ImdsToken,
    ImdsRole,
    ImdsCredentials(String),
    CredentialsUri(String),
    NacosLogin(Vec<(String, String)>),
    NacosConfig(Vec<(String, String)>),
    /// CloudSSO `/cloud-credentials`, OAuth `/v1/token` and `/v1/exchange`: POST only; their
    /// handlers read the headers and the body themselves.
    SignIn(Endpoint),
    NotFound,
}

impl Route {
    fn endpoint(&self) -> Option<Endpoint> {
        match self {
            Route::Rpc(endpoint, _) => *endpoint,
            Route::ImdsToken => Some(Endpoint::ImdsToken),
            Route::ImdsRole => Some(Endpoint::ImdsRole),
            Route::ImdsCredentials(_) => Some(Endpoint::ImdsCredentials),
            Route::CredentialsUri(_) => Some(Endpoint::CredentialsUri),
            Route::NacosLogin(_) => Some(Endpoint::NacosLogin),
            Route::NacosConfig(_) => Some(Endpoint::NacosGetConfig),
            Route::SignIn(endpoint) => Some(*endpoint),
            Route::NotFound => None,
        }
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The request's parameters: the query, then a form body.
fn params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    if is_form(headers) {
        params.extend(form_urlencoded::parse(body).into_owned());
    }
    params
}

fn route(path: &str, query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Route {
    match path {
        p if nacos::LOGIN_PATHS.contains(&p) => Route::NacosLogin(params(query, headers, body)),
        nacos::CONFIG_PATH => Route::NacosConfig(params(query, headers, body)),
        "" | "/" => {
            let params = params(query, headers, body);
            let endpoint = match params.iter().find(|(k, _)| k == "Action") {
                Some((_, action)) if action == "AssumeRole" => Some(Endpoint::AssumeRole),
                Some((_, action)) if action == "AssumeRoleWithOIDC" => {
                    Some(Endpoint::AssumeRoleWithOidc)
                }
                Some((_, action)) => kms::endpoint(action),
                _ => None,
            };
            Route::Rpc(endpoint, params)
        }
        IMDS_TOKEN_PATH => Route::ImdsToken,
        CLOUD_SSO_PATH => Route::SignIn(Endpoint::CloudSsoCredentials),
        OAUTH_TOKEN_PATH => Route::SignIn(Endpoint::OAuthToken),
        OAUTH_EXCHANGE_PATH => Route::SignIn(Endpoint::OAuthExchange),
        _ => {
            if let Some(rest) = path.strip_prefix(IMDS_CREDENTIALS_PATH) {
                return match rest.strip_prefix('/') {
                    None if rest.is_empty() => Route::ImdsRole,
                    Some("") => Route::ImdsRole,
                    Some(role) if !role.contains('/') => Route::ImdsCredentials(role.to_owned()),
                    _ => Route::NotFound,
                };
            }
            match path.strip_prefix(CREDENTIALS_URI_PATH) {
                Some(token) => Route::CredentialsUri(token.to_owned()),
                None => Route::NotFound,
            }
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = header(headers, "authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The media type of a header such as `Content-Type`, lower-case, without its parameters.
pub(crate) fn media_type(headers: &HeaderMap, name: hyper::header::HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase()).filter(|v| !v.is_empty())
}

fn method_not_allowed() -> Reply {
    Reply::text(405, "Method Not Allowed")
}

/// The normal answer for a routed request.
fn dispatch(
    state: &State,
    method: &Method,
    route: Route,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let now = state.now();
    let token = header(headers, imds::TOKEN_HEADER);
    match route {
        Route::Rpc(endpoint, params) => {
            if method != Method::GET && method != Method::POST {
                return method_not_allowed();
            }
            match endpoint {
                Some(Endpoint::AssumeRole) => sts::assume_role(state, method.as_str(), &params, now),
                Some(Endpoint::AssumeRoleWithOidc) => sts::assume_role_with_oidc(state, &params, now),
                Some(kms) => kms::handle(state, method.as_str(), kms, &params, now),
                None if params.iter().any(|(k, _)| k == "Action") => Reply::pop_error(
                    404,
                    STS_HOST_ID,
                    "InvalidAction.NotFound",
                    "Specified api is not found, please check your url and method.",
                ),
                None => Reply::pop_error(
                    400,
                    STS_HOST_ID,
                    "MissingParameter",
                    "The input parameter \"Action\" that is mandatory for processing this request is not supplied.",
                ),
            }
        }
        Route::ImdsToken if method == Method::PUT => {
            imds::put_token(state, header(headers, imds::TOKEN_TTL_HEADER), now)
        }
        Route::ImdsRole | Route::ImdsCredentials(_) | Route::CredentialsUri(_)
            if method != Method::GET =>
        {
            method_not_allowed()
        }
        Route::ImdsToken => method_not_allowed(),
        Route::ImdsRole => imds::role_name(state, token, now),
        Route::ImdsCredentials(role) => imds::credentials(state, &role, token, now),
        Route::CredentialsUri(path_token) => credentials_uri::credentials(state, &path_token, now),
        Route::NacosLogin(params) if method == Method::GET || method == Method::POST => {
            nacos::login(state, &params)
        }
        Route::NacosLogin(_) => method_not_allowed(),
        Route::NacosConfig(params) if method == Method::GET => nacos::get_config(
            state,
            &params,
            header(headers, "authorization"),
            header(headers, "accesstoken"),
            now,
        ),
        Route::NacosConfig(_) => method_not_allowed(),
        Route::SignIn(_) if method != Method::POST => method_not_allowed(),
        Route::SignIn(Endpoint::CloudSsoCredentials) => {
            cloud_sso::credentials(state, headers, body, now)
        }
        Route::SignIn(Endpoint::OAuthToken) => oauth::token(state, headers, body, now),
        Route::SignIn(_) => oauth::exchange(state, headers, now),
        Route::NotFound => Reply::text(404, "Not Found"),
    }
}

fn into_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    response
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(into_response(Reply::text(
                413,
                "request body too large or unreadable",
            )))
        }
    };
    let route = route(parts.uri.path(), parts.uri.query(), &parts.headers, &body);
    let endpoint = route.endpoint();
    let logged = LoggedRequest {
        endpoint,
        method: parts.method.as_str().to_owned(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let fault = state.begin(logged);
    let reply = match (fault, endpoint) {
        (None, _) | (Some(_), None) => {
            dispatch(&state, &parts.method, route, &parts.headers, &body)
        }
        (Some(Fault::Close), _) => return Err(DropConnection),
        (Some(Fault::Hang), _) => {
            tokio::time::sleep(HANG_LIMIT).await;
            return Err(DropConnection);
        }
        (Some(Fault::Delay(delay)), _) => {
            tokio::time::sleep(delay.min(HANG_LIMIT)).await;
            dispatch(&state, &parts.method, route, &parts.headers, &body)
        }
        (Some(Fault::Status(status)), Some(endpoint)) => faults::status_reply(endpoint, status),
        (Some(Fault::Garbage), _) => faults::garbage_reply(),
        (Some(Fault::MissingFields), Some(endpoint)) => {
            faults::missing_fields_reply(endpoint, state.now())
        }
    };
    Ok(into_response(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(path: &str) -> Option<Endpoint> {
        route(path, None, &HeaderMap::new(), b"").endpoint()
    }

    #[test]
    fn paths_route_to_their_endpoints() {
        assert_eq!(routed("/latest/api/token"), Some(Endpoint::ImdsToken));
        assert_eq!(
            routed("/latest/meta-data/ram/security-credentials/"),
            Some(Endpoint::ImdsRole)
        );
        assert_eq!(
            routed("/latest/meta-data/ram/security-credentials"),
            Some(Endpoint::ImdsRole)
        );
        assert_eq!(
            routed("/latest/meta-data/ram/security-credentials/Role"),
            Some(Endpoint::ImdsCredentials)
        );
        assert_eq!(
            routed("/latest/meta-data/ram/security-credentials/a/b"),
            None
        );
        assert_eq!(routed("/credentials/abc"), Some(Endpoint::CredentialsUri));
        assert_eq!(
            routed("/cloud-credentials"),
            Some(Endpoint::CloudSsoCredentials)
        );
        assert_eq!(routed("/v1/token"), Some(Endpoint::OAuthToken));
        assert_eq!(routed("/v1/exchange"), Some(Endpoint::OAuthExchange));
        assert_eq!(routed("/nope"), None);
        assert_eq!(routed("/"), None); // no Action
    }

    #[test]
    fn bearer_tokens_and_media_types_are_read_leniently() {
        let headers = |auth: &'static str, ct: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("authorization", HeaderValue::from_static(auth));
            h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            h
        };
        let h = headers(" BEARER  tok ", "Application/JSON; charset=utf-8");
        assert_eq!(bearer(&h), Some("tok"));
        assert_eq!(
            media_type(&h, CONTENT_TYPE).as_deref(),
            Some("application/json")
        );
        for auth in ["Basic tok", "Bearer ", "Bearer", "tok"] {
            assert_eq!(bearer(&headers(auth, "x")), None, "{auth:?}");
        }
        assert_eq!(bearer(&HeaderMap::new()), None);
        assert_eq!(media_type(&HeaderMap::new(), CONTENT_TYPE), None);
    }

    #[test]
    fn action_may_come_from_the_form_body() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        let route = route(
            "/",
            Some("Format=JSON"),
            &headers,
            b"Action=AssumeRoleWithOIDC",
        );
        assert_eq!(route.endpoint(), Some(Endpoint::AssumeRoleWithOidc));
        // Without the form content type the body is not parameters.
        let route = super::route("/", None, &HeaderMap::new(), b"Action=AssumeRole");
        assert_eq!(route.endpoint(), None);
    }
}
