//! A function's scaling policy, read from the OpenFaaS Pro autoscaler's labels with their
//! documented defaults, and the pure decision "how many replicas does this load need".

use std::time::Duration;

use faas_provider::types::StringMap;

/// Lower bound of replicas under load (default 1).
pub const LABEL_MIN: &str = "com.openfaas.scale.min";
/// Upper bound of replicas under load (default 20); equal to the minimum disables autoscaling.
pub const LABEL_MAX: &str = "com.openfaas.scale.max";
/// Target load per replica (default 50).
pub const LABEL_TARGET: &str = "com.openfaas.scale.target";
/// `rps` (requests per second per replica, the default) or `capacity` (in-flight requests per
/// replica).
pub const LABEL_TYPE: &str = "com.openfaas.scale.type";
/// Proportion of the target aimed at (default 0.90).
pub const LABEL_PROPORTION: &str = "com.openfaas.scale.target-proportion";
/// `true` lets the idler scale the function to zero.
pub const LABEL_ZERO: &str = "com.openfaas.scale.zero";
/// Idle time before the idler scales to zero (Go duration, default 15m).
pub const LABEL_ZERO_DURATION: &str = "com.openfaas.scale.zero-duration";

const DEFAULT_MIN: u64 = 1;
const DEFAULT_MAX: u64 = 20;
const DEFAULT_TARGET: f64 = 50.0;
const DEFAULT_PROPORTION: f64 = 0.90;
const DEFAULT_ZERO_DURATION: Duration = Duration::from_secs(15 * 60);

/// What a function's load is measured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKind {
    /// Requests started per second, over all replicas.
    Rps,
    /// Requests in flight, over all replicas.
    Capacity,
}

/// A function's scaling policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Fewest replicas the autoscaler keeps (never below 1: zero is the idler's business).
    pub min: u64,
    /// Most replicas the autoscaler asks for.
    pub max: u64,
    /// Target load per replica.
    pub target: f64,
    /// What the load is measured in.
    pub kind: LoadKind,
    /// Proportion of the target aimed at.
    pub proportion: f64,
    /// Whether the idler may scale the function to zero.
    pub zero: bool,
    /// Idle time before the idler scales to zero.
    pub zero_duration: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min: DEFAULT_MIN,
            max: DEFAULT_MAX,
            target: DEFAULT_TARGET,
            kind: LoadKind::Rps,
            proportion: DEFAULT_PROPORTION,
            zero: false,
            zero_duration: DEFAULT_ZERO_DURATION,
        }
    }
}

impl Policy {
    /// The policy the labels describe; an error names the label and what it accepts. Labels
    /// absent take their OpenFaaS defaults.
    pub fn from_labels(labels: Option<&StringMap>) -> Result<Self, String> {
        let mut policy = Self::default();
        let get = |key: &str| labels?.get(key).map(|value| value.trim());
        if let Some(value) = get(LABEL_MIN) {
            policy.min = parse_count(LABEL_MIN, value)?;
        }
        if let Some(value) = get(LABEL_MAX) {
            policy.max = parse_count(LABEL_MAX, value)?;
        }
        if policy.min > policy.max {
            return Err(format!(
                "{LABEL_MIN} ({}) is above {LABEL_MAX} ({})",
                policy.min, policy.max
            ));
        }
        if let Some(value) = get(LABEL_TARGET) {
            policy.target = parse_positive(LABEL_TARGET, value)?;
        }
        if let Some(value) = get(LABEL_PROPORTION) {
            policy.proportion = parse_positive(LABEL_PROPORTION, value)?;
        }
        if let Some(value) = get(LABEL_TYPE) {
            policy.kind = match value {
                "rps" => LoadKind::Rps,
                "capacity" => LoadKind::Capacity,
                other => {
                    return Err(format!(
                        "{LABEL_TYPE} is {other:?}: this autoscaler supports \"rps\" and \"capacity\""
                    ));
                }
            };
        }
        if let Some(value) = get(LABEL_ZERO) {
            policy.zero = faas_provider::config::parse_bool(value)
                .ok_or_else(|| format!("{LABEL_ZERO} is {value:?}: expected true or false"))?;
        }
        if let Some(value) = get(LABEL_ZERO_DURATION) {
            policy.zero_duration = faas_provider::config::parse_duration(value)
                .map_err(|error| format!("{LABEL_ZERO_DURATION}: {error}"))?;
            if policy.zero_duration.is_zero() {
                return Err(format!("{LABEL_ZERO_DURATION} must be above zero"));
            }
        }
        Ok(policy)
    }

    /// True when the autoscaler leaves the function alone (`min == max`).
    pub fn fixed(&self) -> bool {
        self.min >= self.max
    }

    /// The lowest replica count the autoscaler keeps.
    pub fn floor(&self) -> u64 {
        self.min.max(1)
    }

    /// Replicas needed for `load` (in this policy's [`LoadKind`]):
    /// `ceil(load / (target × proportion))`, clamped to `[max(min, 1), max]` and to `cap` (the
    /// owning backend's `max_replicas`).
    pub fn desired(&self, load: f64, cap: Option<u64>) -> u64 {
        let per_replica = self.target * self.proportion;
        let wanted = if load <= 0.0 || !load.is_finite() {
            0
        } else {
            let ratio = (load / per_replica).ceil();
            // Saturates: a huge load asks for `max` anyway.
            if ratio >= u64::MAX as f64 {
                u64::MAX
            } else {
                ratio as u64
            }
        };
        let ceiling = cap.map_or(self.max, |cap| self.max.min(cap)).max(1);
        wanted.clamp(self.floor().min(ceiling), ceiling)
    }
}

fn parse_count(label: &str, value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .map_err(|_| format!("{label} is {value:?}: expected a whole number of replicas"))
}

fn parse_positive(label: &str, value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(number) if number.is_finite() && number > 0.0 => Ok(number),
        _ => Err(format!(
            "{label} is {value:?}: expected a number above zero"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_openfaas_defaults() {
        let policy = Policy::from_labels(None).unwrap();
        assert_eq!(policy, Policy::default());
        assert_eq!((policy.min, policy.max), (1, 20));
        assert_eq!(policy.target, 50.0);
        assert_eq!(policy.proportion, 0.9);
        assert_eq!(policy.kind, LoadKind::Rps);
        assert!(!policy.zero);
        assert_eq!(policy.zero_duration, Duration::from_secs(900));
    }

    #[test]
    fn labels_are_read() {
        let policy = Policy::from_labels(Some(&labels(&[
            (LABEL_MIN, "2"),
            (LABEL_MAX, "5"),
            (LABEL_TARGET, "10"),
            (LABEL_TYPE, "capacity"),
            (LABEL_PROPORTION, "0.5"),
            (LABEL_ZERO, "true"),
            (LABEL_ZERO_DURATION, "2s"),
        ])))
        .unwrap();
        assert_eq!((policy.min, policy.max), (2, 5));
        assert_eq!(policy.target, 10.0);
        assert_eq!(policy.kind, LoadKind::Capacity);
        assert_eq!(policy.proportion, 0.5);
        assert!(policy.zero);
        assert_eq!(policy.zero_duration, Duration::from_secs(2));
    }

    #[test]
    fn bad_labels_name_the_label() {
        for (pairs, needle) in [
            (vec![(LABEL_MIN, "one")], LABEL_MIN),
            (vec![(LABEL_MIN, "3"), (LABEL_MAX, "2")], "above"),
            (vec![(LABEL_TARGET, "0")], LABEL_TARGET),
            (vec![(LABEL_TARGET, "NaN")], LABEL_TARGET),
            (vec![(LABEL_TYPE, "cpu")], "capacity"),
            (vec![(LABEL_PROPORTION, "-1")], LABEL_PROPORTION),
            (vec![(LABEL_ZERO, "maybe")], LABEL_ZERO),
            (vec![(LABEL_ZERO_DURATION, "soon")], LABEL_ZERO_DURATION),
            (vec![(LABEL_ZERO_DURATION, "0s")], LABEL_ZERO_DURATION),
        ] {
            let error = Policy::from_labels(Some(&labels(&pairs))).unwrap_err();
            assert!(error.contains(needle), "{pairs:?}: {error}");
        }
    }

    #[test]
    fn desired_is_load_over_target_times_proportion() {
        let policy = Policy {
            target: 10.0,
            proportion: 0.5,
            ..Policy::default()
        };
        // 5 per replica: 0 → floor 1, 5 → 1, 5.1 → 2, 50 → 10.
        assert_eq!(policy.desired(0.0, None), 1);
        assert_eq!(policy.desired(5.0, None), 1);
        assert_eq!(policy.desired(5.1, None), 2);
        assert_eq!(policy.desired(50.0, None), 10);
        // Clamped to max, then to the backend's cap.
        assert_eq!(policy.desired(1e9, None), 20);
        assert_eq!(policy.desired(f64::INFINITY, None), 1);
        assert_eq!(policy.desired(1e9, Some(3)), 3);
        // A floor above the backend's cap gives the cap.
        let high = Policy {
            min: 5,
            max: 8,
            ..Policy::default()
        };
        assert_eq!(high.desired(0.0, Some(2)), 2);
        assert_eq!(high.desired(0.0, None), 5);
    }

    #[test]
    fn min_zero_still_keeps_one_and_min_equal_max_is_fixed() {
        let policy = Policy {
            min: 0,
            ..Policy::default()
        };
        assert_eq!(policy.desired(0.0, None), 1);
        assert!(!policy.fixed());
        let fixed =
            Policy::from_labels(Some(&labels(&[(LABEL_MIN, "3"), (LABEL_MAX, "3")]))).unwrap();
        assert!(fixed.fixed());
    }
}
