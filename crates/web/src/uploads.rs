//! Uploaded files waiting between "check" and "import": streamed to a private temporary
//! folder under a random name (never a name the user chose), owned by the user who uploaded
//! them, and removed after the import or an hour.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use winback_engine::Kind;

#[derive(Debug, Clone)]
pub struct Upload {
    pub user_id: i64,
    pub kind: Kind,
    /// The name the browser sent, for messages only.
    pub file_name: String,
    pub path: PathBuf,
    pub bytes: u64,
    created: Instant,
}

pub struct Uploads {
    dir: PathBuf,
    entries: Mutex<HashMap<String, Upload>>,
}

const KEEP: Duration = Duration::from_secs(3600);

impl Uploads {
    pub fn new(dir: PathBuf) -> Uploads {
        Uploads {
            dir,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// A fresh id and the path to stream the file to.
    pub fn reserve(&self) -> std::io::Result<(String, PathBuf)> {
        std::fs::create_dir_all(&self.dir)?;
        let id = crate::auth::random_token();
        let path = self.dir.join(format!("{id}.upload"));
        Ok((id, path))
    }

    pub fn insert(
        &self,
        id: String,
        user_id: i64,
        kind: Kind,
        file_name: String,
        path: PathBuf,
        bytes: u64,
    ) {
        let mut entries = self
            .entries
            .lock()
            .expect("the uploads lock is never poisoned");
        entries.retain(|_, upload| {
            let keep = upload.created.elapsed() < KEEP;
            if !keep {
                let _ = std::fs::remove_file(&upload.path);
            }
            keep
        });
        entries.insert(
            id,
            Upload {
                user_id,
                kind,
                file_name,
                path,
                bytes,
                created: Instant::now(),
            },
        );
    }

    /// The upload with this id if it belongs to `user_id`.
    pub fn get(&self, id: &str, user_id: i64) -> Option<Upload> {
        let entries = self
            .entries
            .lock()
            .expect("the uploads lock is never poisoned");
        entries
            .get(id)
            .filter(|u| u.user_id == user_id && u.created.elapsed() < KEEP)
            .cloned()
    }

    pub fn remove(&self, id: &str) {
        let mut entries = self
            .entries
            .lock()
            .expect("the uploads lock is never poisoned");
        if let Some(upload) = entries.remove(id) {
            let _ = std::fs::remove_file(upload.path);
        }
    }
}
