//! [`Params`] saved to and loaded from safetensors, the weights format
//! PyTorch, candle and Hugging Face share, through the `safetensors` crate.
//!
//! The file is the published format: an 8-byte little-endian header
//! length, a JSON header naming each tensor's `dtype`, `shape` and
//! `data_offsets` (plus a `__metadata__` map of strings), then the raw
//! little-endian data. Python's `safetensors.torch.load_file` reads what
//! [`Params::save_safetensors`] writes.
//!
//! Decisions, each one a place where a reader could guess wrong:
//! - **Two ways in.** [`Params::read_safetensors`] builds new `Params` from
//!   a file (every tensor in it). [`Params::load_safetensors`] loads into
//!   existing `Params`, strictly, as PyTorch's `load_state_dict(strict=True)`:
//!   every parameter must be in the file with its shape, and the file may
//!   hold nothing else. Nothing is changed unless the whole file fits.
//! - **dtype.** Written as `F64`, so values round-trip bit for bit. `F64`
//!   and `F32` load; an `F32` tensor is widened to f64 (exactly: every f32
//!   is an f64) and the load returns a [`LoadNote`] saying so, since its
//!   values carry only f32's 7 digits. Any other dtype is an error.
//! - **Order.** The `safetensors` crate lays tensors out sorted by name, so
//!   the parameters' order is kept in the metadata key
//!   [`ORDER_KEY`] (a JSON array of the names). A file without it (one
//!   written by Python, say) gives the order of the data in the file.
//!   The key is not returned in [`Loaded::metadata`].
//! - **Metadata** is a map of strings, as the format says; it is written
//!   with its keys sorted (the crate keeps it in a `HashMap`, whose order
//!   changes from run to run), so the same `Params` and metadata give the
//!   same bytes.
//!
//! ```
//! use std::collections::BTreeMap;
//! use tapegrad::{Tensor, nn::Params};
//! let mut p = Params::new();
//! p.insert("w", Tensor::from_vec(vec![0.1, -2.5], &[2, 1]));
//! p.insert("b", Tensor::scalar(3.0));
//! let meta = BTreeMap::from([("model".to_string(), "toy".to_string())]);
//! let bytes = p.to_safetensors(&meta).unwrap();
//!
//! let (back, loaded) = Params::from_safetensors(&bytes).unwrap();
//! assert_eq!(back, p); // names, order and every bit
//! assert_eq!(loaded.metadata, meta);
//! assert!(loaded.notes.is_empty());
//! ```

use super::Params;
use crate::tensor::Tensor;
use ::safetensors::tensor::{Metadata, TensorInfo};
use ::safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

/// The metadata key that keeps the parameters' order (a JSON array of the
/// names), since the file itself lays the tensors out sorted by name.
///
/// ```
/// assert_eq!(tapegrad::nn::safetensors::ORDER_KEY, "tapegrad.order");
/// ```
pub const ORDER_KEY: &str = "tapegrad.order";

/// What a load found besides the weights: the file's metadata and the
/// notes about conversions.
///
/// ```
/// use tapegrad::{Tensor, nn::Params};
/// let mut p = Params::new();
/// p.insert("w", Tensor::zeros(&[2]));
/// let bytes = p.to_safetensors(&Default::default()).unwrap();
/// let loaded = p.load_safetensors_bytes(&bytes).unwrap();
/// assert!(loaded.metadata.is_empty() && loaded.notes.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Loaded {
    /// The file's `__metadata__`, without [`ORDER_KEY`].
    pub metadata: BTreeMap<String, String>,
    /// One note per tensor that was converted on the way in.
    pub notes: Vec<LoadNote>,
}

/// Something a load did that the caller should know about.
///
/// ```
/// use tapegrad::nn::safetensors::LoadNote;
/// let note = LoadNote::WidenedFromF32 { name: "w".into(), shape: vec![2, 2] };
/// assert!(note.to_string().starts_with("\"w\" [2, 2] was stored as F32"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum LoadNote {
    /// The tensor was stored as `F32` and widened to f64: exact, but its
    /// values have f32's precision (about 7 significant digits).
    WidenedFromF32 {
        /// The tensor's name.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
    },
}

impl fmt::Display for LoadNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadNote::WidenedFromF32 { name, shape } => write!(
                f,
                "{name:?} {shape:?} was stored as F32 and is widened to f64 (exactly, but with f32's ~7 digits)"
            ),
        }
    }
}

/// Why a safetensors file could not be written or loaded. Each variant
/// about one tensor names it, its shape and the shape expected.
///
/// ```
/// use tapegrad::{Tensor, nn::Params};
/// let mut p = Params::new();
/// p.insert("w", Tensor::zeros(&[3]));
/// let bytes = p.to_safetensors(&Default::default()).unwrap();
/// let mut q = Params::new();
/// q.insert("w", Tensor::zeros(&[1, 3]));
/// let e = q.load_safetensors_bytes(&bytes).unwrap_err();
/// assert_eq!(e.to_string(), "safetensors: tensor \"w\" has shape [3] but the parameter has shape [1, 3]");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SafetensorsError {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (the crate's message).
    Format(String),
    /// A parameter has no tensor in the file.
    Missing {
        /// The parameter's name.
        name: String,
        /// The parameter's shape.
        expected: Vec<usize>,
    },
    /// The file holds a tensor the parameters do not have.
    Unexpected {
        /// The tensor's name.
        name: String,
        /// Its shape in the file.
        shape: Vec<usize>,
    },
    /// A tensor's shape differs from its parameter's.
    Shape {
        /// The tensor's name.
        name: String,
        /// Its shape in the file.
        found: Vec<usize>,
        /// The parameter's shape.
        expected: Vec<usize>,
    },
    /// A tensor's dtype is neither F64 nor F32.
    Dtype {
        /// The tensor's name.
        name: String,
        /// Its dtype in the file, as the format spells it (`"I64"`, `"F16"`, ...).
        dtype: String,
        /// Its shape in the file.
        shape: Vec<usize>,
        /// The parameter's shape, when loading into existing parameters.
        expected: Option<Vec<usize>>,
    },
    /// The metadata is not what this module writes: [`ORDER_KEY`] passed
    /// in by the caller, or found in a file but not naming its tensors.
    Metadata(String),
}

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SafetensorsError::Io { path, source } => write!(f, "safetensors: {path}: {source}"),
            SafetensorsError::Format(msg) => write!(f, "safetensors: not a valid file: {msg}"),
            SafetensorsError::Missing { name, expected } => {
                write!(f, "safetensors: no tensor {name:?} in the file (the parameter has shape {expected:?})")
            }
            SafetensorsError::Unexpected { name, shape } => {
                write!(f, "safetensors: the file holds tensor {name:?} {shape:?}, which is not a parameter")
            }
            SafetensorsError::Shape { name, found, expected } => {
                write!(f, "safetensors: tensor {name:?} has shape {found:?} but the parameter has shape {expected:?}")
            }
            SafetensorsError::Dtype { name, dtype, shape, expected } => {
                write!(f, "safetensors: tensor {name:?} {shape:?} is {dtype}; only F64 and F32 load")?;
                match expected {
                    Some(expected) => write!(f, " (the parameter has shape {expected:?})"),
                    None => Ok(()),
                }
            }
            SafetensorsError::Metadata(msg) => write!(f, "safetensors: metadata: {msg}"),
        }
    }
}

impl std::error::Error for SafetensorsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SafetensorsError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn format_error(e: ::safetensors::SafeTensorError) -> SafetensorsError {
    SafetensorsError::Format(e.to_string())
}

impl Params {
    /// The parameters as the bytes of a safetensors file: every tensor as
    /// `F64`, `metadata` in `__metadata__` with [`ORDER_KEY`] added.
    ///
    /// # Errors
    /// If `metadata` holds [`ORDER_KEY`] itself.
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let bytes = p.to_safetensors(&Default::default()).unwrap();
    /// let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    /// assert_eq!(bytes.len(), 8 + header_len + 2 * 8); // two f64 after the header
    /// ```
    pub fn to_safetensors(&self, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>, SafetensorsError> {
        if metadata.contains_key(ORDER_KEY) {
            return Err(SafetensorsError::Metadata(format!("{ORDER_KEY:?} is written by tapegrad; pass other keys")));
        }
        let data: Vec<(&str, Vec<u8>)> =
            self.iter().map(|(name, t)| (name, t.data().iter().flat_map(|v| v.to_le_bytes()).collect())).collect();
        let views = data
            .iter()
            .zip(self.iter())
            .map(|((name, bytes), (_, t))| {
                ::safetensors::tensor::TensorView::new(Dtype::F64, t.shape().to_vec(), bytes).map(|v| (*name, v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(format_error)?;
        let bytes = ::safetensors::serialize(views, None).map_err(format_error)?;

        let mut metadata = metadata.clone();
        let order: Vec<&str> = self.names().collect();
        metadata.insert(ORDER_KEY.to_string(), serde_json::to_string(&order).expect("a list of strings is JSON"));
        Ok(with_metadata(&bytes, &metadata))
    }

    /// Writes [`Params::to_safetensors`] to `path`.
    ///
    /// # Errors
    /// As [`Params::to_safetensors`], or if the file cannot be written.
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::ones(&[2]));
    /// let path = std::env::temp_dir().join("tapegrad_doc_save.safetensors");
    /// p.save_safetensors(&path, &Default::default()).unwrap();
    /// assert_eq!(Params::read_safetensors(&path).unwrap().0, p);
    /// ```
    pub fn save_safetensors(
        &self,
        path: impl AsRef<Path>,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), SafetensorsError> {
        let bytes = self.to_safetensors(metadata)?;
        let path = path.as_ref();
        std::fs::write(path, bytes).map_err(|source| SafetensorsError::Io { path: path.display().to_string(), source })
    }

    /// New parameters holding every tensor of a safetensors file's bytes,
    /// in the order [`ORDER_KEY`] gives, else in the order of their data.
    ///
    /// # Errors
    /// If the bytes are not a valid file, a tensor is neither F64 nor F32,
    /// or [`ORDER_KEY`] does not list the file's tensors once each.
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("z", Tensor::scalar(1.0)); // order kept, though "a" sorts first
    /// p.insert("a", Tensor::scalar(2.0));
    /// let (q, _) = Params::from_safetensors(&p.to_safetensors(&Default::default()).unwrap()).unwrap();
    /// assert_eq!(q.names().collect::<Vec<_>>(), ["z", "a"]);
    /// ```
    pub fn from_safetensors(bytes: &[u8]) -> Result<(Params, Loaded), SafetensorsError> {
        let file = File::parse(bytes)?;
        let mut params = Params::new();
        let mut notes = Vec::new();
        for name in &file.order {
            let info = file.info(name);
            params.insert(name.clone(), file.tensor(name, info, None, &mut notes)?);
        }
        Ok((params, Loaded { metadata: file.metadata, notes }))
    }

    /// [`Params::from_safetensors`] on the file at `path`.
    ///
    /// # Errors
    /// As [`Params::from_safetensors`], or if the file cannot be read.
    ///
    /// ```
    /// let e = tapegrad::nn::Params::read_safetensors("no/such/file.safetensors").unwrap_err();
    /// assert!(e.to_string().starts_with("safetensors: no/such/file.safetensors: "));
    /// ```
    pub fn read_safetensors(path: impl AsRef<Path>) -> Result<(Params, Loaded), SafetensorsError> {
        Params::from_safetensors(&read(path.as_ref())?)
    }

    /// Loads a safetensors file's bytes into these parameters, strictly
    /// (PyTorch's `load_state_dict(strict=True)`): every parameter must be
    /// in the file with the same shape, and the file may hold no other
    /// tensor. The order stays these parameters' own. On error nothing is
    /// changed.
    ///
    /// # Errors
    /// A missing, unexpected or misshaped tensor, a dtype other than F64
    /// and F32, or bytes that are not a valid file.
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Params};
    /// let mut saved = Params::new();
    /// saved.insert("w", Tensor::from_vec(vec![0.5, 0.25], &[2]));
    /// let bytes = saved.to_safetensors(&Default::default()).unwrap();
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::zeros(&[2]));
    /// p.load_safetensors_bytes(&bytes).unwrap();
    /// assert_eq!(p["w"].data(), &[0.5, 0.25]);
    /// p.insert("b", Tensor::zeros(&[1]));
    /// let e = p.load_safetensors_bytes(&bytes).unwrap_err();
    /// assert_eq!(e.to_string(), "safetensors: no tensor \"b\" in the file (the parameter has shape [1])");
    /// ```
    pub fn load_safetensors_bytes(&mut self, bytes: &[u8]) -> Result<Loaded, SafetensorsError> {
        let file = File::parse(bytes)?;
        let mut notes = Vec::new();
        let mut values = Vec::with_capacity(self.len());
        for (name, param) in self.iter() {
            let expected = param.shape().to_vec();
            let info =
                file.header.info(name).ok_or_else(|| SafetensorsError::Missing { name: name.into(), expected })?;
            values.push(file.tensor(name, info, Some(param.shape()), &mut notes)?);
        }
        if let Some(name) = file.order.iter().find(|name| self.get(name).is_none()) {
            return Err(SafetensorsError::Unexpected { name: name.clone(), shape: file.info(name).shape.clone() });
        }
        for ((_, param), value) in self.iter_mut().zip(values) {
            *param = value;
        }
        Ok(Loaded { metadata: file.metadata, notes })
    }

    /// [`Params::load_safetensors_bytes`] from the file at `path`.
    ///
    /// # Errors
    /// As [`Params::load_safetensors_bytes`], or if the file cannot be read.
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::scalar(4.0));
    /// let path = std::env::temp_dir().join("tapegrad_doc_load.safetensors");
    /// p.save_safetensors(&path, &Default::default()).unwrap();
    /// p.get_mut("w").unwrap().data_mut()[0] = 0.0;
    /// p.load_safetensors(&path).unwrap();
    /// assert_eq!(p["w"].item(), 4.0);
    /// ```
    pub fn load_safetensors(&mut self, path: impl AsRef<Path>) -> Result<Loaded, SafetensorsError> {
        self.load_safetensors_bytes(&read(path.as_ref())?)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, SafetensorsError> {
    std::fs::read(path).map_err(|source| SafetensorsError::Io { path: path.display().to_string(), source })
}

/// A parsed file: the crate's validated header, the data after it, the
/// tensors' order and the metadata without the order key.
struct File<'a> {
    header: Metadata,
    data: &'a [u8],
    order: Vec<String>,
    metadata: BTreeMap<String, String>,
}

impl<'a> File<'a> {
    fn parse(bytes: &'a [u8]) -> Result<File<'a>, SafetensorsError> {
        // `read_metadata` checks the header length, the JSON, and that the
        // offsets tile the data exactly with each shape's byte size.
        let (header_len, header) = SafeTensors::read_metadata(bytes).map_err(format_error)?;
        let data = &bytes[8 + header_len..];
        let mut metadata: BTreeMap<String, String> =
            header.metadata().clone().unwrap_or_default().into_iter().collect();
        let by_offset = header.offset_keys();
        let order = match metadata.remove(ORDER_KEY) {
            None => by_offset,
            Some(json) => {
                let order: Vec<String> = serde_json::from_str(&json).map_err(|e| {
                    SafetensorsError::Metadata(format!("{ORDER_KEY:?} is not a JSON list of names: {e}"))
                })?;
                let listed: HashSet<&String> = order.iter().collect();
                if listed.len() != order.len()
                    || order.len() != by_offset.len()
                    || by_offset.iter().any(|n| !listed.contains(n))
                {
                    return Err(SafetensorsError::Metadata(format!(
                        "{ORDER_KEY:?} lists {order:?} but the file holds {by_offset:?}"
                    )));
                }
                order
            }
        };
        Ok(File { header, data, order, metadata })
    }

    fn info(&self, name: &str) -> &TensorInfo {
        self.header.info(name).expect("the order lists the header's names")
    }

    /// The tensor `name` as f64, checked against `expected` when loading
    /// into existing parameters.
    fn tensor(
        &self,
        name: &str,
        info: &TensorInfo,
        expected: Option<&[usize]>,
        notes: &mut Vec<LoadNote>,
    ) -> Result<Tensor, SafetensorsError> {
        let shape = info.shape.clone();
        if let Some(expected) = expected.filter(|e| *e != shape.as_slice()) {
            return Err(SafetensorsError::Shape { name: name.into(), found: shape, expected: expected.to_vec() });
        }
        let bytes = &self.data[info.data_offsets.0..info.data_offsets.1];
        // The data need not be aligned in memory, so read each value from
        // its little-endian bytes rather than casting the slice.
        let values: Vec<f64> = match info.dtype {
            Dtype::F64 => bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect(),
            Dtype::F32 => {
                notes.push(LoadNote::WidenedFromF32 { name: name.into(), shape: shape.clone() });
                bytes.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes(b.try_into().expect("4 bytes")))).collect()
            }
            other => {
                return Err(SafetensorsError::Dtype {
                    name: name.into(),
                    dtype: format!("{other:?}"),
                    shape,
                    expected: expected.map(<[usize]>::to_vec),
                });
            }
        };
        Ok(Tensor::from_vec(values, &shape))
    }
}

/// `bytes` (a file the crate wrote with no metadata) with `metadata` added
/// as the header's first entry, keys sorted, the header padded again to a
/// multiple of 8 bytes as the crate pads it. Done here because the crate
/// writes metadata from a `HashMap`, in an order that changes between runs.
fn with_metadata(bytes: &[u8], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).expect("the crate writes UTF-8").trim_end();
    let tensors = header.strip_prefix('{').expect("the header is a JSON object");
    let separator = if tensors == "}" { "" } else { "," };
    let metadata = serde_json::to_string(metadata).expect("a map of strings is JSON");
    let mut new_header = format!("{{\"__metadata__\":{metadata}{separator}{tensors}").into_bytes();
    new_header.resize(new_header.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + new_header.len() + bytes.len() - 8 - header_len);
    out.extend((new_header.len() as u64).to_le_bytes());
    out.extend(new_header);
    out.extend(&bytes[8 + header_len..]);
    out
}
