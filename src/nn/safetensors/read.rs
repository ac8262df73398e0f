//! Reading a file: its bytes read no further than its header says, then
//! parsed and checked by the `safetensors` crate, the parameters' order
//! and the values taken out.

use super::{LoadNote, MAX_HEADER_BYTES, ORDER_KEY, SafetensorsError};
use crate::tensor::Tensor;
use ::safetensors::tensor::{Metadata, TensorInfo};
use ::safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read};
use std::path::Path;

/// The bytes of the file at `path`, read with [`read_bounded`].
pub(super) fn read(path: &Path) -> Result<Vec<u8>, SafetensorsError> {
    let io_error = |source| SafetensorsError::Io { path: path.display().to_string(), source };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    // A regular file's length; 0 for a device or a pipe, whose reads stay
    // bounded by the header alone.
    let len = file.metadata().map_err(io_error)?.len();
    read_bounded(&mut file, len).map_err(io_error)
}

/// A file's bytes from `src`, never more than its header declares: the
/// 8-byte length, at most [`MAX_HEADER_BYTES`] of header, then the data
/// the header's offsets span and one byte more (so a longer file is seen,
/// and refused by the parser). Reading stops at the first thing the parser
/// will refuse (a header too long, JSON that is not a header) and hands
/// over what it has, so a file and its bytes get the same error. Memory is
/// reserved up to `len_hint` (the file's length) at most, and otherwise
/// grows only with bytes that really arrive: `/dev/zero` is an error, not
/// an endless read, and a lying header in a short file reads the file.
pub(super) fn read_bounded(src: &mut impl Read, len_hint: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    src.take(8).read_to_end(&mut bytes)?;
    let Ok(n) = <[u8; 8]>::try_from(bytes.as_slice()).map(u64::from_le_bytes) else {
        return Ok(bytes); // shorter than 8 bytes
    };
    if n > MAX_HEADER_BYTES as u64 {
        return Ok(bytes);
    }
    bytes.reserve_exact(len_hint.min(8 + n) as usize);
    src.take(n).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != 8 + n {
        return Ok(bytes); // truncated in the header
    }
    let Ok(header) = serde_json::from_slice::<Metadata>(&bytes[8..]) else {
        return Ok(bytes);
    };
    let rest = (header.data_len() as u64).saturating_add(1);
    bytes.reserve_exact(len_hint.saturating_sub(8 + n).min(rest) as usize);
    src.take(rest).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A parsed file: the crate's validated header, the data after it, the
/// tensors' order and the metadata without the order key.
pub(super) struct File<'a> {
    pub(super) header: Metadata,
    data: &'a [u8],
    pub(super) order: Vec<String>,
    pub(super) metadata: BTreeMap<String, String>,
}

impl<'a> File<'a> {
    pub(super) fn parse(bytes: &'a [u8]) -> Result<File<'a>, SafetensorsError> {
        // `read_metadata` checks the header length, the JSON, and that the
        // offsets tile the data exactly with each shape's byte size.
        let (header_len, header) = SafeTensors::read_metadata(bytes).map_err(super::format_error)?;
        let data = &bytes[8 + header_len..];
        let mut metadata: BTreeMap<String, String> =
            header.metadata().clone().unwrap_or_default().into_iter().collect();
        // The data's order. Zero-size tensors share an offset, and the
        // crate orders those as its HashMap iterates (differently on each
        // run), so they are ordered by name.
        let mut by_offset = header.offset_keys();
        by_offset.sort_by_cached_key(|name| (header.info(name).map(|i| i.data_offsets), name.clone()));
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

    pub(super) fn info(&self, name: &str) -> &TensorInfo {
        self.header.info(name).expect("the order lists the header's names")
    }

    /// The tensor `name` as f64, checked against `expected` when loading
    /// into existing parameters.
    pub(super) fn tensor(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18 item 12: an endless source of zeros (what `/dev/zero`
    /// gives, here portable) reads 8 bytes: a header length of 0, and the
    /// empty header is refused.
    #[test]
    fn an_endless_source_of_zeros_reads_eight_bytes() {
        let bytes = read_bounded(&mut io::repeat(0), 0).unwrap();
        assert_eq!(bytes, [0; 8]);
        assert!(File::parse(&bytes).is_err());
        // a header length over the limit: the length alone is read
        let bytes = read_bounded(&mut io::repeat(b' '), 0).unwrap();
        assert_eq!(bytes.len(), 8);
    }

    /// A valid header followed by endless data: the read stops one byte
    /// past what the header spans, and the parser refuses the extra byte.
    #[test]
    fn endless_data_after_a_valid_header_reads_one_byte_past_its_span() {
        let mut header = br#"{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#.to_vec();
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend(&header);
        let bytes = read_bounded(&mut io::Read::chain(file.as_slice(), io::repeat(1)), 0).unwrap();
        assert_eq!(bytes.len(), 8 + header.len() + 16 + 1);
        let Err(e) = File::parse(&bytes) else { panic!("one byte too many was accepted") };
        assert_eq!(e.to_string(), "safetensors: not a valid file: incomplete metadata, file not fully covered");
        // exactly the declared bytes parse
        assert!(File::parse(&bytes[..bytes.len() - 1]).is_ok());
    }
}
