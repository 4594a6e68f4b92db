//! Money: exact integer cents. Never `f64` in storage or in sums.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub};

/// An amount of money in integer cents (of the company's currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// The amount as a floating-point number of currency units, for models and charts only.
    pub fn to_units_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Rounds a model expectation (in currency units) to the nearest cent.
    pub fn from_units_f64_rounded(units: f64) -> Option<Self> {
        let cents = (units * 100.0).round();
        if cents.is_finite() && cents.abs() < 9.0e15 {
            Some(Money(cents as i64))
        } else {
            None
        }
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Money)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        self.0 += other.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0 - other.0)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

/// Plain, locale-neutral rendering (`-1234.56`), for logs and machine output.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_plain_with_two_decimals() {
        assert_eq!(Money::from_cents(123456).to_string(), "1234.56");
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
        assert_eq!(Money::from_cents(0).to_string(), "0.00");
    }

    #[test]
    fn rounding_from_units_is_to_the_nearest_cent() {
        assert_eq!(
            Money::from_units_f64_rounded(1.005 + 1e-9),
            Some(Money::from_cents(101))
        );
        assert_eq!(Money::from_units_f64_rounded(f64::NAN), None);
    }
}
