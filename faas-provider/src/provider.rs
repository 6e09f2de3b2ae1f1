//! The provider contract.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::error::{ProviderError, Result};
use crate::types::{
    DEFAULT_NAMESPACE, FunctionDeployment, FunctionNamespace, FunctionStatus, LogMessage,
    ProviderInfo, Secret, namespace_or_default,
};

/// Request and response bodies of invocations (streamed both ways).
pub type Body = axum_core::body::Body;

/// When the server received an invocation: set by the server
/// ([`crate::server::router`]) in the extensions of every request it hands to
/// [`Provider::invoke`]. The server answers 504 at this instant plus its invocation bound
/// ([`crate::ServerConfig::invoke_bound`]); a provider that calls further (the federation)
/// counts its own bound from here, so the deadline holds end to end and the 504 can name
/// what was slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvokeStart(pub std::time::Instant);

/// A stream of log lines; it ends when the backend has no more (or, with `follow`, when dropped).
pub type LogStream = BoxStream<'static, LogMessage>;

/// A function, by name and namespace. The server always fills the namespace (the provider's
/// default when the caller gave none), so providers never see an empty one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionRef {
    /// Function name.
    pub name: String,
    /// Namespace (never empty when it reaches a provider).
    pub namespace: String,
}

impl FunctionRef {
    /// A function reference.
    pub fn new(name: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            namespace: namespace.into(),
        }
    }

    /// Splits `name.namespace` at the **last** dot, as faasd, faas-netes and the gateway do;
    /// with no dot the namespace is `default_namespace`.
    pub fn parse(qualified: &str, default_namespace: &str) -> Self {
        match qualified.rsplit_once('.') {
            Some((name, namespace)) => Self::new(name, namespace),
            None => Self::new(qualified, default_namespace),
        }
    }

    /// This function with [`DEFAULT_NAMESPACE`](crate::DEFAULT_NAMESPACE) when its namespace
    /// is empty (the server always fills it; direct callers of a provider may not).
    pub fn or_default_namespace(&self) -> Self {
        Self::new(self.name.clone(), namespace_or_default(&self.namespace))
    }
}

impl fmt::Display for FunctionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.name, self.namespace)
    }
}

/// A log query (`GET /system/logs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    /// The function.
    pub function: FunctionRef,
    /// Only lines from this replica.
    pub instance: Option<String>,
    /// Only lines written at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only the last `tail` lines of history (`None` = all; the server turns `tail <= 0` into `None`).
    pub tail: Option<usize>,
    /// Keep streaming new lines until the client goes away.
    pub follow: bool,
}

impl LogRequest {
    /// History of `function`, no filters, no follow.
    pub fn new(function: FunctionRef) -> Self {
        Self {
            function,
            instance: None,
            since: None,
            tail: None,
            follow: false,
        }
    }
}

/// What a provider supports. The server uses it to fill default namespaces; the conformance
/// suite uses it to decide which cases must pass and which may answer `Unsupported`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Namespace used when a request names none.
    pub default_namespace: String,
    /// `scale(0)` is accepted and stops every replica.
    pub scale_to_zero: bool,
    /// Highest replica count accepted (None = no limit).
    pub max_replicas: Option<u64>,
    /// Secrets CRUD is implemented.
    pub secrets: bool,
    /// Log streaming is implemented.
    pub logs: bool,
    /// Namespaces other than the default can be created, updated and deleted.
    pub namespace_mutation: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            default_namespace: DEFAULT_NAMESPACE.to_string(),
            scale_to_zero: false,
            max_replicas: None,
            secrets: false,
            logs: false,
            namespace_mutation: false,
        }
    }
}

impl Capabilities {
    /// Everything this project's full backends support: scale to zero, secrets, logs, namespaces.
    pub fn full() -> Self {
        Self {
            scale_to_zero: true,
            secrets: true,
            logs: true,
            namespace_mutation: true,
            ..Self::default()
        }
    }
}

/// An OpenFaaS provider: where functions are deployed, scaled and invoked.
///
/// One object-safe trait, used as `Arc<dyn Provider>`. The server
/// ([`crate::server::router`]) turns HTTP into these calls after validating names and
/// filling the default namespace; the client ([`crate::client::HttpProvider`]) turns them
/// back into HTTP, so a remote provider plugs in wherever a local one does.
///
/// Errors are semantic ([`ProviderError`]); the server maps them to status codes. Optional
/// operations (secrets, logs, namespace mutation) have defaults answering
/// [`ProviderError::Unsupported`] (HTTP 501); declare what you implement in
/// [`Provider::capabilities`].
///
/// # Example
///
/// A complete provider with one built-in function that answers `hello`:
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use faas_provider::{
///     Body, Capabilities, FunctionDeployment, FunctionRef, FunctionStatus, Provider, ProviderError,
///     ProviderInfo, Result,
/// };
///
/// struct Hello;
///
/// #[async_trait]
/// impl Provider for Hello {
///     fn capabilities(&self) -> Capabilities {
///         Capabilities::default()
///     }
///     async fn info(&self) -> Result<ProviderInfo> {
///         Ok(ProviderInfo::new("hello-provider", "static", "0.1.0"))
///     }
///     async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
///         let f = FunctionRef::new("hello", namespace);
///         Ok(vec![self.get(&f).await?])
///     }
///     async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
///         if function.name != "hello" {
///             return Err(ProviderError::function_not_found(function));
///         }
///         let spec = FunctionDeployment::new("hello", "example/hello:latest");
///         let mut status = FunctionStatus::from_deployment(&spec, chrono::Utc::now());
///         status.namespace = function.namespace.clone();
///         status.replicas = 1;
///         status.available_replicas = 1;
///         Ok(status)
///     }
///     async fn deploy(&self, _spec: FunctionDeployment) -> Result<()> {
///         Err(ProviderError::unsupported("deploy", "hello-provider"))
///     }
///     async fn update(&self, spec: FunctionDeployment) -> Result<()> {
///         Err(ProviderError::function_not_found(&FunctionRef::new(spec.service, spec.namespace)))
///     }
///     async fn delete(&self, function: &FunctionRef) -> Result<()> {
///         Err(ProviderError::function_not_found(function))
///     }
///     async fn scale(&self, function: &FunctionRef, _replicas: u64) -> Result<()> {
///         self.get(function).await.map(|_| ())
///     }
///     async fn invoke(&self, function: &FunctionRef, _req: http::Request<Body>) -> Result<http::Response<Body>> {
///         self.get(function).await?;
///         Ok(http::Response::new(Body::from("hello")))
///     }
/// }
///
/// # #[cfg(feature = "server")]
/// # async fn serve_it() -> std::io::Result<()> {
/// let provider: Arc<dyn Provider> = Arc::new(Hello);
/// let app = faas_provider::server::router(provider, &faas_provider::ServerConfig::default());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What this provider supports (cheap; called per request).
    fn capabilities(&self) -> Capabilities;

    /// What this provider supports for `function` (cheap, no I/O): [`Provider::capabilities`]
    /// unless functions live on parts of different abilities (the federation answers with the
    /// capabilities of the backend that owns `function`). The server checks scale requests
    /// (scale to zero, `max_replicas`) against it.
    fn capabilities_of(&self, function: &FunctionRef) -> Capabilities {
        let _ = function;
        self.capabilities()
    }

    /// Name, orchestration and version (`GET /system/info`).
    async fn info(&self) -> Result<ProviderInfo>;

    /// Liveness (`GET /healthz`): `Ok` when the provider can serve its API.
    async fn health(&self) -> Result<()> {
        Ok(())
    }

    /// Every function in `namespace` (`GET /system/functions`). An unknown namespace is an
    /// error (`NotFound` or `InvalidRequest`); an empty one gives `[]`.
    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>>;

    /// [`Provider::list`] as the JSON array `GET /system/functions` answers, which the server
    /// sends as it is. The default encodes [`Provider::list`]. A provider that receives lists
    /// encoded already answers without decoding and re-encoding every function: the HTTP
    /// client passes a remote's list through, and the federation joins its backends' lists (as
    /// the OpenFaaS gateway proxies a provider's list).
    async fn list_json(&self, namespace: &str) -> Result<Vec<u8>> {
        let functions = self.list(namespace).await?;
        serde_json::to_vec(&functions)
            .map_err(|error| ProviderError::backend("list", format!("encoding the list: {error}")))
    }

    /// One function's status (`GET /system/function/{name}`); `NotFound` when absent.
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus>;

    /// Creates a function (`POST /system/functions`); `AlreadyExists` when the name is taken.
    /// `spec.namespace` is filled and `spec.service` validated by the server.
    async fn deploy(&self, spec: FunctionDeployment) -> Result<()>;

    /// Replaces a function's spec (`PUT /system/functions`); `NotFound` when absent (faas-cli
    /// relies on that 404 to fall back to `POST`).
    async fn update(&self, spec: FunctionDeployment) -> Result<()>;

    /// Removes a function and everything it owns (`DELETE /system/functions`).
    async fn delete(&self, function: &FunctionRef) -> Result<()>;

    /// Sets the desired replica count (`POST /system/scale-function/{name}`).
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()>;

    /// True when at least one replica is ready to serve. The default reads
    /// `availableReplicas` from [`Provider::get`].
    async fn ready(&self, function: &FunctionRef) -> Result<bool> {
        Ok(self.get(function).await?.available_replicas > 0)
    }

    /// Invokes a function (`/function/{name}[.{ns}]/{path}`). The request's URI is the
    /// upstream path and raw query (e.g. `/a/b?x=1`); `X-Forwarded-*` headers are already set.
    /// Unknown or unready functions answer `NotFound`/`NotReady` (the server turns both into 503
    /// `No endpoints available`); so does a function in a namespace the provider does not know.
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>>;

    /// Secret names in `namespace`, values left empty (`GET /system/secrets`).
    async fn list_secrets(&self, _namespace: &str) -> Result<Vec<Secret>> {
        Err(self.unsupported("secrets"))
    }

    /// Creates a secret (`POST /system/secrets`); `AlreadyExists` when the name is taken.
    async fn create_secret(&self, _secret: Secret) -> Result<()> {
        Err(self.unsupported("secrets"))
    }

    /// Replaces a secret's value (`PUT /system/secrets`); `NotFound` when absent.
    async fn update_secret(&self, _secret: Secret) -> Result<()> {
        Err(self.unsupported("secrets"))
    }

    /// Deletes a secret (`DELETE /system/secrets`); `NotFound` when absent.
    async fn delete_secret(&self, _name: &str, _namespace: &str) -> Result<()> {
        Err(self.unsupported("secrets"))
    }

    /// A function's log lines (`GET /system/logs`).
    async fn logs(&self, _request: LogRequest) -> Result<LogStream> {
        Err(self.unsupported("logs"))
    }

    /// Namespaces that may hold functions (`GET /system/namespaces`). Default: the default one.
    async fn list_namespaces(&self) -> Result<Vec<String>> {
        Ok(vec![self.capabilities().default_namespace])
    }

    /// One namespace (`GET /system/namespace/{name}`).
    async fn get_namespace(&self, _name: &str) -> Result<FunctionNamespace> {
        Err(self.unsupported("namespaces"))
    }

    /// Creates a namespace (`POST /system/namespace/{name}`).
    async fn create_namespace(&self, _namespace: FunctionNamespace) -> Result<()> {
        Err(self.unsupported("namespaces"))
    }

    /// Updates a namespace's labels and annotations (`PUT /system/namespace/{name}`).
    async fn update_namespace(&self, _namespace: FunctionNamespace) -> Result<()> {
        Err(self.unsupported("namespaces"))
    }

    /// Deletes an empty namespace (`DELETE /system/namespace/{name}`).
    async fn delete_namespace(&self, _name: &str) -> Result<()> {
        Err(self.unsupported("namespaces"))
    }

    /// The `Unsupported` error for `operation`, named after this provider's type.
    #[doc(hidden)]
    fn unsupported(&self, operation: &'static str) -> ProviderError {
        ProviderError::unsupported(
            operation,
            std::any::type_name::<Self>()
                .rsplit("::")
                .next()
                .unwrap_or("provider"),
        )
    }
}

/// A provider behind a trait object.
pub type DynProvider = dyn Provider;

macro_rules! delegate_provider {
    ($ty:ty) => {
        #[async_trait]
        impl<P: Provider + ?Sized> Provider for $ty {
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            fn capabilities_of(&self, function: &FunctionRef) -> Capabilities {
                (**self).capabilities_of(function)
            }
            async fn info(&self) -> Result<ProviderInfo> {
                (**self).info().await
            }
            async fn health(&self) -> Result<()> {
                (**self).health().await
            }
            async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
                (**self).list(namespace).await
            }
            async fn list_json(&self, namespace: &str) -> Result<Vec<u8>> {
                (**self).list_json(namespace).await
            }
            async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
                (**self).get(function).await
            }
            async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
                (**self).deploy(spec).await
            }
            async fn update(&self, spec: FunctionDeployment) -> Result<()> {
                (**self).update(spec).await
            }
            async fn delete(&self, function: &FunctionRef) -> Result<()> {
                (**self).delete(function).await
            }
            async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
                (**self).scale(function, replicas).await
            }
            async fn ready(&self, function: &FunctionRef) -> Result<bool> {
                (**self).ready(function).await
            }
            async fn invoke(
                &self,
                function: &FunctionRef,
                request: http::Request<Body>,
            ) -> Result<http::Response<Body>> {
                (**self).invoke(function, request).await
            }
            async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
                (**self).list_secrets(namespace).await
            }
            async fn create_secret(&self, secret: Secret) -> Result<()> {
                (**self).create_secret(secret).await
            }
            async fn update_secret(&self, secret: Secret) -> Result<()> {
                (**self).update_secret(secret).await
            }
            async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
                (**self).delete_secret(name, namespace).await
            }
            async fn logs(&self, request: LogRequest) -> Result<LogStream> {
                (**self).logs(request).await
            }
            async fn list_namespaces(&self) -> Result<Vec<String>> {
                (**self).list_namespaces().await
            }
            async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
                (**self).get_namespace(name).await
            }
            async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
                (**self).create_namespace(namespace).await
            }
            async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
                (**self).update_namespace(namespace).await
            }
            async fn delete_namespace(&self, name: &str) -> Result<()> {
                (**self).delete_namespace(name).await
            }
        }
    };
}

delegate_provider!(Arc<P>);
delegate_provider!(Box<P>);

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_provider<P: Provider>() {}

    #[test]
    fn trait_objects_are_providers() {
        assert_provider::<Arc<DynProvider>>();
        assert_provider::<Box<DynProvider>>();
    }

    #[test]
    fn qualified_names_split_at_the_last_dot() {
        assert_eq!(
            FunctionRef::parse("echo", "openfaas-fn"),
            FunctionRef::new("echo", "openfaas-fn")
        );
        assert_eq!(
            FunctionRef::parse("echo.dev", "openfaas-fn"),
            FunctionRef::new("echo", "dev")
        );
        assert_eq!(
            FunctionRef::parse("a.b.c", "x"),
            FunctionRef::new("a.b", "c")
        );
    }
}
