//! The error every handler returns, and its wire form: Glacier's JSON error body
//! (`code`, `message`, `type`) with an HTTP status ("Error Responses" in the API
//! reference).

/// A Glacier error response: status, code, message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 InvalidParameterValueException.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "InvalidParameterValueException", message)
    }

    /// 400 MissingParameterValueException.
    pub fn missing(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "MissingParameterValueException", message)
    }

    /// 404 ResourceNotFoundException.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, "ResourceNotFoundException", message)
    }

    /// 403 InvalidSignatureException.
    pub fn signature(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "InvalidSignatureException", message)
    }

    /// 500 for a failure of the mock itself (disk full...).
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            500,
            "ServiceUnavailableException",
            format!("mock failure: {e}"),
        )
    }

    /// `Client` or `Server`, as in Glacier's error body.
    pub fn kind(&self) -> &'static str {
        if self.status >= 500 {
            "Server"
        } else {
            "Client"
        }
    }

    /// The JSON body `{"code","message","type"}` ("Error Responses" in the Glacier API
    /// reference).
    pub fn body(&self) -> Vec<u8> {
        serde_json::json!({"code": self.code, "message": self.message, "type": self.kind()})
            .to_string()
            .into_bytes()
    }
}
