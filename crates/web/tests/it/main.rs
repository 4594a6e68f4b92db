//! The web application over real HTTP: every test starts the server on a random port
//! against a fresh database, once on SQLite and once on PostgreSQL.

mod analysis;
mod browser;
mod helpers;
mod http;
mod matrix;
mod security;
mod tidy;
mod xss;

/// Declares a test that runs once per backend: `test_name::sqlite` and `test_name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn(winback_store::Backend::Sqlite).await;
                super::$name(&app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::helpers::TestApp::spawn(winback_store::Backend::Postgres).await;
                super::$name(&app).await;
                app.db.close().await;
            }
        }
    };
    // With changed server settings: `both_backends!(name, |config| ...)`.
    ($name:ident, $configure:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn_with(
                    winback_store::Backend::Sqlite,
                    $configure,
                )
                .await;
                super::$name(&app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::helpers::TestApp::spawn_with(
                    winback_store::Backend::Postgres,
                    $configure,
                )
                .await;
                super::$name(&app).await;
                app.db.close().await;
            }
        }
    };
}
