//! Bad hyperparameters and mismatched parameters give clear errors.

use tapegrad::nn::Params;
use tapegrad::optim::{
    AdaGrad, AdaGradConfig, Adam, AdamConfig, AdamW, AdamWConfig, OptimError, Optimizer, RmsProp, RmsPropConfig, Sgd,
    SgdConfig,
};
use tapegrad::{Tape, Tensor};

#[test]
fn negative_learning_rates_are_rejected_by_every_optimizer() {
    let errors = [
        Sgd::new(SgdConfig { lr: -1.0, ..Default::default() }).unwrap_err(),
        AdaGrad::new(AdaGradConfig { lr: -1.0, ..Default::default() }).unwrap_err(),
        RmsProp::new(RmsPropConfig { lr: -1.0, ..Default::default() }).unwrap_err(),
        Adam::new(AdamConfig { lr: -1.0, ..Default::default() }).unwrap_err(),
        AdamW::new(AdamWConfig { lr: -1.0, ..Default::default() }).unwrap_err(),
    ];
    for (e, name) in errors.iter().zip(["Sgd", "AdaGrad", "RmsProp", "Adam", "AdamW"]) {
        assert_eq!(e.to_string(), format!("{name}: invalid lr = -1 (must be >= 0)"));
    }
}

#[test]
fn nan_learning_rate_is_rejected() {
    let e = Adam::new(AdamConfig { lr: f64::NAN, ..Default::default() }).unwrap_err();
    assert!(matches!(e, OptimError::InvalidHyperparameter { name: "lr", .. }), "{e}");
}

#[test]
fn betas_outside_unit_interval_are_rejected() {
    for betas in [(1.0, 0.999), (-0.1, 0.999), (0.9, 1.0), (0.9, 1.5)] {
        let e = Adam::new(AdamConfig { betas, ..Default::default() }).unwrap_err();
        let OptimError::InvalidHyperparameter { name, value, .. } = e else { panic!("{e}") };
        let bad = if (0.0..1.0).contains(&betas.0) { ("beta2", betas.1) } else { ("beta1", betas.0) };
        assert_eq!((name, value), bad);
        assert!(AdamW::new(AdamWConfig { betas, ..Default::default() }).is_err());
    }
    assert!(Adam::new(AdamConfig { betas: (0.0, 0.0), ..Default::default() }).is_ok());
}

#[test]
fn negative_eps_momentum_and_decay_are_rejected() {
    let e = Sgd::new(SgdConfig { momentum: -0.5, ..Default::default() }).unwrap_err();
    assert_eq!(e.to_string(), "Sgd: invalid momentum = -0.5 (must be >= 0)");
    let e = RmsProp::new(RmsPropConfig { eps: -1e-8, ..Default::default() }).unwrap_err();
    assert_eq!(e.to_string(), "RmsProp: invalid eps = -0.00000001 (must be >= 0)");
    let e = AdaGrad::new(AdaGradConfig { weight_decay: -2.0, ..Default::default() }).unwrap_err();
    assert_eq!(e.to_string(), "AdaGrad: invalid weight_decay = -2 (must be >= 0)");
    let e = Sgd::new(SgdConfig { momentum: 0.9, dampening: 0.1, nesterov: true, ..Default::default() }).unwrap_err();
    assert_eq!(e.to_string(), "Sgd: invalid dampening = 0.1 (nesterov needs dampening = 0)");
}

#[test]
fn gradient_of_the_wrong_length_names_the_parameter() {
    let mut opt = Sgd::new(SgdConfig::default()).unwrap();
    let e = opt.update("layer.w", &mut [0.0; 3], &[1.0; 2]).unwrap_err();
    assert_eq!(e.to_string(), "optimizer step: parameter \"layer.w\" has 3 elements but its gradient has 2");
}

#[test]
fn a_parameter_that_changes_length_is_caught() {
    let mut opt = Adam::new(AdamConfig::default()).unwrap();
    opt.update("w", &mut [0.0; 3], &[1.0; 3]).unwrap();
    let e = opt.update("w", &mut [0.0; 4], &[1.0; 4]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "optimizer step: parameter \"w\" now has 4 elements but its optimizer state was built for 3"
    );
    opt.reset();
    assert!(opt.update("w", &mut [0.0; 4], &[1.0; 4]).is_ok(), "reset forgets the old state");
}

#[test]
fn a_parameter_that_changes_length_stops_the_model_step_with_its_name() {
    // Adam's state for "w" is built for 2 elements; "w" then grows to 3.
    let mut params = Params::new();
    params.insert("w", Tensor::ones(&[2]));
    params.insert("b", Tensor::ones(&[1]));
    let mut opt = Adam::new(AdamConfig::default()).unwrap();
    let step = |params: &mut Params, opt: &mut Adam| {
        let tape = Tape::new();
        let vars = params.on_tape(&tape);
        let grads = (vars.get(0).sum() + vars.get(1).sum()).backward();
        opt.step(params, vars, &grads)
    };
    step(&mut params, &mut opt).unwrap();
    *params.get_mut("w").unwrap() = Tensor::ones(&[3]);
    let b_before = params["b"].clone();
    let e = step(&mut params, &mut opt).unwrap_err();
    assert_eq!(
        e.to_string(),
        "optimizer step: parameter \"w\" now has 3 elements but its optimizer state was built for 2"
    );
    assert_eq!(params["w"].data(), &[1.0; 3], "the bad parameter is not moved");
    assert_eq!(params["b"], b_before, "the step stops at the first error");
}

#[test]
fn a_parameter_the_loss_does_not_reach_is_left_alone() {
    // "frozen" is recorded on the tape but the loss never reads it, so it
    // has no gradient (PyTorch's `.grad is None`).
    let mut params = Params::new();
    params.insert("w", Tensor::ones(&[2]));
    params.insert("frozen", Tensor::ones(&[1]));
    let mut opt = Sgd::new(SgdConfig { lr: 0.5, ..Default::default() }).unwrap();
    let tape = Tape::new();
    let vars = params.on_tape(&tape);
    let grads = vars.by_name(&params, "w").sum().backward(); // d/dw = 1
    opt.step(&mut params, vars, &grads).unwrap();
    assert_eq!((params["w"].data(), params["frozen"].data()), (&[0.5, 0.5][..], &[1.0][..]));
}
