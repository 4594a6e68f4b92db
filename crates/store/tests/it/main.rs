//! Storage and import-commit tests, each run against SQLite and PostgreSQL.

mod import;
mod results;
mod web;

/// Declares a test that runs once per backend: `test_name::sqlite` and `test_name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let database =
                    winback_store::testing::TestDatabase::new(winback_store::Backend::Sqlite).await;
                let db = winback_store::Db::connect(&database.url)
                    .await
                    .expect("connect");
                $body(db).await;
            }
            #[tokio::test]
            async fn postgres() {
                let database =
                    winback_store::testing::TestDatabase::new(winback_store::Backend::Postgres)
                        .await;
                let db = winback_store::Db::connect(&database.url)
                    .await
                    .expect("connect");
                $body(db.clone()).await;
                db.close().await;
            }
        }
    };
}
