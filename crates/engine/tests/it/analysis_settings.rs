//! Settings as key/value pairs: round trip, overrides per segment and industry, and the
//! errors that tell the user what to fix.

use winback_engine::analysis::{
    RepeatModel, Scope, Settings, SettingsError, ThresholdOverrides, Thresholds,
};

#[test]
fn defaults_are_valid_and_round_trip() {
    let s = Settings::default();
    s.validate().expect("the defaults are valid");
    let pairs = s.to_pairs();
    assert!(
        pairs
            .iter()
            .any(|(k, v)| k == "inactive_after_days" && v == "180")
    );
    for key in Thresholds::KEYS {
        assert!(pairs.iter().any(|(k, _)| k == key), "{key} is written");
    }
    assert_eq!(Settings::from_pairs(pairs).expect("valid"), s);
}

#[test]
fn overrides_round_trip_and_apply_segment_after_industry() {
    let mut s = Settings {
        model: RepeatModel::ParetoNbd,
        ..Settings::default()
    };
    s.thresholds.inactive_after_days = 150;
    s.overrides.push((
        Scope::Industry("Gastronomie".to_string()),
        ThresholdOverrides {
            inactive_after_days: Some(60),
            lost_after_days: Some(400),
            ..ThresholdOverrides::default()
        },
    ));
    s.overrides.push((
        Scope::Segment("Mode [Premium].x".to_string()),
        ThresholdOverrides {
            inactive_after_days: Some(90),
            ..ThresholdOverrides::default()
        },
    ));
    let back = Settings::from_pairs(s.to_pairs()).expect("valid");
    assert_eq!(back, s);
    let t = s.thresholds_for(Some("Mode [Premium].x"), Some("Gastronomie"));
    assert_eq!((t.inactive_after_days, t.lost_after_days), (90, 400));
    let t = s.thresholds_for(None, Some("Gastronomie"));
    assert_eq!(t.inactive_after_days, 60);
    let t = s.thresholds_for(Some("other"), None);
    assert_eq!(t.inactive_after_days, 150);
}

#[test]
fn bad_pairs_say_what_is_wrong() {
    let err = Settings::from_pairs([("inactive_after_dayz", "10")]).unwrap_err();
    assert_eq!(
        err,
        SettingsError::UnknownKey("inactive_after_dayz".to_string())
    );
    let err = Settings::from_pairs([("segment[Mode].nope", "10")]).unwrap_err();
    assert!(matches!(err, SettingsError::UnknownKey(_)));
    let err = Settings::from_pairs([("p_alive_lost", "1.5")]).unwrap_err();
    assert!(matches!(err, SettingsError::Invalid { ref key, .. } if key == "p_alive_lost"));
    assert!(err.to_string().contains("from 0 to 1"), "{err}");
    let err = Settings::from_pairs([("late_tolerance_days", "drei")]).unwrap_err();
    assert!(matches!(err, SettingsError::Invalid { .. }));
    let err = Settings::from_pairs([("model", "arima")]).unwrap_err();
    assert!(matches!(err, SettingsError::Invalid { ref key, .. } if key == "model"));
    let err = Settings::from_pairs([("lost_after_days", "100")]).unwrap_err();
    assert!(matches!(err, SettingsError::Inconsistent { .. }), "{err}");
    let err = Settings::from_pairs([("industry[Bau].inactive_rhythm_factor", "1.0")]).unwrap_err();
    match err {
        SettingsError::Inconsistent { first, .. } => {
            assert_eq!(first, "industry[Bau].inactive_rhythm_factor");
        }
        other => panic!("unexpected {other}"),
    }
}
