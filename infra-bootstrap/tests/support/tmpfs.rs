//! A small tmpfs mounted over the stack's object store (`<state>/objects`, its `file://`
//! backend), so that a backup can really run out of disk. Mounting needs CAP_SYS_ADMIN; where
//! the test runs without it, [`Tmpfs::mount`] says so and the scenario is not run.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mount; unmounted when dropped.
pub struct Tmpfs {
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mounts `size` (`64m`) over `path`, or the reason it could not.
    pub fn mount(path: &Path, size: &str) -> Result<Self, String> {
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Self {
            path: path.to_owned(),
        })
    }

    /// Writes filler files until the file system is full, then frees `keep_kib` of them;
    /// returns how many bytes the filler holds.
    pub fn fill(&self, keep_kib: usize) -> u64 {
        let chunk = vec![0x5a_u8; 64 * 1024];
        let mut files = Vec::new();
        let mut written = 0;
        'fill: for n in 0.. {
            let path = self.path.join(format!(".filler-{n}"));
            let mut file = std::fs::File::create(&path).unwrap();
            files.push(path);
            for _ in 0..16 {
                if file.write_all(&chunk).and_then(|()| file.flush()).is_err() {
                    break 'fill;
                }
                written += chunk.len() as u64;
            }
        }
        // Free the last (partial) file and enough whole ones (1 MiB each) for `keep_kib`.
        for path in files.iter().rev().take(1 + keep_kib.div_ceil(1024)) {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            std::fs::remove_file(path).unwrap();
            written -= size.min(written);
        }
        written
    }

    /// Removes the filler: the disk has room again.
    pub fn free(&self) {
        for entry in std::fs::read_dir(&self.path).unwrap() {
            let path = entry.unwrap().path();
            let filler = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".filler-"));
            if filler {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}
