//! Writing a file: the header built here (so its key order is fixed and
//! everything a reader would refuse is refused before a byte is written),
//! the data after it, and the atomic replace of the file on disk.

use super::{MAX_HEADER_BYTES, ORDER_KEY, SafetensorsError};
use crate::nn::Params;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The reserved header key: the format keeps the metadata under it, so no
/// tensor can have this name (a reader would take its entry for metadata).
const METADATA_KEY: &str = "__metadata__";

/// The header of `params`' file with `metadata`: the JSON object (metadata
/// first, keys sorted, then every tensor as `F64`, sorted by name, offsets
/// counted from the end of the header), padded with spaces to a multiple of
/// 8 bytes. The layout is the one the `safetensors` crate and Python's
/// writer give `F64` tensors, so the same parameters give the same bytes
/// (`tests/nn_safetensors.rs` compares with the crate's writer; with more
/// than one metadata key the crate's order follows its `HashMap` and
/// varies from run to run, where ours is sorted).
///
/// Refuses what a reader would refuse: [`ORDER_KEY`] passed in, a tensor
/// named `__metadata__`, a header over [`MAX_HEADER_BYTES`].
pub(super) fn header(params: &Params, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>, SafetensorsError> {
    if metadata.contains_key(ORDER_KEY) {
        return Err(SafetensorsError::Metadata(format!("{ORDER_KEY:?} is written by tapegrad; pass other keys")));
    }
    if params.get(METADATA_KEY).is_some() {
        return Err(SafetensorsError::ReservedName { name: METADATA_KEY.into() });
    }
    let mut metadata = metadata.clone();
    let order: Vec<&str> = params.names().collect();
    metadata.insert(ORDER_KEY.to_string(), serde_json::to_string(&order).expect("a list of strings is JSON"));
    let metadata = serde_json::to_string(&metadata).expect("a map of strings is JSON");

    let mut header = format!("{{\"{METADATA_KEY}\":{metadata}");
    let mut offset = 0;
    for (name, t) in by_name(params) {
        let end = offset + 8 * t.len();
        let name = serde_json::to_string(name).expect("a string is JSON");
        let shape = serde_json::to_string(t.shape()).expect("a list of numbers is JSON");
        let _ = write!(header, r#",{name}:{{"dtype":"F64","shape":{shape},"data_offsets":[{offset},{end}]}}"#);
        offset = end;
    }
    header.push('}');
    let mut header = header.into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    if header.len() > MAX_HEADER_BYTES {
        return Err(SafetensorsError::HeaderTooLarge { bytes: header.len(), metadata_bytes: metadata.len() });
    }
    Ok(header)
}

/// The whole file: the header's length, the header, then every tensor's
/// values as little-endian f64, in the header's (name) order.
pub(super) fn write_file(out: &mut impl Write, header: &[u8], params: &Params) -> io::Result<()> {
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(header)?;
    for (_, t) in by_name(params) {
        for v in t.data() {
            out.write_all(&v.to_le_bytes())?;
        }
    }
    Ok(())
}

/// The tensors in file order, sorted by name: one function, so the
/// header's offsets and the data written after it cannot disagree.
fn by_name(params: &Params) -> Vec<(&str, &crate::tensor::Tensor)> {
    let mut by_name: Vec<_> = params.iter().collect();
    by_name.sort_unstable_by_key(|(name, _)| *name); // names are unique
    by_name
}

/// Writes a new file at `path` through `write`, atomically: into a new
/// temporary file in the same directory (a rename only replaces atomically
/// within one file system), flushed and synced to disk, then renamed over
/// `path`. So `path` holds either its old bytes or all of the new ones,
/// whatever fails when (disk full, a file-size limit, a crash); on failure
/// the temporary file is removed. A symlink at `path` is replaced by the
/// new file, never written through (its target, maybe another checkpoint,
/// is kept). The new file has the default permissions, not the old one's.
pub(super) fn replace_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let (temp, file) = create_temp(dir, path)?;
    let written = (|| {
        let mut out = BufWriter::new(&file);
        write(&mut out)?;
        out.flush()?;
        drop(out);
        file.sync_all()?;
        drop(file); // closed before the rename, as Windows requires
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp); // the write's error is the one to report
    }
    written?;
    sync_dir(dir);
    Ok(())
}

/// A new file `.NAME.PID.N.tmp` next to `path`, created exclusively (never
/// an existing file, nor through a symlink someone planted there).
fn create_temp(dir: &Path, path: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file"))?
        .to_string_lossy();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            // left by a process that died with our pid: take the next number
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1 << 16 => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Syncs the directory, so the rename itself survives a crash. Only POSIX
/// can open a directory for that; a failure here leaves the file complete
/// under one name or the other, so it is not reported.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// Issue 18 item 1: a write that fails partway (as on a full disk)
    /// leaves the old file byte for byte and no temporary file.
    #[test]
    fn a_write_that_fails_partway_leaves_the_old_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("tapegrad_atomic_{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.safetensors");
        let old: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        fs::write(&path, &old).unwrap();

        let e = replace_atomically(&path, |out| {
            out.write_all(&[7; 100_000])?; // past the buffer: really on disk
            Err(io::Error::new(io::ErrorKind::StorageFull, "simulated: no space left"))
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(fs::read(&path).unwrap(), old);
        assert_eq!(entries(&dir), ["model.safetensors"]);

        // and a write that succeeds replaces it whole
        replace_atomically(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(entries(&dir), ["model.safetensors"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
