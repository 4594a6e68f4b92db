//! The demo company's product range: categories, prices, price rises and delistings.
//!
//! The catalogue is derived from the seed alone, so every customer generated from the same
//! seed sees the same products, the same price rises and the same delisting dates.

use crate::rng::Rng;

/// A product category with the item nouns and styles its product names are built from.
struct CategorySpec {
    name: &'static str,
    items: &'static [&'static str],
    styles: &'static [&'static str],
    price_lo: i64,
    price_hi: i64,
    margin_lo: f64,
    margin_hi: f64,
    /// Whether customers buy the same article again and again (socks, detergent, coffee).
    /// Planted "favourite product" stories use only these, because nobody buys the same
    /// blouse five times.
    repeat: bool,
}

const FASHION_STYLES: &[&str] = &[
    "Classic", "Comfort", "Premium", "Basic", "Eco", "Urban", "Nordic", "Vintage",
];
const CONSUMABLE_STYLES: &[&str] = &["Lavendel", "Zitrus", "Sensitiv", "Vorratspack", "Original"];
const TRADE_STYLES: &[&str] = &["Profi", "Premium", "Eco", "Standard", "XL"];

static SHOP_CATEGORIES: &[CategorySpec] = &[
    CategorySpec {
        name: "Damenmode",
        items: &[
            "Bluse",
            "Strickpullover",
            "Jeans",
            "Sommerkleid",
            "Cardigan",
            "Blazer",
            "T-Shirt",
            "Rock",
        ],
        styles: FASHION_STYLES,
        price_lo: 1995,
        price_hi: 12900,
        margin_lo: 0.40,
        margin_hi: 0.55,
        repeat: false,
    },
    CategorySpec {
        name: "Herrenmode",
        items: &[
            "Hemd",
            "Chino",
            "Poloshirt",
            "Sakko",
            "Strickjacke",
            "Jeans",
            "T-Shirt",
        ],
        styles: FASHION_STYLES,
        price_lo: 1995,
        price_hi: 14900,
        margin_lo: 0.40,
        margin_hi: 0.55,
        repeat: false,
    },
    CategorySpec {
        name: "Schuhe",
        items: &[
            "Sneaker",
            "Stiefelette",
            "Ballerina",
            "Halbschuh",
            "Sandale",
        ],
        styles: FASHION_STYLES,
        price_lo: 3995,
        price_hi: 14900,
        margin_lo: 0.35,
        margin_hi: 0.45,
        repeat: false,
    },
    CategorySpec {
        name: "Accessoires",
        items: &[
            "Schal",
            "Gürtel",
            "Ledertasche",
            "Mütze",
            "Sonnenbrille",
            "Geldbörse",
        ],
        styles: FASHION_STYLES,
        price_lo: 995,
        price_hi: 8900,
        margin_lo: 0.45,
        margin_hi: 0.55,
        repeat: false,
    },
    CategorySpec {
        name: "Wäsche & Socken",
        items: &[
            "Socken 5er-Pack",
            "Sneakersocken 6er-Pack",
            "Boxershorts 3er-Pack",
            "Unterhemd 2er-Pack",
            "Strumpfhose",
        ],
        styles: FASHION_STYLES,
        price_lo: 795,
        price_hi: 3495,
        margin_lo: 0.38,
        margin_hi: 0.50,
        repeat: true,
    },
    CategorySpec {
        name: "Heimtextilien",
        items: &[
            "Bettwäsche-Set",
            "Handtuch-Set",
            "Kissenbezug",
            "Tagesdecke",
            "Gardine",
        ],
        styles: FASHION_STYLES,
        price_lo: 1495,
        price_hi: 9900,
        margin_lo: 0.38,
        margin_hi: 0.50,
        repeat: false,
    },
    CategorySpec {
        name: "Küche",
        items: &[
            "Pfannenset",
            "Messerblock",
            "Geschirr-Set",
            "Kaffeebecher 4er-Set",
            "Schneidebrett",
        ],
        styles: FASHION_STYLES,
        price_lo: 995,
        price_hi: 14900,
        margin_lo: 0.32,
        margin_hi: 0.45,
        repeat: false,
    },
    CategorySpec {
        name: "Wohnen",
        items: &[
            "Vase",
            "Bilderrahmen",
            "Zierkissen",
            "Wolldecke",
            "Tischleuchte",
        ],
        styles: FASHION_STYLES,
        price_lo: 995,
        price_hi: 8900,
        margin_lo: 0.40,
        margin_hi: 0.55,
        repeat: false,
    },
    CategorySpec {
        name: "Pflege & Haushalt",
        items: &[
            "Duftkerze",
            "Raumduft-Nachfüller",
            "Waschmittel 3 l",
            "Geschirrspültabs 60 Stk.",
            "Handseife Nachfüllpack",
            "Spülschwämme 10er",
        ],
        styles: CONSUMABLE_STYLES,
        price_lo: 295,
        price_hi: 1995,
        margin_lo: 0.30,
        margin_hi: 0.40,
        repeat: true,
    },
];

static TRADE_CATEGORIES: &[CategorySpec] = &[
    CategorySpec {
        name: "Reinigung",
        items: &[
            "Glasreiniger 10 l",
            "Spülmittel 5 l",
            "Desinfektionsmittel 1 l",
            "Bodenreiniger 10 l",
            "Klarspüler 10 l",
        ],
        styles: TRADE_STYLES,
        price_lo: 895,
        price_hi: 6900,
        margin_lo: 0.28,
        margin_hi: 0.40,
        repeat: true,
    },
    CategorySpec {
        name: "Einweg & Verpackung",
        items: &[
            "Servietten 500 Stk.",
            "To-go-Becher 1000 Stk.",
            "Menüschalen 250 Stk.",
            "Alufolie 300 m",
            "Frischhaltefolie 300 m",
        ],
        styles: TRADE_STYLES,
        price_lo: 1295,
        price_hi: 8900,
        margin_lo: 0.25,
        margin_hi: 0.38,
        repeat: true,
    },
    CategorySpec {
        name: "Kaffee & Getränke",
        items: &[
            "Kaffeebohnen 1 kg",
            "Espresso 1 kg",
            "Teebeutel 100 Stk.",
            "Kakaopulver 1 kg",
            "Zuckersticks 1000 Stk.",
        ],
        styles: TRADE_STYLES,
        price_lo: 695,
        price_hi: 3995,
        margin_lo: 0.30,
        margin_hi: 0.42,
        repeat: true,
    },
    CategorySpec {
        name: "Hygiene",
        items: &[
            "Einmalhandschuhe Nitril 100 Stk.",
            "Papierhandtücher 20er",
            "Toilettenpapier 64 Rollen",
            "Seifencreme 5 l",
        ],
        styles: TRADE_STYLES,
        price_lo: 595,
        price_hi: 4995,
        margin_lo: 0.28,
        margin_hi: 0.40,
        repeat: true,
    },
    CategorySpec {
        name: "Geschirr & Besteck",
        items: &[
            "Teller 6er",
            "Gläser 12er",
            "Besteck-Set 24-tlg.",
            "Tassen 6er",
        ],
        styles: TRADE_STYLES,
        price_lo: 1995,
        price_hi: 8900,
        margin_lo: 0.35,
        margin_hi: 0.48,
        repeat: false,
    },
    CategorySpec {
        name: "Küchentechnik",
        items: &[
            "Gastro-Pfanne",
            "Kochtopf 20 l",
            "Schneidebrett HACCP",
            "Thermometer",
            "Gastronorm-Behälter",
        ],
        styles: TRADE_STYLES,
        price_lo: 1495,
        price_hi: 14900,
        margin_lo: 0.32,
        margin_hi: 0.45,
        repeat: false,
    },
    CategorySpec {
        name: "Berufskleidung",
        items: &["Kochjacke", "Schürze", "Geschirrtuch 10er", "Kochmütze"],
        styles: TRADE_STYLES,
        price_lo: 995,
        price_hi: 4995,
        margin_lo: 0.38,
        margin_hi: 0.50,
        repeat: false,
    },
];

/// One article of the range. Days count from the start of the simulated history.
#[derive(Debug, Clone)]
pub(super) struct Product {
    pub sku: String,
    pub name: String,
    pub category: usize,
    /// Price in cents until `rise_on`.
    pub price: i64,
    /// The day of a price rise and the price from that day on (at least 10 % higher).
    pub rise: Option<(i32, i64)>,
    pub delisted_on: Option<i32>,
    pub margin_rate: f64,
    pub repeat: bool,
}

impl Product {
    /// The catalogue price on a given day.
    pub fn price_at(&self, day: i32) -> i64 {
        match self.rise {
            Some((on, risen)) if day >= on => risen,
            _ => self.price,
        }
    }

    pub fn listed_on(&self, day: i32) -> bool {
        self.delisted_on.is_none_or(|d| day < d)
    }
}

pub(super) struct Catalogue {
    pub categories: Vec<&'static str>,
    pub products: Vec<Product>,
    /// Product indices per category.
    pub by_category: Vec<Vec<usize>>,
    /// Repeat-purchase products that are never delisted and never rise in price, so every
    /// customer has safe everyday favourites.
    pub staples: Vec<usize>,
    /// Repeat-purchase products delisted in the middle of the history (planted causes).
    pub delisted_favourites: Vec<usize>,
    /// Repeat-purchase products with a price rise in the middle of the history.
    pub risen_favourites: Vec<usize>,
}

/// Rounds a price in cents to the German shop convention of ending in ,95 or ,99.
fn shop_price(cents: f64, rng: &mut Rng) -> i64 {
    let euros = (cents / 100.0).floor().max(1.0) as i64;
    euros * 100 - 100 + if rng.chance(0.7) { 95 } else { 99 }
}

impl Catalogue {
    pub fn build(seed: u64, b2b: bool, horizon: i32) -> Catalogue {
        let mut rng = Rng::fork(seed ^ 0xCA7A_1061_0000_0000, 0);
        let specs = if b2b {
            TRADE_CATEGORIES
        } else {
            SHOP_CATEGORIES
        };
        let prefix = if b2b { "GH" } else { "AR" };
        let mut products = Vec::new();
        let mut by_category = Vec::new();
        for (ci, spec) in specs.iter().enumerate() {
            let mut ids = Vec::new();
            for item in spec.items {
                // Three to five styles per item keep the range at a few hundred articles.
                let n_styles = rng.range(3, 5) as usize;
                let first = rng.range(0, spec.styles.len() as i64 - 1) as usize;
                for s in 0..n_styles {
                    let style = spec.styles[(first + s) % spec.styles.len()];
                    let log_lo = (spec.price_lo as f64).ln();
                    let log_hi = (spec.price_hi as f64).ln();
                    let cents = (log_lo + rng.uniform() * (log_hi - log_lo)).exp();
                    let idx = products.len();
                    products.push(Product {
                        sku: format!("{prefix}-{:05}", 10001 + idx),
                        name: format!("{item} {style}"),
                        category: ci,
                        price: shop_price(cents, &mut rng),
                        rise: None,
                        delisted_on: None,
                        margin_rate: spec.margin_lo
                            + rng.uniform() * (spec.margin_hi - spec.margin_lo),
                        repeat: spec.repeat,
                    });
                    ids.push(idx);
                }
            }
            by_category.push(ids);
        }

        // Changes to the range: some delistings and price rises anywhere, and a guaranteed
        // handful on repeat-purchase articles in the middle of the history, where the
        // planted "delisted favourite" and "price increase" customers need them.
        let h = horizon;
        let mid = |rng: &mut Rng, lo: i32, hi: i32| -> i32 {
            let (lo, hi) = (lo.min(h / 2), hi.max(h / 2));
            rng.range(lo as i64, hi as i64) as i32
        };
        let mut delisted_favourites = Vec::new();
        let mut risen_favourites = Vec::new();
        let mut staples = Vec::new();
        for (i, p) in products.iter_mut().enumerate() {
            let roll = rng.uniform();
            if p.repeat {
                if roll < 0.15 {
                    p.delisted_on = Some(mid(&mut rng, 120, h - 120));
                    delisted_favourites.push(i);
                } else if roll < 0.30 {
                    p.rise = Some((mid(&mut rng, 180, h - 150), 0));
                    risen_favourites.push(i);
                } else {
                    staples.push(i);
                }
            } else if roll < 0.10 {
                p.delisted_on =
                    Some(rng.range(60.min(h as i64 / 2), (h - 30).max(h / 2) as i64) as i32);
            } else if roll < 0.22 {
                p.rise = Some((
                    rng.range(90.min(h as i64 / 2), (h - 30).max(h / 2) as i64) as i32,
                    0,
                ));
            }
        }
        // A small range could by chance have no changed favourites at all; the planted
        // stories need a few, so take them from the staples.
        while delisted_favourites.len() < 3 && staples.len() > 6 {
            let i = staples.remove(rng.range(0, staples.len() as i64 - 1) as usize);
            products[i].delisted_on = Some(mid(&mut rng, 120, h - 120));
            delisted_favourites.push(i);
        }
        while risen_favourites.len() < 3 && staples.len() > 6 {
            let i = staples.remove(rng.range(0, staples.len() as i64 - 1) as usize);
            products[i].rise = Some((mid(&mut rng, 180, h - 150), 0));
            risen_favourites.push(i);
        }
        for p in &mut products {
            if let Some((on, _)) = p.rise {
                let factor = 1.12 + rng.uniform() * 0.18;
                let mut risen = shop_price(p.price as f64 * factor + 100.0, &mut rng);
                // Rounding must not eat the rise: the signal is "at least 10 % dearer".
                while risen * 10 < p.price * 11 {
                    risen += 100;
                }
                p.rise = Some((on, risen));
            }
        }
        Catalogue {
            categories: specs.iter().map(|s| s.name).collect(),
            products,
            by_category,
            staples,
            delisted_favourites,
            risen_favourites,
        }
    }
}
