//! The step-through page in a real browser: headless Chromium loads the
//! notes' sine network's page at `#step=K`, runs its script, and dumps the
//! DOM; the node lit and the numbers shown must be the ones the tape
//! computed (its values, the trace's sends, `backward()`'s gradients).
//!
//! Without a browser this test says that it skipped and passes, unless
//! `TAPEGRAD_REQUIRE_BROWSER=1` (CI sets it, `.ci/run` installs Chromium):
//! then a missing browser fails it.

use std::path::{Path, PathBuf};
use std::process::Command;
use tapegrad::Tensor;
use tapegrad::inspect::StepPage;
use tapegrad::notes::one_sample::{OneSample, Weights};

const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// The first browser on PATH, or `None` (after saying so) when the test may skip.
fn browser() -> Option<&'static str> {
    let found =
        BROWSERS.iter().copied().find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        let required = std::env::var("TAPEGRAD_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(!required, "TAPEGRAD_REQUIRE_BROWSER=1 but none of {BROWSERS:?} runs (apt-get install chromium)");
        eprintln!(
            "SKIPPED the browser test: none of {BROWSERS:?} is installed (set TAPEGRAD_REQUIRE_BROWSER=1 to fail instead)"
        );
    }
    found
}

/// The DOM after the page's script ran, opened at `#step=K`.
fn dump_dom(browser: &str, page: &Path, step: usize) -> String {
    let profile = page.with_extension(format!("profile{step}"));
    let url = format!("file://{}#step={step}", page.display());
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=2000", "--dump-dom", &url])
        .output()
        .expect("the browser starts");
    assert!(out.status.success(), "{browser} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

/// Every start tag `<name ...>` of the DOM with its attributes as written.
fn tags(dom: &str) -> impl Iterator<Item = (usize, &str)> {
    dom.match_indices('<').filter_map(move |(at, _)| {
        let end = at + dom[at..].find('>')?;
        let tag = &dom[at + 1..end];
        tag.starts_with(|c: char| c.is_ascii_alphabetic()).then_some((end + 1, tag))
    })
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

fn has_class(tag: &str, class: &str) -> bool {
    attr(tag, "class").is_some_and(|c| c.split(' ').any(|k| k == class))
}

/// The ids of the tape's nodes lit as this step's node.
fn lit_nodes(dom: &str) -> Vec<String> {
    tags(dom)
        .filter(|(_, t)| has_class(t, "node") && has_class(t, "now"))
        .filter_map(|(_, t)| attr(t, "id").map(str::to_owned))
        .collect()
}

/// The text lines in node `id`'s box: title, `data ..`, `grad ..`.
fn box_lines(dom: &str, id: &str) -> Vec<String> {
    let (after, _) =
        tags(dom).find(|(_, t)| attr(t, "id") == Some(id) && has_class(t, "node")).expect("the node's box");
    let body = &dom[after..after + dom[after..].find("</g>").unwrap()];
    body.split("<text").skip(1).map(|t| text_of(&t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])).collect()
}

/// The text of an element `id`, tags stripped, entities of `&<>` undone.
fn inner_text(dom: &str, id: &str) -> String {
    let (after, tag) = tags(dom).find(|(_, t)| attr(t, "id") == Some(id)).unwrap_or_else(|| panic!("no #{id}"));
    let name = tag.split(' ').next().unwrap();
    let close = format!("</{name}>");
    // the explanation's containers do not nest their own kind, except div: take the whole panel then
    let end = if name == "div" {
        dom[after..].find("<p class=\"said\"").unwrap()
    } else {
        dom[after..].find(&close).unwrap()
    };
    text_of(&dom[after..after + end])
}

fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The numbers in a preview such as `[[-0.1325 0.05458 0.05893]]`.
fn numbers(shown: &str) -> Vec<f64> {
    shown
        .split(|c: char| c == '[' || c == ']' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// Each shown number within its 4 significant digits of the tape's.
fn assert_shows(what: &str, shown: &str, tape: &Tensor) {
    let shown = numbers(shown);
    assert_eq!(shown.len(), tape.len(), "{what}: {shown:?} vs {tape}");
    for (s, t) in shown.iter().zip(tape.data()) {
        assert!((s - t).abs() <= 5e-4 * t.abs().max(1e-3), "{what}: shows {s}, the tape has {t}");
    }
}

fn page_path() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inspect_html_browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("sine_step.html")
}

#[test]
fn chromium_shows_the_tapes_numbers_at_the_linked_step() {
    let Some(browser) = browser() else { return };
    let tape = tapegrad::Tape::new();
    let x = Tensor::from_vec(vec![1.0], &[1, 1]);
    let net = OneSample::record(&tape, &x, &x.map(f64::sin), &Weights::drawn(0));
    let page = net.deltas().into_iter().fold(StepPage::new("sine"), |p, (what, from, to)| p.note(from, to, what));
    let path = page_path();
    std::fs::write(&path, page.render(net.loss)).unwrap();
    let (grads, trace) = net.loss.backward_traced();
    let forward_steps = tape.len();
    let total = forward_steps + trace.steps.len();

    // Step 1: the forward pass computes node 0 (the input x); nothing later has a value yet.
    let dom = dump_dom(browser, &path, 1);
    assert_eq!(lit_nodes(&dom), ["n0"]);
    assert_eq!(box_lines(&dom, "n0"), ["#0 x [1, 1] (constant)", "data 1", "grad -"]);
    assert_eq!(box_lines(&dom, "n14")[1..], ["data ?", "grad ?"]);
    assert_eq!(inner_text(&dom, "counter"), format!("step 1 of {total} · forward 1/{forward_steps}"));

    // A middle backward step: the sigmoid sends delta_hidden = grad_h h(1-h) to hidden.u.
    let k = trace.steps.iter().position(|s| s.node == net.h.index()).unwrap();
    let dom = dump_dom(browser, &path, forward_steps + k + 1);
    assert_eq!(lit_nodes(&dom), [format!("n{}", net.h.index())]);
    let step = &trace.steps[k];
    let detail = inner_text(&dom, "detail");
    assert!(detail.contains("delta_hidden = grad_h h(1-h)"), "{detail}");
    assert!(detail.contains("local derivative s(1-s) = [["), "{detail}");
    let sent = trace.sent(net.h, net.u1).unwrap();
    let u1 = box_lines(&dom, &format!("n{}", net.u1.index()));
    assert_shows("hidden.u's gradient so far", u1[2].strip_prefix("grad ").unwrap(), sent);
    let h = box_lines(&dom, &format!("n{}", net.h.index()));
    assert_shows("hidden.y's upstream", h[2].strip_prefix("grad ").unwrap(), &step.upstream);
    assert_shows("hidden.y's value", h[1].strip_prefix("data ").unwrap(), &net.h.value());
    // the edge hidden.u -> sigmoid is lit, the parameters have no gradient yet
    let hot: Vec<(&str, &str)> = tags(&dom)
        .filter(|(_, t)| has_class(t, "edge") && has_class(t, "hot"))
        .map(|(_, t)| (attr(t, "data-from").unwrap(), attr(t, "data-to").unwrap()))
        .collect();
    assert_eq!(hot, [("n7", "n8_op"), ("n8_op", "n8")]);
    assert_eq!(box_lines(&dom, "n2")[2], "grad ?");
    assert_eq!(inner_text(&dom, "line"), step.to_string());

    // The last step: every gradient shown is backward()'s.
    let dom = dump_dom(browser, &path, total);
    assert_eq!(lit_nodes(&dom), [format!("n{}", trace.steps.last().unwrap().node)]);
    for leaf in [net.w1, net.b1, net.w2, net.b2] {
        let lines = box_lines(&dom, &format!("n{}", leaf.index()));
        assert_shows(&lines[0], lines[2].strip_prefix("grad ").unwrap(), &grads.wrt(leaf));
    }
    // a step past the end opens at the last step
    assert_eq!(lit_nodes(&dump_dom(browser, &path, total + 50)), lit_nodes(&dom));
}

/// The cells of table row `id` in the list view: node, computed by, data, grad.
fn row_cells(dom: &str, id: &str) -> Vec<String> {
    let (after, _) =
        tags(dom).find(|(_, t)| t.starts_with("tr ") && attr(t, "id") == Some(id)).expect("the node's row");
    let body = &dom[after..after + dom[after..].find("</tr>").unwrap()];
    body.split("<td").skip(1).map(|t| text_of(&t[t.find('>').unwrap() + 1..t.find("</td>").unwrap()])).collect()
}

#[test]
fn chromium_lists_a_tape_past_max_drawn_and_steps_through_it() {
    let Some(browser) = browser() else { return };
    // y = tanh(tanh(...tanh(x))), 40 deep: dy/dx is the product of 1 - tanh^2 along the chain
    let tape = tapegrad::Tape::new();
    let x = tape.scalar(0.8).named("x");
    let mut h = x;
    let mut chain = vec![x];
    for _ in 0..40 {
        h = h.tanh();
        chain.push(h);
    }
    let path = page_path().with_file_name("chain_step.html");
    std::fs::write(&path, StepPage::new("chain").max_drawn(20).render(h)).unwrap();
    // backward step 31 of 41 visits node 10 (the sweep runs 40, 39, ..., 0)
    let dom = dump_dom(browser, &path, 41 + 31);
    assert!(!dom.contains("class=\"edge"), "listed, not drawn");
    assert_eq!(lit_nodes(&dom), ["n10"]);
    let upstream: f64 = chain[11..].iter().map(|v| 1.0 - v.value().item().powi(2)).product();
    let row = row_cells(&dom, "n10");
    assert_eq!(row[1], "tanh(#9)");
    assert_shows("node 10's upstream, by the closed form", &row[3], &Tensor::scalar(upstream));
    assert_shows("node 10's value", &row[2], &chain[10].value());
    let sent = upstream * (1.0 - chain[10].value().item().powi(2));
    assert_shows("what node 10 sent to node 9", &row_cells(&dom, "n9")[3], &Tensor::scalar(sent));
    assert_eq!(row_cells(&dom, "n8")[3], "?", "the sweep has not reached node 8");
}

/// The page with a probe appended after its script: it presses `keys` in
/// turn, then writes the address's `#...` into `<p id="probe">` for the
/// dumped DOM to show.
fn with_key_probe(page: &str, keys: &[&str]) -> String {
    let presses: String =
        keys.iter().map(|k| format!("document.dispatchEvent(new KeyboardEvent('keydown', {{key: '{k}'}}));")).collect();
    let probe = format!(
        "<p id=\"probe\"></p><script>{presses}document.getElementById('probe').textContent = location.hash;</script>\n</body>"
    );
    page.replacen("</body>", &probe, 1)
}

/// The keys step the page and the address follows, so a reload (or a copied
/// link) opens where the reader was: `#step=K` opening step K is the test
/// above.
#[test]
fn stepping_with_the_keys_moves_the_address_so_a_reload_keeps_the_step() {
    let Some(browser) = browser() else { return };
    let tape = tapegrad::Tape::new();
    let x = tape.scalar(0.5).named("x");
    let y = x.sin().exp().named("y");
    let page = StepPage::new("two steps").render(y);
    let (_, trace) = y.backward_traced();
    let total = tape.len() + trace.steps.len();
    let plain = page_path().with_file_name("keys_reload.html");
    std::fs::write(&plain, &page).unwrap();
    for (open_at, keys, want) in [
        (2, &["ArrowRight", "ArrowRight", "ArrowRight"][..], 5),
        (5, &["ArrowLeft"][..], 4),
        (3, &["End"][..], total),
        (total, &["Home", "ArrowRight"][..], 2),
    ] {
        let path = page_path().with_file_name(format!("keys_{open_at}_{}.html", keys.len()));
        std::fs::write(&path, with_key_probe(&page, keys)).unwrap();
        let dom = dump_dom(browser, &path, open_at);
        assert_eq!(inner_text(&dom, "probe"), format!("#step={want}"), "opened at {open_at}, pressed {keys:?}");
        assert!(inner_text(&dom, "counter").starts_with(&format!("step {want} of {total}")), "{keys:?}");
        // the reload: the page opened at the address the keys left shows the same step
        let reloaded = dump_dom(browser, &plain, want);
        assert_eq!(lit_nodes(&reloaded), lit_nodes(&dom), "{keys:?}");
        assert_eq!(inner_text(&reloaded, "counter"), inner_text(&dom, "counter"), "{keys:?}");
    }
}
