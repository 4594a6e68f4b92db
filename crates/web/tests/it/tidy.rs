//! Catalogue tidiness: both languages hold the same keys with the same placeholders, and
//! every key a template or handler names exists.

use std::collections::BTreeSet;

use winback_web::i18n::{DE_TOML, EN_TOML, parse_catalogue};

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        // `{_name}`: a value a translation may leave out (an English article, say).
        .filter(|name| !name.starts_with('_'))
        .collect()
}

#[test]
fn both_catalogues_have_the_same_keys_and_placeholders() {
    let de = parse_catalogue(DE_TOML).expect("de.toml parses");
    let en = parse_catalogue(EN_TOML).expect("en.toml parses");
    let missing_en: Vec<_> = de.keys().filter(|k| !en.contains_key(*k)).collect();
    let missing_de: Vec<_> = en.keys().filter(|k| !de.contains_key(*k)).collect();
    assert!(
        missing_en.is_empty(),
        "keys missing in en.toml: {missing_en:?}"
    );
    assert!(
        missing_de.is_empty(),
        "keys missing in de.toml: {missing_de:?}"
    );
    for (key, text) in &de {
        assert_eq!(
            placeholders(text),
            placeholders(&en[key]),
            "placeholders of {key}"
        );
    }
}

/// Literal keys in `t("...")` / `f("...", ...)` calls and `"section.key"` strings of the
/// templates and the page code.
fn used_keys() -> BTreeSet<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut texts = Vec::new();
    for dir in ["templates", "src"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            texts.push(std::fs::read_to_string(path).unwrap());
        }
    }
    let mut keys = BTreeSet::new();
    for text in texts {
        for marker in [
            ".t(\"",
            ".f(\"",
            "tr.t(\"",
            "=> \"",
            "(\"import.",
            "(\"customer.",
        ] {
            for piece in text.split(marker).skip(1) {
                let key = piece.split('"').next().unwrap_or("");
                let well_formed = key.contains('.')
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_' || c == '-')
                    && !key.ends_with('.');
                let section = key.split('.').next().unwrap_or("");
                let catalogue_section = [
                    "nav",
                    "role",
                    "login",
                    "overview",
                    "empty",
                    "customers",
                    "customer",
                    "timeline",
                    "import",
                    "kind",
                    "settings",
                    "error",
                    "analysis",
                    "lost",
                    "alerts",
                    "evidence",
                    "status",
                    "loss_kind",
                    "cause",
                    "signal",
                    "alert_state",
                    "quality",
                ]
                .contains(&section);
                if well_formed && catalogue_section {
                    keys.insert(key.to_owned());
                }
            }
        }
    }
    keys
}

#[test]
fn every_key_the_templates_and_pages_use_exists_in_both_languages() {
    let de = parse_catalogue(DE_TOML).unwrap();
    let en = parse_catalogue(EN_TOML).unwrap();
    let mut keys = used_keys();
    assert!(
        keys.len() > 100,
        "the scan finds the keys ({} found)",
        keys.len()
    );
    // Keys built at run time.
    for page in ["lost", "causes", "scoring", "campaigns", "results"] {
        keys.insert(format!("nav.{page}"));
        keys.insert(format!("empty.{page}"));
    }
    keys.extend(winback_web::evidence::label_keys());
    for kind in winback_engine::Kind::ALL {
        keys.insert(format!("kind.{}", kind.as_str()));
    }
    // Stored codes the pages show through `Tr::label`.
    use winback_engine::{Channel, ConsentStatus, Party};
    for party in [Party::Business, Party::Consumer] {
        keys.insert(format!("code.party.{}", party.as_str()));
    }
    for channel in Channel::ALL {
        keys.insert(format!("code.consent_channel.{}", channel.as_str()));
    }
    for status in [
        ConsentStatus::Granted,
        ConsentStatus::Revoked,
        ConsentStatus::Objection,
    ] {
        keys.insert(format!("code.consent_status.{}", status.as_str()));
    }
    for model in winback_engine::models::ModelKind::ALL {
        keys.insert(format!("code.model.{}", model.as_str()));
    }
    let missing: Vec<_> = keys
        .iter()
        .filter(|k| !de.contains_key(*k) || !en.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "keys used but missing from a catalogue: {missing:?}"
    );
}
