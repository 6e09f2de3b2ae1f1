//! Kubernetes resource quantities (`128Mi`, `1G`, `100m`, `0.5`, `1e3`) as Docker wants them.
//!
//! Grammar (Kubernetes `resource.Quantity`): an optionally signed decimal number followed by a
//! binary suffix (`Ki Mi Gi Ti Pi Ei`), a decimal suffix (`n u m` nothing `k M G T P E`) or a
//! decimal exponent (`e3`, `E-2`). Values are exact: the number is kept as an integer mantissa
//! and powers of 2 and 10, and rounded up only at the end (as Kubernetes rounds fractional
//! bytes up).

use std::fmt;

/// A quantity that does not parse or is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} quantity {value:?}: {reason}")]
pub struct QuantityError {
    /// `memory` or `cpu`.
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// What is wrong.
    pub reason: String,
}

/// A parsed non-negative quantity: `mantissa × 2^pow2 × 10^pow10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quantity {
    mantissa: u128,
    pow2: u32,
    pow10: i32,
}

/// Longest number we accept (digits), to keep the arithmetic in `u128`.
const MAX_DIGITS: usize = 30;

impl Quantity {
    fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("empty".into());
        }
        let (number, suffix) = split_number(text);
        if number.is_empty() || number == "+" || number == "." || number == "+." {
            return Err("expected a number such as 128Mi, 0.5 or 100m".into());
        }
        if number.starts_with('-') {
            return Err("must not be negative".into());
        }
        let number = number.strip_prefix('+').unwrap_or(number);
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > MAX_DIGITS {
            return Err("too many digits".into());
        }
        let mantissa = if digits.is_empty() {
            0
        } else {
            digits.parse::<u128>().map_err(|e| e.to_string())?
        };
        let mut quantity = Quantity {
            mantissa,
            pow2: 0,
            pow10: -(frac_part.len() as i32),
        };
        match suffix {
            "" => {}
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let index = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                    .iter()
                    .position(|s| *s == suffix)
                    .unwrap_or(0) as u32;
                quantity.pow2 = 10 * (index + 1);
            }
            "n" => quantity.pow10 -= 9,
            "u" => quantity.pow10 -= 6,
            "m" => quantity.pow10 -= 3,
            "k" => quantity.pow10 += 3,
            "M" => quantity.pow10 += 6,
            "G" => quantity.pow10 += 9,
            "T" => quantity.pow10 += 12,
            "P" => quantity.pow10 += 15,
            "E" => quantity.pow10 += 18,
            exponent if exponent.starts_with(['e', 'E']) => {
                let value: i32 = exponent[1..]
                    .parse()
                    .map_err(|_| format!("bad exponent {exponent:?}"))?;
                if !(-30..=30).contains(&value) {
                    return Err(format!("exponent {value} out of range"));
                }
                quantity.pow10 += value;
            }
            other => {
                return Err(format!(
                    "unknown suffix {other:?} (use Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E or an exponent)"
                ));
            }
        }
        Ok(quantity)
    }

    /// The value times `10^scale`, rounded up to an integer; `None` on overflow of `i64`.
    fn to_integer(self, scale: i32) -> Option<i64> {
        let mut value = self.mantissa.checked_mul(1u128.checked_shl(self.pow2)?)?;
        let pow10 = self.pow10 + scale;
        if pow10 >= 0 {
            value = value.checked_mul(10u128.checked_pow(pow10 as u32)?)?;
        } else {
            let divisor = 10u128.checked_pow(pow10.unsigned_abs())?;
            value = value.div_ceil(divisor);
        }
        i64::try_from(value).ok()
    }
}

/// Splits `128Mi` into `("128", "Mi")`: the number is the longest prefix of sign, digits and
/// one dot.
fn split_number(text: &str) -> (&str, &str) {
    let mut end = 0;
    let mut seen_dot = false;
    for (i, c) in text.char_indices() {
        let ok = match c {
            '+' | '-' => i == 0,
            '.' if !seen_dot => {
                seen_dot = true;
                true
            }
            c => c.is_ascii_digit(),
        };
        if !ok {
            break;
        }
        end = i + c.len_utf8();
    }
    text.split_at(end)
}

fn error(what: &'static str, value: &str, reason: impl fmt::Display) -> QuantityError {
    QuantityError {
        what,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// A memory quantity in bytes (fractions of a byte round up, as in Kubernetes).
pub fn parse_memory(text: &str) -> Result<i64, QuantityError> {
    let quantity = Quantity::parse(text).map_err(|reason| error("memory", text, reason))?;
    quantity
        .to_integer(0)
        .ok_or_else(|| error("memory", text, "too large"))
}

/// A CPU quantity in nano-CPUs (`1` = 1_000_000_000, `100m` = 100_000_000).
pub fn parse_cpu(text: &str) -> Result<i64, QuantityError> {
    let quantity = Quantity::parse(text).map_err(|reason| error("cpu", text, reason))?;
    quantity
        .to_integer(9)
        .ok_or_else(|| error("cpu", text, "too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_quantities() {
        let cases = [
            ("128Mi", 128 << 20),
            ("1Gi", 1 << 30),
            ("1G", 1_000_000_000),
            ("1.5Gi", 3 << 29),
            ("512", 512),
            ("64k", 64_000),
            ("1e3", 1000),
            ("1E6", 1_000_000),
            ("0.5Ki", 512),
            ("+2Mi", 2 << 20),
            ("100m", 1), // 0.1 byte rounds up
            ("0", 0),
            ("2.", 2),
            (".5k", 500),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_memory(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn cpu_quantities() {
        let cases = [
            ("100m", 100_000_000),
            ("0.5", 500_000_000),
            ("1", 1_000_000_000),
            ("2.25", 2_250_000_000),
            ("250000u", 250_000_000),
            ("1500000000n", 1_500_000_000),
            ("1e-1", 100_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse_cpu(text), Ok(nanos), "{text}");
        }
    }

    #[test]
    fn bad_quantities_say_why() {
        for text in [
            "", "abc", "12Q", "-1", "1.2.3", "Mi", "1 Mi", "1mi", "1e", "1e99", "1Ei0",
        ] {
            let err = parse_memory(text).expect_err(text);
            assert!(err.to_string().contains("invalid memory quantity"), "{err}");
        }
        assert!(parse_memory("9999999Ei").is_err());
        assert!(parse_cpu("-100m").unwrap_err().reason.contains("negative"));
    }
}
