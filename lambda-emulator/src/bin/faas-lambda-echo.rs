//! `faas-lambda-echo`: the smallest custom runtime (`provided.al2023` `bootstrap`), for checking
//! a Runtime API, an import or a deployment end to end. Std only, one connection per request.
//!
//! - An API Gateway v2 HTTP event is answered with a response description: status 200, the
//!   event's body (and its base64 flag) as the body, its content type, and `x-echo-method`,
//!   `x-echo-path`, `x-echo-query` headers naming what the event said, and `x-echo-handler`
//!   naming the handler the runtime was given (`_HANDLER`).
//! - Any other event is answered with itself, byte for byte.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{Value, json};

/// One HTTP/1.1 exchange with the Runtime API (`Connection: close`, read to the end).
fn exchange(
    api: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut stream = TcpStream::connect(api)?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers in the Runtime API's answer"))?;
    let body = answer.split_off(split + 4);
    Ok((answer, body))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// The answer to `event`.
fn answer(event: &[u8]) -> Vec<u8> {
    let Ok(value) = serde_json::from_slice::<Value>(event) else {
        return event.to_vec();
    };
    let http = &value["requestContext"]["http"];
    if value["version"] != "2.0" || !http.is_object() {
        return event.to_vec();
    }
    let content_type = value["headers"]["content-type"]
        .as_str()
        .unwrap_or("text/plain");
    let response = json!({
        "statusCode": 200,
        "headers": {
            "content-type": content_type,
            "x-echo-method": http["method"],
            "x-echo-path": value["rawPath"],
            "x-echo-query": value["rawQueryString"],
            "x-echo-handler": std::env::var("_HANDLER").unwrap_or_default(),
        },
        "body": value["body"].as_str().unwrap_or(""),
        "isBase64Encoded": value["isBase64Encoded"].as_bool().unwrap_or(false),
    });
    response.to_string().into_bytes()
}

fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API is set");
    let api = api
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    loop {
        let (head, event) =
            exchange(&api, "GET", "/2018-06-01/runtime/invocation/next", b"").expect("GET /next");
        let head = String::from_utf8_lossy(&head);
        let id = header(&head, "lambda-runtime-aws-request-id")
            .expect("the next event has a request id")
            .to_string();
        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        exchange(&api, "POST", &path, &answer(&event)).expect("POST the response");
    }
}
