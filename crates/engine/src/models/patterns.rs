//! Customers with identical `(x, t_x, T)` aggregated into weighted patterns, grouped by `x`.
//!
//! The likelihoods depend on a customer only through `(x, t_x, T)`, so identical rows are
//! computed once; everything that depends on `x` alone (log-gamma and digamma terms) is
//! computed once per group. Sums over rows can run on several threads.

use std::ops::Range;

use super::CustomerSummary;

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub x: f64,
    pub rows: Range<usize>,
    /// The smallest positive `t_x` or `T` in the group (infinity if there is none).
    pub t_min: f64,
}

impl Group {
    fn new(x: f64, start: usize) -> Group {
        Group {
            x,
            rows: start..start,
            t_min: f64::INFINITY,
        }
    }

    fn see(&mut self, recency: f64, age: f64) {
        for t in [recency, age] {
            if t > 0.0 && t < self.t_min {
                self.t_min = t;
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Patterns {
    pub groups: Vec<Group>,
    pub recency: Vec<f64>,
    pub age: Vec<f64>,
    pub weight: Vec<f64>,
    pub total_weight: f64,
}

impl Patterns {
    /// Aggregates summaries (assumed checked).
    pub fn from_summaries(customers: &[CustomerSummary]) -> Patterns {
        let mut rows: Vec<[f64; 3]> = customers
            .iter()
            .map(|c| [c.frequency, c.recency, c.age])
            .collect();
        rows.sort_unstable_by(|p, q| {
            p[0].total_cmp(&q[0])
                .then(p[1].total_cmp(&q[1]))
                .then(p[2].total_cmp(&q[2]))
        });
        let mut out = Patterns {
            groups: Vec::new(),
            recency: Vec::with_capacity(rows.len()),
            age: Vec::with_capacity(rows.len()),
            weight: Vec::with_capacity(rows.len()),
            total_weight: customers.len() as f64,
        };
        let mut last: Option<[f64; 3]> = None;
        for row in rows {
            if last == Some(row) {
                *out.weight.last_mut().expect("a row was pushed with `last`") += 1.0;
                continue;
            }
            if last.is_none_or(|l| l[0] != row[0]) {
                let start = out.age.len();
                out.groups.push(Group::new(row[0], start));
            }
            out.recency.push(row[1]);
            out.age.push(row[2]);
            out.weight.push(1.0);
            let g = out.groups.last_mut().expect("a group was pushed");
            g.rows.end = out.age.len();
            g.see(row[1], row[2]);
            last = Some(row);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.age.len()
    }

    /// A stratified subsample of about `target` rows: within each `x` group every k-th row,
    /// carrying the weight of its block, so that totals per group are kept.
    pub fn subsample(&self, target: usize) -> Patterns {
        let k = self.len().div_ceil(target.max(1)).max(1);
        let mut out = Patterns {
            groups: Vec::new(),
            recency: Vec::new(),
            age: Vec::new(),
            weight: Vec::new(),
            total_weight: self.total_weight,
        };
        for g in &self.groups {
            let mut sub = Group::new(g.x, out.age.len());
            let mut i = g.rows.start;
            while i < g.rows.end {
                let end = (i + k).min(g.rows.end);
                out.recency.push(self.recency[i]);
                out.age.push(self.age[i]);
                out.weight.push(self.weight[i..end].iter().sum());
                sub.see(self.recency[i], self.age[i]);
                i = end;
            }
            sub.rows.end = out.age.len();
            out.groups.push(sub);
        }
        out
    }

    /// `Σ f(group index, rows)` over all rows, on up to `threads` threads, where `f` returns a
    /// value and a gradient of length `N`.
    pub fn par_sum<const N: usize, F>(&self, threads: usize, f: F) -> (f64, [f64; N])
    where
        F: Fn(usize, Range<usize>) -> (f64, [f64; N]) + Sync,
    {
        let n = self.len();
        let threads = if n < 20_000 { 1 } else { threads.clamp(1, 64) };
        let run = |range: Range<usize>| {
            let mut acc = (0.0, [0.0; N]);
            for (gi, g) in self.groups.iter().enumerate() {
                let lo = g.rows.start.max(range.start);
                let hi = g.rows.end.min(range.end);
                if lo < hi {
                    let (v, d) = f(gi, lo..hi);
                    acc.0 += v;
                    acc.1.iter_mut().zip(d).for_each(|(a, b)| *a += b);
                }
            }
            acc
        };
        if threads == 1 {
            return run(0..n);
        }
        let chunk = n.div_ceil(threads);
        let parts: Vec<(f64, [f64; N])> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
                    let run = &run;
                    scope.spawn(move || run(range))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("likelihood worker does not panic"))
                .collect()
        });
        parts.into_iter().fold((0.0, [0.0; N]), |mut acc, (v, d)| {
            acc.0 += v;
            acc.1.iter_mut().zip(d).for_each(|(a, b)| *a += b);
            acc
        })
    }
}
