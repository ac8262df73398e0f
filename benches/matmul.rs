//! GEMM throughput (`tapegrad::tensor::gemm`, matrixmultiply underneath) on
//! square n x n products at n = 64, 256, 1024. Throughput is set to the
//! 2 n^3 floating-point operations of one product, so criterion's
//! "elem/s" reads directly as FLOP/s.
//!
//! The machine's peak is estimated from /proc/cpuinfo and printed first:
//! cores x clock x FLOPs per cycle, where a core with AVX2 and FMA does two
//! 4-wide f64 FMAs per cycle = 16 double-precision FLOPs per cycle (8 with
//! AVX only, 4 with SSE2), halved on AMD Zen 1, whose FMA units are 128 bits
//! wide. matrixmultiply runs on one thread here, so the one-core peak is
//! the fair comparison.
//!
//! Each size runs twice: `gemm` (its CPU-specific copy where the CPU has
//! one) and `gemm/portable/n`, the portable kernel on the same product, so
//! the two read as a ratio from one run.
//!
//! `cargo bench --bench matmul`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use tapegrad::Tensor;
use tapegrad::tensor::{MatRef, gemm, gemm_portable};

/// (cores, MHz, f64 FLOPs per cycle per core) read from /proc/cpuinfo.
fn peak_estimate() -> Option<(usize, f64, f64)> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    let mhz: f64 = info.lines().find(|l| l.starts_with("cpu MHz"))?.split(':').nth(1)?.trim().parse().ok()?;
    let flags = info.lines().find(|l| l.starts_with("flags"))?;
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    let mut per_cycle = if has("avx512f") {
        32.0
    } else if has("avx2") && has("fma") {
        16.0
    } else if has("avx") {
        8.0
    } else {
        4.0
    };
    // AMD Zen 1 / Zen+ (family 23, models below 0x30) split every 256-bit
    // operation into two 128-bit halves: half the flags' rate.
    let field = |name: &str| info.lines().find(|l| l.starts_with(name))?.split(':').nth(1).map(str::trim);
    let (family, model) = (field("cpu family")?.parse::<u32>().ok()?, field("model\t")?.parse::<u32>().ok()?);
    if field("vendor_id") == Some("AuthenticAMD") && family == 23 && model < 0x30 {
        per_cycle /= 2.0;
    }
    Some((cores, mhz, per_cycle))
}

fn matmul(c: &mut Criterion) {
    if let Some((cores, mhz, per_cycle)) = peak_estimate() {
        let core = mhz / 1000.0 * per_cycle;
        println!(
            "peak estimate: {cores} cores x {:.2} GHz x {per_cycle} f64 FLOP/cycle = {:.1} GFLOP/s ({core:.1} per core)",
            mhz / 1000.0,
            core * cores as f64
        );
    }
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(7);
    let mut group = c.benchmark_group("gemm");
    for n in [64usize, 256, 1024] {
        let a = Tensor::randn(&[n, n], &mut rng);
        let b = Tensor::randn(&[n, n], &mut rng);
        let mut out = vec![0.0; n * n];
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        if n >= 1024 {
            group.sample_size(10);
        }
        let (am, bm) = (MatRef::row_major(a.data(), n, n), MatRef::row_major(b.data(), n, n));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bch, _| {
            bch.iter(|| gemm(1.0, am, bm, 0.0, &mut out))
        });
        // The portable kernel on the same product: what the CPU-specific
        // copy buys (the same bits, by `tests/gemm_blocked.rs`).
        group.bench_with_input(BenchmarkId::new("portable", n), &n, |bch, _| {
            bch.iter(|| gemm_portable(1.0, am, bm, 0.0, &mut out))
        });
    }
    group.finish();
}

criterion_group!(benches, matmul);
criterion_main!(benches);
