//! Params in safetensors: the fixture written by Python's `safetensors`
//! (with torch float64 tensors, one float32 tensor and metadata) loads bit
//! for bit against its JSON dump; saved files follow the published format,
//! checked byte by byte by hand and against the `safetensors` crate's own
//! writer.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use tapegrad::Tensor;
use tapegrad::nn::safetensors::{LoadNote, ORDER_KEY, SafetensorsError};
use tapegrad::nn::{MlpSpec, Params};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mlp_1_3_1.safetensors");
const FIXTURE_JSON: &str = include_str!("fixtures/mlp_1_3_1.json");

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn json_f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn json_shape(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

#[test]
fn the_python_fixture_loads_bit_for_bit() {
    let (params, _) = Params::read_safetensors(FIXTURE).unwrap();
    let truth: Value = serde_json::from_str(FIXTURE_JSON).unwrap();
    let tensors = truth["tensors"].as_object().unwrap();
    assert_eq!(params.len(), tensors.len());
    for (name, t) in tensors {
        let got = params.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(got.shape(), json_shape(&t["shape"]).as_slice(), "{name}");
        // the JSON holds each value as Python's shortest round-trip repr
        assert_eq!(bits(got.data()), bits(&json_f64s(&t["data"])), "{name}");
    }
    // Python wrote no order key, so the order is the data's: F64 before F32
    // (the writer sorts by dtype, then by name).
    assert_eq!(params.names().collect::<Vec<_>>(), ["hidden.b", "hidden.w", "out.b", "out.w", "extra.f32"]);
}

#[test]
fn the_fixture_float32_tensor_is_widened_with_a_note() {
    let (params, loaded) = Params::read_safetensors(FIXTURE).unwrap();
    assert_eq!(loaded.notes, [LoadNote::WidenedFromF32 { name: "extra.f32".into(), shape: vec![2, 2] }]);
    // 0.1 as f32 is 0.100000001490116..., not 0.1: the widening is exact
    let want = [0.5f32, -1.25, 3.0, 0.1].map(f64::from);
    assert_eq!(bits(params["extra.f32"].data()), bits(&want));
    assert_eq!(params["extra.f32"].data()[3], 0.100_000_001_490_116_12);
}

#[test]
fn the_fixture_metadata_is_read() {
    let (_, loaded) = Params::read_safetensors(FIXTURE).unwrap();
    let truth: Value = serde_json::from_str(FIXTURE_JSON).unwrap();
    let want: BTreeMap<String, String> = truth["metadata"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(loaded.metadata, want);
    assert_eq!(loaded.metadata["format"], "pt");
}

#[test]
fn the_fixture_loads_strictly_into_a_network_of_its_shape() {
    // the fixture has an extra tensor, so a strict load into the 1-3-1
    // network fails, naming it, and changes nothing
    let mut mlp = MlpSpec::new(&[1, 3, 1]).build(&mut ChaCha12Rng::seed_from_u64(0));
    let before = mlp.params().clone();
    let e = mlp.params_mut().load_safetensors(FIXTURE).unwrap_err();
    assert!(matches!(e, SafetensorsError::Unexpected { .. }), "{e}");
    assert_eq!(e.to_string(), "safetensors: the file holds tensor \"extra.f32\" [2, 2], which is not a parameter");
    assert_eq!(mlp.params(), &before);

    // with the extra tensor as a parameter it loads, in the network's order
    mlp.params_mut().insert("extra.f32", Tensor::zeros(&[2, 2]));
    let loaded = mlp.params_mut().load_safetensors(FIXTURE).unwrap();
    assert_eq!(loaded.notes.len(), 1);
    assert_eq!(mlp.params().names().collect::<Vec<_>>(), ["hidden.w", "hidden.b", "out.w", "out.b", "extra.f32"]);
    let truth: Value = serde_json::from_str(FIXTURE_JSON).unwrap();
    assert_eq!(bits(mlp.params()["out.w"].data()), bits(&json_f64s(&truth["tensors"]["out.w"]["data"])));
}

/// Values that catch a lossy writer: signed zero, subnormals, extremes,
/// infinities, a NaN with a payload, and the order not sorted by name.
fn awkward_params() -> Params {
    let nan_payload = f64::from_bits(0x7ff8_0000_dead_beef);
    let mut p = Params::new();
    p.insert("z.weight", Tensor::from_vec(vec![-0.0, 5e-324, f64::MIN_POSITIVE, f64::MAX, 0.1, -1.0 / 3.0], &[2, 3]));
    p.insert("a.bias", Tensor::from_vec(vec![f64::INFINITY, f64::NEG_INFINITY, nan_payload], &[3]));
    p.insert("m.scalar", Tensor::scalar(std::f64::consts::PI));
    p.insert("empty", Tensor::zeros(&[0, 4]));
    p
}

#[test]
fn save_then_load_round_trips_bit_for_bit_in_order() {
    let p = awkward_params();
    let meta = BTreeMap::from([("model".to_string(), "test".to_string()), ("epochs".to_string(), "3".to_string())]);
    let path = std::env::temp_dir().join(format!("tapegrad_roundtrip_{}.safetensors", std::process::id()));
    p.save_safetensors(&path, &meta).unwrap();
    let (q, loaded) = Params::read_safetensors(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(q.names().collect::<Vec<_>>(), ["z.weight", "a.bias", "m.scalar", "empty"]);
    for ((name, a), (_, b)) in p.iter().zip(q.iter()) {
        assert_eq!(a.shape(), b.shape(), "{name}");
        assert_eq!(bits(a.data()), bits(b.data()), "{name}");
    }
    assert_eq!(loaded.metadata, meta); // the order key is not handed back
    assert!(loaded.notes.is_empty());

    // and strictly into parameters of the same names and shapes, any order
    let mut r = Params::new();
    let reversed: Vec<_> = q.iter().collect();
    for (name, t) in reversed.into_iter().rev() {
        r.insert(name, Tensor::zeros(t.shape()));
    }
    r.load_safetensors_bytes(&p.to_safetensors(&meta).unwrap()).unwrap();
    assert_eq!(r.names().collect::<Vec<_>>(), ["empty", "m.scalar", "a.bias", "z.weight"]);
    assert_eq!(bits(r["a.bias"].data()), bits(p["a.bias"].data()));
}

#[test]
fn the_same_params_give_the_same_bytes() {
    let p = awkward_params();
    let meta: BTreeMap<String, String> = (0..16).map(|i| (format!("key{i}"), format!("value {i}"))).collect();
    let first = p.to_safetensors(&meta).unwrap();
    for _ in 0..5 {
        assert_eq!(p.to_safetensors(&meta).unwrap(), first);
    }
}

/// The published format, read by hand: 8-byte little-endian header length
/// N, N bytes of JSON (an object of tensors with dtype, shape and
/// data_offsets, plus `__metadata__` of strings), then the raw
/// little-endian data, offsets counted from the end of the header.
#[test]
fn saved_files_follow_the_published_format() {
    let p = awkward_params();
    let meta = BTreeMap::from([("note".to_string(), "quotes \" and \\ survive".to_string())]);
    let bytes = p.to_safetensors(&meta).unwrap();

    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "the header is padded to 8 bytes");
    let header_text = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(header_text.starts_with('{'));
    assert!(header_text.trim_end().ends_with('}'));
    assert!(header_text.trim_end_matches(' ').len() + 7 >= n, "padding is at most 7 spaces");
    let header: Value = serde_json::from_str(header_text).unwrap();
    let header = header.as_object().unwrap();
    let data = &bytes[8 + n..];

    let metadata = header["__metadata__"].as_object().unwrap();
    assert_eq!(metadata["note"], "quotes \" and \\ survive");
    assert_eq!(metadata[ORDER_KEY], r#"["z.weight","a.bias","m.scalar","empty"]"#);
    assert!(metadata.values().all(Value::is_string), "metadata values must be strings");

    assert_eq!(header.len(), 1 + p.len());
    let mut spans = Vec::new();
    for (name, t) in p.iter() {
        let info = header[name].as_object().unwrap();
        assert_eq!(info.len(), 3, "{name}: dtype, shape, data_offsets only");
        assert_eq!(info["dtype"], "F64", "{name}");
        assert_eq!(json_shape(&info["shape"]), t.shape(), "{name}");
        let (start, end) =
            (info["data_offsets"][0].as_u64().unwrap() as usize, info["data_offsets"][1].as_u64().unwrap() as usize);
        assert_eq!(end - start, 8 * t.len(), "{name}");
        let want: Vec<u8> = t.data().iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(&data[start..end], want.as_slice(), "{name}");
        spans.push((start, end));
    }
    // the offsets tile the data with no gap or overlap, as readers require
    spans.sort();
    let mut at = 0;
    for (start, end) in spans {
        assert_eq!(start, at);
        at = end;
    }
    assert_eq!(at, data.len());
}

/// A safetensors file written by hand: `tensors` are (name, dtype, shape,
/// raw bytes), laid out in order.
fn hand_written_file(tensors: &[(&str, &str, &[usize], Vec<u8>)]) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (name, dtype, shape, raw) in tensors {
        entries.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{},{}]}}"#,
            data.len(),
            data.len() + raw.len()
        ));
        data.extend(raw);
    }
    let mut header = format!("{{{}}}", entries.join(",")).into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header);
    out.extend(data);
    out
}

#[test]
fn a_hand_written_file_loads() {
    let raw: Vec<u8> = [1.5f64, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let (p, loaded) = Params::from_safetensors(&hand_written_file(&[("w", "F64", &[2, 1], raw)])).unwrap();
    assert_eq!(p["w"], Tensor::from_vec(vec![1.5, -2.0], &[2, 1]));
    assert!(loaded.metadata.is_empty());
}

#[test]
fn an_unsupported_dtype_is_an_error_naming_the_tensor() {
    let raw: Vec<u8> = [7i64, 8].iter().flat_map(|v| v.to_le_bytes()).collect();
    let file = hand_written_file(&[("steps", "I64", &[2], raw)]);
    let e = Params::from_safetensors(&file).unwrap_err();
    assert_eq!(e.to_string(), "safetensors: tensor \"steps\" [2] is I64; only F64 and F32 load");
    let mut p = Params::new();
    p.insert("steps", Tensor::zeros(&[2]));
    let e = p.load_safetensors_bytes(&file).unwrap_err();
    assert_eq!(
        e.to_string(),
        "safetensors: tensor \"steps\" [2] is I64; only F64 and F32 load (the parameter has shape [2])"
    );
    assert_eq!(p["steps"].data(), &[0.0, 0.0]);
}

#[test]
fn a_misshaped_or_missing_tensor_is_an_error_and_changes_nothing() {
    let mut saved = Params::new();
    saved.insert("a", Tensor::ones(&[2]));
    saved.insert("w", Tensor::ones(&[2, 3]));
    let bytes = saved.to_safetensors(&BTreeMap::new()).unwrap();

    let mut p = Params::new();
    p.insert("a", Tensor::zeros(&[2]));
    p.insert("w", Tensor::zeros(&[3, 2]));
    let e = p.load_safetensors_bytes(&bytes).unwrap_err();
    assert_eq!(e.to_string(), "safetensors: tensor \"w\" has shape [2, 3] but the parameter has shape [3, 2]");
    assert_eq!(p["a"].data(), &[0.0, 0.0], "a fits, but nothing loads unless everything does");

    let mut p = Params::new();
    p.insert("a", Tensor::zeros(&[2]));
    p.insert("w", Tensor::zeros(&[2, 3]));
    p.insert("b", Tensor::zeros(&[3]));
    let e = p.load_safetensors_bytes(&bytes).unwrap_err();
    assert_eq!(e.to_string(), "safetensors: no tensor \"b\" in the file (the parameter has shape [3])");
}

#[test]
fn bad_bytes_and_a_wrong_order_key_are_errors() {
    let e = Params::from_safetensors(b"not a safetensors file").unwrap_err();
    assert!(matches!(e, SafetensorsError::Format(_)), "{e}");

    let reserved = BTreeMap::from([(ORDER_KEY.to_string(), "[]".to_string())]);
    let e = Params::new().to_safetensors(&reserved).unwrap_err();
    assert!(e.to_string().contains("\"tapegrad.order\" is written by tapegrad"), "{e}");

    // an order key that forgets a tensor: the file was edited by hand
    let mut p = Params::new();
    p.insert("a", Tensor::ones(&[1]));
    p.insert("b", Tensor::ones(&[1]));
    let mut bytes = p.to_safetensors(&BTreeMap::new()).unwrap();
    let (from, to) = (br#"[\"a\",\"b\"]"#, br#"[\"a\",\"a\"]"#); // same length: offsets stay
    let at = bytes.windows(from.len()).position(|w| w == from).expect("the order key");
    bytes[at..at + from.len()].copy_from_slice(to);
    let e = Params::from_safetensors(&bytes).unwrap_err();
    assert!(matches!(e, SafetensorsError::Metadata(_)), "{e}");
}

#[test]
fn empty_params_round_trip() {
    let bytes = Params::new().to_safetensors(&BTreeMap::new()).unwrap();
    let (p, _) = Params::from_safetensors(&bytes).unwrap();
    assert!(p.is_empty());
}

/// A fresh directory for one test's files.
fn scratch_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad_{test}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Issue 18 item 1: a save replaces the file with a new one (rename), never
/// rewrites it in place. A hard link to the old file keeps the old bytes,
/// which an in-place write (truncate, then write the same inode) destroys.
#[test]
fn a_save_replaces_the_file_and_never_rewrites_it_in_place() {
    let dir = scratch_dir("save_replaces");
    let path = dir.join("model.safetensors");
    let backup = dir.join("backup.safetensors");
    let old = awkward_params();
    old.save_safetensors(&path, &BTreeMap::new()).unwrap();
    let old_bytes = std::fs::read(&path).unwrap();
    std::fs::hard_link(&path, &backup).unwrap();

    let mut new = Params::new();
    new.insert("w", Tensor::ones(&[3]));
    new.save_safetensors(&path, &BTreeMap::new()).unwrap();
    assert_eq!(std::fs::read(&backup).unwrap(), old_bytes, "the old inode was rewritten");
    assert_eq!(Params::read_safetensors(&path).unwrap().0, new);
    assert_eq!(dir_entries(&dir), ["backup.safetensors", "model.safetensors"], "no temporary file is left");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A save whose rename fails (the target is a directory) reports the path,
/// leaves what was there, and leaves no temporary file. (A save that fails
/// while writing is tested in src/nn/safetensors/write.rs, where a failing
/// writer can be injected: read-only directories do not fail for root.)
#[test]
fn a_failed_save_leaves_no_temporary_file() {
    let dir = scratch_dir("save_fails");
    let target = dir.join("checkpoint");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inside"), b"kept").unwrap();
    let e = awkward_params().save_safetensors(&target, &BTreeMap::new()).unwrap_err();
    assert!(matches!(e, SafetensorsError::Io { .. }), "{e}");
    assert!(e.to_string().starts_with(&format!("safetensors: {}: ", target.display())), "{e}");
    assert_eq!(dir_entries(&dir), ["checkpoint"]);
    assert_eq!(std::fs::read(target.join("inside")).unwrap(), b"kept");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A symlink at the target is replaced by the new file; its target (maybe
/// another checkpoint) is not written through.
#[cfg(unix)]
#[test]
fn a_save_replaces_a_symlink_and_keeps_its_target() {
    let dir = scratch_dir("save_symlink");
    let (older, latest) = (dir.join("step100.safetensors"), dir.join("latest.safetensors"));
    awkward_params().save_safetensors(&older, &BTreeMap::new()).unwrap();
    let older_bytes = std::fs::read(&older).unwrap();
    std::os::unix::fs::symlink(&older, &latest).unwrap();
    let mut new = Params::new();
    new.insert("w", Tensor::ones(&[3]));
    new.save_safetensors(&latest, &BTreeMap::new()).unwrap();
    assert_eq!(std::fs::read(&older).unwrap(), older_bytes);
    assert!(!std::fs::symlink_metadata(&latest).unwrap().file_type().is_symlink());
    assert_eq!(Params::read_safetensors(&latest).unwrap().0, new);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 18 item 2: a parameter named `__metadata__` saved `Ok` and then
/// failed to load. A save refuses it, naming it, and touches no file.
#[test]
fn a_parameter_named_like_the_metadata_is_refused_at_save() {
    let mut p = Params::new();
    p.insert("w", Tensor::ones(&[1]));
    p.insert("__metadata__", Tensor::ones(&[2]));
    let e = p.to_safetensors(&BTreeMap::new()).unwrap_err();
    assert!(matches!(&e, SafetensorsError::ReservedName { name } if name == "__metadata__"), "{e}");
    assert_eq!(
        e.to_string(),
        "safetensors: a parameter is named \"__metadata__\", which the format reserves for the metadata; rename it"
    );
    let dir = scratch_dir("save_reserved");
    let path = dir.join("model.safetensors");
    assert!(p.save_safetensors(&path, &BTreeMap::new()).is_err());
    assert!(dir_entries(&dir).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 18 item 2: metadata over the format's 100 MB header limit saved
/// `Ok` and then failed to load. At the limit exactly the file saves and
/// loads back; 8 bytes more (the header's padding step) is refused at save,
/// naming the size.
#[test]
fn a_header_over_the_format_limit_is_refused_at_save_and_one_at_it_loads() {
    use tapegrad::nn::safetensors::MAX_HEADER_BYTES;
    let mut p = Params::new();
    p.insert("w", Tensor::from_vec(vec![1.5, -2.0], &[2]));
    let header_len = |bytes: &[u8]| u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let meta = |len: usize| BTreeMap::from([("notes".to_string(), "x".repeat(len))]);
    // with an empty value the header is `base` bytes before its padding
    let bytes = p.to_safetensors(&meta(0)).unwrap();
    let base = bytes[8..8 + header_len(&bytes)].trim_ascii_end().len();
    let at_limit = meta(MAX_HEADER_BYTES - base);
    let bytes = p.to_safetensors(&at_limit).unwrap();
    assert_eq!(header_len(&bytes), MAX_HEADER_BYTES);
    let (back, loaded) = Params::from_safetensors(&bytes).unwrap();
    assert_eq!(back, p);
    assert_eq!(loaded.metadata, at_limit);
    drop((bytes, loaded));

    // (`.err()`: an unexpected Ok would print 100 MB of bytes)
    match p.to_safetensors(&meta(MAX_HEADER_BYTES - base + 1)).err() {
        Some(SafetensorsError::HeaderTooLarge { bytes, metadata_bytes }) => {
            assert_eq!(bytes, MAX_HEADER_BYTES + 8);
            assert!(metadata_bytes > MAX_HEADER_BYTES - base && metadata_bytes < bytes, "{metadata_bytes}");
        }
        other => panic!("{other:?}"),
    }
    // names count too: one name as long as the limit
    let mut long = Params::new();
    long.insert("n".repeat(MAX_HEADER_BYTES), Tensor::scalar(0.0));
    let Err(e) = long.to_safetensors(&BTreeMap::new()) else { panic!("a 100 MB name was accepted") };
    assert!(e.to_string().contains("over the format's limit of 100000000 bytes"), "{e}");
}

/// Issue 18 item 12: `/dev/zero` was read until memory ran out. Reads stop
/// at what the header declares: zeros declare an empty header, an error.
#[cfg(unix)]
#[test]
fn dev_zero_is_an_error_not_an_endless_read() {
    let e = Params::read_safetensors("/dev/zero").unwrap_err();
    assert!(matches!(e, SafetensorsError::Format(_)), "{e}");
    let mut p = Params::new();
    p.insert("w", Tensor::ones(&[1]));
    assert!(matches!(p.load_safetensors("/dev/zero"), Err(SafetensorsError::Format(_))));
    assert_eq!(p["w"].item(), 1.0);
}

/// A short file whose header claims far more data than it holds gets the
/// same error from a path as from its bytes.
#[test]
fn a_file_shorter_than_its_header_claims_fails_as_its_bytes_do() {
    let raw: Vec<u8> = [1.5f64; 4].iter().flat_map(|v| v.to_le_bytes()).collect();
    let full = hand_written_file(&[("w", "F64", &[1 << 40], raw)]);
    let dir = scratch_dir("short_file");
    let path = dir.join("short.safetensors");
    std::fs::write(&path, &full).unwrap();
    let from_path = Params::read_safetensors(&path).unwrap_err().to_string();
    let from_bytes = Params::from_safetensors(&full).unwrap_err().to_string();
    assert_eq!(from_path, from_bytes);
    assert!(from_path.starts_with("safetensors: not a valid file"), "{from_path}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 18 item 13: without the order key, zero-size tensors (all at the
/// same offset) came out in the order of a HashMap, different from run to
/// run. The order is the data's, then the name's, on every load.
#[test]
fn zero_size_tensors_without_the_order_key_load_in_one_order() {
    let one: Vec<u8> = 1.0f64.to_le_bytes().to_vec();
    let file = hand_written_file(&[
        ("m", "F64", &[0], vec![]),
        ("c", "F64", &[0, 2], vec![]),
        ("x", "F64", &[3, 0], vec![]),
        ("a", "F64", &[0], vec![]),
        ("k", "F64", &[1], one.clone()),
        ("q", "F64", &[0], vec![]),
        ("b", "F64", &[0], vec![]),
        ("z", "F64", &[1], one),
    ]);
    for _ in 0..32 {
        let (p, _) = Params::from_safetensors(&file).unwrap();
        assert_eq!(p.names().collect::<Vec<_>>(), ["a", "c", "m", "x", "k", "b", "q", "z"]);
    }
}

/// The doc's claim that the same parameters give the same bytes as the
/// `safetensors` crate's own writer (the format's reference in Rust): the
/// crate serializes the same `F64` tensors with the same metadata, and the
/// files are byte for byte equal. One metadata key only (our order key):
/// the crate writes its metadata in its `HashMap`'s order, which varies
/// from run to run once there are two keys; ours sorts them.
#[test]
fn saved_bytes_equal_the_safetensors_crates_own_writer() {
    use safetensors::tensor::{Dtype, TensorView};
    let params = awkward_params();
    let ours = params.to_safetensors(&BTreeMap::new()).unwrap();

    let data: Vec<(String, Vec<u8>, Vec<usize>)> = params
        .iter()
        .map(|(n, t)| (n.to_string(), t.data().iter().flat_map(|v| v.to_le_bytes()).collect(), t.shape().to_vec()))
        .collect();
    let views =
        data.iter().map(|(n, bytes, shape)| (n.as_str(), TensorView::new(Dtype::F64, shape.clone(), bytes).unwrap()));
    let order: Vec<&str> = params.names().collect();
    let metadata = std::collections::HashMap::from([(ORDER_KEY.to_string(), serde_json::to_string(&order).unwrap())]);
    let reference = safetensors::serialize(views, Some(metadata)).unwrap();
    assert_eq!(ours, reference);
}
