//! The thresholds of the analysis, their defaults and why, per-segment and per-industry
//! overrides, and their form as key/value pairs for the store.

use std::collections::HashMap;
use std::fmt;

/// The repeat-buying model behind P(alive) and the expected transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepeatModel {
    /// BG/NBD (Fader, Hardie & Lee 2005): fast closed forms, the default.
    BgNbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): drop-out at any time rather than
    /// only after a purchase; slower to score.
    ParetoNbd,
}

impl RepeatModel {
    pub fn as_str(self) -> &'static str {
        match self {
            RepeatModel::BgNbd => "bgnbd",
            RepeatModel::ParetoNbd => "pareto-nbd",
        }
    }

    pub fn parse(s: &str) -> Option<RepeatModel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bgnbd" | "bg-nbd" | "bg/nbd" => Some(RepeatModel::BgNbd),
            "pareto-nbd" | "paretonbd" | "pareto/nbd" => Some(RepeatModel::ParetoNbd),
            _ => None,
        }
    }
}

/// A value that can be written to and read from a settings pair.
trait PairValue: Sized + Copy {
    fn write(self) -> String;
    fn read(s: &str) -> Option<Self>;
    fn as_f64(self) -> f64;
}

impl PairValue for f64 {
    fn write(self) -> String {
        format!("{self}")
    }
    fn read(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
    fn as_f64(self) -> f64 {
        self
    }
}

impl PairValue for u32 {
    fn write(self) -> String {
        format!("{self}")
    }
    fn read(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

/// The rule a single value must satisfy.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A whole number of at least 1.
    AtLeastOne,
    /// A number greater than 0.
    Positive,
    /// A number in [0, 1].
    Probability,
    /// A number greater than 0 and less than 1.
    Fraction,
}

impl Rule {
    fn holds(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Rule::AtLeastOne => v >= 1.0,
                Rule::Positive => v > 0.0,
                Rule::Probability => (0.0..=1.0).contains(&v),
                Rule::Fraction => v > 0.0 && v < 1.0,
            }
    }

    fn describe(self) -> &'static str {
        match self {
            Rule::AtLeastOne => "a whole number of at least 1",
            Rule::Positive => "a number greater than 0",
            Rule::Probability => "a number from 0 to 1",
            Rule::Fraction => "a number between 0 and 1 (exclusive)",
        }
    }
}

macro_rules! thresholds {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty = $default:expr, $rule:ident; )*) => {
        /// The thresholds that can differ per segment or industry. Every default is chosen
        /// for a German consumer shop and was checked on the demo company (seeds 1 and 2,
        /// shop and wholesale); the documentation of each field says why.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Thresholds {
            $( $(#[$doc])* pub $name: $ty, )*
        }

        impl Default for Thresholds {
            fn default() -> Self {
                Thresholds { $( $name: $default, )* }
            }
        }

        /// Values that replace some thresholds for one segment or industry.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct ThresholdOverrides {
            $( pub $name: Option<$ty>, )*
        }

        impl Thresholds {
            /// The names of the thresholds, as used in the settings pairs.
            pub const KEYS: &'static [&'static str] = &[ $( stringify!($name), )* ];

            fn pairs(&self, prefix: &str, out: &mut Vec<(String, String)>) {
                $( out.push((format!("{prefix}{}", stringify!($name)), self.$name.write())); )*
            }

            fn check_each(&self, scope: &str) -> Result<(), SettingsError> {
                $(
                    if !Rule::$rule.holds(self.$name.as_f64()) {
                        return Err(SettingsError::Invalid {
                            key: format!("{scope}{}", stringify!($name)),
                            value: self.$name.write(),
                            expected: Rule::$rule.describe(),
                        });
                    }
                )*
                Ok(())
            }

            fn apply(&mut self, o: &ThresholdOverrides) {
                $( if let Some(v) = o.$name { self.$name = v; } )*
            }

            fn set(&mut self, key: &str, value: &str) -> Result<bool, ()> {
                match key {
                    $( stringify!($name) => {
                        self.$name = <$ty as PairValue>::read(value).ok_or(())?;
                        Ok(true)
                    } )*
                    _ => Ok(false),
                }
            }
        }

        impl ThresholdOverrides {
            fn pairs(&self, prefix: &str, out: &mut Vec<(String, String)>) {
                $( if let Some(v) = self.$name {
                    out.push((format!("{prefix}{}", stringify!($name)), v.write()));
                } )*
            }

            fn set(&mut self, key: &str, value: &str) -> Result<bool, ()> {
                match key {
                    $( stringify!($name) => {
                        self.$name = Some(<$ty as PairValue>::read(value).ok_or(())?);
                        Ok(true)
                    } )*
                    _ => Ok(false),
                }
            }
        }
    };
}

thresholds! {
    /// A customer without a buying rhythm of their own (fewer than
    /// `min_purchases_for_rhythm` purchases) counts as inactive after this many days without
    /// a purchase; customers with a rhythm count as inactive after this many days as well
    /// once the silence is also past `at_risk_rhythm_factor` of their own gaps. 180 days is
    /// the practice the brief quotes: "a fashion mail-order shop counts a customer as
    /// inactive after more than six months".
    inactive_after_days: u32 = 180, AtLeastOne;
    /// Without a rhythm of their own, an inactive customer counts as lost (rather than
    /// sleeping) after this many days; with a rhythm it is the silence after which even a
    /// customer who came back from long pauses before counts as lost. A year: a customer
    /// who skipped every season of a year has left.
    lost_after_days: u32 = 730, AtLeastOne;
    /// Purchases (distinct days) needed before the customer's own median gap between
    /// purchases is trusted as their rhythm. Three purchases give two gaps, the least that
    /// has a median that is not a single accident.
    min_purchases_for_rhythm: u32 = 3, AtLeastOne;
    /// Silence longer than this many usual gaps puts a customer at risk. Twice the median
    /// gap: one missed purchase is normal, two in a row rarely are.
    at_risk_rhythm_factor: f64 = 1.5, Positive;
    /// Silence longer than this many usual gaps makes a customer inactive (sleeping or
    /// lost). On the demo the lost are silent for at least 2.5 usual gaps and sleepers for
    /// three to six; three gaps separates them from the active best.
    inactive_rhythm_factor: f64 = 3.0, Positive;
    /// Silence longer than this many usual gaps (and P(alive) below `p_alive_lost`) makes an
    /// inactive customer lost rather than sleeping, unless they came back from a pause this
    /// long before. Sleepers rarely pause more than six of their gaps.
    lost_rhythm_factor: f64 = 5.0, Positive;
    /// Nobody is at risk or inactive after fewer days of silence than this, however fast
    /// their rhythm: a daily buyer who skips two weeks is on holiday.
    min_silence_days: u32 = 21, AtLeastOne;
    /// P(alive) below this puts an otherwise unremarkable customer at risk.
    p_alive_at_risk: f64 = 0.3, Probability;
    /// P(alive) below this is required (besides the silence) to call a customer lost on
    /// their rhythm alone; above it they count as sleeping.
    p_alive_lost: f64 = 0.7, Probability;
    /// A customer who once came back after a pause at least this share of the current
    /// silence is sleeping, not lost: they have done it before. 0.6 keeps the earlier pause
    /// comparable to the current one.
    sleeper_pause_ratio: f64 = 0.6, Fraction;
    /// A complaint not resolved to the customer's satisfaction counts when it was opened at
    /// most this many days before the last purchase (for a loss) or before the analysis
    /// date (for an alert). Two months: the usual memory of a bad experience.
    complaint_window_days: u32 = 60, AtLeastOne;
    /// A delivery counts as late when it arrives more than this many days after the
    /// promised date. Three days absorbs the ordinary slack of parcel services.
    late_tolerance_days: u32 = 3, AtLeastOne;
    /// This many late deliveries among the last `late_lookback_orders` orders are a signal.
    /// Two: one late parcel is bad luck, two are a pattern the customer notices.
    repeated_late_count: u32 = 2, AtLeastOne;
    /// How many of the last orders are checked for late deliveries and cancellations.
    late_lookback_orders: u32 = 5, AtLeastOne;
    /// A cancelled order among this many last orders is payment trouble (two or more, with
    /// nothing bought after them, point to insolvency). Three: older cancellations are
    /// ordinary returns of judgement, not trouble.
    payment_trouble_orders: u32 = 3, AtLeastOne;
    /// A first answer to a complaint slower than this many hours is slow support. Two days
    /// is what customers in surveys accept for an e-mail answer.
    slow_response_hours: u32 = 48, AtLeastOne;
    /// A contract ending within this many days without an agreed renewal raises an alert.
    /// Ninety days: the common notice period of German frame contracts.
    contract_end_warning_days: u32 = 90, AtLeastOne;
    /// The purchase frequency has fallen when the mean of the last three gaps is longer than
    /// the earlier median gap divided by this ratio (0.6: at most 60 % of the old rate).
    frequency_drop_ratio: f64 = 0.5, Fraction;
    /// The basket has shrunk when the mean value of the last three orders is below this
    /// share of the earlier median order value.
    basket_drop_ratio: f64 = 0.5, Fraction;
    /// A fall of P(alive) by at least this much within `p_alive_drop_days` raises an alert.
    p_alive_drop: f64 = 0.3, Fraction;
    /// The look-back for `p_alive_drop`: a quarter.
    p_alive_drop_days: u32 = 90, AtLeastOne;
    /// A favourite article (bought at least `favourite_min_purchases` times) delisted at
    /// most this many days after the customer's last purchase (or up to a usual gap before
    /// it) is a likely cause of the loss.
    delisting_window_days: u32 = 60, AtLeastOne;
    /// How often an article must have been bought to count as a favourite.
    favourite_min_purchases: u32 = 3, AtLeastOne;
    /// A rise of the unit price of a favourite by at least this many percent within the
    /// customer's last purchases is a likely cause: the brief's "price changes", with the
    /// 10 % that customers notice.
    price_increase_pct: f64 = 10.0, Positive;
    /// A customer whose orders carry a discount or voucher at least this often is a bargain
    /// hunter. 0.6: ordinary customers use a voucher on one order in seven.
    bargain_discount_share: f64 = 0.8, Fraction;
    /// Orders needed before calling anyone a bargain hunter.
    bargain_min_orders: u32 = 3, AtLeastOne;
}

/// What a set of overrides applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Segment(String),
    Industry(String),
}

/// Everything the analysis can be told.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The model for P(alive) and expected transactions (time unit: weeks).
    pub model: RepeatModel,
    /// Yearly discount rate for the customer lifetime value: 10 %, a usual cost of capital
    /// for a retailer.
    pub discount_rate_per_year: f64,
    /// Years of future purchases in the customer lifetime value. Five: beyond that the
    /// discounted remainder is small and the model's assumptions are stretched.
    pub clv_years: u32,
    /// Margin ratio used when a customer's orders carry no margin.
    pub default_margin_ratio: f64,
    /// Repeat buyers the Gamma-Gamma spend model is fitted on at most (an even sample of
    /// them). Ten thousand pin its three parameters to about one percent, and the fit costs
    /// time linear in the sample.
    pub spend_fit_sample: u32,
    /// Worker threads (1 = none). The engine does not ask the operating system; callers pass
    /// `std::thread::available_parallelism()`.
    pub threads: u32,
    pub thresholds: Thresholds,
    /// Overrides per segment or industry. For a customer, industry overrides apply first and
    /// segment overrides after them (a segment is the more specific choice of the user).
    pub overrides: Vec<(Scope, ThresholdOverrides)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model: RepeatModel::BgNbd,
            discount_rate_per_year: 0.10,
            clv_years: 5,
            default_margin_ratio: 0.3,
            spend_fit_sample: 10_000,
            threads: 2,
            thresholds: Thresholds::default(),
            overrides: Vec::new(),
        }
    }
}

/// Why settings pairs or values cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    #[error("unknown setting {0:?}")]
    UnknownKey(String),
    #[error("setting {key} = {value:?}: expected {expected}")]
    Invalid {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("settings {first} and {second} contradict each other: {reason}")]
    Inconsistent {
        first: String,
        second: String,
        reason: &'static str,
    },
}

impl Settings {
    /// The thresholds for a customer of this segment and industry.
    pub fn thresholds_for(&self, segment: Option<&str>, industry: Option<&str>) -> Thresholds {
        let mut t = self.thresholds.clone();
        for (scope, o) in &self.overrides {
            if matches!(scope, Scope::Industry(i) if Some(i.as_str()) == industry) {
                t.apply(o);
            }
        }
        for (scope, o) in &self.overrides {
            if matches!(scope, Scope::Segment(s) if Some(s.as_str()) == segment) {
                t.apply(o);
            }
        }
        t
    }

    /// Checks every value and the relations between them, for the defaults and for every
    /// segment and industry.
    ///
    /// # Errors
    /// The first value that is out of range or contradicts another.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let global = |key: &str, ok: bool, expected| {
            if ok {
                Ok(())
            } else {
                Err(SettingsError::Invalid {
                    key: key.to_string(),
                    value: String::new(),
                    expected,
                })
            }
        };
        global(
            "discount_rate_per_year",
            self.discount_rate_per_year.is_finite() && self.discount_rate_per_year >= 0.0,
            "a number of at least 0",
        )?;
        global(
            "clv_years",
            self.clv_years >= 1,
            Rule::AtLeastOne.describe(),
        )?;
        global(
            "default_margin_ratio",
            Rule::Probability.holds(self.default_margin_ratio),
            Rule::Probability.describe(),
        )?;
        global(
            "spend_fit_sample",
            self.spend_fit_sample >= 10,
            "a whole number of at least 10",
        )?;
        global("threads", self.threads >= 1, Rule::AtLeastOne.describe())?;
        check_thresholds(&self.thresholds, "")?;
        for (scope, o) in &self.overrides {
            let mut t = self.thresholds.clone();
            t.apply(o);
            check_thresholds(&t, &scope_prefix(scope))?;
        }
        Ok(())
    }

    /// The settings as key/value pairs, every value written out (defaults included), for the
    /// store. Overrides are written as `segment[NAME].KEY` and `industry[NAME].KEY`.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("model".to_string(), self.model.as_str().to_string()),
            (
                "discount_rate_per_year".to_string(),
                self.discount_rate_per_year.write(),
            ),
            ("clv_years".to_string(), self.clv_years.write()),
            (
                "default_margin_ratio".to_string(),
                self.default_margin_ratio.write(),
            ),
            (
                "spend_fit_sample".to_string(),
                self.spend_fit_sample.write(),
            ),
            ("threads".to_string(), self.threads.write()),
        ];
        self.thresholds.pairs("", &mut out);
        for (scope, o) in &self.overrides {
            o.pairs(&scope_prefix(scope), &mut out);
        }
        out
    }

    /// Settings from key/value pairs: missing keys keep their defaults.
    ///
    /// # Errors
    /// [`SettingsError::UnknownKey`] for a key this version does not know,
    /// [`SettingsError::Invalid`] for a value that cannot be read or is out of range, and
    /// [`SettingsError::Inconsistent`] for values that contradict each other.
    pub fn from_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Settings, SettingsError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut s = Settings::default();
        let mut overrides: Vec<(Scope, ThresholdOverrides)> = Vec::new();
        let mut index: HashMap<Scope, usize> = HashMap::new();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref().trim(), value.as_ref());
            let invalid = |expected| SettingsError::Invalid {
                key: key.to_string(),
                value: value.to_string(),
                expected,
            };
            match key {
                "model" => {
                    s.model = RepeatModel::parse(value).ok_or(invalid("bgnbd or pareto-nbd"))?;
                }
                "discount_rate_per_year" => {
                    s.discount_rate_per_year =
                        f64::read(value).ok_or(invalid("a number of at least 0"))?;
                }
                "clv_years" => {
                    s.clv_years = u32::read(value).ok_or(invalid(Rule::AtLeastOne.describe()))?;
                }
                "default_margin_ratio" => {
                    s.default_margin_ratio =
                        f64::read(value).ok_or(invalid(Rule::Probability.describe()))?;
                }
                "spend_fit_sample" => {
                    s.spend_fit_sample =
                        u32::read(value).ok_or(invalid("a whole number of at least 10"))?;
                }
                "threads" => {
                    s.threads = u32::read(value).ok_or(invalid(Rule::AtLeastOne.describe()))?;
                }
                _ => {
                    if let Some((scope, name)) = parse_scoped(key) {
                        let i = *index.entry(scope.clone()).or_insert_with(|| {
                            overrides.push((scope, ThresholdOverrides::default()));
                            overrides.len() - 1
                        });
                        match overrides[i].1.set(name, value) {
                            Ok(true) => {}
                            Ok(false) => return Err(SettingsError::UnknownKey(key.to_string())),
                            Err(()) => return Err(invalid("a number")),
                        }
                    } else {
                        match s.thresholds.set(key, value) {
                            Ok(true) => {}
                            Ok(false) => return Err(SettingsError::UnknownKey(key.to_string())),
                            Err(()) => return Err(invalid("a number")),
                        }
                    }
                }
            }
        }
        s.overrides = overrides;
        s.validate()?;
        Ok(s)
    }
}

fn scope_prefix(scope: &Scope) -> String {
    match scope {
        Scope::Segment(name) => format!("segment[{name}]."),
        Scope::Industry(name) => format!("industry[{name}]."),
    }
}

/// `segment[NAME].KEY` or `industry[NAME].KEY`.
fn parse_scoped(key: &str) -> Option<(Scope, &str)> {
    let (kind, rest) = key.split_once('[')?;
    let (name, field) = rest.rsplit_once("].")?;
    let scope = match kind {
        "segment" => Scope::Segment(name.to_string()),
        "industry" => Scope::Industry(name.to_string()),
        _ => return None,
    };
    Some((scope, field))
}

fn check_thresholds(t: &Thresholds, scope: &str) -> Result<(), SettingsError> {
    t.check_each(scope)?;
    let pair = |ok: bool, first: &str, second: &str, reason| {
        if ok {
            Ok(())
        } else {
            Err(SettingsError::Inconsistent {
                first: format!("{scope}{first}"),
                second: format!("{scope}{second}"),
                reason,
            })
        }
    };
    pair(
        t.lost_after_days >= t.inactive_after_days,
        "lost_after_days",
        "inactive_after_days",
        "a customer cannot be lost before being inactive",
    )?;
    pair(
        t.inactive_rhythm_factor >= t.at_risk_rhythm_factor,
        "inactive_rhythm_factor",
        "at_risk_rhythm_factor",
        "a customer cannot be inactive before being at risk",
    )?;
    pair(
        t.lost_rhythm_factor >= t.inactive_rhythm_factor,
        "lost_rhythm_factor",
        "inactive_rhythm_factor",
        "a customer cannot be lost before being inactive",
    )?;
    pair(
        t.p_alive_at_risk <= t.p_alive_lost,
        "p_alive_at_risk",
        "p_alive_lost",
        "the P(alive) that puts an active customer at risk must not exceed the one that allows calling an inactive one lost",
    )?;
    Ok(())
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Segment(s) => write!(f, "segment {s}"),
            Scope::Industry(i) => write!(f, "industry {i}"),
        }
    }
}
