fn main() {
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(100);
    let run = tapegrad::notes::sine::train::<tapegrad::notes::sine::TapeSgd>(3, n, 0.1, 0);
    println!("{:e}", run.errors[n - 1]);
}
