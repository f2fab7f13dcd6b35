//! The host's file system seen through `--root`. Every path the node collector reads is a
//! host-absolute path (`/etc/resolv.conf`); this module maps it under the root, resolving each
//! symbolic link by hand so that a link can never lead out of the root (an absolute target
//! starts again at the root, `..` stops at the root), and reads files with a size bound.

use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use ktriage_schema::manifest::{Gap, GapKind, GapReason};

/// Most symbolic links followed while resolving one path (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

/// Why a host path could not be read.
#[derive(Debug)]
pub struct ReadError {
    /// Category, as the manifest records it.
    pub reason: GapReason,
    /// What happened, in words.
    pub detail: String,
}

impl ReadError {
    fn new(reason: GapReason, detail: impl Into<String>) -> Self {
        ReadError {
            reason,
            detail: detail.into(),
        }
    }

    /// From a failed system call.
    pub fn from_errno(err: rustix::io::Errno) -> Self {
        ReadError::from_io(&io::Error::from(err))
    }

    /// From an I/O error: not-found, forbidden, or error.
    pub fn from_io(err: &io::Error) -> Self {
        let reason = match err.kind() {
            io::ErrorKind::NotFound => GapReason::NotFound,
            io::ErrorKind::PermissionDenied => GapReason::Forbidden,
            _ => GapReason::Error,
        };
        ReadError::new(reason, err.to_string())
    }

    /// Whether the path simply does not exist (the usual case for optional files).
    pub fn is_not_found(&self) -> bool {
        self.reason == GapReason::NotFound
    }

    /// The gap recording this error.
    pub fn gap(&self, what: GapKind, location: &str) -> Gap {
        Gap::new(what, location, self.reason).with_detail(self.detail.clone())
    }
}

/// A file read with a bound.
#[derive(Debug)]
pub struct Bounded {
    /// The bytes read (at most the bound).
    pub data: Vec<u8>,
    /// The file's size when it was larger than the bound.
    pub cut_from: Option<u64>,
}

/// The host file system under a root directory.
#[derive(Debug, Clone)]
pub struct HostFs {
    root: PathBuf,
    live: bool,
    live_proc: bool,
}

impl HostFs {
    /// The host at `root` (`/` for the running host).
    pub fn new(root: &Path) -> Self {
        let live = root.components().all(|c| matches!(c, Component::RootDir));
        let live_proc = rustix::fs::statfs(root.join("proc"))
            .is_ok_and(|st| st.f_type == rustix::fs::PROC_SUPER_MAGIC);
        HostFs {
            root: root.to_path_buf(),
            live,
            live_proc,
        }
    }

    /// Whether `/proc` under the root is a mounted procfs (the running kernel's), rather than
    /// copied files. A host mounted into a pod runs the pod's kernel.
    pub fn has_live_proc(&self) -> bool {
        self.live_proc
    }

    /// Whether the root is `/`: the running host itself, so system calls and commands that
    /// describe the running system also describe this host.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves host-absolute `path` to a real path under the root, following every symbolic
    /// link (the last component too) without ever leaving the root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, ReadError> {
        self.resolve_inner(path, true)
    }

    /// Like [`HostFs::resolve`], but a symbolic link in the last component is not followed.
    pub fn resolve_parent(&self, path: &str) -> Result<PathBuf, ReadError> {
        self.resolve_inner(path, false)
    }

    fn resolve_inner(&self, path: &str, follow_last: bool) -> Result<PathBuf, ReadError> {
        // Components still to walk, last one at the end of the vector (popped first).
        let mut pending: Vec<String> = components_rev(path);
        let mut resolved: Vec<String> = Vec::new();
        let mut links = 0usize;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            let is_last = pending.iter().all(|p| p.is_empty() || p == ".");
            let candidate = self.join(&resolved, Some(&part));
            let meta = match fs::symlink_metadata(&candidate) {
                Ok(m) => m,
                Err(e) => return Err(ReadError::from_io(&e)),
            };
            if meta.file_type().is_symlink() && (follow_last || !is_last) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(ReadError::new(
                        GapReason::Error,
                        "too many levels of symbolic links",
                    ));
                }
                let target = fs::read_link(&candidate).map_err(|e| ReadError::from_io(&e))?;
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(components_rev(&target));
                continue;
            }
            if !is_last && !meta.is_dir() {
                return Err(ReadError::new(
                    GapReason::NotFound,
                    "a path component is not a directory",
                ));
            }
            resolved.push(part);
        }
        Ok(self.join(&resolved, None))
    }

    fn join(&self, parts: &[String], extra: Option<&str>) -> PathBuf {
        let mut p = self.root.clone();
        for part in parts {
            p.push(part);
        }
        if let Some(e) = extra {
            p.push(e);
        }
        p
    }

    /// Metadata of `path` after resolving links.
    pub fn metadata(&self, path: &str) -> Result<Metadata, ReadError> {
        let real = self.resolve(path)?;
        fs::metadata(&real).map_err(|e| ReadError::from_io(&e))
    }

    /// Whether `path` exists (links resolved inside the root).
    pub fn exists(&self, path: &str) -> bool {
        self.metadata(path).is_ok()
    }

    /// Reads a regular file, at most `max` bytes from its start.
    pub fn read_head(&self, path: &str, max: u64) -> Result<Bounded, ReadError> {
        let (mut file, size) = self.open_regular(path)?;
        let mut data = Vec::with_capacity(size.min(max) as usize);
        (&mut file)
            .take(max)
            .read_to_end(&mut data)
            .map_err(|e| ReadError::from_io(&e))?;
        let cut_from = (size > max).then_some(size);
        Ok(Bounded { data, cut_from })
    }

    /// Reads a regular file, at most `max` bytes from its end.
    pub fn read_tail(&self, path: &str, max: u64) -> Result<Bounded, ReadError> {
        use std::io::{Seek, SeekFrom};
        let (mut file, size) = self.open_regular(path)?;
        let mut cut_from = None;
        if size > max {
            file.seek(SeekFrom::Start(size - max))
                .map_err(|e| ReadError::from_io(&e))?;
            cut_from = Some(size);
        }
        let mut data = Vec::with_capacity(size.min(max) as usize);
        file.take(max)
            .read_to_end(&mut data)
            .map_err(|e| ReadError::from_io(&e))?;
        Ok(Bounded { data, cut_from })
    }

    /// Reads a small text file whole (proc and sys files, configuration), lossily as UTF-8.
    pub fn read_text(&self, path: &str, max: u64) -> Result<String, ReadError> {
        let b = self.read_head(path, max)?;
        Ok(String::from_utf8_lossy(&b.data).into_owned())
    }

    /// Opens `path` for reading when it is a regular file. Anything else (a directory, a FIFO
    /// that would block, a device) is refused before it is opened.
    fn open_regular(&self, path: &str) -> Result<(File, u64), ReadError> {
        let real = self.resolve(path)?;
        let meta = fs::symlink_metadata(&real).map_err(|e| ReadError::from_io(&e))?;
        if !meta.is_file() {
            return Err(ReadError::new(
                GapReason::Error,
                format!("not a regular file ({})", file_kind(&meta)),
            ));
        }
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags.bits() as i32)
            .open(&real)
            .map_err(|e| ReadError::from_io(&e))?;
        let size = file.metadata().map_err(|e| ReadError::from_io(&e))?.len();
        Ok((file, size))
    }

    /// Names in directory `path`, sorted; each entry with whether it is a directory itself
    /// (not following links, so walks cannot loop).
    pub fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
        let real = self.resolve(path)?;
        let rd = fs::read_dir(&real).map_err(|e| ReadError::from_io(&e))?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| ReadError::from_io(&e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            out.push(DirEntry {
                path: child(path, &name),
                name,
                is_dir,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// One directory entry.
#[derive(Debug, Clone)]
pub struct DirEntry {
    /// File name.
    pub name: String,
    /// Host-absolute path.
    pub path: String,
    /// A real directory (not a link to one).
    pub is_dir: bool,
}

/// `dir/name` as a host-absolute path.
pub fn child(dir: &str, name: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), name)
}

/// The host-absolute directory holding `path`.
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Resolves `path` as written in a configuration file located in `base_dir`: absolute paths
/// stay, relative ones are taken from `base_dir`. Purely textual.
pub fn join_host(base_dir: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        child(base_dir, path)
    }
}

fn components_rev(path: &str) -> Vec<String> {
    path.split('/').rev().map(str::to_string).collect()
}

fn file_kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_never_leave_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("etc")).expect("mkdir");
        fs::create_dir_all(root.join("run/systemd/resolve")).expect("mkdir");
        fs::write(
            root.join("run/systemd/resolve/stub-resolv.conf"),
            "nameserver 127.0.0.53\n",
        )
        .expect("write");
        symlink(
            "../run/systemd/resolve/stub-resolv.conf",
            root.join("etc/resolv.conf"),
        )
        .expect("link");
        symlink("../../../../../../../etc/passwd", root.join("etc/escape")).expect("link");
        symlink("/run/systemd", root.join("etc/abs")).expect("link");
        let fs = HostFs::new(root);
        assert_eq!(
            fs.read_text("/etc/resolv.conf", 100).expect("reads"),
            "nameserver 127.0.0.53\n"
        );
        let err = fs.read_text("/etc/escape", 100).expect_err("stays inside");
        assert!(err.is_not_found());
        assert_eq!(
            fs.resolve("/etc/abs/resolve/stub-resolv.conf")
                .expect("resolves"),
            root.join("run/systemd/resolve/stub-resolv.conf")
        );
    }

    #[test]
    fn bounded_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("f"), "0123456789").expect("write");
        let fs = HostFs::new(dir.path());
        let head = fs.read_head("/f", 4).expect("reads");
        assert_eq!(head.data, b"0123");
        assert_eq!(head.cut_from, Some(10));
        let tail = fs.read_tail("/f", 4).expect("reads");
        assert_eq!(tail.data, b"6789");
        assert_eq!(fs.read_head("/f", 40).expect("reads").cut_from, None);
        assert!(fs.read_head("/", 4).is_err());
    }

    #[test]
    fn path_helpers() {
        assert_eq!(parent("/etc/kubernetes/kubelet.conf"), "/etc/kubernetes");
        assert_eq!(parent("/x"), "/");
        assert_eq!(
            join_host("/etc/kubernetes", "pki/ca.crt"),
            "/etc/kubernetes/pki/ca.crt"
        );
        assert_eq!(join_host("/etc/kubernetes", "/a/b"), "/a/b");
        assert!(HostFs::new(Path::new("/")).is_live());
        assert!(!HostFs::new(Path::new("/host")).is_live());
    }
}
