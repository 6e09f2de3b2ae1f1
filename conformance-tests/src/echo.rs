//! Decoding the echo function's answer, whichever function produced it.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::target::EchoFormat;

/// What the echo function saw of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Echo {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path the function saw (`/` for `/function/<name>`).
    pub path: String,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    /// Request headers by lowercase name.
    pub headers: BTreeMap<String, String>,
    /// The request body.
    pub body: Vec<u8>,
    /// The function's name, when the echo says (memory JSON does).
    pub function: Option<String>,
    /// The function's namespace, when the echo says (memory JSON does).
    pub namespace: Option<String>,
}

#[derive(Deserialize)]
struct MemoryEcho {
    function: String,
    namespace: String,
    method: String,
    path: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, rename = "bodyBase64")]
    body_base64: Option<String>,
}

impl Echo {
    /// Decodes a response body in `format`; the error says what is wrong, quoting the start of it.
    pub fn decode(format: EchoFormat, bytes: &[u8]) -> Result<Self, String> {
        match format {
            EchoFormat::MemoryJson => Self::decode_memory(bytes),
            EchoFormat::WatchdogEnv => Self::decode_watchdog(bytes),
        }
        .map_err(|e| format!("{e}; response body starts with {:?}", preview(bytes)))
    }

    fn decode_memory(bytes: &[u8]) -> Result<Self, String> {
        let echo: MemoryEcho =
            serde_json::from_slice(bytes).map_err(|e| format!("not a memory echo JSON: {e}"))?;
        let body = match (echo.body, echo.body_base64) {
            (Some(_), Some(_)) => return Err("both body and bodyBase64 are present".to_string()),
            (Some(text), None) => text.into_bytes(),
            (None, Some(encoded)) => STANDARD
                .decode(encoded)
                .map_err(|e| format!("bodyBase64 is not base64: {e}"))?,
            (None, None) => Vec::new(),
        };
        Ok(Self {
            method: echo.method,
            path: echo.path,
            query: echo.query,
            headers: echo
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body,
            function: Some(echo.function),
            namespace: Some(echo.namespace),
        })
    }

    fn decode_watchdog(bytes: &[u8]) -> Result<Self, String> {
        let mut echo = Self::default();
        let mut rest = bytes;
        let mut saw_method = false;
        loop {
            let Some(end) = rest.iter().position(|b| *b == b'\n') else {
                return Err("no empty line separating the variables from the body".to_string());
            };
            let line = &rest[..end];
            rest = &rest[end + 1..];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            let line = std::str::from_utf8(line)
                .map_err(|_| "a variable line is not UTF-8".to_string())?;
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!("variable line without '=': {line:?}"));
            };
            match key {
                "Http_Method" => {
                    echo.method = value.to_string();
                    saw_method = true;
                }
                "Http_Path" => echo.path = value.to_string(),
                "Http_Query" => echo.query = value.to_string(),
                _ => {
                    if let Some(header) = key.strip_prefix("Http_") {
                        echo.headers.insert(
                            header.replace('_', "-").to_ascii_lowercase(),
                            value.to_string(),
                        );
                    }
                }
            }
        }
        if !saw_method {
            return Err("no Http_Method variable".to_string());
        }
        echo.body = rest.to_vec();
        Ok(echo)
    }

    /// The body as text (lossy), for messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The first bytes of `bytes`, for error messages.
pub(crate) fn preview(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).into_owned();
    if bytes.len() > MAX {
        format!("{text}… ({} bytes)", bytes.len())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_json_with_text_and_base64_bodies() {
        let text =
            br#"{"function":"f","namespace":"ns","method":"POST","path":"/a","query":"q=1&q=2",
            "headers":{"x-token":"t"},"body":"hi"}"#;
        let echo = Echo::decode(EchoFormat::MemoryJson, text).unwrap();
        assert_eq!(echo.method, "POST");
        assert_eq!(echo.path, "/a");
        assert_eq!(echo.query, "q=1&q=2");
        assert_eq!(echo.headers["x-token"], "t");
        assert_eq!(echo.body, b"hi");
        assert_eq!(echo.function.as_deref(), Some("f"));
        assert_eq!(echo.namespace.as_deref(), Some("ns"));

        let binary = br#"{"function":"f","namespace":"ns","method":"PUT","path":"/","query":"",
            "headers":{},"bodyBase64":"/wA="}"#;
        assert_eq!(
            Echo::decode(EchoFormat::MemoryJson, binary).unwrap().body,
            vec![0xff, 0]
        );

        let both = br#"{"function":"f","namespace":"ns","method":"PUT","path":"/","query":"",
            "headers":{},"body":"","bodyBase64":""}"#;
        assert!(Echo::decode(EchoFormat::MemoryJson, both).is_err());
        assert!(Echo::decode(EchoFormat::MemoryJson, b"Http_Method=GET\n\n").is_err());
    }

    #[test]
    fn watchdog_env_lines_then_verbatim_body() {
        let output = b"Http_Content_Type=text/plain\nHttp_Method=POST\nHttp_Path=/a/b\nHttp_Query=q=1&q=2\nHttp_X_Conf_Token=abc\n\nline1\n\nline2";
        let echo = Echo::decode(EchoFormat::WatchdogEnv, output).unwrap();
        assert_eq!(echo.method, "POST");
        assert_eq!(echo.path, "/a/b");
        assert_eq!(echo.query, "q=1&q=2");
        assert_eq!(echo.headers["x-conf-token"], "abc");
        assert_eq!(echo.headers["content-type"], "text/plain");
        assert_eq!(echo.body, b"line1\n\nline2");
        assert_eq!(echo.function, None);

        let binary = [b"Http_Method=PUT\n\n".as_slice(), &[0xff, 0x00, b'\n']].concat();
        assert_eq!(
            Echo::decode(EchoFormat::WatchdogEnv, &binary).unwrap().body,
            vec![0xff, 0, b'\n']
        );

        assert!(Echo::decode(EchoFormat::WatchdogEnv, b"Http_Method=GET\n").is_err());
        assert!(Echo::decode(EchoFormat::WatchdogEnv, b"Http_Path=/\n\n").is_err());
        assert!(Echo::decode(EchoFormat::WatchdogEnv, b"{\"method\":\"GET\"}").is_err());
    }
}
