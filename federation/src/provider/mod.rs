//! [`FederatedProvider`]: a [`faas_provider::Provider`] delegating to named backends.
//!
//! Modules, each using only those listed before it (and the crate's other modules):
//! `federated` (the type, how it is built, and `call`: every call to a backend), `lookup` (owner
//! lookup and the routing table's rebuilds), `health` (bring-up and the health monitor),
//! `merge` (merged answers and fan-out mutations), `joined` (the list as JSON joined from the
//! backends' JSON lists), `invoke` (the invocation path: where a gate
//! before invocations belongs), `trait_impl` (`impl Provider`, every route mapped onto those).

mod federated;
mod health;
mod invoke;
mod joined;
mod lookup;
mod merge;
mod trait_impl;

pub use federated::{
    DEFAULT_MIN_REBUILD_INTERVAL, FederatedProvider, ORCHESTRATION, PROVIDER_NAME,
};
pub use lookup::RebuildReport;
pub use merge::ListReport;
