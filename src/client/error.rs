//! The errors the client reports to the application: a stable code (the strings of the README's
//! Errors table), a message for people, the MQTT 5 reason code where one applies, and whether the
//! client has stopped for good. The browser layer only converts them to `MqttError`s.

use core::fmt;

use crate::codec::reason;

/// A stable error code: one of the client's own, or the name of an MQTT reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `CONNECTION_FAILED`, `WRONG_SUBPROTOCOL`, `STORE_FAILED`, ...
    Named(&'static str),
    /// The reason code's name in upper case: `NOT_AUTHORIZED`, `QUOTA_EXCEEDED`, ...
    Reason(u8),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Named(code) => f.write_str(code),
            ErrorCode::Reason(code) => {
                for c in reason::name(*code).chars() {
                    let c = if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    };
                    fmt::Write::write_char(f, c)?;
                }
                Ok(())
            }
        }
    }
}

/// The stable code for an MQTT 5 reason code (or a 3.1.1 code already mapped to one).
pub fn reason_code_name(code: u8) -> String {
    ErrorCode::Reason(code).to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub code: ErrorCode,
    pub message: String,
    pub reason_code: Option<u8>,
    /// The client stopped for good (no further attempt follows).
    pub fatal: bool,
    /// The key of the stored record a `STORE_CORRUPT_RECORD` error is about.
    pub record: Option<String>,
}

impl ClientError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ClientError {
        ClientError {
            code: ErrorCode::Named(code),
            message: message.into(),
            reason_code: None,
            fatal: false,
            record: None,
        }
    }

    /// An error named after the MQTT reason code `code`, which it carries.
    pub fn reason(code: u8, message: impl Into<String>) -> ClientError {
        ClientError {
            code: ErrorCode::Reason(code),
            reason_code: Some(code),
            ..ClientError::new("", message)
        }
    }

    pub fn with_reason_code(mut self, code: Option<u8>) -> ClientError {
        self.reason_code = code;
        self
    }

    pub fn fatal(mut self) -> ClientError {
        self.fatal = true;
        self
    }
}

impl From<crate::session::CommandError> for ClientError {
    fn from(error: crate::session::CommandError) -> ClientError {
        ClientError::new(error.code(), error.to_string())
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ClientError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_have_stable_upper_case_names() {
        assert_eq!(reason_code_name(reason::NOT_AUTHORIZED), "NOT_AUTHORIZED");
        assert_eq!(
            reason_code_name(reason::BAD_USER_NAME_OR_PASSWORD),
            "BAD_USER_NAME_OR_PASSWORD"
        );
        assert_eq!(
            reason_code_name(reason::QOS_NOT_SUPPORTED),
            "QOS_NOT_SUPPORTED"
        );
        assert_eq!(reason_code_name(reason::RE_AUTHENTICATE), "RE_AUTHENTICATE");
        let error = ClientError::reason(reason::BANNED, "refused").fatal();
        assert_eq!(
            (error.code.to_string(), error.reason_code, error.fatal),
            ("BANNED".to_string(), Some(reason::BANNED), true)
        );
    }
}
