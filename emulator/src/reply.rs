//! What a handler answers, before it becomes an HTTP response.

use serde_json::{json, Value};

use super::state::request_id;

/// A complete answer: status, content type and body. Handlers build these without I/O.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=utf-8",
            body: body.to_string(),
        }
    }

    pub(crate) fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain;charset=utf-8",
            body: body.into(),
        }
    }

    /// The standard POP error body of STS and the other RPC services (spec §5.5).
    pub(crate) fn pop_error(status: u16, host_id: &str, code: &str, message: &str) -> Reply {
        let request_id = request_id();
        Reply::json(
            status,
            &json!({
                "RequestId": request_id,
                "HostId": host_id,
                "Code": code,
                "Message": message,
                "Recommend": format!(
                    "https://api.aliyun.com/troubleshoot?q={code}&product=Sts&requestId={request_id}"
                ),
            }),
        )
    }

    /// The parsed JSON body (tests).
    #[cfg(test)]
    pub(crate) fn json_body(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}
