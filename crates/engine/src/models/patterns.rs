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

/// One pattern: customers with the same `(x, t_x, T)`, `x` being their group's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Row {
    pub recency: f64,
    pub age: f64,
    /// How many customers share the pattern (a subsample's rows carry their block's).
    pub weight: f64,
}

/// Below this many rows, one thread sorts them.
const PAR_SORT_MIN: usize = 100_000;

#[derive(Debug, Clone)]
pub(crate) struct Patterns {
    pub groups: Vec<Group>,
    pub rows: Vec<Row>,
    pub total_weight: f64,
}

impl Patterns {
    /// Aggregates summaries (assumed checked: finite and not negative), sorting on up to
    /// `threads` threads.
    ///
    /// The rows are sorted and merged in the one vector they were copied into (a million
    /// customers: 24 MB, where columns built beside it took twice that): until the merge, a
    /// row's `weight` holds its `x`.
    pub fn from_summaries(customers: &[CustomerSummary], threads: usize) -> Patterns {
        // `+ 0.0` turns -0.0 into 0.0, so that equal values have equal bits.
        let mut rows: Vec<Row> = customers
            .iter()
            .map(|c| Row {
                recency: c.recency + 0.0,
                age: c.age + 0.0,
                weight: c.frequency + 0.0,
            })
            .collect();
        let key = |r: &Row| (r.weight, r.recency, r.age);
        // Not negative and finite, so the bits order the values as the numbers do, and
        // comparing integers is cheaper than `total_cmp`.
        let order = |p: &Row, q: &Row| {
            (p.weight.to_bits(), p.recency.to_bits(), p.age.to_bits()).cmp(&(
                q.weight.to_bits(),
                q.recency.to_bits(),
                q.age.to_bits(),
            ))
        };
        debug_assert!(
            rows.iter()
                .all(|r| r.weight >= 0.0 && r.recency >= 0.0 && r.age >= 0.0)
        );
        if threads > 1 && rows.len() >= PAR_SORT_MIN {
            // Partition around the median, then sort both sides at once: every row on the
            // left is at most every row on the right, so the whole is sorted (no merge, no
            // second buffer).
            let mid = rows.len() / 2;
            rows.select_nth_unstable_by(mid, order);
            let (left, right) = rows.split_at_mut(mid);
            std::thread::scope(|scope| {
                scope.spawn(|| left.sort_unstable_by(order));
                right.sort_unstable_by(order);
            });
        } else {
            rows.sort_unstable_by(order);
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut kept = 0;
        let mut last = None;
        for i in 0..rows.len() {
            let row = rows[i];
            if last == Some(key(&row)) {
                rows[kept - 1].weight += 1.0;
                continue;
            }
            let x = row.weight;
            if last.is_none_or(|(lx, _, _)| lx != x) {
                groups.push(Group::new(x, kept));
            }
            rows[kept] = Row { weight: 1.0, ..row };
            kept += 1;
            let g = groups.last_mut().expect("a group was pushed");
            g.rows.end = kept;
            g.see(row.recency, row.age);
            last = Some(key(&row));
        }
        rows.truncate(kept);
        Patterns {
            groups,
            rows,
            total_weight: customers.len() as f64,
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// A stratified subsample of about `target` rows: within each `x` group every k-th row,
    /// carrying the weight of its block, so that totals per group are kept.
    pub fn subsample(&self, target: usize) -> Patterns {
        let k = self.len().div_ceil(target.max(1)).max(1);
        let mut out = Patterns {
            groups: Vec::new(),
            rows: Vec::new(),
            total_weight: self.total_weight,
        };
        for g in &self.groups {
            let mut sub = Group::new(g.x, out.rows.len());
            let mut i = g.rows.start;
            while i < g.rows.end {
                let end = (i + k).min(g.rows.end);
                let row = self.rows[i];
                let weight = self.rows[i..end].iter().map(|r| r.weight).sum();
                out.rows.push(Row { weight, ..row });
                sub.see(row.recency, row.age);
                i = end;
            }
            sub.rows.end = out.rows.len();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Many customers with repeats (every `(x, t_x, T)` about eight times), `-0.0` among the
    /// recencies, in an order that is not sorted.
    fn customers(n: usize) -> Vec<CustomerSummary> {
        (0..n)
            .map(|i| {
                let k = (i * 7_919) % (n / 8);
                let x = (k % 13) as f64;
                let recency = if x == 0.0 && k.is_multiple_of(2) {
                    -0.0
                } else {
                    (k % 29) as f64
                };
                CustomerSummary {
                    frequency: x,
                    recency,
                    age: 30.0 + (k % 31) as f64,
                    monetary: 0.0,
                }
            })
            .collect()
    }

    #[test]
    fn two_threads_merge_the_same_patterns_as_one() {
        let cs = customers(2 * PAR_SORT_MIN);
        let one = Patterns::from_summaries(&cs, 1);
        let two = Patterns::from_summaries(&cs, 2);
        assert_eq!(one.rows, two.rows);
        let groups = |p: &Patterns| -> Vec<(f64, Range<usize>, f64)> {
            p.groups
                .iter()
                .map(|g| (g.x, g.rows.clone(), g.t_min))
                .collect()
        };
        assert_eq!(groups(&one), groups(&two));
        // Merged: fewer rows than customers, weights add up, and within a group the rows
        // are strictly increasing (0.0 and -0.0 are one value).
        assert!(one.len() < cs.len() / 4, "{} patterns", one.len());
        let total: f64 = one.rows.iter().map(|r| r.weight).sum();
        assert_eq!(total, cs.len() as f64);
        assert_eq!(one.groups.len(), 13);
        for g in &one.groups {
            let rows = &one.rows[g.rows.clone()];
            assert!(
                rows.windows(2)
                    .all(|w| (w[0].recency, w[0].age) < (w[1].recency, w[1].age))
            );
        }
    }
}
