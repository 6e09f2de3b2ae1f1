//! How the answers of a mutation sent to several backends (secrets, namespaces) combine.
//!
//! Fan-outs are idempotent so that retrying repairs a partial one: a create that finds the
//! resource already on some backends completes it there, an update that finds it missing on
//! some creates it there, a delete that finds it missing somewhere is fine. The caller gets
//! 409 / 404 only when *every* backend says so, and the first real failure otherwise.

use faas_provider::ProviderError;

/// What to do after a fan-out.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Every backend succeeded (or, for deletes, succeeded or had nothing to delete).
    Done,
    /// Some succeeded; these positions answered the benign error and need the repair call.
    Repair(Vec<usize>),
    /// Every backend answered the benign error: return the one at this position.
    AllBenign(usize),
    /// A backend failed: return its error (position).
    Fail(usize),
}

/// Combines per-backend results; `benign` is the "already so" error of the operation
/// (`AlreadyExists` for creates, `NotFound` for updates and deletes).
pub(crate) fn plan<T>(
    results: &[Result<T, ProviderError>],
    benign: impl Fn(&ProviderError) -> bool,
) -> Plan {
    if let Some(position) = results
        .iter()
        .position(|r| matches!(r, Err(e) if !benign(e)))
    {
        return Plan::Fail(position);
    }
    let benign_positions: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    if results.is_empty() || benign_positions.is_empty() {
        Plan::Done
    } else if benign_positions.len() == results.len() {
        Plan::AllBenign(0)
    } else {
        Plan::Repair(benign_positions)
    }
}

/// The `AlreadyExists` test.
pub(crate) fn already_exists(error: &ProviderError) -> bool {
    matches!(error, ProviderError::AlreadyExists { .. })
}

/// The `NotFound` test.
pub(crate) fn not_found(error: &ProviderError) -> bool {
    error.is_not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exists() -> Result<(), ProviderError> {
        Err(ProviderError::AlreadyExists {
            kind: faas_provider::ResourceKind::Secret,
            name: "s".into(),
        })
    }

    fn down() -> Result<(), ProviderError> {
        Err(ProviderError::Unavailable {
            backend: "remote".into(),
            reason: "refused".into(),
        })
    }

    #[test]
    fn plans() {
        assert_eq!(plan(&[Ok(()), Ok(())], already_exists), Plan::Done);
        assert_eq!(plan::<()>(&[], already_exists), Plan::Done);
        assert_eq!(
            plan(&[exists(), exists()], already_exists),
            Plan::AllBenign(0)
        );
        assert_eq!(
            plan(&[Ok(()), exists()], already_exists),
            Plan::Repair(vec![1])
        );
        assert_eq!(plan(&[exists(), down()], already_exists), Plan::Fail(1));
        assert_eq!(
            plan(&[Ok(()), down(), exists()], already_exists),
            Plan::Fail(1)
        );
        // For deletes NotFound is benign, AlreadyExists is not.
        assert_eq!(plan(&[exists()], not_found), Plan::Fail(0));
    }
}
