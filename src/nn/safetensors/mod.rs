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
//!   written by Python, say) gives the order of the data in the file, and
//!   zero-size tensors (which share an offset) by name: the same file
//!   always loads in the same order. The key is not returned in
//!   [`Loaded::metadata`].
//! - **What saves, loads.** A save refuses what no reader would load back:
//!   a parameter named `__metadata__` (the format's key for the metadata)
//!   and a header over the format's [`MAX_HEADER_BYTES`].
//! - **Saving replaces atomically** (a temporary file in the same
//!   directory, synced, then renamed over the target): a save that fails
//!   leaves the old file byte for byte. **Loading reads only what the
//!   header declares**, so an endless or lying file is an error, not a
//!   read until memory runs out.
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
use read::{File, read};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

mod read;
mod write;

/// The metadata key that keeps the parameters' order (a JSON array of the
/// names), since the file itself lays the tensors out sorted by name.
///
/// ```
/// assert_eq!(tapegrad::nn::safetensors::ORDER_KEY, "tapegrad.order");
/// ```
pub const ORDER_KEY: &str = "tapegrad.order";

/// The format's limit on a header, in bytes (the `safetensors` crate's
/// `MAX_HEADER_SIZE`; Python's reader is built on it): a file with a
/// longer header does not load, so a save with one is refused, and a
/// load reads no more header than this.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad::nn::{Params, safetensors::MAX_HEADER_BYTES};
/// let huge = BTreeMap::from([("notes".to_string(), "x".repeat(MAX_HEADER_BYTES))]);
/// let e = Params::new().to_safetensors(&huge).unwrap_err();
/// assert!(e.to_string().contains("over the format's limit of 100000000 bytes"), "{e}");
/// ```
pub const MAX_HEADER_BYTES: usize = 100_000_000;

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
    /// A parameter's name is reserved by the format (`__metadata__`, the
    /// header's key for the metadata), so its file would not load.
    ReservedName {
        /// The name.
        name: String,
    },
    /// The header (the names, shapes and metadata) would be longer than
    /// [`MAX_HEADER_BYTES`], so the file would not load.
    HeaderTooLarge {
        /// The header's length in bytes.
        bytes: usize,
        /// The part of it that is the metadata (with [`ORDER_KEY`]).
        metadata_bytes: usize,
    },
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
            SafetensorsError::ReservedName { name } => write!(
                f,
                "safetensors: a parameter is named {name:?}, which the format reserves for the metadata; rename it"
            ),
            SafetensorsError::HeaderTooLarge { bytes, metadata_bytes } => write!(
                f,
                "safetensors: the header would be {bytes} bytes ({metadata_bytes} of them metadata), over the format's limit of {MAX_HEADER_BYTES} bytes"
            ),
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
    /// Whenever the file would not load: if `metadata` holds [`ORDER_KEY`]
    /// itself, a parameter is named `__metadata__`, or the header would be
    /// longer than [`MAX_HEADER_BYTES`].
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
        let header = write::header(self, metadata)?;
        let mut bytes = Vec::with_capacity(8 + header.len() + 8 * self.numel());
        write::write_file(&mut bytes, &header, self).expect("writing to a Vec cannot fail");
        Ok(bytes)
    }

    /// Writes [`Params::to_safetensors`] to `path`, atomically: into a new
    /// temporary file in the same directory, flushed and synced to disk,
    /// then renamed over `path`. So `path` holds its old bytes or all the
    /// new ones, whatever fails (a full disk, a file-size limit, a crash):
    /// a failed save never destroys the previous checkpoint, and leaves no
    /// temporary file. A symlink at `path` is replaced by the new file, not
    /// written through (its target is kept). The new file has the default
    /// permissions for a new file.
    ///
    /// # Errors
    /// As [`Params::to_safetensors`] (then no file is touched), or if the
    /// file cannot be written or renamed.
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
        let header = write::header(self, metadata)?;
        let path = path.as_ref();
        write::replace_atomically(path, |out| write::write_file(out, &header, self))
            .map_err(|source| SafetensorsError::Io { path: path.display().to_string(), source })
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

    /// [`Params::from_safetensors`] on the file at `path`, read no further
    /// than its header says (at most [`MAX_HEADER_BYTES`] of header, then
    /// the data its offsets span): `/dev/zero` or an endless pipe is an
    /// error, not an endless read.
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

    /// [`Params::load_safetensors_bytes`] from the file at `path`, read
    /// as [`Params::read_safetensors`] reads it (never past what the header
    /// declares).
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
