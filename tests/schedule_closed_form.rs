//! Each schedule's learning rate at chosen steps against its closed form,
//! and a schedule driving an optimizer.

use std::f64::consts::PI;
use tapegrad::optim::schedule::{
    Constant, CosineAnnealing, ExponentialLr, LinearWarmup, MultiStepLr, ReduceOnPlateau, Schedule, StepLr,
};
use tapegrad::optim::{
    AdaGrad, AdaGradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * b.abs().max(1.0)
}

#[test]
fn constant() {
    let s = Constant { lr: 0.25 };
    assert!([0, 1, 77, 10_000].iter().all(|&t| s.lr(t) == 0.25));
}

#[test]
fn step_lr() {
    let s = StepLr { lr: 0.1, step_size: 10, gamma: 0.5 };
    // 0.1 * 0.5^floor(t / 10)
    for (t, want) in [(0, 0.1), (9, 0.1), (10, 0.05), (19, 0.05), (25, 0.025), (100, 0.1 / 1024.0)] {
        assert!(close(s.lr(t), want), "t = {t}: {} vs {want}", s.lr(t));
    }
}

#[test]
fn multi_step_lr() {
    let s = MultiStepLr { lr: 1.0, milestones: vec![3, 7, 8], gamma: 0.1 };
    // 1 * 0.1^(number of milestones <= t)
    for (t, want) in [(0, 1.0), (2, 1.0), (3, 0.1), (6, 0.1), (7, 0.01), (8, 0.001), (50, 0.001)] {
        assert!((s.lr(t) - want).abs() < 1e-15, "t = {t}: {} vs {want}", s.lr(t));
    }
}

#[test]
fn exponential_lr() {
    let s = ExponentialLr { lr: 0.2, gamma: 0.9 };
    // 0.2 * 0.9^t
    for (t, want) in [(0, 0.2), (1, 0.18), (2, 0.162), (10, 0.2 * 0.3486784401)] {
        assert!((s.lr(t) - want).abs() < 1e-15, "t = {t}: {} vs {want}", s.lr(t));
    }
}

#[test]
fn cosine_annealing() {
    let s = CosineAnnealing { lr: 0.1, t_max: 100, eta_min: 0.001 };
    // 0.001 + 0.099 * (1 + cos(pi t / 100)) / 2
    let cases = [
        (0, 0.1),
        (25, 0.001 + 0.099 * (1.0 + (PI / 4.0).cos()) / 2.0),
        (50, 0.001 + 0.099 / 2.0),
        (75, 0.001 + 0.099 * (1.0 + (3.0 * PI / 4.0).cos()) / 2.0),
        (100, 0.001),
    ];
    for (t, want) in cases {
        assert!((s.lr(t) - want).abs() < 1e-15, "t = {t}: {} vs {want}", s.lr(t));
    }
    let mut previous = f64::INFINITY;
    for t in 0..=100 {
        assert!(s.lr(t) < previous || t == 0);
        previous = s.lr(t);
    }
}

#[test]
fn linear_warmup_then_cosine() {
    let s =
        LinearWarmup { warmup_steps: 5, start_factor: 0.2, then: CosineAnnealing { lr: 1.0, t_max: 10, eta_min: 0.0 } };
    // ramp: 1.0 * (0.2 + 0.8 * t / 5) for t < 5
    for (t, want) in [(0, 0.2), (1, 0.36), (4, 0.84)] {
        assert!((s.lr(t) - want).abs() < 1e-15, "t = {t}: {} vs {want}", s.lr(t));
    }
    // then the cosine from its own step 0
    assert_eq!(s.lr(5), 1.0);
    assert!((s.lr(10) - 0.5).abs() < 1e-15);
    assert!(s.lr(15).abs() < 1e-15);
}

#[test]
fn reduce_on_plateau_follows_pytorch_counting() {
    let mut s = ReduceOnPlateau::new(1.0, 0.5, 2).unwrap();
    s.cooldown = 1;
    // traced by hand from ReduceLROnPlateau's rule (mode min, rel threshold 1e-4):
    // e0 best=5; e1 best=4; e2,e3 bad 1,2; e4 bad 3 > 2: cut to 0.5, cooldown 1;
    // e5 bad 1 but cooling down -> 0; e6 bad 1; e7 best=3; e8..e10 bad 1,2,3: cut to 0.25
    let metrics = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0];
    let want = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25];
    let got: Vec<f64> = metrics.iter().map(|&m| s.step(m)).collect();
    assert_eq!(got, want);
}

#[test]
fn reduce_on_plateau_threshold_and_floor() {
    let mut s = ReduceOnPlateau::new(1.0, 0.1, 0).unwrap();
    s.min_lr = 0.05;
    assert_eq!(s.step(1.0), 1.0);
    // 0.99995 is not below 1 * (1 - 1e-4): no improvement, patience 0 -> cut
    assert!((s.step(0.99995) - 0.1).abs() < 1e-15);
    // next cut would be 0.01, floored at 0.05
    assert_eq!(s.step(1.0), 0.05);
    assert_eq!(s.step(1.0), 0.05);
}

#[test]
fn exponential_schedule_drives_sgd_to_the_geometric_sum() {
    // with a constant gradient g the parameter after n steps is
    // x0 - g * sum_t lr gamma^t = x0 - g lr (1 - gamma^n) / (1 - gamma)
    let s = ExponentialLr { lr: 0.1, gamma: 0.8 };
    let mut opt = Sgd::new(SgdConfig { lr: 123.0, ..Default::default() }).unwrap();
    let mut x = [5.0];
    for t in 0..20 {
        opt.set_lr(s.lr(t));
        opt.update("x", &mut x, &[2.0]).unwrap();
    }
    let want = 5.0 - 2.0 * 0.1 * (1.0 - 0.8f64.powi(20)) / (1.0 - 0.8);
    assert!((x[0] - want).abs() < 1e-14, "{} vs {want}", x[0]);
}

#[test]
fn every_optimizer_takes_its_rate_from_set_lr() {
    let optimizers: Vec<Box<dyn Optimizer>> = vec![
        Box::new(Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() }).unwrap()),
        Box::new(AdaGrad::new(AdaGradConfig::default()).unwrap()),
        Box::new(RmsProp::new(RmsPropConfig::default()).unwrap()),
        Box::new(Adam::new(AdamConfig::default()).unwrap()),
        Box::new(AdamW::new(AdamWConfig::default()).unwrap()),
    ];
    let s = MultiStepLr { lr: 0.05, milestones: vec![2], gamma: 0.0 };
    for mut opt in optimizers {
        let mut x = [1.0, -1.0];
        for t in 0..4 {
            opt.set_lr(s.lr(t));
            assert_eq!(opt.lr(), s.lr(t));
            let before = x;
            opt.update("x", &mut x, &[0.5, 0.5]).unwrap();
            // a rate of 0 (from step 2 on) freezes every optimizer, AdamW's decay included
            assert_eq!(x == before, t >= 2, "step {t}: {before:?} -> {x:?}");
        }
    }
}
