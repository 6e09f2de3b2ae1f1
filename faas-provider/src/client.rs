//! HTTP client: a `Provider` over the OpenFaaS REST API.
