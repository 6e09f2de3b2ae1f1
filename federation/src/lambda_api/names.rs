//! `FunctionName` ↔ OpenFaaS function, and function ARNs.
//!
//! | `FunctionName` given | OpenFaaS function |
//! |---|---|
//! | `echo` | `echo` in the provider's default namespace (`openfaas-fn`) |
//! | `echo.team` | `echo` in namespace `team` (split at the **last** dot, as OpenFaaS does) |
//! | `arn:aws:lambda:REGION:ACCOUNT:function:echo[.team][:QUALIFIER]` | the same, from the ARN's name |
//! | `ACCOUNT:function:echo[:QUALIFIER]` (partial ARN), `echo:QUALIFIER` | the same |
//!
//! The other way, a function's Lambda name is `name` in the default namespace and
//! `name.namespace` elsewhere; its ARN is `arn:aws:lambda:{region}:{account}:function:{that}`
//! with the API's configured region and account. The region and account of a received ARN are
//! not checked (the federation is one account). The only qualifier that exists is `$LATEST`.

use faas_provider::FunctionRef;

use super::error::LambdaError;

/// The only version this API has.
pub const LATEST: &str = "$LATEST";

/// A parsed `FunctionName` (or resource ARN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The OpenFaaS function.
    pub function: FunctionRef,
    /// The qualifier given in the name, if any.
    pub qualifier: Option<String>,
}

/// Parses a `FunctionName` path or body value (see the module docs).
pub fn parse(input: &str, default_namespace: &str) -> Result<Target, LambdaError> {
    let parts: Vec<&str> = input.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        [
            "arn",
            _partition,
            "lambda",
            _region,
            _account,
            "function",
            name,
        ] => (*name, None),
        [
            "arn",
            _partition,
            "lambda",
            _region,
            _account,
            "function",
            name,
            qualifier,
        ] => (*name, Some(*qualifier)),
        [_account, "function", name] => (*name, None),
        [_account, "function", name, qualifier] => (*name, Some(*qualifier)),
        [name] => (*name, None),
        [name, qualifier] => (*name, Some(*qualifier)),
        _ => {
            return Err(LambdaError::invalid(format!(
                "1 validation error detected: Value '{input}' at 'functionName' failed to \
                 satisfy constraint: it must be a function name, name.namespace or a function ARN"
            )));
        }
    };
    let function = FunctionRef::parse(name, default_namespace);
    if function.name.is_empty() || function.namespace.is_empty() {
        return Err(LambdaError::invalid(format!(
            "Value '{input}' at 'functionName' names no function"
        )));
    }
    if qualifier.is_some_and(str::is_empty) {
        return Err(LambdaError::invalid(format!(
            "Value '{input}' at 'functionName' has an empty qualifier"
        )));
    }
    Ok(Target {
        function,
        qualifier: qualifier.map(str::to_string),
    })
}

/// The function's Lambda name: `name` in the default namespace, `name.namespace` elsewhere.
pub fn lambda_name(function: &FunctionRef, default_namespace: &str) -> String {
    if function.namespace == default_namespace {
        function.name.clone()
    } else {
        function.to_string()
    }
}

/// The function ARN of a Lambda name.
pub fn arn(region: &str, account: &str, lambda_name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{lambda_name}")
}

/// The one qualifier that exists is `$LATEST` (or none): anything else is not found, as an
/// unknown version or alias is in Lambda.
pub fn check_qualifier(qualifier: Option<&str>, arn: &str) -> Result<(), LambdaError> {
    match qualifier {
        None | Some(LATEST) => Ok(()),
        Some(other) => Err(LambdaError::function_not_found(&format!("{arn}:{other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "openfaas-fn";

    fn target(input: &str) -> (String, String, Option<String>) {
        let t = parse(input, NS).unwrap();
        (t.function.name, t.function.namespace, t.qualifier)
    }

    #[test]
    fn names_map_to_functions() {
        assert_eq!(target("echo"), ("echo".into(), NS.into(), None));
        assert_eq!(target("echo.team"), ("echo".into(), "team".into(), None));
        assert_eq!(target("a.b.team"), ("a.b".into(), "team".into(), None));
        assert_eq!(
            target("echo:$LATEST"),
            ("echo".into(), NS.into(), Some("$LATEST".into()))
        );
    }

    #[test]
    fn full_and_partial_arns_are_parsed() {
        assert_eq!(
            target("arn:aws:lambda:us-east-1:000000000000:function:echo"),
            ("echo".into(), NS.into(), None)
        );
        assert_eq!(
            target("arn:aws:lambda:eu-west-1:123456789012:function:echo.team:prod"),
            ("echo".into(), "team".into(), Some("prod".into()))
        );
        assert_eq!(
            target("123456789012:function:echo:1"),
            ("echo".into(), NS.into(), Some("1".into()))
        );
    }

    #[test]
    fn malformed_names_are_invalid_parameters() {
        for bad in [
            "",
            ".team",
            "echo.",
            "echo:",
            "a:b:c",
            "arn:aws:s3:::bucket",
            "arn:aws:lambda:r:a:layer:x",
        ] {
            let error = parse(bad, NS).unwrap_err();
            assert_eq!(error.code, "InvalidParameterValueException", "{bad:?}");
        }
    }

    #[test]
    fn names_and_arns_round_trip() {
        let f = FunctionRef::new("echo", NS);
        assert_eq!(lambda_name(&f, NS), "echo");
        let g = FunctionRef::new("echo", "team");
        assert_eq!(lambda_name(&g, NS), "echo.team");
        let arn = arn("us-east-1", "000000000000", &lambda_name(&g, NS));
        assert_eq!(
            arn,
            "arn:aws:lambda:us-east-1:000000000000:function:echo.team"
        );
        assert_eq!(parse(&arn, NS).unwrap().function, g);
    }

    #[test]
    fn only_latest_is_a_qualifier() {
        assert!(check_qualifier(None, "arn").is_ok());
        assert!(check_qualifier(Some("$LATEST"), "arn").is_ok());
        let error = check_qualifier(Some("1"), "arn:f").unwrap_err();
        assert_eq!(error.code, "ResourceNotFoundException");
        assert_eq!(error.message, "Function not found: arn:f:1");
    }
}
