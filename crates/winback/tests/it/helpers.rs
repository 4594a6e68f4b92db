//! Test fixtures: a fresh database per test on either backend, and the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use winback_store::Backend;
use winback_store::testing::TestDatabase;

pub struct TestEnv {
    pub db: TestDatabase,
    pub dir: PathBuf,
}

impl TestEnv {
    pub async fn new(backend: Backend) -> TestEnv {
        let db = TestDatabase::new(backend).await;
        let dir = std::env::temp_dir().join(format!(
            "winback_cli_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TestEnv { db, dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `content` into the test folder, encoded as Windows-1252 when `cp1252` is set.
    pub fn write(&self, name: &str, content: &str, cp1252: bool) -> PathBuf {
        let path = self.path(name);
        let bytes = if cp1252 {
            content
                .chars()
                .map(|c| match c {
                    '€' => 0x80,
                    c if (c as u32) < 256 => c as u32 as u8,
                    _ => b'?',
                })
                .collect()
        } else {
            content.as_bytes().to_vec()
        };
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_winback"));
        command
            .env("WINBACK_DB", self.db.url.expose())
            .env_remove("WINBACK_LOG")
            .current_dir(&self.dir);
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .expect("the winback binary runs")
    }

    pub fn import(&self, kind: &str, file: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["import", kind, file.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    pub fn stats(&self) -> serde_json::Value {
        let out = self.run(&["stats", "--json"]);
        assert!(
            out.status.success(),
            "stats failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("stats --json prints JSON")
    }

    pub async fn snapshot(&self) -> Vec<(String, Vec<String>)> {
        let db = winback_store::Db::connect(&self.db.url).await.unwrap();
        let snapshot = db
            .snapshot_all()
            .await
            .unwrap()
            .into_iter()
            .filter(|(t, _)| t != "imports")
            .collect();
        db.close().await;
        snapshot
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Declares a test that runs once per backend.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::TestEnv::new($crate::helpers::Backend::Sqlite).await)
                    .await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(
                    $crate::helpers::TestEnv::new($crate::helpers::Backend::Postgres).await,
                )
                .await;
            }
        }
    };
}
