//! Iterating over a data set in batches: full batch, mini-batches of k, or
//! one sample at a time (the notes' chapter 1), reshuffled every epoch from
//! a seeded RNG so runs are reproducible.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha12Rng;

/// How many samples each update sees.
///
/// ```
/// use tapegrad::data::Batching;
/// assert_eq!(Batching::MiniBatch(8).batch_size(100), 8);
/// assert_eq!(Batching::Full.batch_size(100), 100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batching {
    /// Batch gradient descent: all n samples per update, in order.
    Full,
    /// Mini-batch gradient descent: k samples per update (the last batch of
    /// an epoch may be smaller), shuffled each epoch.
    MiniBatch(usize),
    /// Stochastic gradient descent: one sample per update, shuffled each
    /// epoch.
    Stochastic,
}

impl Batching {
    /// Samples per update for a data set of `n` (a mini-batch size is kept
    /// within `1..=n`).
    ///
    /// ```
    /// use tapegrad::data::Batching;
    /// assert_eq!(Batching::MiniBatch(0).batch_size(10), 1);
    /// assert_eq!(Batching::MiniBatch(50).batch_size(10), 10);
    /// ```
    pub fn batch_size(self, n: usize) -> usize {
        match self {
            Batching::Full => n.max(1),
            Batching::MiniBatch(k) => k.clamp(1, n.max(1)),
            Batching::Stochastic => 1,
        }
    }

    /// A short name for tables and plots.
    ///
    /// ```
    /// assert_eq!(tapegrad::data::Batching::MiniBatch(16).label(), "mini-batch (16)");
    /// ```
    pub fn label(self) -> String {
        match self {
            Batching::Full => "batch".to_string(),
            Batching::MiniBatch(k) => format!("mini-batch ({k})"),
            Batching::Stochastic => "stochastic".to_string(),
        }
    }
}

/// Hands out the sample indices of each epoch in batches.
///
/// ```
/// use tapegrad::data::{Batches, Batching};
/// let mut batches = Batches::new(10, Batching::MiniBatch(4), 7);
/// let sizes: Vec<usize> = batches.epoch().map(|b| b.len()).collect();
/// assert_eq!(sizes, [4, 4, 2]);
/// let mut seen: Vec<usize> = batches.epoch().flatten().copied().collect();
/// seen.sort();
/// assert_eq!(seen, (0..10).collect::<Vec<_>>()); // every sample once per epoch
/// ```
#[derive(Clone, Debug)]
pub struct Batches {
    batching: Batching,
    order: Vec<usize>,
    rng: ChaCha12Rng,
}

impl Batches {
    /// Batches over samples `0..n`, shuffled from `seed` (full batches are
    /// not shuffled: the order does not change their gradient).
    ///
    /// ```
    /// use tapegrad::data::{Batches, Batching};
    /// let mut a = Batches::new(5, Batching::Stochastic, 1);
    /// let mut b = Batches::new(5, Batching::Stochastic, 1);
    /// let first: Vec<_> = a.epoch().flatten().copied().collect();
    /// assert_eq!(first, b.epoch().flatten().copied().collect::<Vec<_>>());
    /// ```
    pub fn new(n: usize, batching: Batching, seed: u64) -> Batches {
        Batches { batching, order: (0..n).collect(), rng: ChaCha12Rng::seed_from_u64(seed) }
    }

    /// Starts a new epoch (reshuffling unless full-batch) and returns its
    /// batches of sample indices.
    ///
    /// ```
    /// use tapegrad::data::{Batches, Batching};
    /// let mut full = Batches::new(3, Batching::Full, 0);
    /// assert_eq!(full.epoch().collect::<Vec<_>>(), [&[0, 1, 2][..]]);
    /// ```
    pub fn epoch(&mut self) -> std::slice::Chunks<'_, usize> {
        if self.batching != Batching::Full {
            self.order.shuffle(&mut self.rng);
        }
        let size = self.batching.batch_size(self.order.len());
        self.order.chunks(size)
    }

    /// Updates per epoch.
    ///
    /// ```
    /// use tapegrad::data::{Batches, Batching};
    /// assert_eq!(Batches::new(10, Batching::MiniBatch(4), 0).batches_per_epoch(), 3);
    /// ```
    pub fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.batching.batch_size(self.order.len()))
    }
}
